import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { equalSecrets, hmacSm3, sm3, sm3Hex } from '../../crypto/sm3.js';
import { sm4Decrypt, sm4Encrypt, sm4EncryptBlockRepeatedly } from '../../crypto/sm4.js';

const hex = (s: string) => Buffer.from(s, 'hex');

describe('SM3 (GB/T 32905-2016)', function () {
  it('example 1: "abc"', function () {
    assert.equal(sm3Hex('abc'), '66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0');
  });

  it('example 2: the 512-bit message "abcd" x 16', function () {
    assert.equal(sm3Hex('abcd'.repeat(16)), 'debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732');
  });

  it('the empty body digest PROTOCOL.md §2.1 gives', function () {
    assert.equal(sm3Hex(new Uint8Array()), '1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b');
  });

  it('HMAC-SM3 is RFC 2104 over SM3 (checked against the construction itself)', function () {
    for (const keyLength of [16, 32, 64, 100]) {
      const key = randomBytes(keyLength);
      const message = randomBytes(77);
      // RFC 2104: keys longer than the 64-byte block are hashed first, then zero-padded.
      const k = Buffer.alloc(64);
      (keyLength > 64 ? sm3(key) : key).copy(k);
      const inner = sm3(Buffer.concat([k.map((b) => b ^ 0x36), message]));
      const expected = sm3(Buffer.concat([k.map((b) => b ^ 0x5c), inner]));
      assert.deepEqual(hmacSm3(key, message), expected);
    }
  });

  it('compares secrets only when they have the same length and bytes', function () {
    assert.ok(equalSecrets(hex('0011'), hex('0011')));
    assert.ok(!equalSecrets(hex('0011'), hex('0012')));
    assert.ok(!equalSecrets(hex('0011'), hex('001100')));
  });
});

describe('SM4 (GB/T 32907-2016)', function () {
  const key = hex('0123456789abcdeffedcba9876543210');

  it('example 1: one block', function () {
    assert.equal(sm4Encrypt({ mode: 'ecb', key, padding: false }, key).toString('hex'), '681edf34d206965e86b3e94f536e4246');
    assert.deepEqual(sm4Decrypt({ mode: 'ecb', key, padding: false }, hex('681edf34d206965e86b3e94f536e4246')), key);
  });

  it('example 2: the same block encrypted 1,000,000 times', function () {
    assert.equal(sm4EncryptBlockRepeatedly(key, key, 1_000_000).toString('hex'), '595298c7c6fd271f0402f804c33d3f66');
  });

  it('CBC with PKCS#7 padding round-trips every length, and pads a full block', function () {
    const iv = randomBytes(16);
    for (let n = 0; n <= 48; n++) {
      const plaintext = randomBytes(n);
      const ciphertext = sm4Encrypt({ mode: 'cbc', key, iv }, plaintext);
      assert.equal(ciphertext.length, (Math.floor(n / 16) + 1) * 16);
      assert.deepEqual(sm4Decrypt({ mode: 'cbc', key, iv }, ciphertext), plaintext);
    }
  });

  it('CTR never pads', function () {
    const iv = randomBytes(16);
    const plaintext = randomBytes(37);
    const ciphertext = sm4Encrypt({ mode: 'ctr', key, iv }, plaintext);
    assert.equal(ciphertext.length, 37);
    assert.deepEqual(sm4Decrypt({ mode: 'ctr', key, iv }, ciphertext), plaintext);
  });

  it('answers undefined, with no detail, when the padding is wrong', function () {
    const iv = randomBytes(16);
    const ciphertext = sm4Encrypt({ mode: 'cbc', key, iv }, Buffer.from('{"idNumber":"x"}'));
    ciphertext[ciphertext.length - 1]! ^= 0x01;
    assert.equal(sm4Decrypt({ mode: 'cbc', key, iv }, ciphertext), undefined);
    assert.equal(sm4Decrypt({ mode: 'cbc', key, iv }, ciphertext.subarray(0, 15)), undefined, 'not a whole block');
  });

  it('throws on a wrong key or IV length: a programming error, not a bad request', function () {
    assert.throws(() => sm4Encrypt({ mode: 'cbc', key: randomBytes(15), iv: randomBytes(16) }, Buffer.alloc(1)), /16 bytes, not 15/);
    assert.throws(() => sm4Encrypt({ mode: 'cbc', key, iv: randomBytes(8) }, Buffer.alloc(1)), /16-byte IV/);
    assert.throws(() => sm4Encrypt({ mode: 'ecb', key, iv: randomBytes(16) }, Buffer.alloc(1)), /takes no IV/);
  });

  it('interoperates with the OpenSSL CLI both ways (CBC and CTR, random keys and messages)', async function () {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'baygate-sm4-'));
    const openssl = (args: string[]) => promisify(execFile)('openssl', args);
    try {
      for (let i = 0; i < 8; i++) {
        for (const mode of ['cbc', 'ctr'] as const) {
          const k = randomBytes(16);
          const iv = randomBytes(16);
          const plaintext = randomBytes(1 + Math.floor(Math.random() * 200));
          const plainFile = path.join(dir, 'plain');
          const cipherFile = path.join(dir, 'cipher');
          await writeFile(plainFile, plaintext);
          await openssl(['enc', `-sm4-${mode}`, '-K', k.toString('hex'), '-iv', iv.toString('hex'), '-in', plainFile, '-out', cipherFile]);
          const theirs = await readFile(cipherFile);
          assert.deepEqual(sm4Encrypt({ mode, key: k, iv }, plaintext), theirs, `${mode} encryption differs from openssl enc`);
          await writeFile(cipherFile, sm4Encrypt({ mode, key: k, iv }, plaintext));
          await openssl(['enc', '-d', `-sm4-${mode}`, '-K', k.toString('hex'), '-iv', iv.toString('hex'), '-in', cipherFile, '-out', plainFile]);
          assert.deepEqual(await readFile(plainFile), plaintext, `openssl enc -d could not read our ${mode}`);
        }
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
