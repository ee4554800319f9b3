import type Provider from 'oidc-provider';
import providerStorage from 'oidc-provider/lib/helpers/als.js';
import type { Stage } from '../context.js';

export const OAUTH_PREFIX = '/oauth';

// oidc-provider wraps each of its requests in an AsyncLocalStorage. On Node 20 that turns on
// promise hooks for the whole process, for good, and every promise of every API request then
// costs about twice as much (measured: bench/ and docs/PERFORMANCE.md). The storage is switched
// off again whenever no authorization server request is in flight; its next run() turns it on.
let inFlight = 0;

/**
 * Hands /oauth/* to node-oidc-provider, which answers in OAuth's own format (RFC 6749 §5.2).
 * It sees the path below its mount point, as koa-mount would give it.
 */
export function delegateToAuthorizationServer(config: { provider: Provider }): Stage {
  const callback = config.provider.callback();
  return async function delegateToAuthorizationServer(ctx) {
    ctx.state.bg.delegated ??= {};
    ctx.respond = false;
    // oidc-provider finds its mount point from originalUrl/baseUrl, as under Express, and
    // builds its endpoint URLs (discovery, token) with it.
    const req = ctx.req as typeof ctx.req & { originalUrl?: string; baseUrl?: string };
    req.originalUrl = req.url;
    req.baseUrl = OAUTH_PREFIX;
    req.url = req.url!.slice(OAUTH_PREFIX.length) || '/';
    inFlight++;
    try {
      await callback(ctx.req, ctx.res);
    } finally {
      if (--inFlight === 0) providerStorage.disable();
    }
  };
}
