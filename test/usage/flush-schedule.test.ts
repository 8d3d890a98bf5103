// When usage flushes run: every 5 s while the database keeps up, less often while it is slow (the
// wait is ten times the last flush, at most a minute), and stop() waits for a flush in flight.
// The database is a stand-in whose writes take a set time on vitest's fake clock.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Prisma } from "../../src/db/client.ts";
import { createLogger } from "../../src/logger.ts";
import { Metrics } from "../../src/metrics.ts";
import {
  FLUSH_EVERY_MS,
  MAX_FLUSH_EVERY_MS,
  nextFlushDelay,
  UsageRecorder,
} from "../../src/modules/usage/recorder.ts";

const KEY = "00000000-0000-4000-8000-000000000001";
const TENANT = "00000000-0000-4000-8000-000000000002";

/** A database whose every write takes `writeMs` and records the counts it was given. */
function slowDatabase() {
  const db = {
    writeMs: 0,
    writes: [] as { at: number; rows: { n: number }[] }[],
    $executeRawUnsafe: async (_sql: string, json: string) => {
      if (db.writeMs) await new Promise((resolve) => setTimeout(resolve, db.writeMs));
      db.writes.push({ at: Date.now(), rows: JSON.parse(json) });
      return 1;
    },
  };
  return db;
}

describe("nextFlushDelay", () => {
  it("is 5 s for fast flushes, ten times a slow one, and never above a minute", () => {
    expect(nextFlushDelay(0)).toBe(FLUSH_EVERY_MS);
    expect(nextFlushDelay(400)).toBe(FLUSH_EVERY_MS);
    expect(nextFlushDelay(1_200)).toBe(12_000);
    expect(nextFlushDelay(30_000)).toBe(MAX_FLUSH_EVERY_MS);
  });
});

describe("the flush timer", () => {
  beforeEach(() => {
    vi.useFakeTimers({
      toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "Date", "performance"],
    });
  });
  afterEach(() => vi.useRealTimers());

  it("waits ten times as long after a slow flush, and 5 s again once flushes are fast", async () => {
    const db = slowDatabase();
    const metrics = new Metrics();
    const usage = new UsageRecorder(db as unknown as Prisma, createLogger({ level: "silent" }), {
      metrics,
    });
    const t0 = Date.now();
    usage.record(KEY, TENANT, "VALID");
    db.writeMs = 2_000;
    usage.start();
    await vi.advanceTimersByTimeAsync(FLUSH_EVERY_MS + 2_000);
    expect(db.writes.map((w) => w.at - t0)).toEqual([7_000]);

    // The next flush is 20 s after that slow one ended, not 5 s.
    usage.record(KEY, TENANT, "VALID");
    db.writeMs = 0;
    await vi.advanceTimersByTimeAsync(20_000 - 1);
    expect(db.writes).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(db.writes.map((w) => w.at - t0)).toEqual([7_000, 27_000]);
    expect((await metrics.usageFlushInterval.get()).values[0]?.value).toBe(5);

    // That one was fast: back to every 5 s.
    usage.record(KEY, TENANT, "VALID");
    await vi.advanceTimersByTimeAsync(FLUSH_EVERY_MS);
    expect(db.writes.map((w) => w.at - t0)).toEqual([7_000, 27_000, 32_000]);
    await usage.stop();
  });

  it("stop() waits for the flush in flight, then writes what came after it", async () => {
    const db = slowDatabase();
    const usage = new UsageRecorder(db as unknown as Prisma, createLogger({ level: "silent" }));
    usage.record(KEY, TENANT, "VALID");
    db.writeMs = 3_000;
    usage.start();
    await vi.advanceTimersByTimeAsync(FLUSH_EVERY_MS + 1_000); // the flush is writing
    usage.record(KEY, TENANT, "RATE_LIMITED");
    let stopped = false;
    const stopping = usage.stop().then(() => {
      stopped = true;
    });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(stopped).toBe(false);
    await vi.advanceTimersByTimeAsync(5_000);
    await stopping;
    expect(db.writes.map((w) => w.rows.map((r) => r.n))).toEqual([[1], [1]]);
    // Stopped: no timer writes anything more.
    usage.record(KEY, TENANT, "VALID");
    await vi.advanceTimersByTimeAsync(MAX_FLUSH_EVERY_MS * 2);
    expect(db.writes).toHaveLength(2);
  });
});
