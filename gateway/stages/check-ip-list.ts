import { BaygateError } from '../errors.js';
import type { CompiledIpList } from '../../policies/load.js';
import type { Stage } from '../context.js';

export function refusedBy(list: CompiledIpList, address: string): string | undefined {
  if (list.deny.contains(address)) return 'on the deny list';
  if (list.allow && !list.allow.contains(address)) return 'not on the allow list';
  return undefined;
}

/** The gateway's and the route's allow and deny lists. The terminal's own ranges are checked with its status. */
export function checkIpList(config: { global: CompiledIpList }): Stage {
  return async function checkIpList(ctx, next) {
    const bg = ctx.state.bg;
    if (bg.forwardedForProblem) throw new BaygateError('BG_BAD_REQUEST', { details: [{ message: bg.forwardedForProblem }] });
    const route = bg.route?.kind === 'operation' ? bg.route.operation : undefined;
    const why = refusedBy(config.global, bg.clientIp) ?? (route && refusedBy(route.ipList, bg.clientIp));
    if (why) throw new BaygateError('BG_IP_DENIED', { reason: `${bg.clientIp} is ${why}${route && !refusedBy(config.global, bg.clientIp) ? ` of ${route.key}` : ''}` });
    return next();
  };
}
