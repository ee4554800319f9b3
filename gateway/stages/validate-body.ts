import { BaygateError } from '../errors.js';
import { schemaErrorDetails } from '../../policies/json-schemas.js';
import type { Stage } from '../context.js';

/** The operation's JSON Schema, compiled once when the policy loaded; defaults are filled in. */
export function validateBody(): Stage {
  return async function validateBody(ctx, next) {
    const bg = ctx.state.bg;
    if (bg.route?.kind === 'operation' && !bg.route.operation.validateRequest(bg.input)) {
      throw new BaygateError('BG_VALIDATION_FAILED', { details: schemaErrorDetails(bg.route.operation.validateRequest.errors) });
    }
    return next();
  };
}
