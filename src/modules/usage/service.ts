// Reading usage: one key's series and a tenant's summary, inside the caller's key scope.
// Buckets are UTC starts; a range [from, to) covers every bucket that overlaps it, so `from`
// is rounded down to the bucket it falls in.
import { z } from "zod";
import { requireTenantActor, type Actor, type TenantActor } from "../../access/actor.ts";
import { requirePermission } from "../../access/permissions.ts";
import type { Deps } from "../../deps.ts";
import { AppError } from "../../errors.ts";
import { administersKeys, findKey, keyScope } from "../keys/service.ts";
import { parseInput } from "../validation.ts";
import { HOUR_RETENTION_DAYS } from "./recorder.ts";
import { type Granularity, Params, usageRows } from "./rollup.ts";

export type { Granularity };

const DAY_MS = 24 * 3600_000;
/** The widest range a series may ask for, by granularity: it bounds the rows one answer reads. */
export const MAX_RANGE_DAYS: Record<Granularity, number> = {
  MINUTE: 31,
  HOUR: 366,
  DAY: 5 * 366,
};
const TOP_KEYS = 10;

const granularityEnum = z.enum(["MINUTE", "HOUR", "DAY"]);

/** A [from, to) range no wider than `maxDays` allows; the error names the field at fault. */
function checkRange(
  v: { from: Date; to: Date; granularity?: Granularity },
  maxDays: number,
  ctx: z.RefinementCtx,
) {
  if (v.from.getTime() >= v.to.getTime())
    ctx.addIssue({ code: "custom", path: ["to"], message: "must be after from" });
  else if (v.to.getTime() - v.from.getTime() > maxDays * DAY_MS)
    ctx.addIssue({
      code: "custom",
      path: ["from"],
      message: `the range may span at most ${maxDays} days${v.granularity ? ` at ${v.granularity} granularity` : ""}`,
    });
}

const seriesInput = z
  .object({
    id: z.string(),
    from: z.date("must be a date"),
    to: z.date("must be a date"),
    granularity: granularityEnum,
  })
  .superRefine((v, ctx) => checkRange(v, MAX_RANGE_DAYS[v.granularity], ctx));
const summaryInput = z
  .object({ from: z.date("must be a date"), to: z.date("must be a date") })
  .superRefine((v, ctx) => checkRange(v, MAX_RANGE_DAYS.DAY, ctx));

export interface UsagePoint {
  bucket: Date;
  code: string;
  count: number;
}

export interface CodeCount {
  code: string;
  count: number;
}

function sortedTotals(totals: CodeCount[]): CodeCount[] {
  return totals.sort((a, b) => b.count - a.count || a.code.localeCompare(b.code));
}

/** One key's counts by bucket and outcome code. A foreign id answers like an unknown one. */
export async function keyUsage(
  deps: Deps,
  actor: Actor,
  raw: { id: string; from: Date; to: Date; granularity: Granularity },
) {
  const input = parseInput(seriesInput, raw);
  const key = await findKey(deps, actor, input.id, { select: { id: true, tenantId: true } });
  if (!key) throw new AppError("KEY_NOT_FOUND", "key not found");
  const params = new Params();
  const filter = `"keyId" = ${params.add(key.id, "uuid")} AND "tenantId" = ${params.add(key.tenantId, "uuid")}`;
  const rows = usageRows(
    input.granularity,
    input.from.getTime(),
    input.to.getTime(),
    filter,
    params,
  );
  const sums = await deps.prisma.$queryRawUnsafe<{ bucket: Date; code: string; count: bigint }[]>(
    `SELECT "bucket", "code", sum("count") AS "count" FROM (${rows}) AS r
     GROUP BY "bucket", "code" ORDER BY "bucket", "code"`,
    ...params.values,
  );
  const points: UsagePoint[] = sums.map((r) => ({
    bucket: r.bucket,
    code: r.code,
    count: Number(r.count),
  }));
  const byCode = new Map<string, number>();
  for (const p of points) byCode.set(p.code, (byCode.get(p.code) ?? 0) + p.count);
  return {
    keyId: key.id,
    granularity: input.granularity,
    from: input.from,
    to: input.to,
    points,
    totals: sortedTotals([...byCode].map(([code, count]) => ({ code, count }))),
  };
}

/**
 * The finest granularity still kept for the whole range (minutes only for a day or less):
 * the summary then counts exactly the buckets that overlap the range.
 */
function summaryGranularity(deps: Deps, from: Date, to: Date, now = Date.now()): Granularity {
  const span = to.getTime() - from.getTime();
  if (span <= DAY_MS && from.getTime() >= now - deps.usage.minuteRetentionDays * DAY_MS)
    return "MINUTE";
  if (from.getTime() >= now - HOUR_RETENTION_DAYS * DAY_MS) return "HOUR";
  return "DAY";
}

/** Outcome totals and the busiest keys: the tenant for administrators, their own keys for others. */
export async function usageSummary(deps: Deps, actor: Actor, raw: { from: Date; to: Date }) {
  const a: TenantActor = requireTenantActor(actor);
  requirePermission(a, "keys:read");
  const input = parseInput(summaryInput, raw);
  const granularity = summaryGranularity(deps, input.from, input.to);
  const params = new Params();
  let filter = `"tenantId" = ${params.add(a.tenantId, "uuid")}`;
  if (!administersKeys(a)) {
    // KeyUsage has no relation to ApiKey: the scope is the ids of the keys the caller may read.
    const own = await deps.prisma.apiKey.findMany({ where: keyScope(a), select: { id: true } });
    filter += ` AND "keyId" = ANY(${params.add(
      own.map((k) => k.id),
      "uuid[]",
    )})`;
  }
  const rows = usageRows(granularity, input.from.getTime(), input.to.getTime(), filter, params);
  const [byCode, byKey] = await Promise.all([
    deps.prisma.$queryRawUnsafe<{ code: string; count: bigint }[]>(
      `SELECT "code", sum("count") AS "count" FROM (${rows}) AS r GROUP BY "code"`,
      ...params.values,
    ),
    deps.prisma.$queryRawUnsafe<{ keyId: string; total: bigint; valid: bigint | null }[]>(
      `SELECT "keyId"::text AS "keyId", sum("count") AS "total",
              sum("count") FILTER (WHERE "code" = 'VALID') AS "valid"
       FROM (${rows}) AS r GROUP BY "keyId" ORDER BY "total" DESC, "keyId" ASC LIMIT ${TOP_KEYS}`,
      ...params.values,
    ),
  ]);
  const ids = byKey.map((k) => k.keyId);
  const keys = await deps.prisma.apiKey.findMany({
    where: { AND: [keyScope(a), { id: { in: ids } }] },
    select: { id: true, name: true },
  });
  const nameOf = new Map(keys.map((k) => [k.id, k.name]));
  const totals = sortedTotals(byCode.map((r) => ({ code: r.code, count: Number(r.count) })));
  return {
    from: input.from,
    to: input.to,
    granularity,
    total: totals.reduce((sum, t) => sum + t.count, 0),
    totals,
    topKeys: byKey.map((k) => ({
      keyId: k.keyId,
      name: nameOf.get(k.keyId) ?? null,
      total: Number(k.total),
      valid: Number(k.valid ?? 0),
    })),
  };
}
