import { RateLimiterMemory, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { RateLimit } from '../../policies/types.js';

/** "Over the limit" is a result, not an exception. */
export interface RateDecision {
  allowed: boolean;
  remaining: number;
  /** Whole seconds until a point is free again; 0 when allowed. */
  retryAfterSeconds: number;
}

/**
 * Where call counters live. A store fault (e.g. Redis down) is thrown, and the caller decides
 * to fail open or closed; the memory store never faults.
 */
export interface RateCounterStore {
  consume(key: string, limit: RateLimit): Promise<RateDecision>;
  close(): Promise<void>;
}

/** Counters of one gateway process, kept across policy reloads. */
export class MemoryRateCounterStore implements RateCounterStore {
  private readonly limiters = new Map<string, RateLimiterAbstract>();

  private limiter(limit: RateLimit): RateLimiterAbstract {
    const id = `${limit.points}/${limit.durationSeconds}`;
    let limiter = this.limiters.get(id);
    if (!limiter) {
      limiter = new RateLimiterMemory({ points: limit.points, duration: limit.durationSeconds, keyPrefix: id });
      this.limiters.set(id, limiter);
    }
    return limiter;
  }

  async consume(key: string, limit: RateLimit): Promise<RateDecision> {
    try {
      const result = await this.limiter(limit).consume(key, 1);
      return { allowed: true, remaining: result.remainingPoints, retryAfterSeconds: 0 };
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) {
        return { allowed: false, remaining: 0, retryAfterSeconds: Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)) };
      }
      throw rejection;
    }
  }

  async close(): Promise<void> {
    this.limiters.clear();
  }
}
