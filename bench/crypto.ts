import { execFile } from 'node:child_process';
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import smCrypto from 'sm-crypto';
import { generateSm2KeyPair, sm2Backend, sm2Decrypt, sm2Encrypt, sm2Sign, sm2SignAsync, sm2Verify, sm2VerifyAsync } from '../crypto/sm2.js';
import { sm3 } from '../crypto/sm3.js';
import { sm4Encrypt } from '../crypto/sm4.js';
import { installRoot } from '../examples/demo/policy-object.js';

// The national-cryptography benchmark (issue 3), every figure a ratio to a baseline measured in
// the same run, rounds interleaved, the median kept:
//   SM2 sign / verify: crypto/sm2 (the addon, one thread) vs `openssl speed sm2` (one process),
//     and sm-crypto (pure JavaScript, the reference library);
//   SM3 and SM4-CBC on 64 KiB: crypto/ vs Node's own crypto, and sm-crypto.

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '2' },
    out: { type: 'string', default: path.join(installRoot(), '.bench') },
  },
});
const SECONDS = Number(args.seconds);

/** Operations per second of `op`, run for about `seconds`. */
function rate(op: () => unknown, seconds = SECONDS): number {
  for (let i = 0; i < 20; i++) op();
  let count = 0;
  const start = process.hrtime.bigint();
  const end = start + BigInt(Math.round(seconds * 1e9));
  let now = start;
  while (now < end) {
    for (let i = 0; i < 10; i++) op();
    count += 10;
    now = process.hrtime.bigint();
  }
  return count / (Number(now - start) / 1e9);
}

async function asyncRate(op: () => Promise<unknown>, parallel: number, seconds = SECONDS): Promise<number> {
  let count = 0;
  const end = Date.now() + seconds * 1000;
  const start = process.hrtime.bigint();
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (Date.now() < end) {
      await op();
      count++;
    }
  }));
  return count / (Number(process.hrtime.bigint() - start) / 1e9);
}

async function opensslSpeed(): Promise<{ sign: number; verify: number }> {
  const { stdout } = await promisify(execFile)('openssl', ['speed', '-seconds', String(Math.max(1, Math.round(SECONDS))), 'sm2']);
  const m = /SM2 \(CurveSM2\)\s+\S+\s+\S+\s+([0-9.]+)\s+([0-9.]+)/.exec(stdout);
  if (!m) throw new Error(`cannot read openssl speed's output:\n${stdout}`);
  return { sign: Number(m[1]), verify: Number(m[2]) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  if (sm2Backend() !== 'native') process.stderr.write('bench: SM2 is on the JavaScript fallback; build the addon (npm run build:native)\n');
  const key = generateSm2KeyPair();
  const message = Buffer.from('BG1-SM2-SM3\nPOST\n/api/v1/social-security/insured-info\n\nkiosk-demo-001\n1763870000000\nAbCdEfGhIjKlMnOpQrStUvWx\n1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b');
  const signature = sm2Sign(key, message);
  const k32 = randomBytes(32);
  const ciphertext = sm2Encrypt(key.publicKey, k32);
  const sc = smCrypto.sm2.generateKeyPairHex();
  const messageText = message.toString();
  const scSignature = smCrypto.sm2.doSignature(messageText, sc.privateKey, { hash: true, der: true });
  const block64k = randomBytes(64 * 1024);
  const sm4Key = randomBytes(16);
  const iv = randomBytes(16);
  const block64kHex = block64k.toString('hex');
  const blockArray = Array.from(block64k);

  const rows: Record<string, number[]> = {};
  const add = (name: string, value: number) => (rows[name] ??= []).push(value);
  for (let round = 1; round <= Number(args.rounds); round++) {
    const openssl = await opensslSpeed();
    add('openssl speed sm2: sign/s', openssl.sign);
    add('openssl speed sm2: verify/s', openssl.verify);
    add('baygate sm2Sign/s (1 thread)', rate(() => sm2Sign(key, message)));
    add('baygate sm2Verify/s (1 thread)', rate(() => sm2Verify(key.publicKey, message, signature)));
    add('baygate sm2Decrypt/s of a 32-byte K (1 thread)', rate(() => sm2Decrypt(key, ciphertext)));
    add('baygate sm2SignAsync/s (thread pool, 2 cores)', await asyncRate(() => sm2SignAsync(key, message), 8));
    add('baygate sm2VerifyAsync/s (thread pool, 2 cores)', await asyncRate(() => sm2VerifyAsync(key.publicKey, message, signature), 8));
    add('sm-crypto doSignature/s', rate(() => smCrypto.sm2.doSignature(messageText, sc.privateKey, { hash: true, der: true }), 1));
    add('sm-crypto doVerifySignature/s', rate(() => smCrypto.sm2.doVerifySignature(messageText, scSignature, sc.publicKey, { hash: true, der: true }), 1));
    const mb = (perSecond: number) => (perSecond * 64) / 1024;
    add('node crypto sm3 64 KiB MB/s', mb(rate(() => createHash('sm3').update(block64k).digest(), 0.5)));
    add('baygate sm3 64 KiB MB/s', mb(rate(() => sm3(block64k), 0.5)));
    add('sm-crypto sm3 64 KiB MB/s', mb(rate(() => smCrypto.sm3(blockArray as never), 0.5)));
    add('node crypto sm4-cbc 64 KiB MB/s', mb(rate(() => { const c = createCipheriv('sm4-cbc', sm4Key, iv); c.update(block64k); c.final(); }, 0.5)));
    add('baygate sm4Encrypt cbc 64 KiB MB/s', mb(rate(() => sm4Encrypt({ mode: 'cbc', key: sm4Key, iv }, block64k), 0.5)));
    add('sm-crypto sm4 cbc 64 KiB MB/s', mb(rate(() => smCrypto.sm4.encrypt(block64kHex as never, sm4Key.toString('hex'), { mode: 'cbc', iv: iv.toString('hex') }), 0.5)));
    process.stderr.write(`round ${round} done\n`);
  }
  const m = Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, median(v)]));
  const ratio = (a: string, b: string) => `${(m[a]! / m[b]!).toFixed(2)}×`;
  const combined = 1 / (1 / m['openssl speed sm2: verify/s']! + 1 / m['openssl speed sm2: sign/s']!);
  const lines = [
    '| measurement | median | ratio |',
    '|---|---:|---|',
    `| openssl speed sm2: sign/s | ${m['openssl speed sm2: sign/s']!.toFixed(0)} | baseline |`,
    `| openssl speed sm2: verify/s | ${m['openssl speed sm2: verify/s']!.toFixed(0)} | baseline |`,
    `| baygate sm2Sign/s (1 thread) | ${m['baygate sm2Sign/s (1 thread)']!.toFixed(0)} | ${ratio('baygate sm2Sign/s (1 thread)', 'openssl speed sm2: sign/s')} openssl (target ≥ 0.9×) |`,
    `| baygate sm2Verify/s (1 thread) | ${m['baygate sm2Verify/s (1 thread)']!.toFixed(0)} | ${ratio('baygate sm2Verify/s (1 thread)', 'openssl speed sm2: verify/s')} openssl (target ≥ 0.9×) |`,
    `| baygate sm2Decrypt/s, 32-byte K (1 thread) | ${m['baygate sm2Decrypt/s of a 32-byte K (1 thread)']!.toFixed(0)} | (openssl speed has no SM2 decryption) |`,
    `| baygate sm2SignAsync/s (libuv pool, 2 cores) | ${m['baygate sm2SignAsync/s (thread pool, 2 cores)']!.toFixed(0)} | ${ratio('baygate sm2SignAsync/s (thread pool, 2 cores)', 'openssl speed sm2: sign/s')} openssl |`,
    `| baygate sm2VerifyAsync/s (libuv pool, 2 cores) | ${m['baygate sm2VerifyAsync/s (thread pool, 2 cores)']!.toFixed(0)} | ${ratio('baygate sm2VerifyAsync/s (thread pool, 2 cores)', 'openssl speed sm2: verify/s')} openssl |`,
    `| sm-crypto doSignature/s | ${m['sm-crypto doSignature/s']!.toFixed(1)} | ${ratio('sm-crypto doSignature/s', 'openssl speed sm2: sign/s')} openssl |`,
    `| sm-crypto doVerifySignature/s | ${m['sm-crypto doVerifySignature/s']!.toFixed(1)} | ${ratio('sm-crypto doVerifySignature/s', 'openssl speed sm2: verify/s')} openssl |`,
    `| node crypto sm3, 64 KiB, MB/s | ${m['node crypto sm3 64 KiB MB/s']!.toFixed(0)} | baseline |`,
    `| baygate sm3, 64 KiB, MB/s | ${m['baygate sm3 64 KiB MB/s']!.toFixed(0)} | ${ratio('baygate sm3 64 KiB MB/s', 'node crypto sm3 64 KiB MB/s')} node (target ≥ 0.9×) |`,
    `| sm-crypto sm3, 64 KiB, MB/s | ${m['sm-crypto sm3 64 KiB MB/s']!.toFixed(1)} | ${ratio('sm-crypto sm3 64 KiB MB/s', 'node crypto sm3 64 KiB MB/s')} node |`,
    `| node crypto sm4-cbc, 64 KiB, MB/s | ${m['node crypto sm4-cbc 64 KiB MB/s']!.toFixed(0)} | baseline |`,
    `| baygate sm4Encrypt cbc, 64 KiB, MB/s | ${m['baygate sm4Encrypt cbc 64 KiB MB/s']!.toFixed(0)} | ${ratio('baygate sm4Encrypt cbc 64 KiB MB/s', 'node crypto sm4-cbc 64 KiB MB/s')} node (target ≥ 0.9×) |`,
    `| sm-crypto sm4 cbc, 64 KiB, MB/s | ${m['sm-crypto sm4 cbc 64 KiB MB/s']!.toFixed(1)} | ${ratio('sm-crypto sm4 cbc 64 KiB MB/s', 'node crypto sm4-cbc 64 KiB MB/s')} node |`,
  ];
  process.stdout.write(`\nmedian of ${args.rounds} interleaved rounds, ${os.cpus().length} cores (${os.cpus()[0]?.model}), SM2 backend: ${sm2Backend()}\n\n${lines.join('\n')}\n\n` +
    `signed-route budget from openssl speed: 1 / (1/verify + 1/sign) = ${combined.toFixed(0)} req/s; target for the demo route ≥ 0.8× = ${(0.8 * combined).toFixed(0)} req/s\n`);
  await mkdir(args.out!, { recursive: true });
  await writeFile(path.join(args.out!, 'crypto.json'), JSON.stringify({ date: new Date().toISOString(), rows, median: m, signedRouteBudget: combined }, null, 2));
}

main().catch((error: Error) => {
  process.stderr.write(`bench: ${error.message}\n`);
  process.exit(1);
});
