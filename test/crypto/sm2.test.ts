import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { sm2 as smCrypto } from 'sm-crypto';
import {
  convertSm2Ciphertext,
  generateSm2KeyPair,
  importSm2PrivateKey,
  importSm2PublicKey,
  signatureDerToRaw,
  signatureRawToDer,
  Sm2Error,
  sm2Backend,
  sm2Decrypt,
  sm2DecryptAsync,
  sm2Encrypt,
  sm2EncryptWithK,
  sm2Sign,
  sm2SignAsync,
  sm2SignWithK,
  sm2Verify,
  sm2VerifyAsync,
} from '../../crypto/sm2.js';
import * as js from '../../crypto/sm2-js.js';

const run = promisify(execFile);
const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// GM/T 0003.5-2012 (GB/T 32918.5) worked examples on the recommended curve.
const EXAMPLE = {
  d: '3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8',
  x: '09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020',
  y: 'CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13',
  k: '59276E27D506861A16680F3AD9C02DCCEF3CC1FA3CDBE4CE6D54B80DEAC1BC21',
  r: 'F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3',
  s: 'B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA',
  c1: '04 04EBFC718E8D1798620432268E77FEB6415E2EDE0E073C0F4F640ECD2E149A73 E858F9D81E5430A57B36DAAB8F950A3C64E6EE6A63094D99283AFF767E124DF0',
  c3: '59983C18F809E262923C53AEC295D30383B54E39D609D160AFCB1908D0BD8766',
  c2: '21886CA989CA9C7D58087307CA93092D651EFA',
};

describe('SM2 (GB/T 32918)', function () {
  this.timeout(60_000);

  it('runs on the native addon (CI builds it; a missing build fails here, it is not skipped)', function () {
    if (process.env.CI === 'true') assert.equal(sm2Backend(), 'native');
    else if (sm2Backend() !== 'native') console.warn('      (the SM2 addon is not built: npm run build:native)');
  });

  describe('GM/T 0003.5 worked examples', function () {
    const key = importSm2PrivateKey(EXAMPLE.d);

    it('the private key gives the example public key', function () {
      assert.equal(key.publicKey.toHex(), `04${EXAMPLE.x}${EXAMPLE.y}`.toLowerCase());
    });

    it('signature of "message digest" with ID 1234567812345678 and the given k', function () {
      const raw = sm2SignWithK(key, Buffer.from('message digest'), hex(EXAMPLE.k));
      assert.equal(raw.toString('hex'), `${EXAMPLE.r}${EXAMPLE.s}`.toLowerCase());
      assert.equal(sm2Verify(key.publicKey, 'message digest', raw, { form: 'raw' }), true);
      assert.equal(sm2Verify(key.publicKey, 'message digest', signatureRawToDer(raw)), true);
      assert.equal(sm2Verify(key.publicKey, 'message digest', raw, { form: 'raw', id: 'ALICE123@YAHOO.COM' }), false);
      assert.equal(sm2Verify(key.publicKey, 'message digesT', raw, { form: 'raw' }), false);
    });

    it('encryption of "encryption standard" with the given k, in all three forms', function () {
      const c1c3c2 = sm2EncryptWithK(key.publicKey, Buffer.from('encryption standard'), hex(EXAMPLE.k), { form: 'c1c3c2' });
      assert.equal(c1c3c2.toString('hex'), hex(EXAMPLE.c1 + EXAMPLE.c3 + EXAMPLE.c2).toString('hex'));
      const c1c2c3 = convertSm2Ciphertext(c1c3c2, { form: 'c1c3c2' }, { form: 'c1c2c3' });
      assert.equal(c1c2c3.toString('hex'), hex(EXAMPLE.c1 + EXAMPLE.c2 + EXAMPLE.c3).toString('hex'));
      const asn1 = convertSm2Ciphertext(c1c3c2, { form: 'c1c3c2' }, {});
      for (const [ciphertext, form] of [[asn1, 'asn1'], [c1c3c2, 'c1c3c2'], [c1c2c3, 'c1c2c3']] as const) {
        assert.equal(sm2Decrypt(key, ciphertext, { form })?.toString(), 'encryption standard', form);
      }
      const tampered = Buffer.from(c1c3c2);
      tampered[tampered.length - 1]! ^= 1;
      assert.equal(sm2Decrypt(key, tampered, { form: 'c1c3c2' }), undefined);
    });
  });

  describe('keys', function () {
    it('round-trips hex, compressed hex, PKCS#8, SEC1 and SPKI, PEM and DER', function () {
      for (let i = 0; i < 5; i++) {
        const key = generateSm2KeyPair();
        for (const again of [
          importSm2PrivateKey(key.toHex()),
          importSm2PrivateKey(key.toPem()),
          importSm2PrivateKey(key.toPem('sec1')),
          importSm2PrivateKey(key.toDer()),
          importSm2PrivateKey(key.toSec1Der()),
        ]) {
          assert.equal(again.toHex(), key.toHex());
          assert.ok(again.publicKey.equals(key.publicKey));
        }
        for (const again of [
          importSm2PublicKey(key.publicKey.toHex()),
          importSm2PublicKey(key.publicKey.toHex(true)),
          importSm2PublicKey(key.publicKey.toHex().slice(2)),
          importSm2PublicKey(key.publicKey.toPem()),
          importSm2PublicKey(key.publicKey.toDer()),
        ]) {
          assert.ok(again.equals(key.publicKey));
        }
      }
    });

    it('reads what OpenSSL writes, and OpenSSL reads what it writes', async function () {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'bg-sm2-keys-'));
      try {
        const file = (name: string) => path.join(dir, name);
        await run('openssl', ['genpkey', '-algorithm', 'SM2', '-out', file('k8.pem')]);
        await run('openssl', ['pkey', '-in', file('k8.pem'), '-pubout', '-out', file('pub.pem')]);
        await run('openssl', ['ec', '-in', file('k8.pem'), '-out', file('sec1.pem')]);
        await run('openssl', ['pkey', '-in', file('k8.pem'), '-outform', 'DER', '-out', file('k8.der')]);
        const key = importSm2PrivateKey(await readFile(file('k8.pem'), 'utf8'));
        assert.equal(key.toPem(), await readFile(file('k8.pem'), 'utf8'));
        assert.equal(importSm2PrivateKey(await readFile(file('sec1.pem'), 'utf8')).toHex(), key.toHex());
        assert.equal(importSm2PrivateKey(await readFile(file('k8.der'))).toHex(), key.toHex());
        assert.equal(key.publicKey.toPem(), await readFile(file('pub.pem'), 'utf8'));

        const mine = generateSm2KeyPair();
        await writeFile(file('mine.pem'), mine.toPem('sec1'));
        const { stdout } = await run('openssl', ['pkey', '-in', file('mine.pem'), '-pubout']);
        assert.equal(stdout, mine.publicKey.toPem());
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it('refuses scalars outside [1, n-2], points off the curve, other curves and encrypted keys', async function () {
      const n = js.N;
      for (const d of [0n, n - 1n, n, n + 5n]) {
        assert.throws(() => importSm2PrivateKey(js.toBytes(d).toString('hex')), Sm2Error);
      }
      const good = generateSm2KeyPair().publicKey.bytes;
      const offCurve = Buffer.from(good);
      offCurve[64]! ^= 1;
      assert.throws(() => importSm2PublicKey(offCurve.toString('hex')), /not a point on the SM2 curve/);
      assert.throws(() => importSm2PublicKey(`04${js.toBytes(js.P).toString('hex')}${good.subarray(33).toString('hex')}`), Sm2Error);
      assert.throws(() => importSm2PublicKey('02' + 'ff'.repeat(32)), Sm2Error);
      const { stdout: p256 } = await run('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']);
      assert.throws(() => importSm2PrivateKey(p256), /not on the SM2 curve/);
      const encrypted = spawnSync('openssl', ['pkcs8', '-topk8', '-v2', 'aes-256-cbc', '-passout', 'pass:x'], {
        input: generateSm2KeyPair().toPem(),
        encoding: 'utf8',
      }).stdout;
      assert.throws(() => importSm2PrivateKey(encrypted), /encrypted; decrypt it first/);
      assert.throws(() => importSm2PrivateKey('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'), /expected a PRIVATE KEY/);
      assert.throws(() => importSm2PrivateKey('not a key'), Sm2Error);
      const sec1 = generateSm2KeyPair().toSec1Der();
      assert.throws(() => importSm2PrivateKey(Buffer.concat([sec1, Buffer.from([0])])), /trailing bytes/);
    });
  });

  describe('signatures', function () {
    const key = generateSm2KeyPair();
    const message = Buffer.from('BG1-SM2-SM3\nPOST\n/api/v1/a/b\n\nkiosk\n1\nnonce\n1ab2');

    it('sign and verify with the default and a registered identifier, sync and async', async function () {
      const signature = sm2Sign(key, message);
      assert.equal(sm2Verify(key.publicKey, message, signature), true);
      assert.equal(await sm2VerifyAsync(key.publicKey, message, signature), true);
      assert.equal(sm2Verify(key.publicKey, message, await sm2SignAsync(key, message)), true);
      const other = sm2Sign(key, message, { id: 'KIOSK-MO-0001' });
      assert.equal(sm2Verify(key.publicKey, message, other, { id: 'KIOSK-MO-0001' }), true);
      assert.equal(sm2Verify(key.publicKey, message, other), false);
      assert.equal(sm2Verify(generateSm2KeyPair().publicKey, message, signature), false);
      const raw = sm2Sign(key, message, { form: 'raw' });
      assert.equal(raw.length, 64);
      assert.equal(sm2Verify(key.publicKey, message, raw, { form: 'raw' }), true);
      assert.equal(sm2Verify(key.publicKey, message, raw), false, 'raw bytes are not DER');
    });

    it('accepts only strict DER with r and s in [1, n-1]', function () {
      const signature = sm2Sign(key, message);
      const raw = signatureDerToRaw(signature);
      const r = raw.subarray(0, 32);
      const s = raw.subarray(32);
      const int = (bytes: Buffer) => Buffer.concat([Buffer.from([2, bytes.length]), bytes]);
      const seq = (...parts: Buffer[]) => {
        const body = Buffer.concat(parts);
        return Buffer.concat([Buffer.from([0x30, body.length]), body]);
      };
      const padded = (bytes: Buffer) => Buffer.concat([Buffer.from([0, 0]), bytes]);
      const refused: [string, Buffer][] = [
        ['trailing byte', Buffer.concat([signature, Buffer.from([0])])],
        ['leading zeros in r', seq(int(padded(r)), signature.subarray(2 + 2 + signature[3]!))],
        ['long-form length', Buffer.concat([Buffer.from([0x30, 0x81, signature.length - 2]), signature.subarray(2)])],
        ['a third integer', seq(signature.subarray(2), int(Buffer.from([1])))],
        ['r = 0', seq(int(Buffer.from([0])), int(s[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), s]) : s))],
        ['r = n', signatureRawToDer(Buffer.concat([js.toBytes(js.N), s]))],
        ['s = n + s', signatureRawToDer(Buffer.concat([r, js.toBytes(js.N + js.toBigInt(s))])).subarray(0)],
        ['empty', Buffer.alloc(0)],
        ['base64 text', Buffer.from(signature.toString('base64'))],
      ];
      for (const [what, bytes] of refused) {
        let answer: boolean;
        try {
          answer = sm2Verify(key.publicKey, message, bytes);
        } catch (error) {
          assert.fail(`${what}: verify threw ${(error as Error).message}`);
        }
        assert.equal(answer, false, what);
      }
    });

    it('the JavaScript fallback agrees with the addon both ways', function () {
      for (let i = 0; i < 5; i++) {
        const k = generateSm2KeyPair();
        const m = randomBytes(1 + i * 50);
        const nativeSignature = signatureDerToRaw(sm2Sign(k, m));
        assert.equal(js.verify(k.publicKey.point, Buffer.from('1234567812345678'), m, js.toBigInt(nativeSignature.subarray(0, 32)), js.toBigInt(nativeSignature.subarray(32))), true);
        const { r, s } = js.sign(k.scalar, k.publicKey.point, Buffer.from('1234567812345678'), m);
        assert.equal(sm2Verify(k.publicKey, m, Buffer.concat([js.toBytes(r), js.toBytes(s)]), { form: 'raw' }), true);
        const parts = js.encrypt(k.publicKey.point, m);
        const asn1 = convertSm2Ciphertext(Buffer.concat([js.pointBytes(parts.c1), parts.c3, parts.c2]), { form: 'c1c3c2' }, {});
        assert.deepEqual(sm2Decrypt(k, asn1), m);
        const fromNative = convertSm2Ciphertext(sm2Encrypt(k.publicKey, m), {}, { form: 'c1c3c2' });
        assert.deepEqual(js.decrypt(k.scalar, { c1: { x: js.toBigInt(fromNative.subarray(1, 33)), y: js.toBigInt(fromNative.subarray(33, 65)) }, c3: fromNative.subarray(65, 97), c2: fromNative.subarray(97) }), m);
      }
    });

    it('the fallback runs, and says so, when the addon is switched off', function () {
      const script = `
        import { sm2Backend, generateSm2KeyPair, sm2Sign, sm2Verify } from './crypto/sm2.ts';
        const k = generateSm2KeyPair();
        console.log(sm2Backend(), sm2Verify(k.publicKey, 'm', sm2Sign(k, 'm')));`;
      const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        cwd: path.resolve(import.meta.dirname, '../..'),
        env: { ...process.env, BAYGATE_SM2_BACKEND: 'js' },
        encoding: 'utf8',
      });
      assert.equal(child.stdout.trim(), 'js true', child.stderr);
      assert.match(child.stderr, /BAYGATE_SM2_FALLBACK.*pure-JavaScript fallback/);
    });
  });

  describe('encryption', function () {
    it('round-trips every length from 1 to 300 bytes, refuses tampering and an empty plaintext', async function () {
      const key = generateSm2KeyPair();
      assert.throws(() => sm2Encrypt(key.publicKey, Buffer.alloc(0)), /the plaintext is empty/);
      for (const length of [1, 31, 32, 33, 64, 300]) {
        const m = randomBytes(length);
        const ciphertext = sm2Encrypt(key.publicKey, m);
        assert.deepEqual(sm2Decrypt(key, ciphertext), m);
        assert.deepEqual(await sm2DecryptAsync(key, ciphertext), m);
        const tampered = Buffer.from(ciphertext);
        tampered[tampered.length - 1]! ^= 0x40;
        assert.equal(sm2Decrypt(key, tampered), undefined);
        assert.equal(sm2Decrypt(generateSm2KeyPair(), ciphertext), undefined);
      }
      assert.equal(sm2Decrypt(key, Buffer.from('garbage')), undefined);
      assert.equal(sm2Decrypt(key, Buffer.alloc(0)), undefined);
    });
  });

  describe('interoperability with the OpenSSL CLI (random keys and messages)', function () {
    let dir: string;
    before(async function () {
      dir = await mkdtemp(path.join(os.tmpdir(), 'bg-sm2-openssl-'));
    });
    after(async function () {
      await rm(dir, { recursive: true, force: true });
    });

    it('OpenSSL signs, Baygate verifies; Baygate signs, OpenSSL verifies', async function () {
      for (let i = 0; i < 6; i++) {
        const file = (name: string) => path.join(dir, `${i}-${name}`);
        const id = i % 2 ? '1234567812345678' : `kiosk-${i}`;
        await run('openssl', ['genpkey', '-algorithm', 'SM2', '-out', file('key.pem')]);
        const key = importSm2PrivateKey(await readFile(file('key.pem'), 'utf8'));
        const message = randomBytes(1 + Math.floor(Math.random() * 2000));
        await writeFile(file('msg'), message);
        await run('openssl', ['pkeyutl', '-sign', '-rawin', '-digest', 'sm3', '-pkeyopt', `distid:${id}`, '-inkey', file('key.pem'), '-in', file('msg'), '-out', file('sig')]);
        assert.equal(sm2Verify(key.publicKey, message, await readFile(file('sig')), { id }), true);

        await writeFile(file('pub.pem'), key.publicKey.toPem());
        await writeFile(file('mine.sig'), sm2Sign(key, message, { id }));
        const { stdout } = await run('openssl', ['pkeyutl', '-verify', '-rawin', '-digest', 'sm3', '-pkeyopt', `distid:${id}`, '-pubin', '-inkey', file('pub.pem'), '-in', file('msg'), '-sigfile', file('mine.sig')]);
        assert.match(stdout, /Signature Verified Successfully/);
      }
    });

    it('OpenSSL encrypts, Baygate decrypts; Baygate encrypts, OpenSSL decrypts', async function () {
      for (let i = 0; i < 6; i++) {
        const file = (name: string) => path.join(dir, `enc-${i}-${name}`);
        const key = generateSm2KeyPair();
        await writeFile(file('key.pem'), key.toPem());
        await writeFile(file('pub.pem'), key.publicKey.toPem());
        const message = randomBytes(1 + Math.floor(Math.random() * 200));
        await writeFile(file('msg'), message);
        await run('openssl', ['pkeyutl', '-encrypt', '-pubin', '-inkey', file('pub.pem'), '-in', file('msg'), '-out', file('ct')]);
        assert.deepEqual(sm2Decrypt(key, await readFile(file('ct'))), message);

        await writeFile(file('mine.ct'), sm2Encrypt(key.publicKey, message));
        await run('openssl', ['pkeyutl', '-decrypt', '-inkey', file('key.pem'), '-in', file('mine.ct'), '-out', file('back')]);
        assert.deepEqual(await readFile(file('back')), message);
      }
    });
  });

  describe('interoperability with sm-crypto (random keys and messages)', function () {
    it('signatures both ways, with the default identifier and DER', function () {
      for (let i = 0; i < 12; i++) {
        const pair = smCrypto.generateKeyPairHex();
        const key = importSm2PrivateKey(pair.privateKey);
        assert.equal(key.publicKey.toHex(), pair.publicKey);
        const message = randomBytes(1 + i * 37).toString('hex');
        const theirs = smCrypto.doSignature(message, pair.privateKey, { hash: true, der: true });
        assert.equal(sm2Verify(importSm2PublicKey(pair.publicKey), message, hex(theirs)), true);
        const mine = sm2Sign(key, message).toString('hex');
        assert.equal(smCrypto.doVerifySignature(message, mine, pair.publicKey, { hash: true, der: true }), true);
        const mineRaw = sm2Sign(key, message, { form: 'raw' }).toString('hex');
        assert.equal(smCrypto.doVerifySignature(message, mineRaw, pair.publicKey, { hash: true }), true);
      }
    });

    it('refuses the non-canonical encodings sm-crypto tolerates', function () {
      const pair = smCrypto.generateKeyPairHex();
      const theirs = smCrypto.doSignature('m', pair.privateKey, { hash: true, der: true });
      const upper = theirs.toUpperCase();
      assert.equal(smCrypto.doVerifySignature('m', upper, pair.publicKey, { hash: true, der: true }), true);
      // Hex case is not our concern (we take bytes), but an extra leading zero in r is.
      const raw = signatureDerToRaw(hex(theirs));
      const zeroPadded = Buffer.concat([Buffer.from([0x30, 0x46, 0x02, 0x22, 0, 0]), raw.subarray(0, 32), Buffer.from([0x02, 0x20]), raw.subarray(32)]);
      assert.equal(sm2Verify(importSm2PublicKey(pair.publicKey), 'm', zeroPadded), false);
    });

    it('encryption both ways in C1C3C2 and C1C2C3 (sm-crypto writes C1 without 04)', function () {
      for (let i = 0; i < 8; i++) {
        const pair = smCrypto.generateKeyPairHex();
        const key = importSm2PrivateKey(pair.privateKey);
        const message = randomBytes(1 + i * 29);
        for (const [mode, form] of [[1, 'c1c3c2'], [0, 'c1c2c3']] as const) {
          const theirs = smCrypto.doEncrypt(Array.from(message), pair.publicKey, mode);
          assert.deepEqual(sm2Decrypt(key, hex(theirs), { form, pointPrefix: false }), message);
          const mine = sm2Encrypt(key.publicKey, message, { form, pointPrefix: false }).toString('hex');
          assert.deepEqual(Buffer.from(smCrypto.doDecrypt(mine, pair.privateKey, mode, { output: 'array' }) as unknown as number[]), message);
        }
      }
    });
  });
});
