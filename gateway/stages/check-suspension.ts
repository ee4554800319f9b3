import { BaygateError } from '../errors.js';
import type { ServiceConfig } from '../../policies/types.js';
import type { Stage } from '../context.js';

/** An administrator can suspend a whole service or one operation in the policy. */
export function checkSuspension(config: { services: Readonly<Record<string, ServiceConfig>> }): Stage {
  return async function checkSuspension(ctx, next) {
    const route = ctx.state.bg.route;
    if (route?.kind === 'operation') {
      const { service, config: operation } = route.operation;
      if (config.services[service]!.suspended || operation.suspended) {
        throw new BaygateError('BG_SERVICE_SUSPENDED', { headers: { 'Retry-After': '300' } });
      }
    }
    return next();
  };
}
