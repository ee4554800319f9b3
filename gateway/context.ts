import type { IncomingMessage } from 'node:http';
import type Koa from 'koa';
import type { SessionKey } from '../client/protocol.js';
import type { LoadedOperation, LoadedTerminal } from '../policies/load.js';

/** What the pipeline's endpoint is: an operation of a service, or the OpenAPI document. */
export type Route =
  | { kind: 'operation'; operation: LoadedOperation }
  | { kind: 'openapi' }
  | { kind: 'keys' };

export interface AccessToken {
  clientId: string;
  scopes: ReadonlySet<string>;
  /** Seconds since the epoch. */
  expiresAt: number;
}

/** Everything a request accumulates on its way through the stages. */
export interface RequestState {
  requestId: string;
  /** The path as it came on the request line, before any '?'. */
  path: string;
  /** performance.now() when the request arrived. */
  startedAt: number;
  /** The caller's address after trusted-proxy resolution, IPv4-mapped IPv6 folded. */
  clientIp: string;
  /** Set when a trusted proxy sent an X-Forwarded-For that does not parse. */
  forwardedForProblem?: string;
  route?: Route;
  token?: AccessToken;
  terminal?: LoadedTerminal;
  /** The body as received, read once (gateway/body.ts). */
  rawBody?: Promise<Buffer>;
  /** Which of the terminal's keys signed the request, once the signature verified. */
  signingKeyId?: string;
  /** Set once an encrypted body (PROTOCOL.md §4) has been opened: the answer is sealed with it. */
  session?: { key: SessionKey; kid: string };
  /** The validated request object: what travels to the backend. */
  input?: unknown;
  /** The answer's `data`. */
  data?: unknown;
  /** A document sent as it is, without the envelope (the OpenAPI description). */
  document?: unknown;
  /** Set when the authorization server answered the request itself (/oauth). */
  delegated?: { clientId?: string; oauthError?: string };
}

export type BaygateContext = Koa.ParameterizedContext<{ bg: RequestState }>;
export type Stage = (ctx: BaygateContext, next: () => Promise<void>) => Promise<void>;

/** Lets the authorization server's event handlers find the request state of their request. */
export const requestStates = new WeakMap<IncomingMessage, RequestState>();
