import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { DEMO_DIR, demoPolicyObject, installRoot, type PolicyObject } from '../examples/demo/policy-object.js';
import { summariseProfile } from './profile.js';

// The gateway benchmark (issue 2): requests per second and p99 latency, in one run, of
//   direct     → the demo backend itself
//   nginx      → nginx proxy_pass in front of it (Debian's nginx-light)
//   koa-proxy  → a minimal Koa + undici proxy (the baseline the targets are ratios of)
//   baygate    → the demo route with token, IP list, rate limits, schema and audit on
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

async function wrk(name: string, url: string, headers: Record<string, string>, seconds: number): Promise<Result> {
  const script = path.join(os.tmpdir(), `baygate-bench-${process.pid}.lua`);
  const lines = ['wrk.method = "POST"', `wrk.body = ${JSON.stringify(BODY)}`, 'wrk.headers["Content-Type"] = "application/json"',
    ...Object.entries(headers).map(([k, v]) => `wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`)];
  await writeFile(script, lines.join('\n') + '\n');
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
    const secret = (await readFile(path.join(DEMO_DIR, 'kiosk-demo-001.secret'), 'utf8')).trim();
    const tokenResponse = await fetch(`${baygateUrl}/oauth/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`kiosk-demo-001:${secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    });
    const { access_token: token } = await tokenResponse.json() as { access_token: string };
    targets.push({ name: 'baygate', url: `${baygateUrl}/api/v1/social-security/insured-info`, headers: { Authorization: `Bearer ${token}` } });

    const chosen = args.only ? targets.filter((t) => args.only!.split(',').includes(t.name)) : targets;
    const rounds = Number(args.rounds);
    const byName = new Map<string, Result[]>();
    for (let round = 1; round <= rounds; round++) {
      for (const target of chosen) {
        await wrk(target.name, target.url, target.headers, Number(args.warmup));
        const result = await wrk(target.name, target.url, target.headers, Number(args.duration));
        process.stderr.write(`round ${round} ${target.name.padEnd(10)} ${result.rps.toFixed(0).padStart(7)} req/s  p50 ${result.p50ms.toFixed(2)} ms  p99 ${result.p99ms.toFixed(2)} ms${result.non2xx ? `  NON-2XX ${result.non2xx}` : ''}\n`);
        byName.set(target.name, [...(byName.get(target.name) ?? []), result]);
      }
    }
    const median = (results: Result[]) => [...results].sort((a, b) => a.rps - b.rps)[Math.floor(results.length / 2)]!;
    const summary = [...byName.values()].map(median);
    const base = summary.find((r) => r.name === 'koa-proxy');
    const lines = [
      `| configuration | req/s | p50 ms | p99 ms | req/s vs koa-proxy | p99 vs koa-proxy | non-2xx |`,
      `|---|---:|---:|---:|---:|---:|---:|`,
      ...summary.map((r) => `| ${r.name} | ${r.rps.toFixed(0)} | ${r.p50ms.toFixed(2)} | ${r.p99ms.toFixed(2)} | ${base ? (r.rps / base.rps).toFixed(2) + '×' : '-'} | ${base ? (r.p99ms / base.p99ms).toFixed(2) + '×' : '-'} | ${r.non2xx} |`),
    ];
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
