// Hour and day usage rows are rolled up from finer rows once their hour or day is over; until then
// reads sum the finer rows. Whatever the marks, flushes and roll-ups, a series and a summary read
// the same counts, and no count is written twice or lost.
import pg from "pg";
import { describe, expect, it } from "vitest";
import { FLUSH_SQL, rollUp } from "../../src/modules/usage/rollup.ts";
import { serverUrl } from "../helpers/databases.ts";
import { generateKeyFor, gql } from "../helpers/harness.ts";
import { useHarness, withTenant } from "../helpers/fixtures.ts";

const h = useHarness();
const acme = withTenant(h, "Acme");

const HOUR = 3600_000;
const DAY = 24 * HOUR;
const at = (ms: number) => new Date(ms).toISOString();

const seriesQuery = `query($id: ID!, $from: DateTime!, $to: DateTime!, $g: UsageGranularity!) {
  keyUsage(id: $id, from: $from, to: $to, granularity: $g) { points { bucket code count } totals { code count } }
}`;

async function setMarks(hoursTo: number, daysTo: number) {
  await h.deps.prisma.usageRollup.update({
    where: { id: 1 },
    data: { hoursTo: new Date(hoursTo), daysTo: new Date(daysTo) },
  });
}

async function marks() {
  const row = await h.deps.prisma.usageRollup.findUniqueOrThrow({ where: { id: 1 } });
  return { hoursTo: row.hoursTo.toISOString(), daysTo: row.daysTo.toISOString() };
}

async function series(keyId: string, g: string, from: number, to: number) {
  const result = await gql(
    h,
    seriesQuery,
    { id: keyId, from: at(from), to: at(to), g },
    acme.token,
  );
  expect(result.errors).toBeUndefined();
  return result.data!.keyUsage as {
    points: { bucket: string; code: string; count: number }[];
    totals: { code: string; count: number }[];
  };
}

async function storedRows(keyId: string) {
  const rows = await h.deps.prisma.keyUsage.findMany({
    where: { keyId },
    select: { granularity: true, bucket: true, code: true, count: true },
    orderBy: [{ granularity: "asc" }, { bucket: "asc" }, { code: "asc" }],
  });
  return rows.map((r) => `${r.granularity} ${r.bucket.toISOString()} ${r.code} ${r.count}`);
}

describe("usage roll-up", () => {
  it("reads the same before and after the roll-up, which writes each hour and day row once", async () => {
    const { apiKey } = await generateKeyFor(h, acme.token, { name: "rolled" });
    const day0 = Date.UTC(2026, 1, 3);
    await setMarks(day0, day0);
    // Two days, three hours, two codes.
    const record = (ms: number, code = "VALID") =>
      h.deps.usage.record(apiKey.id, acme.tenant.id, code, ms);
    record(day0 + 10 * HOUR + 5_000);
    record(day0 + 10 * HOUR + 65_000);
    record(day0 + 10 * HOUR + 65_000, "RATE_LIMITED");
    record(day0 + 11 * HOUR + 1);
    record(day0 + DAY + 2 * HOUR);
    await h.deps.usage.flush();
    // Nothing is rolled up yet: only minute rows are stored.
    expect((await storedRows(apiKey.id)).every((r) => r.startsWith("MINUTE "))).toBe(true);

    const reads = async () => ({
      minute: await series(apiKey.id, "MINUTE", day0, day0 + 2 * DAY),
      hour: await series(apiKey.id, "HOUR", day0, day0 + 2 * DAY),
      // `to` inside an hour and inside a day: the bucket it falls in is counted whole.
      hourCut: await series(
        apiKey.id,
        "HOUR",
        day0 + 10 * HOUR + 30 * 60_000,
        day0 + 11 * HOUR + 1,
      ),
      day: await series(apiKey.id, "DAY", day0, day0 + DAY + 1),
    });
    const before = await reads();
    expect(before.hour.points).toEqual([
      { bucket: at(day0 + 10 * HOUR), code: "RATE_LIMITED", count: 1 },
      { bucket: at(day0 + 10 * HOUR), code: "VALID", count: 2 },
      { bucket: at(day0 + 11 * HOUR), code: "VALID", count: 1 },
      { bucket: at(day0 + DAY + 2 * HOUR), code: "VALID", count: 1 },
    ]);
    expect(before.hourCut.points).toEqual(before.hour.points.slice(0, 3));
    expect(before.day.points).toEqual([
      { bucket: at(day0), code: "RATE_LIMITED", count: 1 },
      { bucket: at(day0), code: "VALID", count: 3 },
      { bucket: at(day0 + DAY), code: "VALID", count: 1 },
    ]);
    expect(before.day.totals).toEqual([
      { code: "VALID", count: 4 },
      { code: "RATE_LIMITED", count: 1 },
    ]);

    // Half way: the first day's hours and the day itself, and the next day's first hour.
    expect(await rollUp(h.deps.prisma, day0 + DAY + HOUR + 30 * 60_000)).toBeDefined();
    expect(await marks()).toEqual({ hoursTo: at(day0 + DAY + HOUR), daysTo: at(day0 + DAY) });
    expect(await reads()).toEqual(before);
    // Three days on: everything, in steps of at most a day.
    await rollUp(h.deps.prisma, day0 + 3 * DAY + 5 * 60_000);
    expect(await marks()).toEqual({ hoursTo: at(day0 + 3 * DAY), daysTo: at(day0 + 3 * DAY) });
    expect(await reads()).toEqual(before);
    const stored = await storedRows(apiKey.id);
    expect(stored.filter((r) => !r.startsWith("MINUTE "))).toEqual([
      `HOUR ${at(day0 + 10 * HOUR)} RATE_LIMITED 1`,
      `HOUR ${at(day0 + 10 * HOUR)} VALID 2`,
      `HOUR ${at(day0 + 11 * HOUR)} VALID 1`,
      `HOUR ${at(day0 + DAY + 2 * HOUR)} VALID 1`,
      `DAY ${at(day0)} RATE_LIMITED 1`,
      `DAY ${at(day0)} VALID 3`,
      `DAY ${at(day0 + DAY)} VALID 1`,
    ]);
    // A roll-up with nothing left to do changes nothing.
    await rollUp(h.deps.prisma, day0 + 3 * DAY + 5 * 60_000);
    expect(await storedRows(apiKey.id)).toEqual(stored);
  });

  it("takes no lock (no transaction) when no hour or day is due", async () => {
    const now = Date.now();
    await rollUp(h.deps.prisma, now); // whatever was due is done
    const prisma = h.deps.prisma as unknown as Record<string, unknown>;
    const transaction = prisma.$transaction;
    let transactions = 0;
    prisma.$transaction = (...args: unknown[]) => {
      transactions++;
      return (transaction as (...a: unknown[]) => unknown).apply(h.deps.prisma, args);
    };
    try {
      const marks = await rollUp(h.deps.prisma, now);
      expect(marks?.hoursTo.getTime()).toBe(now - (now % 3_600_000));
      expect(transactions).toBe(0);
      // An hour later the hour is due: the locked transaction runs.
      await rollUp(h.deps.prisma, now + 3_600_000);
      expect(transactions).toBeGreaterThan(0);
    } finally {
      prisma.$transaction = transaction;
    }
  });

  it("a flush that arrives after its minute was rolled up writes the hour and day rows itself", async () => {
    const { apiKey } = await generateKeyFor(h, acme.token, { name: "late" });
    const day0 = Date.UTC(2026, 1, 10);
    await setMarks(day0, day0);
    h.deps.usage.record(apiKey.id, acme.tenant.id, "VALID", day0 + 3 * HOUR);
    await h.deps.usage.flush();
    await rollUp(h.deps.prisma, day0 + DAY + 1);
    // Counted at 03:00, flushed only now (held back by an outage, say).
    h.deps.usage.record(apiKey.id, acme.tenant.id, "VALID", day0 + 3 * HOUR + 30_000);
    await h.deps.usage.flush();
    await rollUp(h.deps.prisma, day0 + 2 * DAY + 1);
    for (const g of ["MINUTE", "HOUR", "DAY"])
      expect((await series(apiKey.id, g, day0, day0 + DAY)).totals).toEqual([
        { code: "VALID", count: 2 },
      ]);
    expect(await storedRows(apiKey.id)).toEqual([
      `MINUTE ${at(day0 + 3 * HOUR)} VALID 2`,
      `HOUR ${at(day0 + 3 * HOUR)} VALID 2`,
      `DAY ${at(day0)} VALID 2`,
    ]);
  });

  it("the summary sums rolled-up and not yet rolled-up rows alike", async () => {
    const { apiKey } = await generateKeyFor(h, acme.token, { name: "summed" });
    const day0 = Date.UTC(2026, 1, 20);
    await setMarks(day0, day0);
    h.deps.usage.record(apiKey.id, acme.tenant.id, "VALID", day0 + HOUR);
    h.deps.usage.record(apiKey.id, acme.tenant.id, "EXPIRED", day0 + 5 * HOUR);
    await h.deps.usage.flush();
    await rollUp(h.deps.prisma, day0 + 3 * HOUR);
    h.deps.usage.record(apiKey.id, acme.tenant.id, "VALID", day0 + 6 * HOUR);
    await h.deps.usage.flush();
    // Summary over two days reads hours (the range is within hour retention only if recent, so
    // the summary may choose DAY): either way the same totals.
    const result = await gql(
      h,
      `query($from: DateTime!, $to: DateTime!) { usageSummary(from: $from, to: $to) {
        total totals { code count } topKeys { keyId total valid } } }`,
      { from: at(day0), to: at(day0 + 2 * DAY) },
      acme.token,
    );
    expect(result.errors).toBeUndefined();
    const summary = result.data!.usageSummary;
    const mine = summary.topKeys.find((k: { keyId: string }) => k.keyId === apiKey.id);
    expect(mine).toEqual({ keyId: apiKey.id, total: 3, valid: 2 });
  });

  it("the sweep keeps minute and hour rows past retention until they are rolled up", async () => {
    const { apiKey } = await generateKeyFor(h, acme.token, { name: "swept" });
    const now = Date.now();
    const old = now - 100 * DAY;
    const oldDay = old - (old % DAY);
    await setMarks(oldDay, oldDay);
    h.deps.usage.record(apiKey.id, acme.tenant.id, "VALID", oldDay + HOUR);
    await h.deps.usage.flush();
    await h.deps.usage.sweep(now);
    expect(await storedRows(apiKey.id)).toEqual([`MINUTE ${at(oldDay + HOUR)} VALID 1`]);
    // The roll-up catches up and the sweep then deletes the minute and the hour (past 90 days).
    await h.deps.usage.maintain(now);
    expect(await storedRows(apiKey.id)).toEqual([`DAY ${at(oldDay)} VALID 1`]);
    expect((await series(apiKey.id, "DAY", oldDay, oldDay + DAY)).totals).toEqual([
      { code: "VALID", count: 1 },
    ]);
  });

  it("flushes and roll-ups at the same time neither lose nor double a count", async () => {
    const { apiKey } = await generateKeyFor(h, acme.token, { name: "raced" });
    const day0 = Date.UTC(2026, 2, 1);
    await setMarks(day0, day0);
    let recorded = 0;
    for (let round = 0; round < 12; round++) {
      // Counts in hours that this round's roll-up is closing and in hours after it.
      for (let i = 0; i < 40; i++) {
        h.deps.usage.record(apiKey.id, acme.tenant.id, "VALID", day0 + round * HOUR + i * 90_000);
        recorded++;
      }
      await Promise.all([
        h.deps.usage.flush(),
        rollUp(h.deps.prisma, day0 + round * HOUR + 30 * 60_000),
      ]);
    }
    await rollUp(h.deps.prisma, day0 + 2 * DAY);
    for (const g of ["MINUTE", "HOUR", "DAY"])
      expect((await series(apiKey.id, g, day0, day0 + DAY)).totals).toEqual([
        { code: "VALID", count: recorded },
      ]);
    const sums = await h.deps.prisma.keyUsage.groupBy({
      by: ["granularity"],
      where: { keyId: apiKey.id },
      _sum: { count: true },
    });
    expect(Object.fromEntries(sums.map((s) => [s.granularity, s._sum.count]))).toEqual({
      MINUTE: recorded,
      HOUR: recorded,
      DAY: recorded,
    });
  });

  // PostgreSQL only (the embedded database has one connection, so nothing runs alongside a flush):
  // a flush held open in its transaction, and a roll-up of the hour it writes to started meanwhile.
  it.runIf(process.env.DATABASE_URL)(
    "a roll-up waits for a flush in flight and counts what it wrote",
    async () => {
      const { apiKey } = await generateKeyFor(h, acme.token, { name: "in flight" });
      const day0 = Date.UTC(2026, 2, 5);
      await setMarks(day0, day0);
      const rows = await h.deps.prisma.$queryRawUnsafe<{ name: string }[]>(
        "SELECT current_database() AS name",
      );
      const url = serverUrl(process.env.DATABASE_URL!, rows[0]!.name);
      const other = new pg.Client({ connectionString: url });
      await other.connect();
      try {
        await other.query("BEGIN");
        await other.query(FLUSH_SQL, [
          JSON.stringify([{ k: apiKey.id, t: acme.tenant.id, c: "VALID", m: day0 + HOUR, n: 7 }]),
        ]);
        let rolled = false;
        const rolling = rollUp(h.deps.prisma, day0 + 3 * HOUR).then(() => {
          rolled = true;
        });
        // The roll-up is blocked on the marks' row, not finished.
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect(rolled).toBe(false);
        await other.query("COMMIT");
        await rolling;
      } finally {
        await other.end();
      }
      expect(await storedRows(apiKey.id)).toEqual([
        `MINUTE ${at(day0 + HOUR)} VALID 7`,
        `HOUR ${at(day0 + HOUR)} VALID 7`,
      ]);
    },
  );
});
