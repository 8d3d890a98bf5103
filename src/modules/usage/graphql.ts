// GraphQL adapter for usage: one key's series and the tenant's summary.
import { builder } from "../../graphql/builder.ts";
import { keyUsage, usageSummary, type CodeCount, type UsagePoint } from "./service.ts";

const UsageGranularityEnum = builder.enumType("UsageGranularity", {
  values: ["MINUTE", "HOUR", "DAY"] as const,
});

const UsagePointType = builder.objectRef<UsagePoint>("UsagePoint").implement({
  description: "Verifications of one key with one outcome code in one bucket (UTC start).",
  fields: (t) => ({
    bucket: t.field({ type: "DateTime", resolve: (p) => p.bucket }),
    code: t.exposeString("code", { description: "A verification code: VALID, EXPIRED, ..." }),
    count: t.exposeInt("count"),
  }),
});

const UsageCodeCountType = builder.objectRef<CodeCount>("UsageCodeCount").implement({
  fields: (t) => ({
    code: t.exposeString("code"),
    count: t.exposeInt("count"),
  }),
});

type Series = Awaited<ReturnType<typeof keyUsage>>;
const KeyUsageSeriesType = builder.objectRef<Series>("KeyUsageSeries").implement({
  fields: (t) => ({
    keyId: t.exposeID("keyId"),
    granularity: t.field({ type: UsageGranularityEnum, resolve: (s) => s.granularity }),
    from: t.field({ type: "DateTime", resolve: (s) => s.from }),
    to: t.field({ type: "DateTime", resolve: (s) => s.to }),
    points: t.field({
      type: [UsagePointType],
      description: "Non-zero buckets only, oldest first; a bucket missing from the list is 0.",
      resolve: (s) => s.points,
    }),
    totals: t.field({
      type: [UsageCodeCountType],
      description: "The range's total by code.",
      resolve: (s) => s.totals,
    }),
  }),
});

type Summary = Awaited<ReturnType<typeof usageSummary>>;
const UsageKeyTotalType = builder.objectRef<Summary["topKeys"][number]>("UsageKeyTotal").implement({
  fields: (t) => ({
    keyId: t.exposeID("keyId"),
    name: t.exposeString("name", { nullable: true }),
    total: t.exposeInt("total"),
    valid: t.exposeInt("valid"),
  }),
});

const UsageSummaryType = builder.objectRef<Summary>("UsageSummary").implement({
  fields: (t) => ({
    from: t.field({ type: "DateTime", resolve: (s) => s.from }),
    to: t.field({ type: "DateTime", resolve: (s) => s.to }),
    granularity: t.field({
      type: UsageGranularityEnum,
      description: "The buckets summed: the finest still kept for the whole range.",
      resolve: (s) => s.granularity,
    }),
    total: t.exposeInt("total"),
    totals: t.field({ type: [UsageCodeCountType], resolve: (s) => s.totals }),
    topKeys: t.field({
      type: [UsageKeyTotalType],
      description: "The busiest keys (at most 10), busiest first.",
      resolve: (s) => s.topKeys,
    }),
  }),
});

builder.queryFields((t) => ({
  keyUsage: t.field({
    type: KeyUsageSeriesType,
    authScopes: { authenticated: true },
    description:
      "Verifications of one key by bucket and outcome code. At most 31 days of MINUTE, 366 of HOUR, 1830 of DAY buckets.",
    args: {
      id: t.arg.id({ required: true }),
      from: t.arg({ type: "DateTime", required: true }),
      to: t.arg({ type: "DateTime", required: true }),
      granularity: t.arg({ type: UsageGranularityEnum, required: true }),
    },
    resolve: (_root, args, ctx) => keyUsage(ctx.deps, ctx.actor, args),
  }),
  usageSummary: t.field({
    type: UsageSummaryType,
    authScopes: { authenticated: true },
    description:
      "Verification totals by outcome code and the busiest keys: the tenant for owners, admins and integrator keys, the caller's own keys otherwise.",
    args: {
      from: t.arg({ type: "DateTime", required: true }),
      to: t.arg({ type: "DateTime", required: true }),
    },
    resolve: (_root, args, ctx) => usageSummary(ctx.deps, ctx.actor, args),
  }),
}));
