import { setTimeout as sleep } from 'node:timers/promises';
import type { Readable } from 'node:stream';
import { Pool } from 'undici';
import { BaygateError } from '../gateway/errors.js';
import type { RestBackendConfig } from '../policies/types.js';
import { fillTemplate, type Adapter, type OperationCall } from './adapter.js';

// A path value can never climb out of the backend's base path: every character outside the
// unreserved set is percent-encoded, dots included, so ".." arrives as "%2E%2E".
const encodePathValue = (value: string) => encodeURIComponent(value).replace(/\./g, '%2E');
const encodeHeaderValue = (value: string) => value.replace(/[\r\n]/g, ' ');

type Failure = { error: BaygateError; retryable: boolean };

function classify(error: unknown, backendId: string): Failure {
  if (error instanceof BaygateError) return { error, retryable: false };
  const code = (error as { code?: string }).code;
  const name = (error as Error).name;
  if (name === 'TimeoutError' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    return { error: new BaygateError('BG_UPSTREAM_TIMEOUT', { reason: `${backendId}: ${(error as Error).message}` }), retryable: false };
  }
  // Refused, reset, unreachable, or a connect timeout: the backend could not be reached.
  return {
    error: new BaygateError('BG_UPSTREAM_UNAVAILABLE', { reason: `${backendId}: ${code ?? name}: ${(error as Error).message}` }),
    retryable: true,
  };
}

function pick(data: unknown, dottedPath: string | undefined): unknown {
  if (!dottedPath) return data;
  let value = data;
  for (const part of dottedPath.split('.')) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, part)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/**
 * A REST/JSON backend behind an undici connection pool. Redirects are never followed; a
 * non-2xx answer, a reply that is not JSON or one over the size limit is BG_UPSTREAM_FAULT.
 * Only operations declared idempotent are retried, with backoff and jitter, within one
 * deadline for all attempts.
 */
export class RestAdapter implements Adapter {
  private readonly pool: Pool;
  private readonly basePath: string;

  constructor(readonly backendId: string, private readonly config: RestBackendConfig) {
    const url = new URL(config.baseUrl);
    this.basePath = url.pathname.replace(/\/$/, '');
    this.pool = new Pool(url.origin, {
      connections: config.connections,
      connect: { timeout: config.connectTimeoutMs },
      headersTimeout: config.timeoutMs,
      bodyTimeout: config.timeoutMs,
      keepAliveTimeout: 4_000,
    });
  }

  async invoke(call: OperationCall): Promise<unknown> {
    const { request } = call.operation.config;
    // One deadline covers every attempt; each attempt gets what is left of it.
    const deadline = Date.now() + this.config.timeoutMs;
    const attempts = call.operation.config.idempotent ? 1 + this.config.retries : 1;
    const query = Object.entries(request.query)
      .map(([name, template]) => `${encodeURIComponent(name)}=${fillTemplate(template, call, encodeURIComponent)}`)
      .join('&');
    const path = this.basePath + fillTemplate(request.path, call, encodePathValue) + (query ? `?${query}` : '');
    const headers: Record<string, string> = { accept: 'application/json', 'x-request-id': call.requestId, ...this.config.headers };
    for (const [name, template] of Object.entries(request.headers)) headers[name.toLowerCase()] = fillTemplate(template, call, encodeHeaderValue);
    let body: string | undefined;
    if (request.body === 'request' && request.method !== 'GET' && request.method !== 'DELETE') {
      body = JSON.stringify(call.input ?? {});
      headers['content-type'] = 'application/json';
    }

    for (let attempt = 1; ; attempt++) {
      try {
        return pick(await this.once(request.method, path, headers, body, deadline), call.operation.config.response.dataPath);
      } catch (error) {
        const failure = classify(error, this.backendId);
        if (!failure.retryable || attempt >= attempts) throw failure.error;
        // Full jitter over an exponential step: 50 ms, 100 ms, 200 ms…
        const pause = Math.random() * 50 * 2 ** (attempt - 1);
        if (Date.now() + pause >= deadline) throw failure.error;
        await sleep(pause);
      }
    }
  }

  private async once(method: string, path: string, headers: Record<string, string>, body: string | undefined, deadline: number): Promise<unknown> {
    const left = () => Math.max(1, deadline - Date.now());
    // undici's own timeouts rather than an AbortSignal per call: the signal machinery cost
    // about 3% of the gateway's CPU (bench/, --profile).
    const response = await this.pool.request({ method: method as 'GET', path, headers, body, headersTimeout: left(), bodyTimeout: left() });
    const { statusCode } = response;
    const reply = await this.readReply(response.body, left());
    // 503 means "not now": classified as unavailable, so an idempotent operation tries again.
    if (statusCode === 503) throw Object.assign(new Error('the backend answered HTTP 503'), { code: 'HTTP_503' });
    if (statusCode < 200 || statusCode > 299) {
      throw new BaygateError('BG_UPSTREAM_FAULT', {
        details: [{ message: `the backend answered HTTP ${statusCode}`, upstreamStatus: statusCode }],
        reason: `${this.backendId}: HTTP ${statusCode}`,
      });
    }
    try {
      return JSON.parse(reply.toString('utf8'));
    } catch {
      throw new BaygateError('BG_UPSTREAM_FAULT', { details: [{ message: 'the backend reply is not JSON' }], reason: `${this.backendId}: reply is not JSON` });
    }
  }

  /** Reads a reply up to maxResponseBytes; a larger one is cut off and is a fault. */
  private readReply(stream: Readable, timeoutMs: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      // A reply that trickles in chunk by chunk must still finish by the deadline.
      const timer = setTimeout(() => {
        stream.destroy();
        reject(Object.assign(new Error(`the reply did not finish within ${timeoutMs} ms`), { name: 'TimeoutError' }));
      }, timeoutMs);
      const fail = (error: Error) => {
        clearTimeout(timer);
        stream.destroy();
        reject(error);
      };
      stream.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > this.config.maxResponseBytes) {
          fail(new BaygateError('BG_UPSTREAM_FAULT', {
            details: [{ message: 'the backend reply is larger than allowed' }],
            reason: `${this.backendId}: reply over ${this.config.maxResponseBytes} bytes`,
          }));
          return;
        }
        chunks.push(chunk);
      });
      stream.on('end', () => {
        clearTimeout(timer);
        resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
      });
      stream.on('error', fail);
    });
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}

