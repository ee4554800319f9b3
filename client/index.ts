// The kiosk backend SDK: gets and caches an access token, calls operations, and turns every
// refusal into a typed error that carries the PROTOCOL.md §5 code.

export interface BaygateClientOptions {
  /** Where the gateway is, e.g. https://gateway.example:8443 */
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  /** Services to ask for; by default the token carries every service the terminal may call. */
  scope?: string[];
  /** Milliseconds before a call gives up. */
  timeoutMs?: number;
}

/** A refusal from the gateway, or a reply the SDK could not understand. */
export class BaygateRequestError extends Error {
  constructor(
    /** A PROTOCOL.md §5 code, an OAuth error as `oauth:<error>`, or BG_CLIENT_* for local failures. */
    readonly code: string,
    readonly status: number,
    message: string,
    readonly details: Array<{ path?: string; message: string }> = [],
    readonly requestId?: string,
    /** The gateway's Chinese message, for showing to people. */
    readonly messageZh?: string,
  ) {
    super(message);
    this.name = 'BaygateRequestError';
  }
}

export interface Envelope<T = unknown> {
  code: string;
  message: string;
  messageEn: string;
  requestId: string;
  data?: T;
  details?: Array<{ path?: string; message: string }>;
}

interface CachedToken {
  value: string;
  expiresAt: number;
}

export class BaygateClient {
  private cached?: CachedToken;
  private pending?: Promise<CachedToken>;
  private readonly baseUrl: string;

  constructor(private readonly options: BaygateClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
  }

  /** An access token, fetched again 30 s before the cached one expires. */
  async token(): Promise<string> {
    if (this.cached && this.cached.expiresAt - 30_000 > Date.now()) return this.cached.value;
    this.pending ??= this.fetchToken().finally(() => {
      this.pending = undefined;
    });
    this.cached = await this.pending;
    return this.cached.value;
  }

  private async fetchToken(): Promise<CachedToken> {
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (this.options.scope?.length) form.set('scope', this.options.scope.join(' '));
    // RFC 6749 §2.3.1: both parts are form-encoded before Basic encoding.
    const basic = Buffer.from(`${encodeURIComponent(this.options.clientId)}:${encodeURIComponent(this.options.clientSecret)}`).toString('base64');
    const response = await this.fetch('/oauth/token', {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    });
    const body = await response.json().catch(() => undefined) as Record<string, unknown> | undefined;
    if (!response.ok || typeof body?.access_token !== 'string') {
      if (typeof body?.code === 'string') throw errorFromEnvelope(body as unknown as Envelope, response.status);
      const error = typeof body?.error === 'string' ? body.error : `http_${response.status}`;
      throw new BaygateRequestError(`oauth:${error}`, response.status, String(body?.error_description ?? `the token request was refused (${error})`));
    }
    return { value: body.access_token, expiresAt: Date.now() + Number(body.expires_in ?? 300) * 1000 };
  }

  private async fetch(path: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(this.baseUrl + path, { ...init, redirect: 'manual', signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000) });
    } catch (error) {
      throw new BaygateRequestError('BG_CLIENT_UNREACHABLE', 0, `cannot reach ${this.baseUrl}: ${(error as Error).message}`);
    }
  }

  /** Calls an operation and answers the full envelope, refusals included. */
  async request<T = unknown>(service: string, operation: string, body: unknown = {}, method = 'POST'): Promise<{ status: number; envelope: Envelope<T> }> {
    const token = await this.token();
    const hasBody = method !== 'GET' && method !== 'HEAD';
    const response = await this.fetch(`/api/v1/${service}/${operation}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(hasBody ? { 'content-type': 'application/json' } : {}) },
      body: hasBody ? JSON.stringify(body) : undefined,
    });
    const text = await response.text();
    let envelope: Envelope<T>;
    try {
      envelope = JSON.parse(text) as Envelope<T>;
    } catch {
      throw new BaygateRequestError('BG_CLIENT_BAD_RESPONSE', response.status, `the gateway answered HTTP ${response.status} with a body that is not JSON`);
    }
    if (response.status === 401 && envelope.code === 'BG_TOKEN_INVALID') this.cached = undefined;
    return { status: response.status, envelope };
  }

  /** Calls an operation and answers its `data`; a refusal is thrown as BaygateRequestError. */
  async call<T = unknown>(service: string, operation: string, body: unknown = {}, method = 'POST'): Promise<T> {
    const { status, envelope } = await this.request<T>(service, operation, body, method);
    if (envelope.code !== 'OK') throw errorFromEnvelope(envelope, status);
    return envelope.data as T;
  }

  /** The OpenAPI 3.1 description of what this terminal's token reaches. */
  async openApi(): Promise<Record<string, unknown>> {
    const response = await this.fetch('/api/v1/openapi.json', { headers: { authorization: `Bearer ${await this.token()}` } });
    const body = await response.json() as Record<string, unknown>;
    if (!response.ok) throw errorFromEnvelope(body as unknown as Envelope, response.status);
    return body;
  }
}

function errorFromEnvelope(envelope: Envelope, status: number): BaygateRequestError {
  const details = envelope.details ?? [];
  const summary = details.length ? `: ${details.map((d) => (d.path ? `${d.path} ${d.message}` : d.message)).join('; ')}` : '';
  return new BaygateRequestError(envelope.code, status, `${envelope.code}: ${envelope.messageEn}${summary}`, details, envelope.requestId, envelope.message);
}
