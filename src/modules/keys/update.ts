// Changing a key's settings: name, description, permissions, rate limits, expiry, metadata,
// IP allowlist and credits. One conditional update with its audit event (which names the
// changed fields, never their values), then the key leaves the lookup cache so the very next
// verification sees the change.
import { z } from "zod";
import { requireTenantActor, type Actor } from "../../access/actor.ts";
import { requirePermission } from "../../access/permissions.ts";
import type { Deps, RequestMeta } from "../../deps.ts";
import { AppError } from "../../errors.ts";
import { Prisma, type ApiKey } from "../../generated/prisma/client.ts";
import { findUnstorable } from "../../storable-text.ts";
import { recordAudit } from "../audit/service.ts";
import { parseInput } from "../validation.ts";
import { permissionList, requireGrantable } from "./generate.ts";
import { MAX_ALLOWLIST_ENTRIES, parseRange } from "./ip-allowlist.ts";
import { findOwnKey } from "./policy.ts";

export const MAX_METADATA_BYTES = 4096;

const limit = z.number().int().min(1).max(1_000_000_000).nullable().optional();
const credits = z.number().int().min(0).max(1_000_000_000);

const metadata = z.record(z.string(), z.unknown()).superRefine((value, ctx) => {
  const problem = findUnstorable(value, "metadata");
  if (problem) {
    ctx.addIssue({ code: "custom", message: `${problem.field}: ${problem.message}` });
    return;
  }
  if (Buffer.byteLength(JSON.stringify(value)) > MAX_METADATA_BYTES)
    ctx.addIssue({
      code: "custom",
      message: `must be at most ${MAX_METADATA_BYTES} bytes as JSON`,
    });
});

const ipEntry = z
  .string()
  .trim()
  .max(64)
  .superRefine((entry, ctx) => {
    const range = parseRange(entry);
    if (typeof range === "string") ctx.addIssue({ code: "custom", message: range });
  });

const updateKeyInput = z
  .object({
    id: z.string(),
    name: z.string().trim().min(1, "must not be empty").max(200).optional(),
    description: z.string().max(2000).nullable().optional(),
    permissions: permissionList.optional(),
    /** Each window: a number sets it, null clears it, absent keeps it; null clears all three. */
    rateLimit: z.object({ perMinute: limit, perHour: limit, perDay: limit }).nullable().optional(),
    expiresAt: z.date().nullable().optional(),
    metadata: metadata.nullable().optional(),
    ipAllowlist: z.array(ipEntry).max(MAX_ALLOWLIST_ENTRIES).nullable().optional(),
    credits: z
      .object({
        remaining: credits.nullable(),
        refillAmount: credits.min(1).nullable().optional(),
        refillInterval: z.enum(["DAY", "MONTH"]).nullable().optional(),
      })
      .superRefine((v, ctx) => {
        if ((v.refillAmount == null) !== (v.refillInterval == null))
          ctx.addIssue({
            code: "custom",
            path: ["refillInterval"],
            message: "give refillAmount and refillInterval together",
          });
        if (v.remaining === null && v.refillAmount != null)
          ctx.addIssue({
            code: "custom",
            path: ["remaining"],
            message: "a refill needs remaining credits",
          });
      })
      .nullable()
      .optional(),
  })
  .superRefine((v, ctx) => {
    if (v.expiresAt && v.expiresAt.getTime() <= Date.now())
      ctx.addIssue({ code: "custom", path: ["expiresAt"], message: "must be in the future" });
  });

export type UpdateKeyInput = z.input<typeof updateKeyInput>;

export async function updateKey(
  deps: Deps,
  actor: Actor,
  raw: UpdateKeyInput,
  meta?: RequestMeta,
): Promise<ApiKey> {
  const a = requireTenantActor(actor);
  requirePermission(a, "keys:write");
  const input = parseInput(updateKeyInput, raw);
  const key = await findOwnKey(deps, a, input.id);
  // A key's limits, expiry, allowlist and credits were set by whoever issued it: lifting them
  // from the key itself would be a credential widening its own rights.
  if (a.kind === "apiKey" && key.id === a.keyId)
    throw new AppError("FORBIDDEN", "a key cannot change itself");
  if (key.status === "REVOKED" || key.status === "DELETED")
    throw new AppError("CONFLICT", `key is ${key.status.toLowerCase()}`);
  if (input.permissions) await requireGrantable(deps, a, key.ownerId, input.permissions);

  const data: Prisma.ApiKeyUpdateManyMutationInput = {};
  const changed: string[] = [];
  const set = <F extends keyof Prisma.ApiKeyUpdateManyMutationInput>(
    field: F,
    value: Prisma.ApiKeyUpdateManyMutationInput[F],
    name: string = field,
  ) => {
    data[field] = value;
    if (!changed.includes(name)) changed.push(name);
  };
  if (input.name !== undefined) set("name", input.name);
  if (input.description !== undefined) set("description", input.description);
  if (input.permissions !== undefined) set("permissions", input.permissions);
  if (input.rateLimit !== undefined) {
    const r = input.rateLimit;
    if (r === null || r.perMinute !== undefined)
      set("rateLimitPerMinute", r?.perMinute ?? null, "rateLimit");
    if (r === null || r.perHour !== undefined)
      set("rateLimitPerHour", r?.perHour ?? null, "rateLimit");
    if (r === null || r.perDay !== undefined)
      set("rateLimitPerDay", r?.perDay ?? null, "rateLimit");
  }
  if (input.expiresAt !== undefined) {
    set("expiresAt", input.expiresAt);
    // A new expiry is a new reminder.
    set("expiryReminderSentAt", null, "expiresAt");
  }
  if (input.metadata !== undefined)
    set(
      "metadata",
      input.metadata === null ? Prisma.DbNull : (input.metadata as Prisma.InputJsonObject),
    );
  if (input.ipAllowlist !== undefined) set("ipAllowlist", input.ipAllowlist ?? []);
  if (input.credits !== undefined) {
    const c = input.credits;
    set("creditsRemaining", c?.remaining ?? null, "credits");
    set("creditsRefillAmount", c?.refillAmount ?? null, "credits");
    set("creditsRefillInterval", c?.refillInterval ?? null, "credits");
    // The refill clock starts when the credits are set.
    set("creditsRefilledAt", c ? new Date() : null, "credits");
  }

  return deps.keys.transaction(deps.prisma, async (tx, announce) => {
    const { count } = await tx.apiKey.updateMany({
      where: { id: key.id, tenantId: a.tenantId, status: { in: ["ACTIVE", "DISABLED"] } },
      data,
    });
    if (count === 0) {
      const current = await tx.apiKey.findUniqueOrThrow({ where: { id: key.id } });
      throw new AppError("CONFLICT", `key is ${current.status.toLowerCase()}`);
    }
    await announce({ t: "keys", ids: [key.id] });
    await recordAudit(tx, a, {
      tenantId: a.tenantId,
      action: "key.update",
      targetType: "ApiKey",
      targetId: key.id,
      metadata: { fields: changed },
      ip: meta?.ip,
      requestId: meta?.requestId,
    });
    return tx.apiKey.findUniqueOrThrow({ where: { id: key.id } });
  });
}
