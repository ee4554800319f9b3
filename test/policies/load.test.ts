import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { loadPolicy, parsePolicy, PolicyError } from '../../policies/load.js';
import { DEMO_DIR, demoPolicyObject, type PolicyObject } from '../helpers/harness.js';

async function problemsOf(change: (policy: PolicyObject) => void): Promise<Array<{ path: string; message: string }>> {
  const policy = await demoPolicyObject();
  change(policy);
  try {
    await parsePolicy(stringify(policy), path.join(DEMO_DIR, 'policy.yaml'));
  } catch (error) {
    assert.ok(error instanceof PolicyError, String(error));
    return error.problems;
  }
  assert.fail('the policy was accepted');
}

function assertProblem(problems: Array<{ path: string; message: string }>, where: string, message: RegExp): void {
  assert.ok(problems.some((p) => p.path === where && message.test(p.message)), `no problem at ${where} matching ${message}: ${JSON.stringify(problems)}`);
}

describe('policy file', function () {
  it('loads the demo policy with defaults filled in and frozen', async function () {
    const policy = await loadPolicy(path.join(DEMO_DIR, 'policy.yaml'));
    assert.equal(policy.document.oauth.accessTokenTtlSeconds, 300);
    assert.equal(policy.document.gateway.timeouts.headersMs, 10000);
    assert.equal(policy.operations.size, 2);
    assert.equal(policy.terminals.get('kiosk-demo-001')!.config.status, 'active');
    assert.ok(Object.isFrozen(policy.document.services));
    assert.throws(() => { (policy.document.oauth as { audience: string }).audience = 'x'; });
  });

  it('refuses a malformed CIDR range, which ip-range-check would silently fail open on', async function () {
    const problems = await problemsOf((p) => { p.gateway.ipList = { deny: ['10.0.0.0/33', '300.1.1.1'] }; });
    assertProblem(problems, 'gateway.ipList.deny[0]', /not a valid CIDR/);
    assertProblem(problems, 'gateway.ipList.deny[1]', /not a valid IP address/);
  });

  it('refuses a terminal source range and a trusted proxy that do not parse', async function () {
    const problems = await problemsOf((p) => {
      p.terminals[0].sourceRanges = ['127.0.0.0/8', 'localhost'];
      p.gateway.trustedProxies = ['::1/200'];
    });
    assertProblem(problems, 'terminals[0].sourceRanges[1]', /not a valid IP address/);
    assertProblem(problems, 'gateway.trustedProxies[0]', /not a valid CIDR/);
  });

  it('refuses a reference to a backend or service that does not exist', async function () {
    const problems = await problemsOf((p) => {
      p.services['social-security'].operations['insured-info'].backend = 'nowhere';
      p.terminals[0].services.push('no-such-service');
    });
    assertProblem(problems, 'services.social-security.operations.insured-info.backend', /no backend named "nowhere"/);
    assertProblem(problems, 'terminals[0].services[2]', /no service named "no-such-service"/);
  });

  it('refuses a schema file that is missing or not a schema, and an example that does not validate', async function () {
    const problems = await problemsOf((p) => {
      p.services['social-security'].operations['insured-info'].requestSchema = { file: 'schemas/missing.json' };
      p.services['housing-fund'].operations['account-detail'].responseSchema = { type: 'no-such-type' };
      p.services['housing-fund'].operations['account-detail'].examples = [{ idNumber: '123' }];
    });
    assertProblem(problems, 'services.social-security.operations.insured-info.requestSchema', /cannot read schemas\/missing.json: ENOENT/);
    assertProblem(problems, 'services.housing-fund.operations.account-detail.responseSchema', /not a usable JSON Schema/);
    assertProblem(problems, 'services.housing-fund.operations.account-detail.examples[0]', /does not match requestSchema: \/idNumber/);
  });

  it('refuses a path template field the request schema does not have', async function () {
    const problems = await problemsOf((p) => { p.services['housing-fund'].operations['account-detail'].request.path = '/accounts/{accountId}'; });
    assertProblem(problems, 'services.housing-fund.operations.account-detail.request', /\{accountId\} is not a property/);
  });

  it('names unknown settings, bad enums, bad regions and bad identifiers by dotted path', async function () {
    const problems = await problemsOf((p) => {
      p.gateway.listners = [];
      p.terminals[0].status = 'paused';
      p.terminals[0].region = '999999';
      p.services['Bad_Service'] = p.services['housing-fund'];
    });
    assertProblem(problems, 'gateway.listners', /not a known setting/);
    assertProblem(problems, 'terminals[0].status', /must be one of "active", "locked"/);
    assertProblem(problems, 'terminals[0].region', /must match pattern/);
    assertProblem(problems, 'services', /property name must be valid|must match pattern/);
  });

  it('refuses a short client secret, a missing secret file and a JWKS with private keys', async function () {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'baygate-policy-'));
    try {
      await writeFile(path.join(dir, 'short.secret'), 'too-short\n');
      await writeFile(path.join(dir, 'private.jwks'), JSON.stringify({ keys: [{ kty: 'EC', crv: 'P-256', x: 'a', y: 'b', d: 'secret' }] }));
      const problems = await problemsOf((p) => {
        p.terminals[0].auth.secretFile = path.join(dir, 'short.secret');
        p.terminals.push({ ...p.terminals[0], id: 'kiosk-2', auth: { method: 'client_secret_basic', secretFile: path.join(dir, 'none.secret') } });
        p.terminals.push({ ...p.terminals[0], id: 'kiosk-3', auth: { method: 'private_key_jwt', jwksFile: path.join(dir, 'private.jwks') } });
      });
      assertProblem(problems, 'terminals[0].auth.secretFile', /at least 32 characters/);
      assertProblem(problems, 'terminals[1].auth.secretFile', /ENOENT/);
      assertProblem(problems, 'terminals[2].auth.jwksFile', /private or symmetric key material/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses missing or unusable SM2 keys: terminal signing keys, gateway keys, expiry', async function () {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'baygate-policy-'));
    try {
      await writeFile(path.join(dir, 'not-a-key.pem'), '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n');
      const problems = await problemsOf((p) => {
        p.terminals.push({ ...p.terminals[0], id: 'kiosk-2', signingKeys: [] });
        p.terminals.push({ ...p.terminals[0], id: 'kiosk-3', signingKeys: [{ id: 'k', publicKeyFile: path.join(dir, 'not-a-key.pem') }] });
        p.gateway.keys[0].notAfter = '2001-01-01T00:00:00Z';
        p.gateway.keys[1].privateKeyFile = path.join(DEMO_DIR, 'kiosk-demo-001.sm2.pub.pem');
      });
      assertProblem(problems, 'terminals[1].signingKeys', /at least one SM2 public key/);
      assertProblem(problems, 'terminals[2].signingKeys[0].publicKeyFile', /not an SM2 public key/);
      assertProblem(problems, 'gateway.keys[0].notAfter', /expired at 2001/);
      assertProblem(problems, 'gateway.keys[1].privateKeyFile', /not an SM2 private key: expected a PRIVATE KEY or EC PRIVATE KEY, not PUBLIC KEY/);
      const noKeys = await problemsOf((p) => {
        p.gateway.keys = [];
      });
      assertProblem(noKeys, 'gateway.keys', /no key with use: sig/);
      assertProblem(noKeys, 'gateway.keys', /no key with use: enc, but social-security\/insured-info accepts encrypted bodies/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses https without certificate material, and a terminal declared twice', async function () {
    const problems = await problemsOf((p) => {
      p.gateway.listeners.push({ protocol: 'https', port: 8443 });
      p.terminals.push(structuredClone(p.terminals[0]));
    });
    assertProblem(problems, 'gateway.listeners[1].tls', /needs certFile and keyFile/);
    assertProblem(problems, 'terminals[1].id', /declared twice/);
  });

  it('refuses duplicate YAML keys and names the line', async function () {
    await assert.rejects(parsePolicy('version: 1\nversion: 1\nterminals: []\nbackends: {}\nservices: {}\n', '/tmp/p.yaml'), (error: PolicyError) => {
      assert.match(error.message, /line 2, column 1: Map keys must be unique/);
      return true;
    });
  });

  it('refuses a YAML alias bomb', async function () {
    const bomb = ['version: 1', 'a: &a ["x","x","x","x","x","x","x","x","x","x"]', ...Array.from({ length: 8 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)}]`)].join('\n');
    await assert.rejects(parsePolicy(bomb, '/tmp/p.yaml'), /alias|Excessive/i);
  });

  it('says which file could not be read', async function () {
    await assert.rejects(loadPolicy('/nonexistent/policy.yaml'), (error: PolicyError) => {
      assert.match(error.message, /policy \/nonexistent\/policy.yaml is not valid:\n  \(top level\): cannot read the file/);
      return true;
    });
  });
});
