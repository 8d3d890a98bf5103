import { describe, expect, it } from "vitest";
import { generateKeyFor, gql, seedUser, verifyMutation } from "../helpers/harness.ts";
import { useHarness, withTenant } from "../helpers/fixtures.ts";

const h = useHarness();
const acme = withTenant(h, "Acme");
const globex = withTenant(h, "Globex");

const seriesQuery = `query($id: ID!, $from: DateTime!, $to: DateTime!, $g: UsageGranularity!) {
  keyUsage(id: $id, from: $from, to: $to, granularity: $g) {
    keyId granularity points { bucket code count } totals { code count }
  }
}`;
const summaryQuery = `query($from: DateTime!, $to: DateTime!) {
  usageSummary(from: $from, to: $to) {
    granularity total totals { code count } topKeys { keyId name total valid }
  }
}`;

async function verify(key: string, permissions: string[]) {
  const result = await gql(h, verifyMutation, { key, permissions });
  return result.data!.verifyKey.code as string;
}

const hourAgo = () => new Date(Date.now() - 3600_000).toISOString();
const inAMinute = () => new Date(Date.now() + 60_000).toISOString();

function byCode(totals: { code: string; count: number }[]) {
  return Object.fromEntries(totals.map((t) => [t.code, t.count]));
}

describe("usage counts", () => {
  let keyId = "";
  const done: Record<string, number> = {};

  it("the series at each granularity and the summary equal what was verified, by code", async () => {
    const { key, apiKey } = await generateKeyFor(h, acme.token, {
      name: "busy key",
      permissions: ["transactions:read"],
      rateLimit: { perMinute: 4 },
    });
    keyId = apiKey.id;
    const plan = [
      ["transactions:read"],
      ["transactions:read"],
      ["transactions:write"],
      ["transactions:read"],
      ["transactions:read"],
      ["transactions:write"],
      ["transactions:read"],
    ];
    for (const permissions of plan) {
      const code = await verify(key, permissions);
      done[code] = (done[code] ?? 0) + 1;
    }
    // The limit (4 a minute) makes the last calls RATE_LIMITED: three outcomes in all.
    expect(Object.keys(done).sort()).toEqual(["INSUFFICIENT_PERMISSIONS", "RATE_LIMITED", "VALID"]);
    await h.deps.usage.flush();

    for (const g of ["MINUTE", "HOUR", "DAY"]) {
      const from = g === "DAY" ? new Date(Date.now() - 2 * 86400_000).toISOString() : hourAgo();
      const result = await gql(h, seriesQuery, { id: keyId, from, to: inAMinute(), g }, acme.token);
      expect(result.errors).toBeUndefined();
      const series = result.data!.keyUsage;
      expect(series.granularity).toBe(g);
      expect(byCode(series.totals)).toEqual(done);
      const summed: Record<string, number> = {};
      for (const p of series.points) summed[p.code] = (summed[p.code] ?? 0) + p.count;
      expect(summed).toEqual(done);
    }

    const summary = await gql(h, summaryQuery, { from: hourAgo(), to: inAMinute() }, acme.token);
    expect(summary.errors).toBeUndefined();
    expect(byCode(summary.data!.usageSummary.totals)).toEqual(done);
    expect(summary.data!.usageSummary.total).toBe(plan.length);
    expect(summary.data!.usageSummary.topKeys).toEqual([
      { keyId, name: "busy key", total: plan.length, valid: done.VALID },
    ]);
  });

  it("counts recorded at other times land in their own buckets", async () => {
    const { apiKey } = await generateKeyFor(h, acme.token, { name: "timed" });
    const base = Date.UTC(2026, 0, 10, 12, 0, 0);
    h.deps.usage.record(apiKey.id, acme.tenant.id, "VALID", base + 5_000);
    h.deps.usage.record(apiKey.id, acme.tenant.id, "VALID", base + 65_000);
    h.deps.usage.record(apiKey.id, acme.tenant.id, "EXPIRED", base + 3600_000 + 1);
    h.deps.usage.record(apiKey.id, acme.tenant.id, "VALID", base + 86400_000);
    await h.deps.usage.flush();
    const series = async (g: string) => {
      const result = await gql(
        h,
        seriesQuery,
        {
          id: apiKey.id,
          from: new Date(base + 30_000).toISOString(),
          to: new Date(base + 2 * 86400_000).toISOString(),
          g,
        },
        acme.token,
      );
      expect(result.errors).toBeUndefined();
      return result.data!.keyUsage.points;
    };
    const at = (ms: number) => new Date(ms).toISOString();
    expect(await series("MINUTE")).toEqual([
      { bucket: at(base), code: "VALID", count: 1 },
      { bucket: at(base + 60_000), code: "VALID", count: 1 },
      { bucket: at(base + 3600_000), code: "EXPIRED", count: 1 },
      { bucket: at(base + 86400_000), code: "VALID", count: 1 },
    ]);
    expect(await series("HOUR")).toEqual([
      { bucket: at(base), code: "VALID", count: 2 },
      { bucket: at(base + 3600_000), code: "EXPIRED", count: 1 },
      { bucket: at(base + 86400_000), code: "VALID", count: 1 },
    ]);
    expect(await series("DAY")).toEqual([
      { bucket: at(base - 12 * 3600_000), code: "EXPIRED", count: 1 },
      { bucket: at(base - 12 * 3600_000), code: "VALID", count: 2 },
      { bucket: at(base + 12 * 3600_000), code: "VALID", count: 1 },
    ]);
  });

  it("counts of minutes recorded out of order, and of a failed flush, are written exactly once", async () => {
    const { apiKey } = await generateKeyFor(h, acme.token, { name: "back-and-forth" });
    const base = Date.UTC(2026, 0, 11, 9, 0, 0);
    const record = (code: string, ms: number) =>
      h.deps.usage.record(apiKey.id, acme.tenant.id, code, base + ms);
    record("VALID", 1_000);
    record("VALID", 61_000);
    record("EXPIRED", 2_000); // the first minute again, after the second began
    record("VALID", 3_000);
    // A flush that fails keeps its counts; they join what is recorded meanwhile.
    const recorder = h.deps.usage as unknown as { executeJson: unknown };
    const execute = recorder.executeJson;
    let failed = 0;
    recorder.executeJson = () => {
      failed++;
      return Promise.reject(new Error("connection lost"));
    };
    try {
      await h.deps.usage.flush();
    } finally {
      recorder.executeJson = execute;
    }
    expect(failed).toBe(1);
    record("VALID", 62_000);
    record("RATE_LIMITED", 4_000);
    record("EXPIRED", 5_000); // a second outcome of the minute, counted again
    await h.deps.usage.flush();
    await h.deps.usage.flush(); // nothing left: writes nothing twice
    const rows = await h.deps.prisma.keyUsage.findMany({
      where: { keyId: apiKey.id, granularity: "MINUTE" },
      orderBy: [{ bucket: "asc" }, { code: "asc" }],
    });
    expect(rows.map((r) => [r.bucket.getTime() - base, r.code, r.count])).toEqual([
      [0, "EXPIRED", 2],
      [0, "RATE_LIMITED", 1],
      [0, "VALID", 2],
      [60_000, "VALID", 2],
    ]);
  });

  it("ranges are checked and the error names the field", async () => {
    const now = Date.now();
    const cases = [
      [{ from: new Date(now).toISOString(), to: new Date(now - 1).toISOString(), g: "HOUR" }, "to"],
      [
        {
          from: new Date(now - 32 * 86400_000).toISOString(),
          to: new Date(now).toISOString(),
          g: "MINUTE",
        },
        "from",
      ],
      [
        {
          from: new Date(now - 400 * 86400_000).toISOString(),
          to: new Date(now).toISOString(),
          g: "HOUR",
        },
        "from",
      ],
    ] as const;
    for (const [vars, field] of cases) {
      const result = await gql(h, seriesQuery, { id: keyId, ...vars }, acme.token);
      expect(result.errors?.[0]?.extensions?.code).toBe("VALIDATION_FAILED");
      expect(result.errors?.[0]?.extensions?.fields?.[0]?.field).toBe(field);
    }
    const wide = await gql(
      h,
      summaryQuery,
      { from: new Date(now - 6 * 366 * 86400_000).toISOString(), to: new Date(now).toISOString() },
      acme.token,
    );
    expect(wide.errors?.[0]?.extensions?.code).toBe("VALIDATION_FAILED");
  });

  it("another tenant's key answers like an unknown one; its summary sees none of it", async () => {
    const foreign = await gql(
      h,
      seriesQuery,
      { id: keyId, from: hourAgo(), to: inAMinute(), g: "MINUTE" },
      globex.token,
    );
    const unknown = await gql(
      h,
      seriesQuery,
      { id: "00000000-0000-4000-8000-000000000000", from: hourAgo(), to: inAMinute(), g: "MINUTE" },
      globex.token,
    );
    expect(foreign.errors?.[0]?.extensions?.code).toBe("KEY_NOT_FOUND");
    expect(foreign.errors?.[0]?.message).toBe(unknown.errors?.[0]?.message);
    const summary = await gql(h, summaryQuery, { from: hourAgo(), to: inAMinute() }, globex.token);
    expect(summary.data!.usageSummary).toMatchObject({ total: 0, totals: [], topKeys: [] });
    const anonymous = await gql(h, summaryQuery, { from: hourAgo(), to: inAMinute() });
    expect(anonymous.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });

  it("a member sees only its own keys, in the series and the summary", async () => {
    const member = await seedUser(h.deps, acme.tenant.id, "MEMBER", [
      "keys:read",
      "keys:write",
      "transactions:read",
    ]);
    const { key, apiKey } = await generateKeyFor(h, member.token, {
      name: "member key",
      permissions: ["transactions:read"],
    });
    expect(await verify(key, ["transactions:read"])).toBe("VALID");
    await h.deps.usage.flush();
    const own = await gql(
      h,
      seriesQuery,
      { id: apiKey.id, from: hourAgo(), to: inAMinute(), g: "MINUTE" },
      member.token,
    );
    expect(byCode(own.data!.keyUsage.totals)).toEqual({ VALID: 1 });
    const admins = await gql(
      h,
      seriesQuery,
      { id: keyId, from: hourAgo(), to: inAMinute(), g: "MINUTE" },
      member.token,
    );
    expect(admins.errors?.[0]?.extensions?.code).toBe("KEY_NOT_FOUND");
    const summary = await gql(h, summaryQuery, { from: hourAgo(), to: inAMinute() }, member.token);
    expect(summary.data!.usageSummary).toMatchObject({
      total: 1,
      totals: [{ code: "VALID", count: 1 }],
      topKeys: [{ keyId: apiKey.id, name: "member key", total: 1, valid: 1 }],
    });
    const owner = await gql(h, summaryQuery, { from: hourAgo(), to: inAMinute() }, acme.token);
    expect(owner.data!.usageSummary.topKeys.map((k: { keyId: string }) => k.keyId)).toEqual([
      keyId,
      apiKey.id,
    ]);
  });

  it("the sweep deletes minute rows past retention and hour rows past 90 days, never days", async () => {
    const { apiKey } = await generateKeyFor(h, acme.token, { name: "old" });
    const old = Date.now() - 100 * 86400_000;
    h.deps.usage.record(apiKey.id, acme.tenant.id, "VALID", old);
    await h.deps.usage.flush();
    const rows = () =>
      h.deps.prisma.keyUsage.findMany({
        where: { keyId: apiKey.id },
        select: { granularity: true },
      });
    expect((await rows()).map((r) => r.granularity).sort()).toEqual(["DAY", "HOUR", "MINUTE"]);
    expect(await h.deps.usage.sweep()).toBeGreaterThanOrEqual(2);
    expect((await rows()).map((r) => r.granularity)).toEqual(["DAY"]);
  });

  it("one flush writes every pending key's rows and last-used time (1,200 keys, one JSON parameter each)", async () => {
    const n = 1200;
    const ids = Array.from({ length: n }, () => crypto.randomUUID());
    await h.deps.prisma.apiKey.createMany({
      data: ids.map((id, i) => ({
        id,
        tenantId: acme.tenant.id,
        name: `bulk ${i}`,
        hash: `bulk-hash-${id}`,
        start: "kg_bulk",
        end: "0000",
        jti: `bulk-jti-${id}`,
      })),
    });
    const minute = Date.UTC(2026, 0, 15, 10, 42);
    for (const id of ids) {
      h.deps.usage.record(id, acme.tenant.id, "VALID", minute + 5_000);
      h.deps.usage.record(id, acme.tenant.id, "VALID", minute + 50_000);
      h.deps.usage.record(id, acme.tenant.id, "EXPIRED", minute + 59_999);
    }
    await h.deps.usage.flush();
    const rows = await h.deps.prisma.keyUsage.findMany({ where: { keyId: { in: ids } } });
    // Each key: VALID and EXPIRED, at minute, hour and day.
    expect(rows).toHaveLength(n * 2 * 3);
    const buckets: Record<string, string> = {
      MINUTE: "2026-01-15T10:42:00.000Z",
      HOUR: "2026-01-15T10:00:00.000Z",
      DAY: "2026-01-15T00:00:00.000Z",
    };
    for (const row of rows) {
      expect(row.bucket.toISOString()).toBe(buckets[row.granularity]);
      expect(row.tenantId).toBe(acme.tenant.id);
      expect(row.count).toBe(row.code === "VALID" ? 2 : 1);
    }

    const before = Date.now();
    for (const id of ids) h.deps.keys.touch({ id, lastUsedQueuedAt: 0 });
    await h.deps.keys.flush();
    const used = await h.deps.prisma.apiKey.findMany({
      where: { id: { in: ids } },
      select: { lastUsedAt: true },
    });
    expect(used).toHaveLength(n);
    for (const { lastUsedAt } of used) {
      expect(lastUsedAt?.getTime()).toBeGreaterThanOrEqual(before);
      expect(lastUsedAt?.getTime()).toBeLessThanOrEqual(Date.now());
    }
  });

  it("the usage and key tables keep room on each page, so the flushes' updates are HOT", async () => {
    // Set by migrations only (Prisma's schema cannot state it): the migrated database must have it.
    const rows = await h.deps.prisma.$queryRawUnsafe<{ relname: string; reloptions: string[] }[]>(
      `SELECT relname, reloptions FROM pg_class
       WHERE relname IN ('KeyUsage', 'ApiKey') AND relkind = 'r' ORDER BY relname`,
    );
    expect(rows).toEqual([
      { relname: "ApiKey", reloptions: ["fillfactor=70"] },
      { relname: "KeyUsage", reloptions: ["fillfactor=50"] },
    ]);
  });
});
