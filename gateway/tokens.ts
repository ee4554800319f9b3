import { createLocalJWKSet, errors as joseErrors, jwtVerify, type JSONWebKeySet } from 'jose';
import type { AccessToken } from './context.js';

export type TokenOutcome = { ok: true; token: AccessToken } | { ok: false; reason: string };

const CACHE_LIMIT = 10_000;

/**
 * Verifies access tokens issued by the built-in authorization server: signature over the
 * server's own public keys, an allow-listed algorithm, `typ: at+jwt`, issuer, audience and
 * expiry. A verified token is remembered until it expires, so a kiosk's burst of calls costs
 * one signature check; the expiry is still checked on every use.
 */
export class TokenVerifier {
  private readonly keys: ReturnType<typeof createLocalJWKSet>;
  private readonly cache = new Map<string, AccessToken>();

  constructor(
    publicKeys: JSONWebKeySet,
    private readonly options: { issuer: string; audience: string; algorithms: string[]; now?: () => number },
  ) {
    this.keys = createLocalJWKSet(publicKeys);
  }

  private nowSeconds(): number {
    return Math.floor((this.options.now?.() ?? Date.now()) / 1000);
  }

  async verify(jwt: string): Promise<TokenOutcome> {
    const cached = this.cache.get(jwt);
    if (cached) {
      if (cached.expiresAt > this.nowSeconds()) return { ok: true, token: cached };
      this.cache.delete(jwt);
      return { ok: false, reason: 'the token has expired' };
    }
    try {
      const { payload } = await jwtVerify(jwt, this.keys, {
        issuer: this.options.issuer,
        audience: this.options.audience,
        algorithms: this.options.algorithms,
        typ: 'at+jwt',
        requiredClaims: ['exp', 'client_id'],
        currentDate: new Date(this.nowSeconds() * 1000),
      });
      if (typeof payload.client_id !== 'string') return { ok: false, reason: 'the token has no client_id' };
      const token: AccessToken = {
        clientId: payload.client_id,
        scopes: new Set(typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : []),
        expiresAt: payload.exp!,
      };
      if (this.cache.size >= CACHE_LIMIT) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(jwt, token);
      return { ok: true, token };
    } catch (error) {
      if (error instanceof joseErrors.JOSEError) return { ok: false, reason: `${error.code}: ${error.message}` };
      return { ok: false, reason: 'the token is not a JWT' };
    }
  }
}
