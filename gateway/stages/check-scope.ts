import { BaygateError } from '../errors.js';
import type { Stage } from '../context.js';

/** The token must grant the service, and the policy must still allow the terminal to call it. */
export function checkScope(): Stage {
  return async function checkScope(ctx, next) {
    const { route, token, terminal } = ctx.state.bg;
    if (route?.kind === 'operation') {
      const service = route.operation.service;
      if (!token!.scopes.has(service) || !terminal!.config.services.includes(service)) {
        throw new BaygateError('BG_SCOPE_DENIED', { details: [{ message: `the token does not grant the service "${service}"` }] });
      }
    }
    return next();
  };
}
