import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { startDemoBackends, type DemoBackends } from '../../examples/demo/backends.js';
import { DEMO_DIR, demoPolicyObject as demoPolicy, installRoot, type PolicyObject } from '../../examples/demo/policy-object.js';
import { SqliteAuditStore } from '../../audit/sqlite-store.js';
import { newNonce, requestStringToSign, type RequestToSign } from '../../client/protocol.js';
import { importSm2PrivateKey, sm2Sign, type Sm2PrivateKey } from '../../crypto/sm2.js';
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

export interface CallOptions {
  token?: string;
  headers?: Record<string, string | undefined>;
  method?: string;
  query?: string;
  sign?: boolean;
  /** Sign as if these were the values (to tamper with one component of the signed string). */
  signAs?: Partial<RequestToSign>;
  key?: Sm2PrivateKey;
  distinguishingId?: string;
}

export const DEMO_KEY = importSm2PrivateKey(readFileSync(path.join(DEMO_DIR, 'kiosk-demo-001.sm2.key.pem'), 'utf8'));

/** X-Bg-Timestamp, X-Bg-Nonce and X-Bg-Signature for a request (PROTOCOL.md §2.1). */
export function signatureHeaders(request: RequestToSign, key: Sm2PrivateKey = DEMO_KEY, distinguishingId?: string): Record<string, string> {
  const signature = sm2Sign(key, requestStringToSign(request), { id: distinguishingId });
  return { 'x-bg-timestamp': request.timestamp, 'x-bg-nonce': request.nonce, 'x-bg-signature': signature.toString('base64') };
}

/** rawRequest with the demo terminal's PROTOCOL.md §2 signature added for exactly what is sent. */
export function signedRawRequest(url: string, options: Parameters<typeof rawRequest>[1]): Promise<Response> {
  const method = options.method ?? 'POST';
  const q = options.path.indexOf('?');
  const headers = signatureHeaders({
    method,
    path: q === -1 ? options.path : options.path.slice(0, q),
    query: q === -1 ? '' : options.path.slice(q + 1),
    clientId: DEMO_TERMINAL,
    timestamp: String(Date.now()),
    nonce: newNonce(),
    body: options.body === undefined ? Buffer.alloc(0) : Buffer.from(options.body),
  });
  return rawRequest(url, { ...options, headers: { ...headers, ...options.headers } });
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
  /**
   * Calls an operation the way a kiosk does: token, JSON body, and the PROTOCOL.md §2 signature
   * by the demo terminal's key. `headers` override (undefined removes one); `sign: false` sends
   * no signature headers; `body` as a Buffer or string is sent as it is.
   */
  call(service: string, operation: string, body?: unknown, options?: CallOptions): Promise<Response>;
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
      const method = options.method ?? 'POST';
      const requestPath = `/api/v1/${service}/${operation}`;
      const payload = body === undefined ? Buffer.alloc(0) : typeof body === 'string' || Buffer.isBuffer(body) ? Buffer.from(body) : Buffer.from(JSON.stringify(body));
      const signed = options.sign === false ? {} : signatureHeaders({
        method,
        path: requestPath,
        query: options.query ?? '',
        clientId: DEMO_TERMINAL,
        timestamp: String(Date.now()),
        nonce: newNonce(),
        body: payload,
        ...options.signAs,
      }, options.key, options.distinguishingId);
      const headers: Record<string, string | undefined> = { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...signed, ...options.headers };
      return rawRequest(url, {
        method,
        path: `${requestPath}${options.query ? `?${options.query}` : ''}`,
        headers: Object.fromEntries(Object.entries(headers).filter((entry): entry is [string, string] => entry[1] !== undefined)),
        body: body === undefined ? undefined : payload,
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
