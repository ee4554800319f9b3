import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';
import * as oidc from 'openid-client';
import { BaygateClient, BaygateRequestError } from '../../client/index.js';
import { DEMO_DIR, DEMO_KEY, DEMO_ID, DEMO_ID_2, DEMO_TERMINAL, rawRequest, startHarness, type Harness } from '../helpers/harness.js';

describe('one secured endpoint, end to end', function () {
  let h: Harness;
  let kioskKey: Awaited<ReturnType<typeof generateKeyPair>>["privateKey"];

  before(async function () {
    const pair = await generateKeyPair('ES256', { extractable: true });
    kioskKey = pair.privateKey;
    h = await startHarness(async (policy, dir) => {
      const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'kiosk-jwt-1', alg: 'ES256', use: 'sig' };
      await writeFile(path.join(dir, 'kiosk-jwt.jwks.json'), JSON.stringify({ keys: [jwk] }));
      policy.terminals.push({
        id: 'kiosk-jwt-002',
        region: 'HK',
        department: 'hk-immigration',
        auth: { method: 'private_key_jwt', jwksFile: path.join(dir, 'kiosk-jwt.jwks.json') },
        services: ['housing-fund'],
        signingKeys: [{ id: 'kiosk-jwt-002-k1', publicKeyFile: path.join(DEMO_DIR, 'kiosk-demo-001.sm2.pub.pem') }],
      });
    });
  });
  after(() => h.close());

  it('serves OAuth discovery under /oauth', async function () {
    const response = await fetch(`${h.url}/oauth/.well-known/openid-configuration`);
    assert.equal(response.status, 200);
    const metadata = await response.json() as Record<string, unknown>;
    assert.equal(metadata.issuer, `${h.url}/oauth`);
    assert.equal(metadata.token_endpoint, `${h.url}/oauth/token`);
    assert.ok((metadata.grant_types_supported as string[]).includes('client_credentials'));
    assert.deepEqual((metadata.token_endpoint_auth_methods_supported as string[]).sort(), ['client_secret_basic', 'private_key_jwt']);
  });

  it('gives a standard OAuth client library (openid-client) a token with client_secret_basic, and the call succeeds', async function () {
    const config = await oidc.discovery(new URL(`${h.url}/oauth`), DEMO_TERMINAL, undefined, oidc.ClientSecretBasic(h.secret), { execute: [oidc.allowInsecureRequests] });
    const tokens = await oidc.clientCredentialsGrant(config);
    assert.equal(tokens.token_type.toLowerCase(), 'bearer');
    assert.equal(tokens.expires_in, 300);
    assert.equal(tokens.scope, 'social-security housing-fund');
    const [, payload] = tokens.access_token.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    assert.equal(claims.aud, 'urn:baygate:gateway');
    assert.equal(claims.client_id, DEMO_TERMINAL);

    const response = await h.call('social-security', 'insured-info', { idNumber: DEMO_ID, name: '张三' }, { token: tokens.access_token });
    assert.equal(response.status, 200);
    assert.equal(response.json.code, 'OK');
    assert.equal(response.json.message, '成功');
    assert.equal(response.json.messageEn, 'OK');
    assert.match(response.json.requestId, /^[0-9a-f-]{36}$/);
    assert.equal(response.headers['x-bg-request-id'], response.json.requestId);
    assert.match(String(response.headers['x-bg-timestamp']), /^[0-9]{13}$/);
    assert.deepEqual(Object.keys(response.json.data).sort(), ['city', 'insuranceTypes', 'name', 'startDate', 'status']);
  });

  it('gives a token to a private_key_jwt terminal through openid-client', async function () {
    const config = await oidc.discovery(new URL(`${h.url}/oauth`), 'kiosk-jwt-002', undefined, oidc.PrivateKeyJwt({ key: kioskKey, kid: 'kiosk-jwt-1' }), { execute: [oidc.allowInsecureRequests] });
    const tokens = await oidc.clientCredentialsGrant(config);
    assert.equal(tokens.scope, 'housing-fund');
    const response = await h.call('housing-fund', 'account-detail', { idNumber: DEMO_ID_2, months: 2 }, { token: tokens.access_token, signAs: { clientId: 'kiosk-jwt-002' } });
    assert.equal(response.status, 200, response.text);
    assert.equal(response.json.data.records.length, 2);
  });

  it('narrows the token to the scope asked for, and refuses a service the terminal may not call', async function () {
    const narrow = await h.token({ scope: 'housing-fund' });
    const claims = JSON.parse(Buffer.from(narrow.split('.')[1]!, 'base64url').toString());
    assert.equal(claims.scope, 'housing-fund');
    const config = await oidc.discovery(new URL(`${h.url}/oauth`), 'kiosk-jwt-002', undefined, oidc.PrivateKeyJwt({ key: kioskKey, kid: 'kiosk-jwt-1' }), { execute: [oidc.allowInsecureRequests] });
    await assert.rejects(oidc.clientCredentialsGrant(config, { scope: 'social-security' }), (error: { error?: string }) => {
      assert.equal(error.error, 'invalid_scope');
      return true;
    });
  });

  it('refuses a wrong client secret at the token endpoint', async function () {
    const basic = Buffer.from(`kiosk-demo-001:wrong-secret-wrong-secret-wrong-secret`).toString('base64');
    const response = await fetch(`${h.url}/oauth/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    });
    assert.equal(response.status, 401);
    assert.equal((await response.json() as { error: string }).error, 'invalid_client');
  });

  it('sends the backend the validated object, with schema defaults filled in', async function () {
    const response = await h.call('housing-fund', 'account-detail', { idNumber: DEMO_ID_2 });
    assert.equal(response.status, 200);
    // The schema's default of 6 months reached the backend's query string.
    assert.equal(response.json.data.records.length, 6);
  });

  it('works through the client SDK, which throws typed errors with the PROTOCOL code', async function () {
    const client = new BaygateClient({ baseUrl: h.url, clientId: DEMO_TERMINAL, clientSecret: h.secret, signingKey: DEMO_KEY });
    const data = await client.call<{ name: string }>('social-security', 'insured-info', { idNumber: DEMO_ID });
    assert.equal(typeof data.name, 'string');
    await assert.rejects(client.call('social-security', 'insured-info', { idNumber: '123' }), (error: unknown) => {
      assert.ok(error instanceof BaygateRequestError);
      assert.equal(error.code, 'BG_VALIDATION_FAILED');
      assert.equal(error.status, 400);
      assert.equal(error.details[0]!.path, '/idNumber');
      return true;
    });
  });

  it('describes what the token reaches as OpenAPI 3.1, with examples and no backend address', async function () {
    const narrow = await h.token({ scope: 'social-security' });
    const response = await rawRequest(h.url, { method: 'GET', path: '/api/v1/openapi.json', headers: { authorization: `Bearer ${narrow}` } });
    assert.equal(response.status, 200);
    const doc = response.json;
    assert.equal(doc.openapi, '3.1.0');
    assert.deepEqual(Object.keys(doc.paths), ['/api/v1/social-security/insured-info']);
    const post = doc.paths['/api/v1/social-security/insured-info'].post;
    assert.equal(post.requestBody.content['application/json'].schema.properties.idNumber.format, 'cn-resident-id');
    assert.ok(Object.keys(post.requestBody.content['application/json'].examples).length >= 1);
    assert.ok(post.responses['200'].content['application/json'].schema.properties.data.properties.startDate);
    const text = response.text;
    for (const secretive of [h.backends.socialSecurityUrl, h.backends.housingFundUrl, 'baseUrl', 'insured-persons', '18081']) {
      assert.ok(!text.includes(secretive), `the OpenAPI document names ${secretive}`);
    }
    const anonymous = await rawRequest(h.url, { method: 'GET', path: '/api/v1/openapi.json' });
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.json.code, 'BG_TOKEN_MISSING');
  });

  it('writes one masked audit record per request, accepted or refused', async function () {
    const before = (await h.auditRecords()).length;
    const ok = await h.call('social-security', 'insured-info', { idNumber: DEMO_ID, name: '张三' });
    const refused = await h.call('social-security', 'insured-info', { idNumber: '440304199003071239', name: '李四' });
    assert.equal(refused.json.code, 'BG_VALIDATION_FAILED');
    const records = await h.auditRecords();
    const mine = records.filter((r) => r.requestId === ok.json.requestId || r.requestId === refused.json.requestId);
    assert.equal(mine.length, 2);
    const [accepted, rejected] = mine;
    assert.equal(accepted!.code, 'OK');
    assert.equal(accepted!.httpStatus, 200);
    assert.equal(accepted!.terminalId, DEMO_TERMINAL);
    assert.equal(accepted!.terminalRegion, '440304');
    assert.equal(accepted!.service, 'social-security');
    assert.equal(accepted!.operation, 'insured-info');
    assert.equal(accepted!.backend, 'social-security-demo');
    assert.equal(accepted!.backendRegion, '440300');
    assert.ok(accepted!.latencyMs > 0);
    assert.equal(rejected!.code, 'BG_VALIDATION_FAILED');
    assert.equal(rejected!.httpStatus, 400);
    assert.ok(records.length >= before + 2);
    const all = JSON.stringify(records);
    assert.ok(!all.includes(DEMO_ID), 'an ID number is in the audit trail unmasked');
    assert.ok(!all.includes('440304199003071239'), 'a mistyped ID number is in the audit trail unmasked');
    assert.ok(!all.includes('张三') && !all.includes('李四'), 'a name is in the audit trail unmasked');
    assert.match(accepted!.requestSummary!, /"idNumber":"440\*{11}123X"/);
    assert.match(accepted!.requestSummary!, /"name":"张\*"/);
  });

  it('audits token requests too, naming the terminal', async function () {
    await h.token();
    const records = await h.auditRecords();
    const tokenRecord = records.reverse().find((r) => r.path === '/oauth/token');
    assert.ok(tokenRecord);
    assert.equal(tokenRecord.code, 'OK');
    assert.equal(tokenRecord.terminalId, DEMO_TERMINAL);
  });

  it('answers /healthz', async function () {
    const response = await fetch(`${h.url}/healthz`);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { status: 'ok' });
  });
});
