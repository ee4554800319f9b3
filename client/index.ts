// The kiosk backend SDK: gets and caches an access token, signs every call with the terminal's
// SM2 key (PROTOCOL.md §2), optionally encrypts the body (§4), checks the gateway's response
// signature (§3) and opens encrypted answers, and turns every refusal into a typed error that
// carries the PROTOCOL.md §5 code.
import { randomBytes } from 'node:crypto';
import {
  importSm2PrivateKey,
  importSm2PublicKey,
  sm2Encrypt,
  sm2SignAsync,
  sm2VerifyAsync,
  type Sm2PrivateKey,
  type Sm2PublicKey,
} from '../crypto/sm2.js';
import {
  ENCRYPTED_CONTENT_TYPE,
  envelopeProblem,
  newNonce,
  openEnvelope,
  requestStringToSign,
  responseStringToSign,
  sealEnvelope,
  splitSessionKey,
  type Envelope as WireEnvelope,
  type SessionKey,
} from './protocol.js';

export { canonicalQuery, requestStringToSign, responseStringToSign } from './protocol.js';

export interface BaygateClientOptions {
  /** Where the gateway is, e.g. https://gateway.example:8443 */
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  /** Services to ask for; by default the token carries every service the terminal may call. */
  scope?: string[];
  /** Milliseconds before a call gives up. */
  timeoutMs?: number;
  /**
   * The terminal's SM2 private key: PEM (PKCS#8 or SEC1), 64 hex digits, or an imported key.
   * Needed for every call; only token() works without it.
   */
  signingKey?: string | Uint8Array | Sm2PrivateKey;
  /** Sent as X-Bg-Key-Id, so the gateway tries only that key (useful while rotating). */
  signingKeyId?: string;
  /** The identifier the terminal was registered with; default 1234567812345678. */
  distinguishingId?: string;
  /** Encrypt every request body (PROTOCOL.md §4). Per call, `encrypt` in the call options wins. */
  encrypt?: boolean;
  /**
   * The gateway's public keys, pinned: the `keys` of a saved /.well-known/baygate/keys document.
   * Without them the SDK fetches that document once (and again when it meets an unknown key id),
   * which trusts whatever answers at baseUrl: pin the keys in production.
   */
  gatewayKeys?: PublishedGatewayKey[];
  /** Check the gateway's response signatures; default true. */
  verifyResponses?: boolean;
}

export interface CallOptions {
  /** HTTP method of the route; default POST. */
  method?: string;
  /** Encrypt this call's body. */
  encrypt?: boolean;
  /** A raw query string (without '?') to send; it is signed in canonical order. */
  query?: string;
}

export interface PublishedGatewayKey {
  kid: string;
  use: 'sig' | 'enc';
  /** PEM SPKI, or hex as publicKeyHex. */
  publicKey: string;
}

interface GatewayKeyInfo {
  use: 'sig' | 'enc';
  key: Sm2PublicKey;
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

  private readonly signingKey?: Sm2PrivateKey;
  private gatewayKeys?: Map<string, GatewayKeyInfo>;
  private keysPending?: Promise<Map<string, GatewayKeyInfo>>;

  constructor(private readonly options: BaygateClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    const key = options.signingKey;
    if (key !== undefined) this.signingKey = typeof key === 'object' && 'publicKey' in key ? key : importSm2PrivateKey(key as string | Uint8Array);
    if (options.gatewayKeys) this.gatewayKeys = keyMap(options.gatewayKeys);
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

  /** The gateway's published keys (PROTOCOL.md §3), fetched once and again on an unknown key id. */
  async fetchGatewayKeys(): Promise<Map<string, GatewayKeyInfo>> {
    this.keysPending ??= (async () => {
      const response = await this.fetch('/.well-known/baygate/keys', {});
      const body = await response.json().catch(() => undefined) as { keys?: PublishedGatewayKey[] } | undefined;
      let keys: Map<string, GatewayKeyInfo>;
      try {
        if (!response.ok || !Array.isArray(body?.keys)) throw new Error(`HTTP ${response.status}`);
        keys = keyMap(body.keys);
      } catch (error) {
        throw new BaygateRequestError('BG_CLIENT_BAD_RESPONSE', response.status, `the gateway's keys at /.well-known/baygate/keys are unusable: ${(error as Error).message}`);
      }
      this.gatewayKeys = keys;
      return keys;
    })().finally(() => {
      this.keysPending = undefined;
    });
    return this.keysPending;
  }

  private async gatewayKey(kid: string, use: 'sig' | 'enc'): Promise<Sm2PublicKey | undefined> {
    const known = this.gatewayKeys?.get(kid);
    if (known) return known.use === use ? known.key : undefined;
    if (this.options.gatewayKeys) return undefined;
    const fetched = (await this.fetchGatewayKeys()).get(kid);
    return fetched?.use === use ? fetched.key : undefined;
  }

  /** The gateway's active encryption key: the first `enc` key it publishes. */
  private async encryptionKey(): Promise<[string, Sm2PublicKey]> {
    const keys = this.gatewayKeys && [...this.gatewayKeys].some(([, k]) => k.use === 'enc') ? this.gatewayKeys : await this.fetchGatewayKeys();
    const found = [...keys].find(([, k]) => k.use === 'enc');
    if (!found) throw new BaygateRequestError('BG_CLIENT_NO_ENCRYPTION_KEY', 0, 'the gateway publishes no encryption key');
    return [found[0], found[1].key];
  }

  /** Calls an operation and answers the full envelope, refusals included. */
  async request<T = unknown>(service: string, operation: string, body: unknown = {}, options: CallOptions | string = {}): Promise<{ status: number; envelope: Envelope<T> }> {
    const { method = 'POST', encrypt = this.options.encrypt ?? false, query = '' } = typeof options === 'string' ? { method: options } : options;
    const signingKey = this.signingKey;
    if (!signingKey) throw new BaygateRequestError('BG_CLIENT_NO_SIGNING_KEY', 0, 'every call is signed: give the client the terminal\'s SM2 private key (signingKey)');
    const token = await this.token();
    const hasBody = method !== 'GET' && method !== 'HEAD';
    let payload: Buffer = Buffer.alloc(0);
    let session: SessionKey | undefined;
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (hasBody) {
      const json = Buffer.from(JSON.stringify(body));
      if (encrypt) {
        const [kid, gatewayKey] = await this.encryptionKey();
        const k = randomBytes(32);
        session = splitSessionKey(k)!;
        payload = Buffer.from(JSON.stringify(sealEnvelope(json, session, kid, sm2Encrypt(gatewayKey, k))));
        headers['content-type'] = ENCRYPTED_CONTENT_TYPE;
      } else {
        payload = json;
        headers['content-type'] = 'application/json';
      }
    }
    const path = `/api/v1/${service}/${operation}`;
    const timestamp = String(Date.now());
    const nonce = newNonce();
    const signature = await sm2SignAsync(
      signingKey,
      requestStringToSign({ method, path, query, clientId: this.options.clientId, timestamp, nonce, body: payload }),
      { id: this.options.distinguishingId },
    );
    headers['x-bg-timestamp'] = timestamp;
    headers['x-bg-nonce'] = nonce;
    headers['x-bg-signature'] = signature.toString('base64');
    if (this.options.signingKeyId) headers['x-bg-key-id'] = this.options.signingKeyId;

    const response = await this.fetch(query ? `${path}?${query}` : path, { method, headers, body: hasBody ? payload : undefined });
    const raw = Buffer.from(await response.arrayBuffer());
    await this.checkResponseSignature(response, raw);
    let text: Buffer = raw;
    if (session && (response.headers.get('content-type') ?? '').startsWith(ENCRYPTED_CONTENT_TYPE)) {
      text = this.openAnswer(raw, session, response.status);
    }
    let envelope: Envelope<T>;
    try {
      envelope = JSON.parse(text.toString('utf8')) as Envelope<T>;
    } catch {
      throw new BaygateRequestError('BG_CLIENT_BAD_RESPONSE', response.status, `the gateway answered HTTP ${response.status} with a body that is not JSON`);
    }
    if (response.status === 401 && envelope.code === 'BG_TOKEN_INVALID') this.cached = undefined;
    return { status: response.status, envelope };
  }

  /**
   * PROTOCOL.md §3: a signed answer must verify under a key the gateway publishes. An answer
   * without a signature is accepted only for refusals the gateway makes before it has accepted
   * the token (it does not sign those); a successful answer must be signed.
   */
  private async checkResponseSignature(response: Response, raw: Buffer): Promise<void> {
    if (this.options.verifyResponses === false) return;
    const kid = response.headers.get('x-bg-key-id');
    const signature = response.headers.get('x-bg-signature');
    const requestId = response.headers.get('x-bg-request-id') ?? '';
    const timestamp = response.headers.get('x-bg-timestamp') ?? '';
    if (!kid || !signature) {
      if (response.status < 400) {
        throw new BaygateRequestError('BG_CLIENT_BAD_SIGNATURE', response.status, 'the gateway\'s answer is not signed (X-Bg-Signature is missing)', [], requestId);
      }
      return;
    }
    const key = await this.gatewayKey(kid, 'sig');
    const valid = key !== undefined && await sm2VerifyAsync(key, responseStringToSign(requestId, response.status, timestamp, raw), Buffer.from(signature, 'base64'));
    if (!valid) {
      throw new BaygateRequestError('BG_CLIENT_BAD_SIGNATURE', response.status, key ? 'the gateway\'s response signature does not verify' : `the answer is signed with key "${kid}", which the gateway does not publish`, [], requestId);
    }
  }

  private openAnswer(raw: Buffer, session: SessionKey, status: number): Buffer {
    let envelope: WireEnvelope | undefined;
    try {
      envelope = JSON.parse(raw.toString('utf8')) as WireEnvelope;
    } catch {
      envelope = undefined;
    }
    const plaintext = envelope && !envelopeProblem(envelope, false) ? openEnvelope(envelope, session) : undefined;
    if (!plaintext) throw new BaygateRequestError('BG_CLIENT_BAD_RESPONSE', status, 'the gateway\'s encrypted answer does not open with this request\'s key');
    return plaintext;
  }

  /** Calls an operation and answers its `data`; a refusal is thrown as BaygateRequestError. */
  async call<T = unknown>(service: string, operation: string, body: unknown = {}, options: CallOptions | string = {}): Promise<T> {
    const { status, envelope } = await this.request<T>(service, operation, body, options);
    if (envelope.code !== 'OK') throw errorFromEnvelope(envelope, status);
    return envelope.data as T;
  }

  /** The OpenAPI 3.1 description of what this terminal's token reaches. */
  async openApi(): Promise<Record<string, unknown>> {
    const response = await this.fetch('/api/v1/openapi.json', { headers: { authorization: `Bearer ${await this.token()}` } });
    const raw = Buffer.from(await response.arrayBuffer());
    await this.checkResponseSignature(response, raw);
    const body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
    if (!response.ok) throw errorFromEnvelope(body as unknown as Envelope, response.status);
    return body;
  }
}

function keyMap(keys: PublishedGatewayKey[]): Map<string, GatewayKeyInfo> {
  return new Map(keys.map((k) => [k.kid, { use: k.use, key: importSm2PublicKey(k.publicKey) }]));
}

function errorFromEnvelope(envelope: Envelope, status: number): BaygateRequestError {
  const details = envelope.details ?? [];
  const summary = details.length ? `: ${details.map((d) => (d.path ? `${d.path} ${d.message}` : d.message)).join('; ')}` : '';
  return new BaygateRequestError(envelope.code, status, `${envelope.code}: ${envelope.messageEn}${summary}`, details, envelope.requestId, envelope.message);
}
