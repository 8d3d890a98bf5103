// Hour and day usage rows are written once, when their hour or day is over, by summing the finer
// rows (a roll-up), not added to on every flush: with 100,000 keys in rotation the hour and day
// upserts were two thirds of each flush's rows. Until its roll-up, an hour or day is summed from
// the finer rows when read, in the same statement as the stored rows, so every answer is exact.
//
// The marks in UsageRollup (one row) say how far the roll-up has gone. They are what makes it exact
// with several instances: a flush holds the row FOR SHARE and reads the marks in its statement; the
// roll-up holds it FOR UPDATE, then sums the rows. A flush that reaches a minute already rolled up
// (kept back by a database outage, or in flight across an hour's end) therefore writes that
// minute's hour and day rows itself, and the roll-up never sees half of a flush.
import type { Prisma } from "../../db/client.ts";

export type Granularity = "MINUTE" | "HOUR" | "DAY";

export const UNIT_MS: Record<Granularity, number> = {
  MINUTE: 60_000,
  HOUR: 3600_000,
  DAY: 24 * 3600_000,
};
/** PostgreSQL's date_trunc unit of each granularity. */
const UNIT: Record<Granularity, string> = { MINUTE: "minute", HOUR: "hour", DAY: "day" };
/** At most this much is rolled up by one transaction; a roll-up that is behind catches up in steps. */
const MAX_STEP_MS = 24 * 3600_000;
const ROLLUP_TRANSACTION = { maxWait: 30_000, timeout: 300_000 };

export function floorTo(ms: number, granularity: Granularity): number {
  const unit = UNIT_MS[granularity];
  return ms - (((ms % unit) + unit) % unit);
}

export function ceilTo(ms: number, granularity: Granularity): number {
  const floor = floorTo(ms, granularity);
  return floor === ms ? ms : floor + UNIT_MS[granularity];
}

/** `bucket` (a timestamptz column or expression) truncated to the granularity, in UTC. */
function truncated(granularity: Granularity, bucket: string): string {
  return `date_trunc('${UNIT[granularity]}', ${bucket} AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'`;
}

/** The marks, read in the caller's statement; without the row, everything counts as rolled up. */
const MARKS = `SELECT coalesce(max("hoursTo"), 'infinity'::timestamptz) AS "hoursTo",
                      coalesce(max("daysTo"), 'infinity'::timestamptz) AS "daysTo"
               FROM "UsageRollup"`;

/**
 * The flush: minute rows for every count, plus hour and day rows for counts whose hour or day is
 * already rolled up. $1: the batch as JSON records {k: keyId, t: tenantId, c: code, m: minute in
 * epoch ms, n: count}.
 */
export const FLUSH_SQL = `
WITH marks AS (SELECT "hoursTo", "daysTo" FROM "UsageRollup" WHERE id = 1 FOR SHARE),
     u AS (SELECT u.k, u.t, u.c, to_timestamp(u.m / 1000.0) AS at, u.n
           FROM json_to_recordset($1::json) AS u(k uuid, t uuid, c text, m bigint, n int))
INSERT INTO "KeyUsage" ("keyId", "tenantId", "granularity", "bucket", "code", "count")
SELECT u.k, u.t, g.granularity::"UsageGranularity",
       date_trunc(g.unit, u.at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', u.c, sum(u.n)::int
FROM u
LEFT JOIN marks ON true
JOIN (VALUES ('MINUTE', 'minute'), ('HOUR', 'hour'), ('DAY', 'day')) AS g(granularity, unit)
  ON g.granularity = 'MINUTE'
  OR (g.granularity = 'HOUR' AND u.at < coalesce(marks."hoursTo", 'infinity'))
  OR (g.granularity = 'DAY' AND u.at < coalesce(marks."daysTo", 'infinity'))
GROUP BY 1, 2, 3, 4, 5
ON CONFLICT ("keyId", "granularity", "bucket", "code")
DO UPDATE SET "count" = "KeyUsage"."count" + EXCLUDED."count"`;

/** Adds the rows of `from` granularity in [start, end) into rows of the coarser `to` granularity. */
function sumInto(from: Granularity, to: Granularity): string {
  return `INSERT INTO "KeyUsage" ("keyId", "tenantId", "granularity", "bucket", "code", "count")
          SELECT "keyId", "tenantId", '${to}'::"UsageGranularity", ${truncated(to, '"bucket"')}, "code", sum("count")::int
          FROM "KeyUsage"
          WHERE "granularity" = '${from}' AND "bucket" >= $1::timestamptz AND "bucket" < $2::timestamptz
          GROUP BY 1, 2, 3, 4, 5
          ON CONFLICT ("keyId", "granularity", "bucket", "code")
          DO UPDATE SET "count" = "KeyUsage"."count" + EXCLUDED."count"`;
}
const HOURS_FROM_MINUTES = sumInto("MINUTE", "HOUR");
const DAYS_FROM_HOURS = sumInto("HOUR", "DAY");

export interface RollupMarks {
  hoursTo: Date;
  daysTo: Date;
}

export async function readMarks(prisma: Prisma): Promise<RollupMarks | undefined> {
  const rows = await prisma.$queryRawUnsafe<RollupMarks[]>(
    `SELECT "hoursTo", "daysTo" FROM "UsageRollup" WHERE id = 1`,
  );
  return rows[0];
}

/**
 * Rolls up every hour and day that is over (at `now`), at most a day per transaction; returns
 * the marks it left. Instances may run it at once: they take turns on the marks' row, and the
 * later one finds nothing left to do.
 */
export async function rollUp(prisma: Prisma, now = Date.now()): Promise<RollupMarks | undefined> {
  // Read first, without a lock: most minutes nothing is due, and taking the row FOR UPDATE writes
  // to the WAL (a row lock is logged) on every instance, every minute, for nothing.
  const seen = await readMarks(prisma);
  if (!seen || !rollUpDue(seen, now)) return seen;
  for (;;) {
    const step = await prisma.$transaction(async (tx) => {
      // Waits for flushes in flight (FOR SHARE); the statements below see what they wrote.
      const [marks] = await tx.$queryRawUnsafe<RollupMarks[]>(
        `SELECT "hoursTo", "daysTo" FROM "UsageRollup" WHERE id = 1 FOR UPDATE`,
      );
      if (!marks) return { marks, more: false };
      const hoursFrom = marks.hoursTo.getTime();
      const hoursTo = Math.max(
        hoursFrom,
        Math.min(floorTo(now, "HOUR"), floorTo(hoursFrom, "HOUR") + MAX_STEP_MS),
      );
      if (hoursTo > hoursFrom)
        await tx.$executeRawUnsafe(HOURS_FROM_MINUTES, new Date(hoursFrom), new Date(hoursTo));
      // A day is rolled up from its hours, so only once they all are.
      const daysFrom = marks.daysTo.getTime();
      const daysTo = Math.max(daysFrom, floorTo(hoursTo, "DAY"));
      if (daysTo > daysFrom)
        await tx.$executeRawUnsafe(DAYS_FROM_HOURS, new Date(daysFrom), new Date(daysTo));
      if (hoursTo === hoursFrom && daysTo === daysFrom) return { marks, more: false };
      const next = { hoursTo: new Date(hoursTo), daysTo: new Date(daysTo) };
      await tx.$executeRawUnsafe(
        `UPDATE "UsageRollup" SET "hoursTo" = $1::timestamptz, "daysTo" = $2::timestamptz WHERE id = 1`,
        next.hoursTo,
        next.daysTo,
      );
      return { marks: next, more: hoursTo < floorTo(now, "HOUR") };
      // Prisma's default of 5 s is too short for the hour of 100,000 keys on a loaded database,
      // behind a slow flush: the roll-up would roll back and retry every minute for good.
    }, ROLLUP_TRANSACTION);
    if (!step.more) return step.marks;
  }
}

/** Whether an hour or a day is over and not rolled up yet (what rollUp's transaction would do). */
function rollUpDue(marks: RollupMarks, now: number): boolean {
  const hoursFrom = marks.hoursTo.getTime();
  return floorTo(now, "HOUR") > hoursFrom || floorTo(hoursFrom, "DAY") > marks.daysTo.getTime();
}

/** A SQL parameter list that hands out `$n` placeholders. */
export class Params {
  readonly values: unknown[] = [];
  add(value: unknown, cast: string): string {
    this.values.push(value);
    return `$${this.values.length}::${cast}`;
  }
}

/**
 * A subquery of usage rows ("keyId", "code", "bucket", "count") at `granularity`, for buckets from
 * `from` (a bucket start) to before `to`, with `filter` (a condition on "tenantId" and "keyId")
 * applied to every source: the stored rows where rolled up, the finer rows summed where not. A
 * bucket may come from several sources; sum by bucket to read it.
 */
export function usageRows(
  granularity: Granularity,
  from: number,
  to: number,
  filter: string,
  params: Params,
): string {
  const start = params.add(new Date(floorTo(from, granularity)), "timestamptz");
  if (granularity === "MINUTE") {
    const end = params.add(new Date(to), "timestamptz");
    return `SELECT "keyId", "code", "bucket", "count" FROM "KeyUsage"
            WHERE "granularity" = 'MINUTE' AND "bucket" >= ${start} AND "bucket" < ${end} AND ${filter}`;
  }
  // A finer row belongs to the range when the bucket it sums into starts before `to`.
  const end = params.add(new Date(ceilTo(to, granularity)), "timestamptz");
  const source = (from: Granularity, lower: string, upper: string) =>
    `SELECT "keyId", "code", ${truncated(granularity, '"bucket"')} AS "bucket", "count"
     FROM "KeyUsage", marks
     WHERE "granularity" = '${from}' AND "bucket" >= ${start} AND "bucket" < ${end}
       AND "bucket" >= ${lower} AND "bucket" < ${upper} AND ${filter}`;
  const parts =
    granularity === "HOUR"
      ? [
          source("HOUR", "'-infinity'", 'marks."hoursTo"'),
          source("MINUTE", 'marks."hoursTo"', "'infinity'"),
        ]
      : [
          source("DAY", "'-infinity'", 'marks."daysTo"'),
          source("HOUR", 'marks."daysTo"', 'marks."hoursTo"'),
          source("MINUTE", 'greatest(marks."hoursTo", marks."daysTo")', "'infinity'"),
        ];
  return `WITH marks AS (${MARKS}) ${parts.join(" UNION ALL ")}`;
}
