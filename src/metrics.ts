// Prometheus metrics of one gateway process (prom-client), on a registry of its own so that two
// gateways in one process (the tests) never share counters. Served by GET /metrics behind
// METRICS_TOKEN, or on METRICS_ADDRESS (see server.ts); never public by default.
import { createHash, timingSafeEqual } from "node:crypto";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { HotCount, HotCounts, HotHistogram } from "./hot-metrics.ts";

export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
}

export class Metrics {
  readonly registry = new Registry();

  // Counted on every verification: plain numbers (hot-metrics.ts), published when scraped.
  private readonly codes = new HotCounts("code");
  private readonly hits = new HotCount();

  readonly verifications: Counter<"code"> = new Counter({
    name: "keygate_verifications_total",
    help: "Key verifications by answer code",
    labelNames: ["code"] as const,
    registers: [this.registry],
    collect: () => this.codes.publishTo(this.verifications),
  });

  readonly verifyDuration = new HotHistogram(
    "keygate_verification_duration_seconds",
    "Time to verify one key, from the token to the answer",
    [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
    this.registry,
  );

  readonly cacheHits: Counter = new Counter({
    name: "keygate_key_cache_hits_total",
    help: "Key lookups answered from this process's cache (known and unknown keys)",
    registers: [this.registry],
    collect: () => this.hits.publishTo(this.cacheHits),
  });

  /** One verification: its answer code, and how long it took in seconds. */
  verified(code: string, seconds: number): void {
    this.codes.add(code);
    this.verifyDuration.observe(seconds);
  }

  /** A key lookup answered from the cache. */
  cacheHit(): void {
    this.hits.value += 1;
  }

  readonly cacheMisses = new Counter({
    name: "keygate_key_cache_misses_total",
    help: "Key lookups that read the database",
    registers: [this.registry],
  });

  readonly filterRejections = new Counter({
    name: "keygate_key_filter_rejections_total",
    help: "Unknown keys refused by the key filter without a database query",
    registers: [this.registry],
  });

  readonly notices = new Counter({
    name: "keygate_change_notices_received_total",
    help: "Change notices received from other instances, by transport",
    labelNames: ["transport"] as const,
    registers: [this.registry],
  });

  readonly noticeConnections = new Counter({
    name: "keygate_change_notice_disconnects_total",
    help: "Lost notice connections (each one empties the key cache)",
    labelNames: ["transport"] as const,
    registers: [this.registry],
  });

  readonly rateLimitDecisions = new Counter({
    name: "keygate_rate_limit_decisions_total",
    help: "Decisions of a key's own rate limits",
    labelNames: ["window", "decision"] as const,
    registers: [this.registry],
  });

  readonly usageFlushDuration = new Histogram({
    name: "keygate_usage_flush_duration_seconds",
    help: "Time to write one batch of usage counts, by outcome (written, or failed and kept)",
    labelNames: ["outcome"] as const,
    buckets: [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly usageFlushInterval = new Gauge({
    name: "keygate_usage_flush_interval_seconds",
    help: "Wait before the next usage flush: 5 s, longer while flushes are slow (at most 60 s)",
    registers: [this.registry],
  });

  readonly cacheEntries = new Gauge({
    name: "keygate_key_cache_entries",
    help: "Keys held in the lookup cache",
    registers: [this.registry],
    collect: () => {
      const size = this.cacheSize?.();
      if (size !== undefined) this.cacheEntries.set(size);
    },
  });

  readonly pool = new Gauge({
    name: "keygate_db_pool_connections",
    help: "Database connections by state (PostgreSQL pool; the embedded database has one)",
    labelNames: ["state"] as const,
    registers: [this.registry],
    collect: () => {
      const stats = this.poolStats?.();
      if (!stats) return;
      this.pool.set({ state: "total" }, stats.total);
      this.pool.set({ state: "idle" }, stats.idle);
      this.pool.set({ state: "waiting" }, stats.waiting);
    },
  });

  /** Filled in by whoever owns the pool and the cache. */
  poolStats?: () => PoolStats;
  cacheSize?: () => number;

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/** `Authorization: Bearer <METRICS_TOKEN>`, compared in constant time. */
export function metricsAuthorized(header: string | undefined | null, token: string): boolean {
  if (!header?.startsWith("Bearer ")) return false;
  // Digests of equal length: the comparison tells nothing about the token's length either.
  const digest = (value: string) => createHash("sha256").update(value).digest();
  return timingSafeEqual(digest(header.slice(7)), digest(token));
}
