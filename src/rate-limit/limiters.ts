// Named rate-limit policies over rate-limiter-flexible. In memory by default;
// the store is chosen in one place so shared stores plug in without touching callers.
import { Redis } from "ioredis";
import {
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterAbstract,
} from "rate-limiter-flexible";
import { AppError } from "../errors.ts";

export interface Policy {
  points: number;
  durationSeconds: number;
}

export const policies = {
  magicLinkEmail: { points: 5, durationSeconds: 15 * 60 },
  magicLinkIp: { points: 30, durationSeconds: 15 * 60 },
  verifyIp: { points: 60, durationSeconds: 60 },
  refreshIp: { points: 120, durationSeconds: 60 },
  exchangeKey: { points: 30, durationSeconds: 60 },
  exchangeFailure: { points: 10, durationSeconds: 60 },
  // Anonymous bodies over 64 KiB (src/body-budget.ts): enough for any honest client, which sends none.
  largeAnonymousBodyIp: { points: 20, durationSeconds: 60 },
} satisfies Record<string, Policy>;

export type PolicyName = keyof typeof policies;

export interface LimitState {
  limit: number;
  remaining: number;
  resetSeconds: number;
}

export type LimiterFactory = (name: string, policy: Policy) => RateLimiterAbstract;

const memoryLimiterFactory: LimiterFactory = (name, policy) =>
  new RateLimiterMemory({
    keyPrefix: name,
    points: policy.points,
    duration: policy.durationSeconds,
  });

/** Counters shared by every instance through Redis (REDIS_URL). */
function redisLimiterFactory(redis: Redis): LimiterFactory {
  return (name, policy) =>
    new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: name,
      points: policy.points,
      duration: policy.durationSeconds,
      // Redis down: fall back to this process's own counters rather than failing open or closed.
      insuranceLimiter: new RateLimiterMemory({
        keyPrefix: name,
        points: policy.points,
        duration: policy.durationSeconds,
      }),
    });
}

export class Limiters {
  private readonly cache = new Map<string, RateLimiterAbstract>();

  constructor(
    private readonly factory: LimiterFactory = memoryLimiterFactory,
    private readonly overrides: Partial<Record<PolicyName, Policy>> = {},
    private readonly onClose: () => Promise<void> = async () => {},
  ) {}

  /** In memory by default; shared through Redis when `redisUrl` is set. */
  static create(redisUrl?: string, overrides: Partial<Record<PolicyName, Policy>> = {}): Limiters {
    if (!redisUrl) return new Limiters(memoryLimiterFactory, overrides);
    // Commands wait for the connection briefly at start; past one retry the insurance limiter answers.
    const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, connectTimeout: 2000 });
    redis.on("error", () => {
      // Reported through the insurance limiter taking over; ioredis reconnects by itself.
    });
    return new Limiters(redisLimiterFactory(redis), overrides, async () => {
      await redis.quit().catch(() => redis.disconnect());
    });
  }

  close(): Promise<void> {
    return this.onClose();
  }

  private limiter(name: string, policy: Policy): RateLimiterAbstract {
    const id = `${name}:${policy.points}:${policy.durationSeconds}`;
    let limiter = this.cache.get(id);
    if (!limiter) {
      limiter = this.factory(`kg:${id}`, policy);
      this.cache.set(id, limiter);
    }
    return limiter;
  }

  /** Consumes one point of a named policy for `key`; throws RATE_LIMITED with Retry-After when spent. */
  consume(name: PolicyName, key: string): Promise<LimitState> {
    return this.consumeCustom(name, this.overrides[name] ?? policies[name], key);
  }

  /** Same, for a policy that is data (a key's own per-minute limit, say). */
  async consumeCustom(name: string, policy: Policy, key: string): Promise<LimitState> {
    try {
      const res = await this.limiter(name, policy).consume(key, 1);
      return {
        limit: policy.points,
        remaining: res.remainingPoints,
        resetSeconds: Math.ceil(res.msBeforeNext / 1000),
      };
    } catch (error) {
      if (error instanceof RateLimiterRes) {
        const retryAfter = Math.max(1, Math.ceil(error.msBeforeNext / 1000));
        throw new AppError("RATE_LIMITED", "too many requests, retry later", {
          retryAfter,
          limit: policy.points,
        });
      }
      throw error;
    }
  }
}
