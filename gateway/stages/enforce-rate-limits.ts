import { BaygateError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { RateCounterStore } from '../state/rate-counters.js';
import type { RateLimit } from '../../policies/types.js';
import type { Stage } from '../context.js';

/**
 * Takes one point from a counter, or refuses with 429 and Retry-After. A counter store fault
 * fails open, deliberately: limits protect capacity, while identity and signatures are checked
 * regardless, and a Redis outage should not take every kiosk down. The fault is logged.
 */
export async function takePoint(store: RateCounterStore, key: string, limit: RateLimit, logger: Logger): Promise<void> {
  let decision;
  try {
    decision = await store.consume(key, limit);
  } catch (error) {
    logger.warn('rate counter store fault; letting the request through', { key, error: (error as Error).message });
    return;
  }
  if (!decision.allowed) {
    throw new BaygateError('BG_RATE_LIMITED', {
      headers: { 'Retry-After': String(decision.retryAfterSeconds) },
      reason: `over ${limit.points} per ${limit.durationSeconds}s for ${key}`,
    });
  }
}

/** Per-terminal and per-route call limits, counted per period. */
export function enforceRateLimits(config: { store: RateCounterStore; perTerminal?: RateLimit; logger: Logger }): Stage {
  return async function enforceRateLimits(ctx, next) {
    const { terminal, route } = ctx.state.bg;
    const terminalLimit = terminal?.config.rateLimit ?? config.perTerminal;
    if (terminal && terminalLimit) await takePoint(config.store, `terminal:${terminal.config.id}`, terminalLimit, config.logger);
    const routeLimit = route?.kind === 'operation' ? route.operation.config.rateLimit : undefined;
    if (route?.kind === 'operation' && routeLimit) await takePoint(config.store, `route:${route.operation.key}`, routeLimit, config.logger);
    return next();
  };
}
