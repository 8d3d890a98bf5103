// Rotation: a successor with the same settings, the old key kept for a grace period.
import { requireTenantActor, type Actor } from "../../access/actor.ts";
import { requirePermission } from "../../access/permissions.ts";
import type { Deps, RequestMeta } from "../../deps.ts";
import { AppError } from "../../errors.ts";
import type { Prisma as P } from "../../generated/prisma/client.ts";
import { recordAudit } from "../audit/service.ts";
import { insertKey, prepareKey } from "./generate.ts";
import { findOwnKey } from "./policy.ts";

/**
 * Issues a successor with the same settings and lets the old key live for the grace period
 * (0: it stops at once). The successor's insert and the old key's change are one transaction,
 * conditional on the old key still being usable: two concurrent rotations cannot both win.
 */
export async function rotateKey(
  deps: Deps,
  actor: Actor,
  { id, gracePeriodSeconds = 0 }: { id: string; gracePeriodSeconds?: number | null },
  meta?: RequestMeta,
) {
  gracePeriodSeconds ??= 0;
  const a = requireTenantActor(actor);
  requirePermission(a, "keys:write");
  if (
    !Number.isInteger(gracePeriodSeconds) ||
    gracePeriodSeconds < 0 ||
    gracePeriodSeconds > 30 * 86400
  ) {
    throw AppError.validation("gracePeriodSeconds", "must be an integer from 0 to 2592000");
  }
  const old = await findOwnKey(deps, a, id);
  if (old.status !== "ACTIVE" && old.status !== "DISABLED")
    throw new AppError("CONFLICT", `key is ${old.status.toLowerCase()}`);
  const now = new Date();
  const prepared = await prepareKey(
    deps,
    a,
    {
      name: old.name,
      description: old.description,
      projectId: old.projectId,
      ownerId: old.ownerId,
      permissions: old.permissions,
      lifetime: old.lifetime,
      expiresAt: old.lifetime ? null : old.expiresAt && old.expiresAt > now ? old.expiresAt : null,
      rateLimit: {
        perMinute: old.rateLimitPerMinute,
        perHour: old.rateLimitPerHour,
        perDay: old.rateLimitPerDay,
      },
      status: old.status,
      format: old.format,
      test: old.isTest,
    },
    old.kind,
  );
  prepared.data.rotatedFromId = old.id;
  const graceEnd = new Date(now.getTime() + gracePeriodSeconds * 1000);
  const data: P.ApiKeyUpdateManyMutationInput = {
    // Written explicitly: it is the version the conditional update below compares.
    updatedAt: new Date(Math.max(now.getTime(), old.updatedAt.getTime() + 1)),
    ...(gracePeriodSeconds === 0
      ? {
          status: "REVOKED" as const,
          revokedAt: now,
          revokeReason: "rotated",
          revokedById: a.kind === "user" ? a.userId : null,
        }
      : { expiresAt: old.expiresAt && old.expiresAt < graceEnd ? old.expiresAt : graceEnd }),
  };
  const { apiKey, previous } = await deps.keys.transaction(deps.prisma, async (tx, announce) => {
    // updatedAt as a version: a concurrent rotation (or any change) since the read makes this match nothing.
    const { count } = await tx.apiKey.updateMany({
      where: { id: old.id, status: { in: ["ACTIVE", "DISABLED"] }, updatedAt: old.updatedAt },
      data,
    });
    if (count === 0) throw new AppError("CONFLICT", "key changed while rotating it; retry");
    await announce({ t: "keys", ids: [old.id] });
    // A key in its grace period has its successor already: rotate that one instead.
    if (await tx.apiKey.count({ where: { rotatedFromId: old.id } }))
      throw new AppError("CONFLICT", "key was already rotated");
    const created = await insertKey(tx, a, prepared, meta);
    await recordAudit(tx, a, {
      tenantId: a.tenantId,
      action: "key.rotate",
      targetType: "ApiKey",
      targetId: old.id,
      metadata: { successorId: created.id, gracePeriodSeconds },
      ip: meta?.ip,
      requestId: meta?.requestId,
    });
    return {
      apiKey: created,
      previous: await tx.apiKey.findUniqueOrThrow({ where: { id: old.id } }),
    };
  });
  return { apiKey, key: prepared.key, secret: prepared.secret, previous };
}
