import { BaygateError } from '../errors.js';
import type { TokenVerifier } from '../tokens.js';
import type { Stage } from '../context.js';

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/** The bearer token: signature, issuer, audience, expiry and algorithm (see TokenVerifier). */
export function authenticateToken(config: { verifier: TokenVerifier }): Stage {
  return async function authenticateToken(ctx, next) {
    const header = ctx.get('authorization');
    const match = BEARER.exec(header);
    if (!match) {
      throw new BaygateError('BG_TOKEN_MISSING', {
        headers: { 'WWW-Authenticate': 'Bearer realm="baygate"' },
        reason: header ? 'the Authorization header is not a Bearer token' : undefined,
      });
    }
    const outcome = await config.verifier.verify(match[1]!);
    if (!outcome.ok) {
      throw new BaygateError('BG_TOKEN_INVALID', {
        headers: { 'WWW-Authenticate': 'Bearer realm="baygate", error="invalid_token"' },
        reason: outcome.reason,
      });
    }
    ctx.state.bg.token = outcome.token;
    return next();
  };
}
