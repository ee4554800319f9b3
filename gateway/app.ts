import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import Koa from 'koa';
import { resolveClientAddress } from './client-address.js';
import { requestStates, type RequestState } from './context.js';
import type { Logger } from './logger.js';
import type { Runtime } from './runtime.js';
import { OAUTH_PREFIX } from './stages/delegate-to-authorization-server.js';

/**
 * The Koa application: it reads the current runtime once per request (so a reload never
 * changes the policy under a request that is already inside) and sends the request to the
 * authorization server's gate or to the API pipeline. /healthz is the only path outside both.
 */
export function createApp(current: () => Runtime, logger: Logger): Koa {
  const app = new Koa();
  app.silent = true;
  // Koa reports errors of the HTTP layer here (a client that hangs up, a malformed request).
  app.on('error', (error: Error) => logger.warn('HTTP layer error', { error: error.message }));
  app.use(async (ctx) => {
    const runtime = current();
    const { address, problem } = resolveClientAddress(ctx.req.socket.remoteAddress, ctx.req.headers['x-forwarded-for'], runtime.policy.trustedProxies);
    const url = ctx.req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const bg: RequestState = { requestId: randomUUID(), path, startedAt: performance.now(), clientIp: address, forwardedForProblem: problem };
    ctx.state.bg = bg;
    if (path === '/healthz') {
      ctx.set('Cache-Control', 'no-store');
      ctx.body = { status: 'ok' };
      return;
    }
    if (path === OAUTH_PREFIX || path.startsWith(OAUTH_PREFIX + '/')) {
      requestStates.set(ctx.req, bg);
      return runtime.handle(ctx as never, true);
    }
    return runtime.handle(ctx as never);
  });
  return app;
}
