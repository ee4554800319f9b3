import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { DEMO_DIR, demoPolicyObject, installRoot, type PolicyObject } from '../examples/demo/policy-object.js';
import { summariseProfile } from './profile.js';
import { ENCRYPTED_CONTENT_TYPE, newNonce, requestStringToSign, sealEnvelope, splitSessionKey } from '../client/protocol.js';
import { generateSm2KeyPair, importSm2PrivateKey, importSm2PublicKey, sm2Decrypt, sm2Encrypt, sm2SignAsync } from '../crypto/sm2.js';

// The gateway benchmark (issue 2): requests per second and p99 latency, in one run, of
//   direct     → the demo backend itself
//   nginx      → nginx proxy_pass in front of it (Debian's nginx-light)
//   koa-proxy  → a minimal Koa + undici proxy (the baseline the targets are ratios of)
//   baygate-signed      → the demo route as a kiosk calls it: token, IP list, rate limits,
//                         SM2 request signature and nonce, schema, audit, signed answer
//   baygate-signed-enc  → the same with an SM4-sealed body (one SM2 decryption more)
// Each server runs in its own process; wrk is the load generator. Configurations are
// interleaved over several rounds and the median round is kept, because the machine is shared.

const root = installRoot();
const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BODY = JSON.stringify({ idNumber: '44030419900307123X', name: '张三' });

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '8' },
    warmup: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '32' },
    only: { type: 'string' },
    profile: { type: 'boolean', default: false },
    out: { type: 'string', default: path.join(root, '.bench') },
  },
});

interface Result {
  name: string;
  rps: number;
  p50ms: number;
  p99ms: number;
  non2xx: number;
}

function need(command: string, install: string): void {
  if (spawnSync('sh', ['-c', `command -v ${command}`]).status !== 0) {
    process.stderr.write(`bench: ${command} is missing; install it with: apt-get install -y ${install}\n`);
    process.exit(1);
  }
}

function waitForLine(child: ChildProcess, pattern: RegExp): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk: Buffer) => {
      text += chunk.toString();
      const match = text.match(pattern);
      if (match) {
        child.stdout!.off('data', onData);
        resolve(match);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (c: Buffer) => process.stderr.write(c));
    child.once('exit', (code) => reject(new Error(`${child.spawnfile} exited (${code}) before it was ready:\n${text}`)));
  });
}

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => { socket.destroy(); resolve(true); });
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on ${port}`);
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function parseDuration(text: string): number {
  const m = /([0-9.]+)(us|ms|s|m)/.exec(text)!;
  return Number(m[1]) * ({ us: 0.001, ms: 1, s: 1000, m: 60000 } as Record<string, number>)[m[2]!]!;
}

async function wrk(name: string, url: string, headers: Record<string, string>, seconds: number, presigned?: string): Promise<Result> {
  let script = presigned;
  if (!script) {
    script = path.join(os.tmpdir(), `baygate-bench-${process.pid}.lua`);
    const lines = ['wrk.method = "POST"', `wrk.body = ${JSON.stringify(BODY)}`, 'wrk.headers["Content-Type"] = "application/json"',
      ...Object.entries(headers).map(([k, v]) => `wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`)];
    await writeFile(script, lines.join('\n') + '\n');
  }
  const { stdout } = await promisify(execFile)('wrk', ['-t1', `-c${args.connections}`, `-d${seconds}s`, '--latency', '-s', script, url]);
  const rps = Number(/Requests\/sec:\s+([0-9.]+)/.exec(stdout)![1]);
  const p50 = /^\s+50%\s+(\S+)/m.exec(stdout)![1]!;
  const p99 = /^\s+99%\s+(\S+)/m.exec(stdout)![1]!;
  const non2xx = Number(/Non-2xx or 3xx responses:\s+([0-9]+)/.exec(stdout)?.[1] ?? 0);
  return { name, rps, p50ms: parseDuration(p50), p99ms: parseDuration(p99), non2xx };
}

interface Target {
  name: string;
  url: string;
  headers: Record<string, string>;
  /** For signed calls: writes a wrk script of this many distinct pre-signed requests. */
  presign?: (count: number) => Promise<string>;
}

/** Most requests per second any configuration reaches here; pools are sized from it. */
const MAX_SIGNED_RPS = 3000;

/**
 * wrk's Lua cannot do SM2, so signed requests are made beforehand, each with its own nonce
 * and a timestamp inside the window, and replayed by wrk in order (never twice).
 */
async function presignedScript(work: string, baygateUrl: string, count: number, encrypt: boolean): Promise<string> {
  const secret = (await readFile(path.join(DEMO_DIR, 'kiosk-demo-001.secret'), 'utf8')).trim();
  const signingKey = importSm2PrivateKey(await readFile(path.join(DEMO_DIR, 'kiosk-demo-001.sm2.key.pem'), 'utf8'));
  const tokenResponse = await fetch(`${baygateUrl}/oauth/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`kiosk-demo-001:${secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
  });
  const { access_token: token } = await tokenResponse.json() as { access_token: string };
  const keys = (await (await fetch(`${baygateUrl}/.well-known/baygate/keys`)).json()) as { keys: Array<{ kid: string; use: string; publicKey: string }> };
  const enc = keys.keys.find((k) => k.use === 'enc')!;
  const encKey = importSm2PublicKey(enc.publicKey);
  const host = new URL(baygateUrl).host;
  const requestPath = '/api/v1/social-security/insured-info';
  const requests: string[] = [];
  const batch = 256;
  for (let start = 0; start < count; start += batch) {
    requests.push(...await Promise.all(Array.from({ length: Math.min(batch, count - start) }, async () => {
      let body = Buffer.from(BODY);
      if (encrypt) {
        const k = randomBytes(32);
        body = Buffer.from(JSON.stringify(sealEnvelope(body, splitSessionKey(k)!, enc.kid, sm2Encrypt(encKey, k))));
      }
      const timestamp = String(Date.now());
      const nonce = newNonce();
      const signature = await sm2SignAsync(signingKey, requestStringToSign({ method: 'POST', path: requestPath, query: '', clientId: 'kiosk-demo-001', timestamp, nonce, body }));
      const head = [`POST ${requestPath} HTTP/1.1`, `Host: ${host}`, `Content-Type: ${encrypt ? ENCRYPTED_CONTENT_TYPE : 'application/json'}`,
        `Content-Length: ${body.length}`, `Authorization: Bearer ${token}`, `X-Bg-Timestamp: ${timestamp}`, `X-Bg-Nonce: ${nonce}`,
        `X-Bg-Signature: ${signature.toString('base64')}`];
      return `${head.join('\r\n')}\r\n\r\n${body.toString('utf8')}`;
    })));
  }
  const file = path.join(work, `presigned-${encrypt ? 'enc' : 'plain'}.lua`);
  // One request per call, in order; past the end wrk would replay, which the gateway refuses (409).
  await writeFile(file, `local reqs = {\n${requests.map((r) => JSON.stringify(r)).join(',\n')}\n}\nlocal i = 0\nfunction request()\n  i = i + 1\n  return reqs[((i - 1) % #reqs) + 1]\nend\n`);
  return file;
}

/**
 * Issue 3's yardstick, measured in the same round: a single process that only verified the
 * request's signature and signed the answer would do 1 / (1/verify + 1/sign) per second; an
 * encrypted body adds one SM2 decryption.
 */
async function signedRouteBudget(): Promise<{ plain: number; enc: number }> {
  const { stdout } = await promisify(execFile)('openssl', ['speed', '-seconds', '2', 'sm2']);
  const m = /SM2 \(CurveSM2\)\s+\S+\s+\S+\s+([0-9.]+)\s+([0-9.]+)/.exec(stdout);
  if (!m) throw new Error(`cannot read openssl speed's output:\n${stdout}`);
  const [sign, verify] = [Number(m[1]), Number(m[2])];
  const key = generateSm2KeyPair();
  const ciphertext = sm2Encrypt(key.publicKey, randomBytes(32));
  let count = 0;
  const start = performance.now();
  while (performance.now() - start < 1000) {
    sm2Decrypt(key, ciphertext);
    count++;
  }
  const decrypt = count / ((performance.now() - start) / 1000);
  process.stderr.write(`openssl speed sm2: sign ${sign.toFixed(0)}/s, verify ${verify.toFixed(0)}/s; sm2Decrypt ${decrypt.toFixed(0)}/s\n`);
  return { plain: 1 / (1 / verify + 1 / sign), enc: 1 / (1 / verify + 1 / sign + 1 / decrypt) };
}

async function main(): Promise<void> {
  need('wrk', 'wrk');
  const work = await mkdtemp(path.join(os.tmpdir(), 'baygate-bench-'));
  await chmod(work, 0o755);
  const children: ChildProcess[] = [];
  const node = (script: string, scriptArgs: string[], nodeArgs: string[] = []) => {
    const child = spawn(process.execPath, [...nodeArgs, path.join(dist, script), ...scriptArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    return child;
  };
  const targets: Target[] = [];
  try {
    const backend = node('bench/servers/backend.js', ['0']);
    const backendPort = Number((await waitForLine(backend, /listening ([0-9]+)/))[1]);
    const backendUrl = `http://127.0.0.1:${backendPort}`;
    targets.push({ name: 'direct', url: `${backendUrl}/si/insured-persons/query`, headers: {} });

    if (existsSync('/usr/sbin/nginx') || spawnSync('sh', ['-c', 'command -v nginx']).status === 0) {
      const port = await freePort();
      for (const d of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) await mkdir(path.join(work, d), { recursive: true, mode: 0o755 });
      await writeFile(path.join(work, 'nginx.conf'), `
worker_processes 1;
daemon off;
pid ${work}/nginx.pid;
error_log ${work}/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${work}/body; proxy_temp_path ${work}/proxy; fastcgi_temp_path ${work}/fastcgi;
  uwsgi_temp_path ${work}/uwsgi; scgi_temp_path ${work}/scgi;
  upstream backend { server 127.0.0.1:${backendPort}; keepalive 32; }
  server {
    listen 127.0.0.1:${port};
    location / { proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
`);
      const nginx = spawn('nginx', ['-c', path.join(work, 'nginx.conf'), '-p', work], { stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(nginx);
      await waitForPort(port);
      targets.push({ name: 'nginx', url: `http://127.0.0.1:${port}/si/insured-persons/query`, headers: {} });
    } else {
      process.stderr.write('bench: nginx is missing (apt-get install -y nginx-light); its row is left out\n');
    }

    const koaPort = await freePort();
    const koa = node('bench/servers/koa-proxy.js', [String(koaPort), backendUrl]);
    await waitForLine(koa, /listening/);
    targets.push({ name: 'koa-proxy', url: `http://127.0.0.1:${koaPort}/si/insured-persons/query`, headers: {} });

    // Baygate on the demo policy, every check of this issue on, limits set high enough not to bite.
    const policy = await demoPolicyObject();
    for (const service of Object.values(policy.services) as PolicyObject[]) {
      for (const operation of Object.values(service.operations) as PolicyObject[]) operation.rateLimit = { points: 1_000_000_000, durationSeconds: 60 };
    }
    policy.gateway.rateLimits = { perAddress: { points: 1_000_000_000, durationSeconds: 60 }, perTerminal: { points: 1_000_000_000, durationSeconds: 60 } };
    policy.gateway.ipList = { allow: ['127.0.0.0/8'], deny: ['198.51.100.0/24'] };
    policy.backends['social-security-demo'].baseUrl = `${backendUrl}/si`;
    await writeFile(path.join(work, 'policy.yaml'), JSON.stringify(policy));
    const profileDir = path.join(args.out!, 'profile');
    if (args.profile) await rm(profileDir, { recursive: true, force: true });
    const baygate = node('cli/baygate.js', ['start', '--config', path.join(work, 'policy.yaml'), '--port', '0', '--data-dir', path.join(work, 'data'), '--log-level', 'warn'],
      args.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []);
    const baygateUrl = (await waitForLine(baygate, /listening on (http:\/\/127\.0\.0\.1:[0-9]+)/))[1]!;
    // Every call is signed (issue 3); the answers are signed; the second row also sends an SM4-sealed body.
    for (const encrypt of [false, true]) {
      targets.push({
        name: encrypt ? 'baygate-signed-enc' : 'baygate-signed',
        url: `${baygateUrl}/api/v1/social-security/insured-info`,
        headers: {},
        presign: (count) => presignedScript(work, baygateUrl, count, encrypt),
      });
    }

    const chosen = args.only ? targets.filter((t) => args.only!.split(',').includes(t.name)) : targets;
    const rounds = Number(args.rounds);
    const byName = new Map<string, Result[]>();
    const budgets: Array<{ plain: number; enc: number }> = [];
    for (let round = 1; round <= rounds; round++) {
      if (chosen.some((t) => t.presign)) budgets.push(await signedRouteBudget());
      for (const target of chosen) {
        const warmupScript = await target.presign?.(Number(args.warmup) * MAX_SIGNED_RPS);
        await wrk(target.name, target.url, target.headers, Number(args.warmup), warmupScript);
        const script = await target.presign?.(Number(args.duration) * MAX_SIGNED_RPS);
        const result = await wrk(target.name, target.url, target.headers, Number(args.duration), script);
        process.stderr.write(`round ${round} ${target.name.padEnd(10)} ${result.rps.toFixed(0).padStart(7)} req/s  p50 ${result.p50ms.toFixed(2)} ms  p99 ${result.p99ms.toFixed(2)} ms${result.non2xx ? `  NON-2XX ${result.non2xx}` : ''}\n`);
        byName.set(target.name, [...(byName.get(target.name) ?? []), result]);
      }
    }
    const medianOf = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const median = (results: Result[]) => [...results].sort((a, b) => a.rps - b.rps)[Math.floor(results.length / 2)]!;
    const summary = [...byName.values()].map(median);
    const base = summary.find((r) => r.name === 'koa-proxy');
    const budget = budgets.length ? { plain: medianOf(budgets.map((b) => b.plain)), enc: medianOf(budgets.map((b) => b.enc)) } : undefined;
    const vsBudget = (r: Result) => !budget || !r.name.startsWith('baygate-signed') ? '-' : `${(r.rps / (r.name.endsWith('-enc') ? budget.enc : budget.plain)).toFixed(2)}×`;
    const lines = [
      `| configuration | req/s | p50 ms | p99 ms | req/s vs koa-proxy | p99 vs koa-proxy | req/s vs SM2 budget | non-2xx |`,
      `|---|---:|---:|---:|---:|---:|---:|---:|`,
      ...summary.map((r) => `| ${r.name} | ${r.rps.toFixed(0)} | ${r.p50ms.toFixed(2)} | ${r.p99ms.toFixed(2)} | ${base ? (r.rps / base.rps).toFixed(2) + '×' : '-'} | ${base ? (r.p99ms / base.p99ms).toFixed(2) + '×' : '-'} | ${vsBudget(r)} | ${r.non2xx} |`),
    ];
    if (budget) {
      lines.push('', `SM2 budget (median of the rounds): 1 / (1/verify + 1/sign) from \`openssl speed sm2\` = ${budget.plain.toFixed(0)} req/s; ` +
        `with one SM2 decryption more (crypto/sm2's decrypt rate, one thread) = ${budget.enc.toFixed(0)} req/s. Target: ≥ 0.8×.`);
    }
    process.stdout.write(`\nwrk -t1 -c${args.connections}, ${args.duration} s per run, median of ${rounds} interleaved rounds, ${os.cpus().length} cores (${os.cpus()[0]?.model})\n\n${lines.join('\n')}\n`);
    await mkdir(args.out!, { recursive: true });
    await writeFile(path.join(args.out!, 'gateway.json'), JSON.stringify({ date: new Date().toISOString(), args, rounds: Object.fromEntries(byName), summary }, null, 2));
    if (summary.some((r) => r.non2xx > 0)) process.stderr.write('bench: some responses were not 2xx; the figures are not comparable\n');

    if (args.profile) {
      baygate.kill('SIGINT');
      await new Promise((r) => baygate.once('exit', r));
      const [file] = (await readdir(profileDir)).filter((f) => f.endsWith('.cpuprofile'));
      if (file) process.stdout.write(`\nWhere Baygate's CPU time goes (self time, ${path.join(profileDir, file)}):\n\n${summariseProfile(JSON.parse(await readFile(path.join(profileDir, file), 'utf8')), root)}\n`);
    }
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((error: Error) => {
  process.stderr.write(`bench: ${error.message}\n`);
  process.exit(1);
});
