import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { BaygateClient, BaygateRequestError } from '../../client/index.js';
import { ENCRYPTED_CONTENT_TYPE, newNonce, openEnvelope, requestStringToSign, responseStringToSign, sealEnvelope, splitSessionKey, type RequestToSign } from '../../client/protocol.js';
import { generateSm2KeyPair, importSm2PublicKey, sm2Encrypt, sm2Sign, sm2Verify } from '../../crypto/sm2.js';
import { sm3Hex } from '../../crypto/sm3.js';
import { GatewayKeySet } from '../../policies/gateway-keys.js';
import { MemoryNonceStore, type NonceStore } from '../../gateway/state/nonce-store.js';
import { verifySignature } from '../../gateway/stages/verify-signature.js';
import { createLogger } from '../../gateway/logger.js';
import type { BaygateContext } from '../../gateway/context.js';
import { BaygateError } from '../../gateway/errors.js';
import { DEMO_DIR, DEMO_ID, DEMO_KEY, DEMO_TERMINAL, rawRequest, startHarness, type Harness, type Response } from '../helpers/harness.js';

const run = promisify(execFile);
const INSURED = '/api/v1/social-security/insured-info';

function assertRefusal(response: Response, code: string, status?: number): void {
  assert.equal(response.json?.code, code, `expected ${code}, got HTTP ${response.status} ${response.text}`);
  if (status !== undefined) assert.equal(response.status, status);
}

describe('PROTOCOL.md §2–§4: signed and encrypted calls', function () {
  this.timeout(30_000);
  let h: Harness;
  let token: string;
  const rotated = generateSm2KeyPair();
  const otherId = generateSm2KeyPair();

  before(async function () {
    h = await startHarness(async (policy, dir) => {
      await writeFile(path.join(dir, 'rotated.pub.pem'), rotated.publicKey.toPem());
      await writeFile(path.join(dir, 'other-id.pub.pem'), otherId.publicKey.toPem());
      const terminal = policy.terminals[0];
      terminal.signingKeys.push({ id: 'kiosk-demo-001-k2', publicKeyFile: path.join(dir, 'rotated.pub.pem') });
      terminal.signingKeys.push({ id: 'kiosk-demo-001-k3', publicKeyFile: path.join(dir, 'other-id.pub.pem'), distinguishingId: 'KIOSK-MO-0001' });
      const insured = policy.services['social-security'].operations['insured-info'];
      policy.services['social-security'].operations['insured-info-secure'] = { ...insured, encrypt: 'required' };
      policy.services['social-security'].operations['insured-info-plain'] = { ...insured, encrypt: 'off', signResponse: false };
    });
    token = await h.token();
  });
  after(() => h.close());

  describe('signatures', function () {
    it('accepts a correctly signed call and signs the answer with the published key', async function () {
      const response = await h.call('social-security', 'insured-info', { idNumber: DEMO_ID }, { token });
      assert.equal(response.status, 200, response.text);
      const keys = (await rawRequest(h.url, { method: 'GET', path: '/.well-known/baygate/keys' })).json.keys;
      const sig = keys.find((k: { use: string }) => k.use === 'sig');
      assert.equal(response.headers['x-bg-key-id'], sig.kid);
      const signed = responseStringToSign(String(response.headers['x-bg-request-id']), 200, String(response.headers['x-bg-timestamp']), Buffer.from(response.text));
      assert.equal(sm2Verify(importSm2PublicKey(sig.publicKey), signed, Buffer.from(String(response.headers['x-bg-signature']), 'base64')), true);
      assert.equal(importSm2PublicKey(sig.publicKeyHex).toPem(), sig.publicKey);
    });

    it('refuses a missing header with BG_SIGNATURE_MISSING, naming it', async function () {
      for (const header of ['x-bg-timestamp', 'x-bg-nonce', 'x-bg-signature']) {
        const response = await h.call('social-security', 'insured-info', { idNumber: DEMO_ID }, { token, headers: { [header]: undefined } });
        assertRefusal(response, 'BG_SIGNATURE_MISSING', 401);
        assert.match(response.json.details[0].message, new RegExp(header, 'i'));
      }
    });

    it('refuses malformed timestamps and nonces with BG_BAD_REQUEST', async function () {
      for (const [header, value] of [['x-bg-timestamp', '17e11'], ['x-bg-timestamp', '-5'], ['x-bg-nonce', 'short'], ['x-bg-nonce', 'has space in it 12345'], ['x-bg-nonce', 'x'.repeat(65)]]) {
        assertRefusal(await h.call('social-security', 'insured-info', { idNumber: DEMO_ID }, { token, headers: { [header!]: value } }), 'BG_BAD_REQUEST', 400);
      }
    });

    it('refuses each signed component tampered with in turn', async function () {
      const body = { idNumber: DEMO_ID };
      const tampered: Array<[string, Partial<RequestToSign>]> = [
        ['method', { method: 'PUT' }],
        ['path', { path: '/api/v1/social-security/insured-info-plain' }],
        ['query', { query: 'a=2' }],
        ['client id', { clientId: 'kiosk-other' }],
        ['body', { body: Buffer.from(JSON.stringify({ idNumber: '440106198511122344' })) }],
      ];
      for (const [what, signAs] of tampered) {
        const response = await h.call('social-security', 'insured-info', body, { token, signAs, query: what === 'query' ? 'a=1' : undefined });
        assertRefusal(response, 'BG_SIGNATURE_INVALID', 401);
      }
      // Timestamp and nonce: signed with one value, sent with another.
      const now = String(Date.now());
      assertRefusal(await h.call('social-security', 'insured-info', body, { token, signAs: { timestamp: now }, headers: { 'x-bg-timestamp': String(Number(now) - 1) } }), 'BG_SIGNATURE_INVALID');
      assertRefusal(await h.call('social-security', 'insured-info', body, { token, signAs: { nonce: 'nonce-signed-0000001' }, headers: { 'x-bg-nonce': 'nonce-sent-000000001' } }), 'BG_SIGNATURE_INVALID');
      // A signature that is not DER, or not base64.
      assertRefusal(await h.call('social-security', 'insured-info', body, { token, headers: { 'x-bg-signature': randomBytes(64).toString('base64') } }), 'BG_SIGNATURE_INVALID');
      assertRefusal(await h.call('social-security', 'insured-info', body, { token, headers: { 'x-bg-signature': '***' } }), 'BG_SIGNATURE_INVALID');
    });

    it('signs the query in canonical order, so the order sent does not matter, and refuses a duplicate name', async function () {
      const body = { idNumber: DEMO_ID };
      const response = await h.call('social-security', 'insured-info', body, { token, query: 'b=2&a=1&c=%E4%B8%AD' });
      assert.equal(response.status, 200, response.text);
      assertRefusal(await h.call('social-security', 'insured-info', body, { token, query: 'a=1&a=1' }), 'BG_BAD_REQUEST');
      assertRefusal(await h.call('social-security', 'insured-info', body, { token, query: 'a=1&b=2', signAs: { query: 'a=1&b=2&c=3' } }), 'BG_SIGNATURE_INVALID');
    });

    it('takes any of the terminal\'s registered keys, by X-Bg-Key-Id or in turn, with its registered identifier', async function () {
      const body = { idNumber: DEMO_ID };
      assert.equal((await h.call('social-security', 'insured-info', body, { token, key: rotated })).status, 200);
      assert.equal((await h.call('social-security', 'insured-info', body, { token, key: rotated, headers: { 'x-bg-key-id': 'kiosk-demo-001-k2' } })).status, 200);
      assertRefusal(await h.call('social-security', 'insured-info', body, { token, key: rotated, headers: { 'x-bg-key-id': 'kiosk-demo-001-k1' } }), 'BG_SIGNATURE_INVALID');
      const unknown = await h.call('social-security', 'insured-info', body, { token, headers: { 'x-bg-key-id': 'nope' } });
      assertRefusal(unknown, 'BG_SIGNATURE_INVALID');
      assert.match(unknown.json.details[0].message, /"nope" is not a key registered/);
      assert.equal((await h.call('social-security', 'insured-info', body, { token, key: otherId, distinguishingId: 'KIOSK-MO-0001' })).status, 200);
      assertRefusal(await h.call('social-security', 'insured-info', body, { token, key: otherId }), 'BG_SIGNATURE_INVALID');
      assertRefusal(await h.call('social-security', 'insured-info', body, { token, key: generateSm2KeyPair() }), 'BG_SIGNATURE_INVALID');
    });

    it('refuses a replay with BG_NONCE_REPLAYED, and only after the signature verified', async function () {
      const body = Buffer.from(JSON.stringify({ idNumber: DEMO_ID }));
      const nonce = newNonce();
      const timestamp = String(Date.now());
      const first = await h.call('social-security', 'insured-info', body, { token, signAs: { nonce, timestamp }, headers: { 'x-bg-nonce': nonce, 'x-bg-timestamp': timestamp } });
      assert.equal(first.status, 200, first.text);
      const again = await h.call('social-security', 'insured-info', body, { token, signAs: { nonce, timestamp }, headers: { 'x-bg-nonce': nonce, 'x-bg-timestamp': timestamp } });
      assertRefusal(again, 'BG_NONCE_REPLAYED', 409);
      // Someone without the key cannot use up a nonce: a bad signature does not store it.
      const fresh = newNonce();
      assertRefusal(await h.call('social-security', 'insured-info', body, { token, key: generateSm2KeyPair(), signAs: { nonce: fresh }, headers: { 'x-bg-nonce': fresh } }), 'BG_SIGNATURE_INVALID');
      assert.equal((await h.call('social-security', 'insured-info', body, { token, signAs: { nonce: fresh }, headers: { 'x-bg-nonce': fresh } })).status, 200);
    });

    it('refuses a timestamp outside ±300 s either way, saying by how much', async function () {
      const body = { idNumber: DEMO_ID };
      const ahead = String(Date.now() + 301_000);
      const late = await h.call('social-security', 'insured-info', body, { token, signAs: { timestamp: ahead }, headers: { 'x-bg-timestamp': ahead } });
      assertRefusal(late, 'BG_TIMESTAMP_OUT_OF_WINDOW', 401);
      assert.match(late.json.details[0].message, /30[01] s ahead of the gateway's clock; the window is ±300 s/);
      const behind = String(Date.now() - 301_000);
      const early = await h.call('social-security', 'insured-info', body, { token, signAs: { timestamp: behind }, headers: { 'x-bg-timestamp': behind } });
      assertRefusal(early, 'BG_TIMESTAMP_OUT_OF_WINDOW');
      assert.match(early.json.details[0].message, /behind/);
      const edge = String(Date.now() - 290_000);
      assert.equal((await h.call('social-security', 'insured-info', body, { token, signAs: { timestamp: edge }, headers: { 'x-bg-timestamp': edge } })).status, 200);
    });

    it('does not sign refusals made before the token was accepted, and honours signResponse: false', async function () {
      const anonymous = await rawRequest(h.url, { path: INSURED, headers: { 'content-type': 'application/json' }, body: '{}' });
      assertRefusal(anonymous, 'BG_TOKEN_MISSING');
      assert.equal(anonymous.headers['x-bg-signature'], undefined);
      const refused = await h.call('social-security', 'insured-info', { idNumber: '1' }, { token });
      assertRefusal(refused, 'BG_VALIDATION_FAILED');
      assert.ok(refused.headers['x-bg-signature'], 'a refusal after the token is signed');
      const plain = await h.call('social-security', 'insured-info-plain', { idNumber: DEMO_ID }, { token });
      assert.equal(plain.status, 200);
      assert.equal(plain.headers['x-bg-signature'], undefined);
      assert.ok(plain.headers['x-bg-timestamp']);
    });

    it('accepts a request signed with nothing but the OpenSSL command line and sent with curl', async function () {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'bg-openssl-call-'));
      try {
        const body = JSON.stringify({ idNumber: DEMO_ID, name: '张三' });
        const timestamp = String(Date.now());
        const nonce = newNonce();
        await writeFile(path.join(dir, 'body.json'), body);
        // Everything below is what docs/protocol-walkthrough.md does, step by step.
        const { stdout: digestLine } = await run('openssl', ['dgst', '-sm3', path.join(dir, 'body.json')]);
        const bodySm3 = digestLine.trim().split(/\s+/).pop()!;
        assert.equal(bodySm3, sm3Hex(body));
        const stringToSign = ['BG1-SM2-SM3', 'POST', INSURED, '', DEMO_TERMINAL, timestamp, nonce, bodySm3].join('\n');
        await writeFile(path.join(dir, 'to-sign.txt'), stringToSign);
        await run('openssl', ['pkeyutl', '-sign', '-rawin', '-digest', 'sm3', '-pkeyopt', 'distid:1234567812345678',
          '-inkey', path.join(DEMO_DIR, 'kiosk-demo-001.sm2.key.pem'), '-in', path.join(dir, 'to-sign.txt'), '-out', path.join(dir, 'sig.der')]);
        const signature = (await readFile(path.join(dir, 'sig.der'))).toString('base64');
        const { stdout } = await run('curl', ['-s', '-i', '--data-binary', `@${path.join(dir, 'body.json')}`,
          '-H', `Authorization: Bearer ${token}`, '-H', 'Content-Type: application/json',
          '-H', `X-Bg-Timestamp: ${timestamp}`, '-H', `X-Bg-Nonce: ${nonce}`, '-H', `X-Bg-Signature: ${signature}`,
          `${h.url}${INSURED}`]);
        assert.match(stdout, /^HTTP\/1\.1 200/);
        assert.match(stdout, /"code":"OK"/);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  });

  describe('encrypted bodies', function () {
    let client: BaygateClient;
    before(function () {
      client = new BaygateClient({ baseUrl: h.url, clientId: DEMO_TERMINAL, clientSecret: h.secret, signingKey: DEMO_KEY });
    });

    async function encKey(): Promise<{ kid: string; publicKey: string }> {
      const keys = (await rawRequest(h.url, { method: 'GET', path: '/.well-known/baygate/keys' })).json.keys;
      return keys.find((k: { use: string }) => k.use === 'enc');
    }

    it('the SDK encrypts, the gateway opens, answers sealed under the same K, and signs what it sent', async function () {
      const data = await client.call<{ name: string }>('social-security', 'insured-info-secure', { idNumber: DEMO_ID }, { encrypt: true });
      assert.equal(typeof data.name, 'string');
      const records = await h.auditRecords();
      const last = records.at(-1)!;
      assert.equal(last.operation, 'insured-info-secure');
      assert.equal(last.code, 'OK');
      assert.match(String(last.requestSummary), /440\*+123X/, 'the audit sees the decrypted, masked request');
    });

    it('by hand: the wire body is the envelope, and a refusal after decryption is sealed too', async function () {
      const { kid, publicKey } = await encKey();
      const k = randomBytes(32);
      const session = splitSessionKey(k)!;
      const envelope = sealEnvelope(Buffer.from(JSON.stringify({ idNumber: '123' })), session, kid, sm2Encrypt(importSm2PublicKey(publicKey), k));
      const response = await h.call('social-security', 'insured-info-secure', JSON.stringify(envelope), { token, headers: { 'content-type': ENCRYPTED_CONTENT_TYPE } });
      assert.equal(response.status, 400);
      assert.equal(response.headers['content-type'], ENCRYPTED_CONTENT_TYPE);
      assert.equal(response.json.ek, undefined);
      const opened = JSON.parse(openEnvelope(response.json, session)!.toString());
      assert.equal(opened.code, 'BG_VALIDATION_FAILED');
      assert.equal(opened.details[0].path, '/idNumber');
    });

    it('refuses a bad ek, MAC or ciphertext and an unknown key with BG_DECRYPTION_FAILED, in plain JSON', async function () {
      const { kid, publicKey } = await encKey();
      const k = randomBytes(32);
      const good = sealEnvelope(Buffer.from(JSON.stringify({ idNumber: DEMO_ID })), splitSessionKey(k)!, kid, sm2Encrypt(importSm2PublicKey(publicKey), k));
      const flip = (b64: string) => {
        const bytes = Buffer.from(b64, 'base64');
        bytes[bytes.length - 1]! ^= 1;
        return bytes.toString('base64');
      };
      const otherK = randomBytes(32);
      const variants: Array<[string, object]> = [
        ['mac', { ...good, mac: flip(good.mac) }],
        ['ciphertext', { ...good, ct: flip(good.ct) }],
        ['iv', { ...good, iv: flip(good.iv) }],
        ['ek', { ...good, ek: flip(good.ek!) }],
        ['ek for a 16-byte K', { ...good, ek: sm2Encrypt(importSm2PublicKey(publicKey), otherK.subarray(0, 16)).toString('base64') }],
        ['ek under another key', { ...good, ek: sm2Encrypt(generateSm2KeyPair().publicKey, k).toString('base64') }],
        ['unknown kid', { ...good, kid: 'gw-enc-1999' }],
      ];
      for (const [what, envelope] of variants) {
        const response = await h.call('social-security', 'insured-info-secure', JSON.stringify(envelope), { token, headers: { 'content-type': ENCRYPTED_CONTENT_TYPE } });
        assertRefusal(response, 'BG_DECRYPTION_FAILED', 400);
        assert.match(String(response.headers['content-type']), /^application\/json/, what);
        if (what === 'unknown kid') assert.match(response.json.details[0].message, /fetch \/\.well-known\/baygate\/keys/);
        else assert.equal(response.json.details, undefined, `${what}: a crypto failure stays opaque`);
      }
      const malformed = await h.call('social-security', 'insured-info-secure', JSON.stringify({ ...good, v: 2 }), { token, headers: { 'content-type': ENCRYPTED_CONTENT_TYPE } });
      assertRefusal(malformed, 'BG_BAD_REQUEST');
      assert.match(malformed.json.details[0].message, /v must be 1/);
    });

    it('BG_UNSUPPORTED_MEDIA_TYPE for an envelope on a route with encrypt: off; BG_ENCRYPTION_REQUIRED for plain JSON where required', async function () {
      const { kid, publicKey } = await encKey();
      const k = randomBytes(32);
      const envelope = sealEnvelope(Buffer.from('{}'), splitSessionKey(k)!, kid, sm2Encrypt(importSm2PublicKey(publicKey), k));
      assertRefusal(await h.call('social-security', 'insured-info-plain', JSON.stringify(envelope), { token, headers: { 'content-type': ENCRYPTED_CONTENT_TYPE } }), 'BG_UNSUPPORTED_MEDIA_TYPE', 415);
      assertRefusal(await h.call('social-security', 'insured-info-secure', { idNumber: DEMO_ID }, { token }), 'BG_ENCRYPTION_REQUIRED', 400);
    });

    it('the SDK refuses an answer whose signature does not verify, and one from an unpublished key', async function () {
      const wrongKeys = new BaygateClient({
        baseUrl: h.url, clientId: DEMO_TERMINAL, clientSecret: h.secret, signingKey: DEMO_KEY,
        gatewayKeys: [{ kid: 'demo-gw-sig-2026', use: 'sig', publicKey: generateSm2KeyPair().publicKey.toPem() }],
      });
      await assert.rejects(wrongKeys.call('social-security', 'insured-info', { idNumber: DEMO_ID }), (error: unknown) => {
        assert.ok(error instanceof BaygateRequestError);
        assert.equal(error.code, 'BG_CLIENT_BAD_SIGNATURE');
        return true;
      });
      const noneKnown = new BaygateClient({ baseUrl: h.url, clientId: DEMO_TERMINAL, clientSecret: h.secret, signingKey: DEMO_KEY, gatewayKeys: [] });
      await assert.rejects(noneKnown.call('social-security', 'insured-info', { idNumber: DEMO_ID }), /which the gateway does not publish/);
    });
  });

  it('publishes the gateway keys with kid, use, alg, PEM and hex, and audits the request', async function () {
    const response = await rawRequest(h.url, { method: 'GET', path: '/.well-known/baygate/keys' });
    assert.equal(response.status, 200);
    assert.deepEqual(response.json.keys.map((k: { kid: string; use: string; alg: string }) => [k.kid, k.use, k.alg]), [
      ['demo-gw-sig-2026', 'sig', 'SM2'],
      ['demo-gw-enc-2026', 'enc', 'SM2'],
    ]);
    for (const key of response.json.keys) {
      assert.match(key.publicKey, /^-----BEGIN PUBLIC KEY-----\n/);
      assert.match(key.publicKeyHex, /^04[0-9a-f]{128}$/);
      assert.doesNotMatch(JSON.stringify(key), /PRIVATE/);
    }
    const records = await h.auditRecords();
    assert.ok(records.some((r) => r.service === 'keys' && r.code === 'OK'));
  });
});

describe('verify-signature, with a clock the test controls', function () {
  const logger = createLogger({ level: 'error', write: () => undefined });
  const terminalKey = generateSm2KeyPair();

  function fakeContext(headers: Record<string, string>, body: Buffer): BaygateContext {
    const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
    return {
      method: 'POST',
      req: { url: INSURED },
      get: (name: string) => lower[name.toLowerCase()] ?? '',
      state: {
        bg: {
          requestId: 'r', path: INSURED, startedAt: 0, clientIp: '127.0.0.1',
          rawBody: Promise.resolve(body),
          route: { kind: 'operation', operation: { bodyLimitBytes: 1024 } },
          terminal: { config: { id: 'kiosk-t' }, signingKeys: new Map([['k1', { id: 'k1', key: terminalKey.publicKey, distinguishingId: '1234567812345678' }]]) },
        },
      },
    } as unknown as BaygateContext;
  }

  function signed(timestamp: number, nonce: string): BaygateContext {
    const body = Buffer.from('{}');
    const request = { method: 'POST', path: INSURED, query: '', clientId: 'kiosk-t', timestamp: String(timestamp), nonce, body };
    const signature = sm2Sign(terminalKey, requestStringToSign(request)).toString('base64');
    return fakeContext({ 'x-bg-timestamp': String(timestamp), 'x-bg-nonce': nonce, 'x-bg-signature': signature }, body);
  }

  async function outcome(stage: ReturnType<typeof verifySignature>, ctx: BaygateContext): Promise<string> {
    try {
      await stage(ctx, async () => undefined);
      return 'OK';
    } catch (error) {
      if (error instanceof BaygateError) return error.code;
      throw error;
    }
  }

  it('a replay is refused for as long as its timestamp is inside the window, and the window refuses it after', async function () {
    const windowMs = 300_000;
    let now = 1_800_000_000_000;
    const stage = verifySignature({ windowSeconds: 300, nonces: new MemoryNonceStore(1000, 1000, () => now), logger, now: () => now });
    const t = now + windowMs; // signed at the far edge of the window, ahead of the gateway
    const nonce = 'replay-nonce-000001';
    assert.equal(await outcome(stage, signed(t, nonce)), 'OK');
    assert.equal(await outcome(stage, signed(t, nonce)), 'BG_NONCE_REPLAYED');
    now += 2 * windowMs - 1; // the timestamp is still just inside the window
    assert.equal(await outcome(stage, signed(t, nonce)), 'BG_NONCE_REPLAYED');
    now += 2;
    assert.equal(await outcome(stage, signed(t, nonce)), 'BG_TIMESTAMP_OUT_OF_WINDOW');
  });

  it('fails closed when the nonce store faults', async function () {
    const broken: NonceStore = { remember: async () => { throw new Error('store down'); }, close: async () => undefined };
    const stage = verifySignature({ windowSeconds: 300, nonces: broken, logger });
    assert.equal(await outcome(stage, signed(Date.now(), 'fault-nonce-0000001')), 'BG_INTERNAL');
  });
});

describe('gateway key set', function () {
  it('the first valid key of a use is active; an expired key is neither used nor published', function () {
    let now = 1_000;
    const [a, b, c] = [generateSm2KeyPair(), generateSm2KeyPair(), generateSm2KeyPair()];
    const set = new GatewayKeySet([
      { id: 'sig-old', use: 'sig', key: a, notAfter: 2_000 },
      { id: 'sig-new', use: 'sig', key: b },
      { id: 'enc-1', use: 'enc', key: c },
    ], () => now);
    assert.equal(set.signing()?.id, 'sig-old');
    assert.deepEqual(set.document().keys.map((k) => k.kid), ['sig-old', 'sig-new', 'enc-1']);
    assert.equal(set.encryption('enc-1')?.id, 'enc-1');
    assert.equal(set.encryption('sig-new'), undefined, 'a signing key is not an encryption key');
    now = 2_000;
    assert.equal(set.signing()?.id, 'sig-new');
    assert.deepEqual(set.document().keys.map((k) => k.kid), ['sig-new', 'enc-1']);
  });
});

