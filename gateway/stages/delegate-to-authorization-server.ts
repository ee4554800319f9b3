import type Provider from 'oidc-provider';
import type { Stage } from '../context.js';

export const OAUTH_PREFIX = '/oauth';

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
    await callback(ctx.req, ctx.res);
  };
}
