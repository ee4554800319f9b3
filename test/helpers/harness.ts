import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { startDemoBackends, type DemoBackends } from '../../examples/demo/backends.js';
import { DEMO_DIR, demoPolicyObject as demoPolicy, installRoot, type PolicyObject } from '../../examples/demo/policy-object.js';
import { SqliteAuditStore } from '../../audit/sqlite-store.js';
import type { StoredAuditRecord } from '../../audit/store.js';
import { createLogger } from '../../gateway/logger.js';
import { Gateway } from '../../gateway/server.js';

export const ROOT = installRoot();
export { DEMO_DIR, type PolicyObject };
export const DEMO_TERMINAL = 'kiosk-demo-001';
export const DEMO_ID = '44030419900307123X';
export const DEMO_ID_2 = '440106198511122344';

/** The demo policy with file references made absolute, listening on an ephemeral port. */
export async function demoPolicyObject(): Promise<PolicyObject> {
  const policy = await demoPolicy();
  policy.gateway.listeners = [{ protocol: 'http', host: '127.0.0.1', port: 0 }];
  // Tests provoke limits deliberately; the demo's generous defaults would only slow them.
  delete policy.gateway.rateLimits;
  return policy;
}

export interface Response {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

/** A raw HTTP request: the path goes on the request line exactly as given (no URL normalising). */
export function rawRequest(url: string, options: { method?: string; path: string; headers?: Record<string, string>; body?: string | Buffer; localAddress?: string }): Promise<Response> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: target.hostname,
      port: target.port,
      method: options.method ?? 'POST',
      path: options.path,
      headers: options.headers,
      localAddress: options.localAddress,
      agent: false,
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode!, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

export interface Harness {
  gateway: Gateway;
  url: string;
  dir: string;
  dataDir: string;
  policyFile: string;
  policy: PolicyObject;
  backends: DemoBackends;
  logLines: string[];
  secret: string;
  token(options?: { clientId?: string; secret?: string; scope?: string }): Promise<string>;
  call(service: string, operation: string, body?: unknown, options?: { token?: string; headers?: Record<string, string>; method?: string; query?: string }): Promise<Response>;
  writePolicy(policy: PolicyObject): Promise<void>;
  auditRecords(): Promise<StoredAuditRecord[]>;
  close(): Promise<void>;
}

/** Starts demo backends and a gateway on ephemeral ports, with the policy `change` makes. */
export async function startHarness(change: (policy: PolicyObject, dir: string) => void | Promise<void> = () => undefined): Promise<Harness> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'baygate-test-'));
  const dataDir = path.join(dir, 'data');
  const backends = await startDemoBackends({ socialSecurity: 0, housingFund: 0 });
  const policy = await demoPolicyObject();
  policy.backends['social-security-demo'].baseUrl = backends.socialSecurityUrl;
  policy.backends['housing-fund-demo'].baseUrl = backends.housingFundUrl;
  await change(policy, dir);
  const policyFile = path.join(dir, 'policy.yaml');
  const writePolicy = (p: PolicyObject) => writeFile(policyFile, JSON.stringify(p, null, 2));
  await writePolicy(policy);
  const logLines: string[] = [];
  let gateway: Gateway;
  try {
    gateway = await Gateway.start({ policyFile, dataDir, logger: createLogger({ level: 'debug', write: (line) => logLines.push(line) }) });
  } catch (error) {
    await backends.close();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const secret = (await readFile(path.join(DEMO_DIR, `${DEMO_TERMINAL}.secret`), 'utf8')).trim();
  const url = gateway.url;

  const harness: Harness = {
    gateway, url, dir, dataDir, policyFile, policy, backends, logLines, secret,
    async token(options = {}) {
      const form = new URLSearchParams({ grant_type: 'client_credentials' });
      if (options.scope) form.set('scope', options.scope);
      const basic = Buffer.from(`${options.clientId ?? DEMO_TERMINAL}:${options.secret ?? secret}`).toString('base64');
      const response = await fetch(`${url}/oauth/token`, {
        method: 'POST',
        headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: form,
      });
      const body = await response.json() as { access_token?: string; error?: string };
      if (!body.access_token) throw new Error(`no token: HTTP ${response.status} ${JSON.stringify(body)}`);
      return body.access_token;
    },
    async call(service, operation, body, options = {}) {
      const token = options.token ?? await harness.token();
      return rawRequest(url, {
        method: options.method ?? 'POST',
        path: `/api/v1/${service}/${operation}${options.query ? `?${options.query}` : ''}`,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...options.headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    },
    writePolicy,
    async auditRecords() {
      const store = new SqliteAuditStore(path.join(dataDir, 'audit.sqlite'), { readonly: true });
      try {
        return (await store.query({ limit: 10_000 })).reverse();
      } finally {
        await store.close();
      }
    },
    async close() {
      await gateway.close();
      await backends.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return harness;
}

/** A one-off HTTP backend on an ephemeral port, for provoking upstream failures. */
export async function startBackend(handler: http.RequestListener): Promise<{ url: string; server: http.Server; close(): Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
