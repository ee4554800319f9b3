import type { Logger } from '../logger.js';
import type { RateCounterStore } from '../state/rate-counters.js';
import type { RateLimit } from '../../policies/types.js';
import type { Stage } from '../context.js';
import { takePoint } from './enforce-rate-limits.js';

/** The per-address limit runs before the token, so unauthenticated floods are cut early. */
export function limitPerAddress(config: { store: RateCounterStore; limit?: RateLimit; logger: Logger }): Stage {
  const { limit } = config;
  if (!limit) return (_ctx, next) => next();
  return async function limitPerAddress(ctx, next) {
    await takePoint(config.store, `address:${ctx.state.bg.clientIp}`, limit, config.logger);
    return next();
  };
}
