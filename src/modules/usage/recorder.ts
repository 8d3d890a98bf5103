// Verification counts by key, outcome code and minute, aggregated in memory and written in
// batches (never a write per request) as minute rows. Hour and day rows are summed from them once
// the hour or day is over (rollup.ts, every minute); reads sum what is not rolled up yet.
// Flushes come every 5 seconds, or less often when the database is slow to take them: the next
// flush waits ten times as long as the last one took (at most a minute), so usage counting never
// holds the database for more than about a tenth of the time. A slower flush carries more
// verifications of the same keys in the same rows, so the rows written per verification fall as
// the load grows (100,000 keys in rotation: one flush of 33,000 keys takes PostgreSQL 0.4-0.5 s).
// Retention: a sweep every minute, after the roll-up, deletes minute rows older than
// USAGE_RETENTION_DAYS (default 7) and hour rows older than 90 days, but never rows not yet rolled
// up; day rows are kept for good (one row per key, outcome and day).
// USAGE_COUNTING=off turns counting off (the benchmark's comparison run).
import { type JsonStatement, type Prisma, prismaJsonStatement } from "../../db/client.ts";
import type { Logger } from "../../logger.ts";
import type { Metrics } from "../../metrics.ts";
import { FLUSH_SQL, readMarks, rollUp } from "./rollup.ts";

/** The shortest time between flushes: how fresh usage is when the database keeps up. */
export const FLUSH_EVERY_MS = 5_000;
/** The longest: how stale usage can get however slow the database is. */
export const MAX_FLUSH_EVERY_MS = 60_000;
/** Flushing may take at most 1/FLUSH_DUTY_FACTOR of the time. */
const FLUSH_DUTY_FACTOR = 10;
const MINUTE_MS = 60_000;
/** Roll-up and retention sweep. */
const MAINTAIN_EVERY_MS = 60_000;
const DAY_MS = 24 * 3600_000;
/** Hour rows outlive minute rows; day rows are never swept. */
export const HOUR_RETENTION_DAYS = 90;

export interface UsageRecorderOptions {
  /** false: record() does nothing. */
  enabled?: boolean;
  /** Days minute rows are kept. */
  minuteRetentionDays?: number;
  metrics?: Metrics;
  /** How the flush's one statement runs (Database.executeJson); by default through Prisma. */
  executeJson?: JsonStatement;
}

/** The wait before the next flush, given how long the last one took. */
export function nextFlushDelay(lastFlushMs: number): number {
  return Math.min(MAX_FLUSH_EVERY_MS, Math.max(FLUSH_EVERY_MS, FLUSH_DUTY_FACTOR * lastFlushMs));
}

/**
 * One key's counts for one minute, by outcome. Pending counts are kept per key id (the cached
 * key's own string, whose hash V8 keeps) rather than under a string made per verification from
 * key, outcome and minute: that string was an allocation and a hash of 70 characters on every
 * request, and at 100,000 keys in rotation a map of as many fresh strings. The first outcome's
 * count is held inline, and a map is made only for a second outcome: nearly every key answers
 * one code in a minute, and a Map per key and flush window was, at 100,000 keys in rotation, the
 * largest allocation of a verification.
 */
interface KeyMinute {
  keyId: string;
  tenantId: string;
  minute: number;
  code: string;
  count: number;
  /** Counts of the other outcomes of this key and minute. */
  more?: Map<string, number>;
  /** The same key's counts for other minutes since the last flush (a minute turned meanwhile). */
  other?: KeyMinute;
}

interface Row {
  keyId: string;
  tenantId: string;
  code: string;
  minute: number;
  count: number;
}

export class UsageRecorder {
  private pending = new Map<string, KeyMinute>();
  private timer?: NodeJS.Timeout;
  private maintainTimer?: NodeJS.Timeout;
  /** The flush the timer started, if it is still running (stop() waits for it). */
  private running?: Promise<void>;
  private started = false;
  readonly enabled: boolean;
  readonly minuteRetentionDays: number;
  private readonly metrics?: Metrics;
  private readonly executeJson: JsonStatement;

  constructor(
    private readonly prisma: Prisma,
    private readonly logger: Logger,
    options: UsageRecorderOptions = {},
  ) {
    this.enabled = options.enabled ?? true;
    this.minuteRetentionDays = options.minuteRetentionDays ?? 7;
    this.metrics = options.metrics;
    this.executeJson = options.executeJson ?? prismaJsonStatement(prisma);
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.scheduleFlush(FLUSH_EVERY_MS);
    this.maintainTimer ??= setInterval(() => void this.maintainQuietly(), MAINTAIN_EVERY_MS);
    this.maintainTimer.unref();
  }

  async stop(): Promise<void> {
    this.started = false;
    clearTimeout(this.timer);
    if (this.maintainTimer) clearInterval(this.maintainTimer);
    this.timer = undefined;
    this.maintainTimer = undefined;
    await this.running;
    await this.flush();
  }

  /** A timer per flush rather than an interval: the next one is set by how long this one took. */
  private scheduleFlush(delayMs: number): void {
    this.metrics?.usageFlushInterval.set(delayMs / 1000);
    this.timer = setTimeout(() => {
      const began = performance.now();
      this.running = this.flush().finally(() => {
        this.running = undefined;
        if (this.started) this.scheduleFlush(nextFlushDelay(performance.now() - began));
      });
    }, delayMs);
    this.timer.unref();
  }

  /** Counts one verification of a known key. */
  record(keyId: string, tenantId: string, code: string, at = Date.now()): void {
    if (!this.enabled) return;
    this.add(keyId, tenantId, code, at - (at % MINUTE_MS), 1);
  }

  private add(keyId: string, tenantId: string, code: string, minute: number, count: number): void {
    const latest = this.pending.get(keyId);
    let entry = latest;
    while (entry !== undefined && entry.minute !== minute) entry = entry.other;
    if (entry === undefined) {
      this.pending.set(keyId, {
        keyId,
        tenantId,
        minute,
        code,
        count,
        more: undefined,
        other: latest,
      });
    } else if (entry.code === code) {
      entry.count += count;
    } else {
      entry.more ??= new Map();
      entry.more.set(code, (entry.more.get(code) ?? 0) + count);
    }
  }

  /** Every pending count as a row, and an empty pending set. */
  private take(): Row[] {
    const rows: Row[] = [];
    for (const latest of this.pending.values()) {
      for (let entry: KeyMinute | undefined = latest; entry; entry = entry.other) {
        const { keyId, tenantId, minute } = entry;
        rows.push({ keyId, tenantId, code: entry.code, minute, count: entry.count });
        if (entry.more)
          for (const [code, count] of entry.more)
            rows.push({ keyId, tenantId, code, minute, count });
      }
    }
    this.pending = new Map();
    return rows;
  }

  /** Writes what was counted since the last flush; on failure the counts are kept for the next one. */
  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.take();
    const endTimer = this.metrics?.usageFlushDuration.startTimer();
    try {
      await this.executeJson(
        // One JSON parameter, not five arrays: Prisma's driver adapter converts array parameters
        // element by element, which at 33,000 keys per flush cost a quarter to a third of a
        // second of the gateway's CPU, now a tenth (npx tsx bench/flush-cost.ts); JSON.stringify
        // is native.
        FLUSH_SQL,
        JSON.stringify(
          batch.map((p) => ({ k: p.keyId, t: p.tenantId, c: p.code, m: p.minute, n: p.count })),
        ),
      );
      endTimer?.({ outcome: "written" });
    } catch (error) {
      endTimer?.({ outcome: "failed" });
      // Put the counts back: a database blip must not lose usage.
      for (const p of batch) this.add(p.keyId, p.tenantId, p.code, p.minute, p.count);
      this.logger.warn(
        { err: error, rows: batch.length },
        "usage flush failed; counts kept for the next flush",
      );
    }
  }

  /**
   * Deletes minute and hour rows past their retention, never one that is not rolled up yet (after
   * a long outage the roll-up catches up first); returns how many rows went.
   */
  async sweep(now = Date.now()): Promise<number> {
    const marks = await readMarks(this.prisma);
    const before = (retentionDays: number, mark: Date | undefined) =>
      new Date(Math.min(now - retentionDays * DAY_MS, mark?.getTime() ?? Number.POSITIVE_INFINITY));
    const { count } = await this.prisma.keyUsage.deleteMany({
      where: {
        OR: [
          {
            granularity: "MINUTE",
            bucket: { lt: before(this.minuteRetentionDays, marks?.hoursTo) },
          },
          { granularity: "HOUR", bucket: { lt: before(HOUR_RETENTION_DAYS, marks?.daysTo) } },
        ],
      },
    });
    return count;
  }

  /** Rolls up the hours and days that are over, then sweeps. */
  async maintain(now = Date.now()): Promise<void> {
    await rollUp(this.prisma, now);
    const count = await this.sweep(now);
    if (count) this.logger.debug({ rows: count }, "usage rows past retention deleted");
  }

  private async maintainQuietly(): Promise<void> {
    try {
      await this.maintain();
    } catch (error) {
      this.logger.warn({ err: error }, "usage roll-up or sweep failed; the next one retries");
    }
  }
}
