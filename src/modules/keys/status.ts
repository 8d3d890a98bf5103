// Status changes of a key: revoke, disable, enable. Each is one conditional update with its
// audit event, and drops the key from the lookup cache so the next verification sees it.
import { requireTenantActor, type Actor } from "../../access/actor.ts";
import { requirePermission } from "../../access/permissions.ts";
import type { Deps, RequestMeta } from "../../deps.ts";
import { AppError } from "../../errors.ts";
import type { ApiKey, Prisma as P } from "../../generated/prisma/client.ts";
import { recordAudit } from "../audit/service.ts";
import { findOwnKey } from "./policy.ts";

async function changeStatus(
  deps: Deps,
  actor: Actor,
  id: string,
  change: {
    from: ApiKey["status"][];
    data: P.ApiKeyUpdateManyMutationInput;
    action: string;
    metadata?: P.InputJsonValue;
  },
  meta?: RequestMeta,
) {
  const a = requireTenantActor(actor);
  requirePermission(a, "keys:write");
  const key = await findOwnKey(deps, a, id);
  const updated = await deps.prisma.$transaction(async (tx) => {
    const { count } = await tx.apiKey.updateMany({
      where: { id: key.id, status: { in: change.from } },
      data: change.data,
    });
    if (count === 0) {
      const current = await tx.apiKey.findUniqueOrThrow({ where: { id: key.id } });
      throw new AppError("CONFLICT", `key is ${current.status.toLowerCase()}`);
    }
    await recordAudit(tx, a, {
      tenantId: a.tenantId,
      action: change.action,
      targetType: "ApiKey",
      targetId: key.id,
      metadata: change.metadata,
      ip: meta?.ip,
      requestId: meta?.requestId,
    });
    return tx.apiKey.findUniqueOrThrow({ where: { id: key.id } });
  });
  deps.keys.invalidate(key.id);
  return updated;
}

export function revokeKey(
  deps: Deps,
  actor: Actor,
  { id, reason }: { id: string; reason?: string | null },
  meta?: RequestMeta,
) {
  const text = reason?.trim().slice(0, 500) || null;
  return changeStatus(
    deps,
    actor,
    id,
    {
      from: ["ACTIVE", "DISABLED"],
      data: {
        status: "REVOKED",
        revokedAt: new Date(),
        revokeReason: text,
        revokedById: actor.kind === "user" ? actor.userId : null,
      },
      action: "key.revoke",
      metadata: { reason: text },
    },
    meta,
  );
}

export function disableKey(deps: Deps, actor: Actor, { id }: { id: string }, meta?: RequestMeta) {
  return changeStatus(
    deps,
    actor,
    id,
    { from: ["ACTIVE"], data: { status: "DISABLED" }, action: "key.disable" },
    meta,
  );
}

export function enableKey(deps: Deps, actor: Actor, { id }: { id: string }, meta?: RequestMeta) {
  return changeStatus(
    deps,
    actor,
    id,
    { from: ["DISABLED"], data: { status: "ACTIVE" }, action: "key.enable" },
    meta,
  );
}
