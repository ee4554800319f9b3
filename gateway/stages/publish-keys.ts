import type { GatewayKeySet } from '../../policies/gateway-keys.js';
import type { Stage } from '../context.js';

/**
 * GET /.well-known/baygate/keys (PROTOCOL.md §3): the gateway's current public keys. No token
 * is needed, but the address checks before this stage apply and the request is audited.
 */
export function publishKeys(config: { gatewayKeys: GatewayKeySet }): Stage {
  return async function publishKeys(ctx, next) {
    const bg = ctx.state.bg;
    if (bg.route?.kind !== 'keys') return next();
    // Public keys change only with the policy or at a key's notAfter; a short cache is safe.
    ctx.set('Cache-Control', 'public, max-age=300');
    bg.document = config.gatewayKeys.document();
  };
}
