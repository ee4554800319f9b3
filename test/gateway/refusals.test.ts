import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import Database from 'better-sqlite3';
import { importJWK, SignJWT, type JWK } from 'jose';
import { CODES, type ErrorCode } from '../../gateway/errors.js';
import { DEMO_ID, DEMO_ID_2, rawRequest, signedRawRequest, startBackend, startHarness, type Harness, type Response } from '../helpers/harness.js';

function assertRefusal(response: Response, code: ErrorCode): void {
  assert.equal(response.json?.code, code, `expected ${code}, got HTTP ${response.status} ${response.text}`);
  assert.equal(response.status, CODES[code].status);
  assert.equal(response.json.message, CODES[code].message);
  assert.equal(response.json.messageEn, CODES[code].messageEn);
  assert.equal(response.json.requestId, response.headers['x-bg-request-id']);
  assert.equal(response.json.data, undefined);
  assert.match(String(response.headers['content-type']), /^application\/json/);
}

describe('refusals: each PROTOCOL.md code, answered exactly', function () {
  let h: Harness;
  let token: string;

  before(async function () {
    h = await startHarness((policy) => {
      policy.gateway.ipList = { deny: ['198.51.100.0/24'] };
      const insured = policy.services['social-security'].operations['insured-info'];
      insured.bodyLimitBytes = 512;
      delete insured.rateLimit;
      const detail = policy.services['housing-fund'].operations['account-detail'];
      policy.services['housing-fund'].operations['account-detail-limited'] = { ...detail, rateLimit: { points: 3, durationSeconds: 60 } };
      // An operation that refuses plain bodies, and one that is suspended.
      policy.services['social-security'].operations['insured-info-secure'] = { ...insured, encrypt: 'required' };
      policy.services['social-security'].operations['insured-info-paused'] = { ...insured, suspended: true };
    });
    token = await h.token();
  });
  after(() => h.close());

  describe('BG_BAD_REQUEST', function () {
    for (const badPath of [
      '/api/v1//social-security/insured-info',
      '/api/v1/social-security/./insured-info',
      '/api/v1/housing-fund/../social-security/insured-info',
      '/api/v1/social-security/insured-info/.',
      '/api/v1/social-security/insured-info/..',
      '/api/v1/social-security\\insured-info',
      '/api/v1/social-security/insured-info;jsessionid=1',
      '/api/v1/social-security/%2e%2e/insured-info',
      '/api/v1/social-security%2Finsured-info',
      '/api/v1/social-security%5cinsured-info',
      '/api/v1/social-security/insured-info%2E',
    ]) {
      it(`refuses the path ${badPath}`, async function () {
        const response = await rawRequest(h.url, { path: badPath, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' });
        assertRefusal(response, 'BG_BAD_REQUEST');
      });
    }

    it('refuses a query with a name that appears twice', async function () {
      const response = await h.call('social-security', 'insured-info', { idNumber: DEMO_ID }, { token, query: 'a=1&b=2&a=3' });
      assertRefusal(response, 'BG_BAD_REQUEST');
      assert.match(response.json.details[0].message, /"a" appears more than once/);
    });

    const badBodies: Array<[string, string, RegExp]> = [
      ['a duplicate key', `{"idNumber":"${DEMO_ID}","idNumber":"${DEMO_ID_2}"}`, /duplicate key "idNumber"/],
      ['a __proto__ key', `{"idNumber":"${DEMO_ID}","__proto__":{"admin":true}}`, /forbidden key "__proto__"/],
      ['a constructor key', `{"idNumber":"${DEMO_ID}","constructor":{"prototype":{}}}`, /forbidden key "constructor"/],
      ['nesting deeper than 64', '{"a":'.repeat(65) + '1' + '}'.repeat(65), /nesting deeper than 64/],
      ['malformed JSON', '{"idNumber": ', /unexpected end of JSON/],
      ['trailing data', '{} {}', /unexpected data after the JSON value/],
    ];
    for (const [what, body, message] of badBodies) {
      it(`refuses a body with ${what}`, async function () {
        const response = await signedRawRequest(h.url, { path: '/api/v1/social-security/insured-info', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body });
        assertRefusal(response, 'BG_BAD_REQUEST');
        assert.match(response.json.details[0].message, message);
      });
    }

    it('accepts nesting of exactly 64 levels as far as parsing goes', async function () {
      const body = '{"a":'.repeat(63) + '{}' + '}'.repeat(63);
      const response = await signedRawRequest(h.url, { path: '/api/v1/social-security/insured-info', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body });
      // It parses, then fails the schema: the depth limit is 64, not less.
      assertRefusal(response, 'BG_VALIDATION_FAILED');
    });

    it('refuses a body that is not UTF-8', async function () {
      const body = Buffer.concat([Buffer.from('{"idNumber":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
      const response = await signedRawRequest(h.url, { path: '/api/v1/social-security/insured-info', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body });
      assertRefusal(response, 'BG_BAD_REQUEST');
      assert.match(response.json.details[0].message, /UTF-8/);
    });
  });

  it('BG_VALIDATION_FAILED names each failing field by JSON Pointer', async function () {
    const response = await h.call('social-security', 'insured-info', { idNumber: '440304199003071230', extra: 1 }, { token });
    assertRefusal(response, 'BG_VALIDATION_FAILED');
    const paths = response.json.details.map((d: { path: string }) => d.path).sort();
    assert.deepEqual(paths, ['/extra', '/idNumber']);
    // Details pass the masking engine: a mistyped ID is not echoed back.
    assert.ok(!response.text.includes('440304199003071230'));
  });

  it('BG_ENCRYPTION_REQUIRED for a plain body on a route that requires encryption', async function () {
    assertRefusal(await h.call('social-security', 'insured-info-secure', { idNumber: DEMO_ID }, { token }), 'BG_ENCRYPTION_REQUIRED');
    const empty = await signedRawRequest(h.url, { path: '/api/v1/social-security/insured-info-secure', headers: { authorization: `Bearer ${token}` } });
    assertRefusal(empty, 'BG_ENCRYPTION_REQUIRED');
  });

  it('BG_TOKEN_MISSING with WWW-Authenticate: Bearer', async function () {
    const response = await rawRequest(h.url, { path: '/api/v1/social-security/insured-info', headers: { 'content-type': 'application/json' }, body: '{}' });
    assertRefusal(response, 'BG_TOKEN_MISSING');
    assert.match(String(response.headers['www-authenticate']), /^Bearer /);
    const basic = await rawRequest(h.url, { path: '/api/v1/social-security/insured-info', headers: { authorization: 'Basic a2lvc2s6c2VjcmV0', 'content-type': 'application/json' }, body: '{}' });
    assertRefusal(basic, 'BG_TOKEN_MISSING');
  });

  describe('BG_TOKEN_INVALID', function () {
    let signingKey: JWK;
    const claims = () => ({ client_id: 'kiosk-demo-001', scope: 'social-security housing-fund' });
    const forge = async (jwk: JWK, change: (jwt: SignJWT) => SignJWT) => {
      const key = await importJWK(jwk, jwk.alg);
      const jwt = new SignJWT(claims()).setProtectedHeader({ alg: jwk.alg!, kid: jwk.kid, typ: 'at+jwt' })
        .setIssuer(`${h.url}/oauth`).setAudience('urn:baygate:gateway').setIssuedAt().setExpirationTime('5m').setJti('t1');
      return change(jwt).sign(key);
    };

    before(async function () {
      const keys = JSON.parse(await readFile(path.join(h.dataDir, 'oauth-keys.json'), 'utf8')) as { signing: JWK[] };
      signingKey = keys.signing[0]!;
    });

    it('accepts a token forged with the real key and claims (the control case)', async function () {
      const response = await h.call('social-security', 'insured-info', { idNumber: DEMO_ID }, { token: await forge(signingKey, (j) => j) });
      assert.equal(response.json.code, 'OK', response.text);
    });

    const cases: Array<[string, (j: SignJWT) => SignJWT]> = [
      ['an expired token', (j) => j.setIssuedAt(Math.floor(Date.now() / 1000) - 900).setExpirationTime(Math.floor(Date.now() / 1000) - 600)],
      ['a token for another audience', (j) => j.setAudience('urn:someone-else')],
      ['a token from another issuer', (j) => j.setIssuer('https://evil.example/oauth')],
    ];
    for (const [what, change] of cases) {
      it(`refuses ${what}`, async function () {
        const response = await h.call('social-security', 'insured-info', { idNumber: DEMO_ID }, { token: await forge(signingKey, change) });
        assertRefusal(response, 'BG_TOKEN_INVALID');
        assert.match(String(response.headers['www-authenticate']), /error="invalid_token"/);
      });
    }

    it('refuses a token with a tampered payload', async function () {
      const [header, payload, signature] = token.split('.');
      const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
      claims.scope = 'social-security housing-fund admin';
      const tampered = [header, Buffer.from(JSON.stringify(claims)).toString('base64url'), signature].join('.');
      assertRefusal(await h.call('social-security', 'insured-info', { idNumber: DEMO_ID }, { token: tampered }), 'BG_TOKEN_INVALID');
    });

    it('refuses an algorithm outside the allow-list (HS256 keyed with the public key, and alg none)', async function () {
      const { d: _d, ...publicJwk } = signingKey;
      const hmacKey = new TextEncoder().encode(JSON.stringify(publicJwk));
      const hs = await new SignJWT(claims()).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' }).setIssuer(`${h.url}/oauth`).setAudience('urn:baygate:gateway').setExpirationTime('5m').sign(hmacKey);
      assertRefusal(await h.call('social-security', 'insured-info', { idNumber: DEMO_ID }, { token: hs }), 'BG_TOKEN_INVALID');
      const none = `${Buffer.from('{"alg":"none","typ":"at+jwt"}').toString('base64url')}.${Buffer.from(JSON.stringify({ ...claims(), iss: `${h.url}/oauth`, aud: 'urn:baygate:gateway', exp: 9999999999 })).toString('base64url')}.`;
      assertRefusal(await h.call('social-security', 'insured-info', { idNumber: DEMO_ID }, { token: none }), 'BG_TOKEN_INVALID');
    });

    it('refuses garbage', async function () {
      assertRefusal(await h.call('social-security', 'insured-info', { idNumber: DEMO_ID }, { token: 'not.a.jwt' }), 'BG_TOKEN_INVALID');
    });
  });

  it('BG_IP_DENIED for an address on the deny list, via a trusted proxy; a spoofed X-Forwarded-For from an untrusted peer is ignored', async function () {
    const spoofed = await h.call('social-security', 'insured-info', { idNumber: DEMO_ID }, { token, headers: { 'x-forwarded-for': '198.51.100.7' } });
    assert.equal(spoofed.json.code, 'OK', 'an untrusted peer chose its own address');
    await withPolicy((p) => { p.gateway.trustedProxies = ['127.0.0.1/32']; }, async () => {
      const denied = await h.call('social-security', 'insured-info', { idNumber: DEMO_ID }, { token, headers: { 'x-forwarded-for': '198.51.100.7' } });
      assertRefusal(denied, 'BG_IP_DENIED');
      const records = await h.auditRecords();
      assert.equal(records.find((r) => r.requestId === denied.json.requestId)?.clientIp, '198.51.100.7');
      const garbage = await h.call('social-security', 'insured-info', { idNumber: DEMO_ID }, { token, headers: { 'x-forwarded-for': 'evil' } });
      assertRefusal(garbage, 'BG_BAD_REQUEST');
    });
  });

  /** Applies a changed policy for the length of one test. */
  async function withPolicy(change: (policy: typeof h.policy) => void, body: () => Promise<void>): Promise<void> {
    const next = structuredClone(h.policy);
    change(next);
    await h.writePolicy(next);
    assert.deepEqual(await h.gateway.reload(), { ok: true });
    try {
      await body();
    } finally {
      await h.writePolicy(h.policy);
      assert.deepEqual(await h.gateway.reload(), { ok: true });
    }
  }

  it('BG_IP_DENIED when the terminal calls from outside its own source ranges', async function () {
    await withPolicy((p) => { p.terminals[0].sourceRanges = ['192.0.2.0/24']; }, async () => {
      assertRefusal(await h.call('social-security', 'insured-info', { idNumber: DEMO_ID }, { token }), 'BG_IP_DENIED');
    });
  });

  it('BG_IP_DENIED from a route allow list', async function () {
    await withPolicy((p) => { p.services['social-security'].operations['insured-info'].ipList = { allow: ['192.0.2.0/24'] }; }, async () => {
      assertRefusal(await h.call('social-security', 'insured-info', { idNumber: DEMO_ID }, { token }), 'BG_IP_DENIED');
      assert.equal((await h.call('housing-fund', 'account-detail', { idNumber: DEMO_ID_2 }, { token: await h.token() })).json.code, 'OK');
    });
  });

  it('BG_TERMINAL_LOCKED for a token issued before the terminal was locked; a locked terminal gets no new token', async function () {
    await withPolicy((p) => { p.terminals[0].status = 'locked'; }, async () => {
      assertRefusal(await h.call('social-security', 'insured-info', { idNumber: DEMO_ID }, { token }), 'BG_TERMINAL_LOCKED');
      await assert.rejects(h.token(), /invalid_client/);
    });
  });

  it('BG_SCOPE_DENIED when the token does not grant the service', async function () {
    const narrow = await h.token({ scope: 'housing-fund' });
    const response = await h.call('social-security', 'insured-info', { idNumber: DEMO_ID }, { token: narrow });
    assertRefusal(response, 'BG_SCOPE_DENIED');
    assert.match(response.json.details[0].message, /social-security/);
  });

  it('BG_ROUTE_NOT_FOUND for an unknown operation, an unknown service, a wrong method and other paths', async function () {
    assertRefusal(await h.call('social-security', 'no-such-operation', {}, { token }), 'BG_ROUTE_NOT_FOUND');
    assertRefusal(await h.call('no-such-service', 'insured-info', {}, { token }), 'BG_ROUTE_NOT_FOUND');
    const wrongMethod = await h.call('social-security', 'insured-info', undefined, { token, method: 'GET' });
    assertRefusal(wrongMethod, 'BG_ROUTE_NOT_FOUND');
    assert.match(wrongMethod.json.details[0].message, /called with POST/);
    assertRefusal(await rawRequest(h.url, { method: 'GET', path: '/admin' }), 'BG_ROUTE_NOT_FOUND');
  });

  it('BG_BODY_TOO_LARGE over the route limit, whether declared or streamed', async function () {
    const big = JSON.stringify({ idNumber: DEMO_ID, name: 'x'.repeat(1000) });
    assertRefusal(await h.call('social-security', 'insured-info', JSON.parse(big), { token }), 'BG_BODY_TOO_LARGE');
    const chunked = await signedRawRequest(h.url, {
      path: '/api/v1/social-security/insured-info',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      body: big,
    });
    assertRefusal(chunked, 'BG_BODY_TOO_LARGE');
  });

  it('BG_UNSUPPORTED_MEDIA_TYPE for another content type', async function () {
    const response = await h.call('social-security', 'insured-info', { idNumber: DEMO_ID }, { token, headers: { 'content-type': 'text/plain' } });
    assertRefusal(response, 'BG_UNSUPPORTED_MEDIA_TYPE');
  });

  it('BG_RATE_LIMITED with Retry-After over the per-route limit', async function () {
    const codes: string[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 5; i++) {
      last = await h.call('housing-fund', 'account-detail-limited', { idNumber: DEMO_ID_2 }, { token });
      codes.push(last.json.code);
    }
    assert.deepEqual(codes, ['OK', 'OK', 'OK', 'BG_RATE_LIMITED', 'BG_RATE_LIMITED']);
    assertRefusal(last!, 'BG_RATE_LIMITED');
    const retryAfter = Number(last!.headers['retry-after']);
    assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After ${last!.headers['retry-after']}`);
  });

  it('BG_SERVICE_SUSPENDED for a suspended operation', async function () {
    assertRefusal(await h.call('social-security', 'insured-info-paused', { idNumber: DEMO_ID }, { token }), 'BG_SERVICE_SUSPENDED');
  });

  it('checks in PROTOCOL.md order: a bad path beats a missing token, a missing token beats a bad body', async function () {
    assertRefusal(await rawRequest(h.url, { path: '/api/v1//x/y', body: 'not json' }), 'BG_BAD_REQUEST');
    assertRefusal(await rawRequest(h.url, { path: '/api/v1/social-security/insured-info', headers: { 'content-type': 'text/plain' }, body: 'x' }), 'BG_TOKEN_MISSING');
  });

  it('BG_AUDIT_UNAVAILABLE when the record cannot be written, and the backend is not called again', async function () {
    // A second writer holds the database's write lock, so the gateway's insert fails after its busy timeout.
    const blocker = new Database(path.join(h.dataDir, 'audit.sqlite'));
    blocker.pragma('busy_timeout = 0');
    blocker.exec('BEGIN IMMEDIATE');
    try {
      const first = await h.call('social-security', 'insured-info', { idNumber: DEMO_ID }, { token });
      assertRefusal(first, 'BG_AUDIT_UNAVAILABLE');
      assert.equal(first.json.data, undefined, 'data was released without an audit record');
      const calledSoFar = h.backends.requests;
      const second = await h.call('social-security', 'insured-info', { idNumber: DEMO_ID }, { token });
      assertRefusal(second, 'BG_AUDIT_UNAVAILABLE');
      assert.equal(h.backends.requests, calledSoFar, 'the backend was called while the audit trail could not be written');
    } finally {
      blocker.exec('ROLLBACK');
      blocker.close();
    }
    const after = await h.call('social-security', 'insured-info', { idNumber: DEMO_ID }, { token });
    assert.equal(after.json.code, 'OK', 'the gateway did not recover once the audit store could be written again');
  });

  describe('upstream failures', function () {
    let hu: Harness;
    let tokenU: string;
    const backends: Array<{ close(): Promise<void> }> = [];
    let hits = 0;

    before(async function () {
      const misbehaving = await startBackend((req, res) => {
        hits++;
        const route = req.url!.split('?')[0];
        if (route === '/fault') { res.writeHead(500, { 'content-type': 'application/json' }); res.end('{"error":"boom"}'); return; }
        if (route === '/html') { res.writeHead(200, { 'content-type': 'text/html' }); res.end('<html>login</html>'); return; }
        if (route === '/big') { res.writeHead(200, { 'content-type': 'application/json' }); res.end(JSON.stringify({ pad: 'x'.repeat(5000) })); return; }
        if (route === '/redirect') { res.writeHead(302, { location: 'http://127.0.0.1:1/elsewhere' }); res.end(); return; }
        if (route === '/shape') { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"result":{"unexpected":true}}'); return; }
        if (route === '/slow') { setTimeout(() => { res.writeHead(200); res.end('{}'); }, 2_000).unref(); return; }
        if (route === '/unavailable') { res.writeHead(503); res.end(); return; }
        res.writeHead(404); res.end();
      });
      const dead = await startBackend(() => undefined);
      await dead.close();
      backends.push(misbehaving);
      hu = await startHarness((policy) => {
        const template = policy.services['social-security'].operations['insured-info'];
        const op = (name: string, backend: string, extra: Record<string, unknown> = {}) => ({ ...template, backend, request: { method: 'POST', path: `/${name}` }, rateLimit: undefined, ...extra });
        policy.backends.misbehaving = { kind: 'rest', region: 'HK', baseUrl: misbehaving.url, timeoutMs: 300, maxResponseBytes: 2048, retries: 2 };
        policy.backends.dead = { kind: 'rest', region: 'MO', baseUrl: dead.url, timeoutMs: 1000, retries: 2 };
        policy.services.faults = {
          title: 'faults',
          operations: {
            fault: op('fault', 'misbehaving'),
            html: op('html', 'misbehaving'),
            big: op('big', 'misbehaving'),
            redirect: op('redirect', 'misbehaving'),
            shape: op('shape', 'misbehaving'),
            slow: op('slow', 'misbehaving'),
            dead: op('dead', 'dead'),
            'unavailable-once': op('unavailable', 'misbehaving', { idempotent: false }),
            'unavailable-retried': op('unavailable', 'misbehaving', { idempotent: true }),
          },
        };
        policy.terminals[0].services.push('faults');
      });
      tokenU = await hu.token();
    });
    after(async () => {
      await hu.close();
      for (const b of backends) await b.close();
    });

    const expectations: Array<[string, ErrorCode, RegExp | undefined]> = [
      ['fault', 'BG_UPSTREAM_FAULT', /HTTP 500/],
      ['html', 'BG_UPSTREAM_FAULT', /not JSON/],
      ['big', 'BG_UPSTREAM_FAULT', /larger than allowed/],
      ['redirect', 'BG_UPSTREAM_FAULT', /HTTP 302/],
      ['shape', 'BG_UPSTREAM_FAULT', /response schema/],
      ['slow', 'BG_UPSTREAM_TIMEOUT', undefined],
      ['dead', 'BG_UPSTREAM_UNAVAILABLE', undefined],
    ];
    for (const [operation, code, detail] of expectations) {
      it(`${code} for the ${operation} backend`, async function () {
        const response = await hu.call('faults', operation, { idNumber: DEMO_ID }, { token: tokenU });
        assertRefusal(response, code);
        if (detail) assert.match(JSON.stringify(response.json.details), detail);
        assert.ok(!response.text.includes('127.0.0.1'), 'a refusal names the backend address');
      });
    }

    it('retries an idempotent operation and never a non-idempotent one', async function () {
      hits = 0;
      assertRefusal(await hu.call('faults', 'unavailable-once', { idNumber: DEMO_ID }, { token: tokenU }), 'BG_UPSTREAM_UNAVAILABLE');
      assert.equal(hits, 1);
      hits = 0;
      assertRefusal(await hu.call('faults', 'unavailable-retried', { idNumber: DEMO_ID }, { token: tokenU }), 'BG_UPSTREAM_UNAVAILABLE');
      assert.equal(hits, 3);
    });
  });
});
