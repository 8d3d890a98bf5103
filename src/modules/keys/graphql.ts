// GraphQL adapters for API keys. Keys and secrets appear only in generate/rotate payloads;
// the ApiKey type has no field that could return a key, hash, secret or ciphertext.
import { z } from "zod";
import { builder } from "../../graphql/builder.ts";
import { requestMetaOf } from "../../graphql/context.ts";
import { NodeInterface, nodeLoader } from "../../graphql/node.ts";
import { masked } from "../../crypto/key-format.ts";
import type { ApiKey } from "../../generated/prisma/client.ts";
import { verifyForCaller, type VerifyAnswer } from "./verify-request.ts";
import { exchangeApiKey } from "./exchange.ts";
import {
  countKeys,
  disableKey,
  enableKey,
  findKey,
  findKeys,
  generateApiKey,
  generateSecureApiKey,
  type KeyListFilter,
  rotateKey,
  updateKey,
} from "./service.ts";
import { verifyCodes } from "./verify.ts";

export const KeyStatusEnum = builder.enumType("KeyStatus", {
  values: ["ACTIVE", "DISABLED", "REVOKED", "DELETED"] as const,
});
const KeyKindEnum = builder.enumType("KeyKind", {
  values: ["API_KEY", "SECURE_API_KEY", "PROJECT_KEY"] as const,
});
const KeyFormatEnum = builder.enumType("KeyFormat", { values: ["OPAQUE", "JWT"] as const });
const NewKeyStatusEnum = builder.enumType("NewKeyStatus", {
  values: ["ACTIVE", "DISABLED"] as const,
});
const VerifyCodeEnum = builder.enumType("VerifyCode", { values: verifyCodes });

const RateLimitType = builder.objectRef<ApiKey>("RateLimit").implement({
  description: "Requests allowed per window; null: no limit in that window.",
  fields: (t) => ({
    perMinute: t.int({ nullable: true, resolve: (k) => k.rateLimitPerMinute }),
    perHour: t.int({ nullable: true, resolve: (k) => k.rateLimitPerHour }),
    perDay: t.int({ nullable: true, resolve: (k) => k.rateLimitPerDay }),
  }),
});

const CreditRefillEnum = builder.enumType("CreditRefill", { values: ["DAY", "MONTH"] as const });

const KeyCreditsType = builder.objectRef<ApiKey>("KeyCredits").implement({
  description: "Uses left; each successful verification spends one.",
  fields: (t) => ({
    remaining: t.int({ resolve: (k) => k.creditsRemaining ?? 0 }),
    refillAmount: t.int({ nullable: true, resolve: (k) => k.creditsRefillAmount }),
    refillInterval: t.field({
      type: CreditRefillEnum,
      nullable: true,
      resolve: (k) => k.creditsRefillInterval,
    }),
    refilledAt: t.expose("creditsRefilledAt", { type: "DateTime", nullable: true }),
  }),
});

/** What every credential shares, so that `revokeKey` can answer for API keys and key pairs alike. */
export interface CredentialRow {
  id: string;
  name: string;
  description: string | null;
  status: "ACTIVE" | "DISABLED" | "REVOKED" | "DELETED";
  expiresAt: Date | null;
  createdAt: Date;
  revokedAt: Date | null;
  revokeReason: string | null;
}

/** A credential row, or a project's view of one (`ProjectKey`: the row and what it is). */
export type CredentialShape = CredentialRow | { kind: "apiKey" | "keyPair"; row: CredentialRow };

const rowOf = (value: CredentialShape): CredentialRow => ("row" in value ? value.row : value);

export const CredentialInterface = builder.interfaceRef<CredentialShape>("Credential").implement({
  description: "An API key or a key pair.",
  resolveType: (value) =>
    "row" in value ? "ProjectKey" : "fingerprint" in value ? "KeyPair" : "ApiKey",
  fields: (t) => ({
    id: t.id({ resolve: (v) => rowOf(v).id }),
    name: t.string({ resolve: (v) => rowOf(v).name }),
    description: t.string({ nullable: true, resolve: (v) => rowOf(v).description }),
    status: t.field({ type: KeyStatusEnum, resolve: (v) => rowOf(v).status }),
    expiresAt: t.field({ type: "DateTime", nullable: true, resolve: (v) => rowOf(v).expiresAt }),
    createdAt: t.field({ type: "DateTime", resolve: (v) => rowOf(v).createdAt }),
    revokedAt: t.field({ type: "DateTime", nullable: true, resolve: (v) => rowOf(v).revokedAt }),
    revokeReason: t.string({ nullable: true, resolve: (v) => rowOf(v).revokeReason }),
  }),
});

export const ApiKeyType = builder.prismaObject("ApiKey", {
  interfaces: [NodeInterface, CredentialInterface],
  fields: (t) => ({
    id: t.exposeID("id"),
    number: t.expose("number", {
      type: "Int64",
      description: "Numeric id for vendor contracts with int64 ids.",
    }),
    kind: t.expose("kind", { type: KeyKindEnum }),
    format: t.expose("format", { type: KeyFormatEnum }),
    expired: t.boolean({ resolve: (k) => !!k.expiresAt && k.expiresAt.getTime() <= Date.now() }),
    masked: t.string({ description: "e.g. kg_4a3b…9f0e", resolve: (k) => masked(k.start, k.end) }),
    permissions: t.exposeStringList("permissions"),
    integratorLevel: t.boolean({
      description: "Bound to no user.",
      resolve: (k) => k.ownerId === null,
    }),
    hasSecret: t.boolean({
      description: "A secure key with a signing secret.",
      resolve: (k) => k.secretCiphertext !== null,
    }),
    test: t.exposeBoolean("isTest"),
    jti: t.exposeID("jti"),
    lifetime: t.exposeInt("lifetime", { nullable: true }),
    rateLimit: t.field({ type: RateLimitType, resolve: (k) => k }),
    metadata: t.field({
      type: "JSON",
      nullable: true,
      description: "A JSON object returned by verification.",
      resolve: (k) => k.metadata,
    }),
    ipAllowlist: t.exposeStringList("ipAllowlist", {
      description: "CIDRs the key may be used from; empty: anywhere.",
    }),
    credits: t.field({
      type: KeyCreditsType,
      nullable: true,
      description: "null: unlimited uses.",
      resolve: (k) => (k.creditsRemaining === null ? null : k),
    }),
    lastUsedAt: t.expose("lastUsedAt", { type: "DateTime", nullable: true }),
    updatedAt: t.expose("updatedAt", { type: "DateTime" }),
    rotatedFromId: t.exposeID("rotatedFromId", { nullable: true }),
    owner: t.relation("owner", { nullable: true }),
    project: t.relation("project", { nullable: true }),
  }),
});

nodeLoader("ApiKey", (ctx, id) => findKey(ctx.deps, ctx.actor, id));

const RateLimitInput = builder.inputType("RateLimitInput", {
  fields: (t) => ({
    perMinute: t.int({ validate: z.number().int().min(1) }),
    perHour: t.int({ validate: z.number().int().min(1) }),
    perDay: t.int({ validate: z.number().int().min(1) }),
  }),
});

const GenerateApiKeyInput = builder.inputType("GenerateApiKeyInput", {
  fields: (t) => ({
    name: t.string({
      required: true,
      description: "A label for the key.",
      validate: z.string().trim().min(1).max(200),
    }),
    description: t.string({ validate: z.string().max(2000) }),
    projectId: t.id(),
    ownerId: t.id({
      description:
        "Bind the key to this user; omit for an integrator-level key (owners and admins).",
    }),
    permissions: t.stringList({
      description: 'Scopes; integrator-level keys default to ["*"], user-bound keys to none.',
    }),
    expiresAt: t.field({ type: "DateTime" }),
    lifetime: t.int({
      description: "Seconds until the key expires (instead of expiresAt).",
      validate: z.number().int().min(1),
    }),
    rateLimit: t.field({ type: RateLimitInput }),
    status: t.field({ type: NewKeyStatusEnum }),
    format: t.field({ type: KeyFormatEnum, description: "OPAQUE (default) or JWT." }),
    test: t.boolean({ description: "Issue a `<prefix>_test_...` key." }),
  }),
});

const UpdateRateLimitInput = builder.inputType("UpdateRateLimitInput", {
  description: "Each window: a number sets it, null clears it, omitted keeps it.",
  fields: (t) => ({
    perMinute: t.int(),
    perHour: t.int(),
    perDay: t.int(),
  }),
});

const KeyCreditsInput = builder.inputType("KeyCreditsInput", {
  fields: (t) => ({
    remaining: t.int({ description: "Uses left; null: unlimited." }),
    refillAmount: t.int({ description: "Reset remaining to this every refillInterval." }),
    refillInterval: t.field({ type: CreditRefillEnum }),
  }),
});

const UpdateKeyInput = builder.inputType("UpdateKeyInput", {
  description: "Omitted fields keep their value; null clears a clearable one.",
  fields: (t) => ({
    id: t.id({ required: true }),
    name: t.string(),
    description: t.string(),
    permissions: t.stringList({
      description: "Never beyond the caller's own, nor beyond the owner's for a user-bound key.",
    }),
    rateLimit: t.field({ type: UpdateRateLimitInput, description: "null clears every window." }),
    expiresAt: t.field({ type: "DateTime", description: "In the future; null: never expires." }),
    metadata: t.field({ type: "JSON", description: "A JSON object of at most 4 KiB." }),
    ipAllowlist: t.stringList({
      description: "IPv4/IPv6 CIDRs or addresses, at most 100; empty or null: anywhere.",
    }),
    credits: t.field({ type: KeyCreditsInput, description: "null: unlimited uses." }),
  }),
});

const GenerateApiKeyPayload = builder
  .objectRef<{ key: string; apiKey: ApiKey }>("GenerateApiKeyPayload")
  .implement({
    fields: (t) => ({
      key: t.exposeString("key", { description: "The key. Shown in this response only." }),
      apiKey: t.field({ type: ApiKeyType, resolve: (p) => p.apiKey }),
    }),
  });

const GenerateSecureApiKeyPayload = builder
  .objectRef<{ key: string; secret: string; apiKey: ApiKey }>("GenerateSecureApiKeyPayload")
  .implement({
    fields: (t) => ({
      key: t.exposeString("key", { description: "The key. Shown in this response only." }),
      secret: t.exposeString("secret", {
        description: "The signing secret. Shown in this response only.",
      }),
      apiKey: t.field({ type: ApiKeyType, resolve: (p) => p.apiKey }),
    }),
  });

type Rotated = { key: string; secret?: string; apiKey: ApiKey; previous: ApiKey };

// One payload type per kind of key: only a secure key's successor has a secret to show.
const RotateKeyPayload = builder.interfaceRef<Rotated>("RotateKeyPayload").implement({
  description:
    "The successor of a rotated key: RotateApiKeyPayload, or RotateSecureApiKeyPayload with its signing secret.",
  resolveType: (p) =>
    p.secret === undefined ? "RotateApiKeyPayload" : "RotateSecureApiKeyPayload",
  fields: (t) => ({
    key: t.exposeString("key", {
      description: "The successor key. Shown in this response only.",
    }),
    apiKey: t.field({ type: ApiKeyType, resolve: (p) => p.apiKey }),
    previous: t.field({ type: ApiKeyType, resolve: (p) => p.previous }),
  }),
});

builder.objectRef<Rotated>("RotateApiKeyPayload").implement({
  interfaces: [RotateKeyPayload],
  fields: () => ({}),
});

builder.objectRef<Rotated & { secret: string }>("RotateSecureApiKeyPayload").implement({
  interfaces: [RotateKeyPayload],
  fields: (t) => ({
    secret: t.exposeString("secret", {
      description: "The successor's signing secret. Shown in this response only.",
    }),
  }),
});

const ExchangePayload = builder
  .objectRef<Awaited<ReturnType<typeof exchangeApiKey>>>("ExchangeApiKeyPayload")
  .implement({
    fields: (t) => ({
      accessToken: t.exposeString("accessToken"),
      tokenType: t.exposeString("tokenType"),
      expiresIn: t.exposeInt("expiresIn"),
      expiresAt: t.expose("expiresAt", { type: "DateTime" }),
    }),
  });

type Answer = VerifyAnswer;
const VerifyRateLimit = builder
  .objectRef<NonNullable<Answer["ratelimit"]>>("VerifyRateLimit")
  .implement({
    fields: (t) => ({
      limit: t.exposeInt("limit"),
      remaining: t.exposeInt("remaining"),
      reset: t.exposeInt("reset"),
    }),
  });
const VerifyCredits = builder.objectRef<NonNullable<Answer["credits"]>>("VerifyCredits").implement({
  fields: (t) => ({
    remaining: t.exposeInt("remaining", { description: "Credits left after this verification." }),
  }),
});
const VerifyKeyResult = builder.objectRef<Answer>("VerifyKeyResult").implement({
  fields: (t) => ({
    valid: t.exposeBoolean("valid"),
    code: t.field({ type: VerifyCodeEnum, resolve: (r) => r.code }),
    keyId: t.exposeID("keyId", { nullable: true }),
    tenantId: t.exposeID("tenantId", { nullable: true }),
    ownerId: t.exposeID("ownerId", { nullable: true }),
    projectId: t.exposeID("projectId", { nullable: true }),
    name: t.exposeString("name", { nullable: true }),
    permissions: t.exposeStringList("permissions"),
    expiresAt: t.expose("expiresAt", { type: "DateTime", nullable: true }),
    ratelimit: t.field({ type: VerifyRateLimit, nullable: true, resolve: (r) => r.ratelimit }),
    metadata: t.field({
      type: "JSON",
      nullable: true,
      description: "The key's metadata object.",
      resolve: (r) => r.metadata,
    }),
    credits: t.field({
      type: VerifyCredits,
      nullable: true,
      description: "The key's credits, when it has them and this verification reached them.",
      resolve: (r) => r.credits,
    }),
  }),
});

const VerifySignatureInput = builder.inputType("VerifySignatureInput", {
  description:
    "The signed request a secure key came with, as the service behind the gateway received it.",
  fields: (t) => ({
    header: t.string({ required: true, description: "The Keygate-Signature header." }),
    method: t.string({ required: true }),
    path: t.string({ required: true, description: "Path and query exactly as sent." }),
    bodySha256: t.string({ description: "Hex SHA-256 of the body; omitted: an empty body." }),
  }),
});

const keyFilterOf = (args: {
  status?: KeyListFilter["status"];
  kind?: KeyListFilter["kind"];
  projectId?: string | null;
  ownerId?: string | null;
}): KeyListFilter => ({
  status: args.status,
  kind: args.kind,
  projectId: args.projectId,
  ownerId: args.ownerId,
});

builder.queryFields((t) => ({
  apiKeys: t.prismaConnection(
    {
      type: "ApiKey",
      cursor: "id",
      authScopes: { authenticated: true },
      args: {
        status: t.arg({ type: KeyStatusEnum }),
        projectId: t.arg.id(),
        ownerId: t.arg.id(),
        kind: t.arg({ type: KeyKindEnum }),
      },
      totalCount: (_root, args, ctx) => countKeys(ctx.deps, ctx.actor, keyFilterOf(args)),
      resolve: (query, _root, args, ctx) => findKeys(ctx.deps, ctx.actor, keyFilterOf(args), query),
    },
    { name: "ApiKeyConnection" },
    { name: "ApiKeyEdge" },
  ),
  apiKey: t.prismaField({
    type: "ApiKey",
    nullable: true,
    authScopes: { authenticated: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (query, _root, { id }, ctx) => findKey(ctx.deps, ctx.actor, id, query),
  }),
}));

builder.mutationFields((t) => ({
  generateApiKey: t.field({
    type: GenerateApiKeyPayload,
    authScopes: { authenticated: true },
    args: { input: t.arg({ type: GenerateApiKeyInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      generateApiKey(ctx.deps, ctx.actor, input, requestMetaOf(ctx)),
  }),
  generateSecureApiKey: t.field({
    type: GenerateSecureApiKeyPayload,
    authScopes: { authenticated: true },
    args: { input: t.arg({ type: GenerateApiKeyInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      generateSecureApiKey(ctx.deps, ctx.actor, input, requestMetaOf(ctx)),
  }),
  exchangeApiKey: t.field({
    type: ExchangePayload,
    description: "Trades a secure key and its secret for a bearer token valid 60 minutes.",
    args: { apiKey: t.arg.string({ required: true }), apiSecret: t.arg.string({ required: true }) },
    resolve: (_root, args, ctx) => exchangeApiKey(ctx.deps, args, requestMetaOf(ctx)),
  }),
  verifyKey: t.field({
    type: VerifyKeyResult,
    description:
      "Verifies a key, optionally against required permissions. Signed-in callers only see their tenant's keys. A secure key is VALID only with the signature of the request it came with.",
    args: {
      key: t.arg.string({ required: true }),
      permissions: t.arg.stringList(),
      signature: t.arg({ type: VerifySignatureInput }),
      clientIp: t.arg.string({
        description:
          "The address of the client the key came from; required for a key with an IP allowlist.",
      }),
    },
    resolve: (_root, args, ctx) =>
      verifyForCaller(ctx.deps, ctx.actor, {
        key: args.key,
        permissions: args.permissions ?? undefined,
        clientIp: args.clientIp ?? undefined,
        signature: args.signature
          ? { ...args.signature, bodySha256: args.signature.bodySha256 ?? undefined }
          : undefined,
      }),
  }),
  updateKey: t.field({
    type: ApiKeyType,
    authScopes: { authenticated: true },
    args: { input: t.arg({ type: UpdateKeyInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      updateKey(ctx.deps, ctx.actor, input as never, requestMetaOf(ctx)),
  }),
  enableKey: t.field({
    type: ApiKeyType,
    authScopes: { authenticated: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => enableKey(ctx.deps, ctx.actor, { id }, requestMetaOf(ctx)),
  }),
  disableKey: t.field({
    type: ApiKeyType,
    authScopes: { authenticated: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => disableKey(ctx.deps, ctx.actor, { id }, requestMetaOf(ctx)),
  }),
  rotateKey: t.field({
    type: RotateKeyPayload,
    authScopes: { authenticated: true },
    args: {
      id: t.arg.id({ required: true }),
      gracePeriodSeconds: t.arg.int({
        defaultValue: 0,
        description: "How long the old key keeps working (0: stops at once).",
      }),
    },
    resolve: (_root, { id, gracePeriodSeconds }, ctx) =>
      rotateKey(ctx.deps, ctx.actor, { id, gracePeriodSeconds }, requestMetaOf(ctx)),
  }),
}));
