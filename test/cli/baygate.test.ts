import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { importSm2PrivateKey, importSm2PublicKey } from '../../crypto/sm2.js';
import { startDemoBackends, type DemoBackends } from '../../examples/demo/backends.js';
import { DEMO_DIR, DEMO_ID, DEMO_ID_2, demoPolicyObject, rawRequest, signedRawRequest, ROOT, type PolicyObject } from '../helpers/harness.js';

const CLI = ['--import', 'tsx', path.join(ROOT, 'cli', 'baygate.ts')];
const run = promisify(execFile);

async function baygate(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [...CLI, ...args], { cwd: ROOT, env: { ...process.env, ...env }, timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** Collects a child's output and resolves when a line matches, or rejects when it exits first. */
class Output {
  text = '';
  private waiters: Array<{ pattern: RegExp; from: number; resolve: (m: RegExpMatchArray) => void; reject: (e: Error) => void }> = [];

  constructor(child: ChildProcess, stream: 'stdout' | 'stderr') {
    child[stream]!.setEncoding('utf8');
    child[stream]!.on('data', (chunk: string) => {
      this.text += chunk;
      this.waiters = this.waiters.filter((w) => {
        const match = this.text.slice(w.from).match(w.pattern);
        if (match) w.resolve(match);
        return !match;
      });
    });
    child.on('exit', (code) => {
      for (const w of this.waiters) w.reject(new Error(`baygate exited (${code}) before printing ${w.pattern}:\n${this.text}`));
      this.waiters = [];
    });
  }

  /** Waits for a match in what is printed from now on (or from `from`). */
  waitFor(pattern: RegExp, from = this.text.length): Promise<RegExpMatchArray> {
    const match = this.text.slice(from).match(pattern);
    if (match) return Promise.resolve(match);
    return new Promise((resolve, reject) => this.waiters.push({ pattern, from, resolve, reject }));
  }
}

describe('baygate command line', function () {
  this.timeout(60_000);
  let dir: string;
  let backends: DemoBackends;
  let policy: PolicyObject;
  let policyFile: string;
  let child: ChildProcess;
  let stdout: Output;
  let stderr: Output;
  let url: string;
  const env = () => ({ BAYGATE_DATA_DIR: path.join(dir, 'data') });

  before(async function () {
    dir = await mkdtemp(path.join(os.tmpdir(), 'baygate-cli-'));
    backends = await startDemoBackends({ socialSecurity: 0, housingFund: 0 });
    policy = await demoPolicyObject();
    policy.backends['social-security-demo'].baseUrl = backends.socialSecurityUrl;
    policy.backends['housing-fund-demo'].baseUrl = backends.housingFundUrl;
    policyFile = path.join(dir, 'policy.yaml');
    await writeFile(policyFile, JSON.stringify(policy));
    child = spawn(process.execPath, [...CLI, 'start', '--config', policyFile, '--port', '0'], { cwd: ROOT, env: { ...process.env, ...env() } });
    stdout = new Output(child, 'stdout');
    stderr = new Output(child, 'stderr');
    url = (await stdout.waitFor(/listening on (http:\/\/127\.0\.0\.1:[0-9]+)/, 0))[1]!;
  });

  after(async function () {
    if (child.exitCode === null) {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
    await backends.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('prints the pipeline in PROTOCOL.md order when it starts', function () {
    assert.match(stdout.text, /pipeline: respond → check-path → check-ip-list → limit-per-address → publish-keys → authenticate-token → check-terminal → verify-signature → enforce-rate-limits → describe-api → check-scope → check-suspension → read-body → validate-body → invoke-backend/);
  });

  it('token and call work against the running gateway', async function () {
    const token = await baygate(['token', '--url', url]);
    assert.equal(token.code, 0, token.stderr);
    assert.match(token.stdout.trim(), /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    const call = await baygate(['call', 'social-security/insured-info', JSON.stringify({ idNumber: DEMO_ID, name: '张三' }), '--url', url]);
    assert.equal(call.code, 0, call.stderr);
    assert.match(call.stdout, /^HTTP 200\n/);
    assert.equal(JSON.parse(call.stdout.slice(call.stdout.indexOf('\n') + 1)).code, 'OK');
    const refused = await baygate(['call', 'social-security/insured-info', '{"idNumber":"1"}', '--url', url]);
    assert.equal(refused.code, 2, 'a refusal exits 2');
    assert.match(refused.stdout, /BG_VALIDATION_FAILED/);
  });

  it('call --encrypt seals the body, and keygen writes a key pair it never overwrites', async function () {
    const call = await baygate(['call', 'social-security/insured-info', JSON.stringify({ idNumber: DEMO_ID }), '--url', url, '--encrypt']);
    assert.equal(call.code, 0, call.stderr);
    assert.match(call.stdout, /^HTTP 200\n/);
    const keygen = await baygate(['keygen', 'kiosk-new', '--dir', dir]);
    assert.equal(keygen.code, 0, keygen.stderr);
    assert.match(keygen.stdout, /public key \(hex, as sm-crypto writes it\): 04[0-9a-f]{128}/);
    const privateKey = importSm2PrivateKey(await readFile(path.join(dir, 'kiosk-new.sm2.key.pem'), 'utf8'));
    assert.equal(importSm2PublicKey(await readFile(path.join(dir, 'kiosk-new.sm2.pub.pem'), 'utf8')).toHex(), privateKey.publicKey.toHex());
    assert.equal((await stat(path.join(dir, 'kiosk-new.sm2.key.pem'))).mode & 0o777, 0o600);
    const again = await baygate(['keygen', 'kiosk-new', '--dir', dir]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /exists; keygen never overwrites a key/);
  });

  it('audit tail shows the records, masked', async function () {
    const tail = await baygate(['audit', 'tail', '-n', '5'], env());
    assert.equal(tail.code, 0, tail.stderr);
    assert.match(tail.stdout, /^SEQ +TIME +TERMINAL +OPERATION/);
    assert.match(tail.stdout, /kiosk-demo-001@440304 +social-security\/insured-info +social-security-demo@440300 +OK 200/);
    assert.match(tail.stdout, /440\*{11}123X/);
    assert.ok(!tail.stdout.includes(DEMO_ID));
    const json = await baygate(['audit', 'tail', '-n', '2', '--json'], env());
    const lines = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as { code: string });
    assert.equal(lines.length, 2);
  });

  it('reloads on SIGHUP: a good policy takes over, a bad one is refused with its reason, and no request fails', async function () {
    const token = (await baygate(['token', '--url', url])).stdout.trim();
    const outcomes: string[] = [];
    let running = true;
    const traffic = (async () => {
      while (running) {
        const r = await signedRawRequest(url, { path: '/api/v1/social-security/insured-info', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ idNumber: DEMO_ID }) });
        outcomes.push(`${r.status} ${r.json?.code}`);
      }
    })();

    const suspended = structuredClone(policy);
    suspended.services['housing-fund'].suspended = true;
    await writeFile(policyFile, JSON.stringify(suspended));
    let mark = stderr.text.length;
    child.kill('SIGHUP');
    await stderr.waitFor(/"message":"policy reloaded"/, mark);
    const paused = await signedRawRequest(url, { path: '/api/v1/housing-fund/account-detail', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ idNumber: DEMO_ID_2 }) });
    assert.equal(paused.json?.code, 'BG_SERVICE_SUSPENDED', paused.text);

    const broken = structuredClone(suspended);
    broken.gateway.ipList = { deny: ['10.0.0.0/40'] };
    await writeFile(policyFile, JSON.stringify(broken));
    mark = stderr.text.length;
    child.kill('SIGHUP');
    const refusal = await stderr.waitFor(/"message":"policy reload refused; the running policy stays in force".*/, mark);
    assert.match(refusal[0], /gateway\.ipList\.deny\[0\]: \\"10\.0\.0\.0\/40\\" is not a valid CIDR range/);
    const stillServing = await signedRawRequest(url, { path: '/api/v1/housing-fund/account-detail', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ idNumber: DEMO_ID_2 }) });
    assert.equal(stillServing.json?.code, 'BG_SERVICE_SUSPENDED', 'the last good policy is still in force');

    running = false;
    await traffic;
    assert.ok(outcomes.length > 0);
    assert.deepEqual([...new Set(outcomes)], ['200 OK'], `requests failed during reloads: ${[...new Set(outcomes)].join(', ')}`);
  });

  it('stops cleanly on SIGTERM', async function () {
    child.kill('SIGTERM');
    const code = await new Promise((r) => child.once('exit', r));
    assert.equal(code, 0);
  });

  it('policy check names every problem with its dotted path and exits 1', async function () {
    const bad = structuredClone(policy);
    bad.gateway.ipList = { allow: ['not-a-range'] };
    bad.services['social-security'].operations['insured-info'].backend = 'missing';
    const file = path.join(dir, 'bad.yaml');
    await writeFile(file, JSON.stringify(bad));
    const result = await baygate(['policy', 'check', file]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /gateway\.ipList\.allow\[0\]: "not-a-range" is not a valid IP address or CIDR range/);
    assert.match(result.stderr, /services\.social-security\.operations\.insured-info\.backend: no backend named "missing"/);
    const good = await baygate(['policy', 'check', path.join(DEMO_DIR, 'policy.yaml')]);
    assert.equal(good.code, 0, good.stderr);
    assert.match(good.stdout, /is valid: 1 terminals, 2 operations, 2 backends/);
  });

  it('start with a bad policy stops at once with the reason', async function () {
    const result = await baygate(['start', '--config', path.join(dir, 'bad.yaml'), '--port', '0'], env());
    assert.equal(result.code, 1);
    assert.match(result.stderr, /is not valid:\n  gateway\.ipList\.allow\[0\]/);
  });

  it('policy schema prints the JSON Schema; unknown commands are usage errors', async function () {
    const schema = await baygate(['policy', 'schema']);
    assert.equal(JSON.parse(schema.stdout).title, 'Baygate policy, version 1');
    const unknown = await baygate(['frobnicate']);
    assert.equal(unknown.code, 64);
    assert.match(unknown.stderr, /unknown command "frobnicate"/);
  });
});
