import type { Stage } from '../context.js';

/** GET /api/v1/openapi.json: the operations the token's scopes reach (PROTOCOL.md §3). */
export function describeApi(config: { document: (scopes: ReadonlySet<string>) => unknown }): Stage {
  return async function describeApi(ctx, next) {
    const bg = ctx.state.bg;
    if (bg.route?.kind !== 'openapi') return next();
    const allowed = new Set([...bg.token!.scopes].filter((s) => bg.terminal!.config.services.includes(s)));
    bg.document = config.document(allowed);
  };
}
