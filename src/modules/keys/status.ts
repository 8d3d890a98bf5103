// Status changes of a key: revoke, disable, enable. Each is one conditional update with its
// audit event, and drops the key from the lookup cache so the next verification sees it.
import { requireTenantActor, type Actor } from "../../access/actor.ts";
import { requirePermission } from "../../access/permissions.ts";
import type { Deps, RequestMeta } from "../../deps.ts";
import { AppError } from "../../errors.ts";
import type { ApiKey, Prisma as P } from "../../generated/prisma/client.ts";
import { recordAudit } from "../audit/service.ts";
import { findOwnKey, uuid } from "./policy.ts";

/** A key by id for a tenant actor (its scope) or the system actor (the CLI: the named tenant). */
async function findKeyToChange(deps: Deps, actor: Actor, id: string, tenantId?: string) {
  if (actor.kind !== "system") {
    const a = requireTenantActor(actor);
    requirePermission(a, "keys:write");
    return findOwnKey(deps, a, id);
  }
  const key =
    tenantId && uuid.safeParse(id).success && uuid.safeParse(tenantId).success
      ? await deps.prisma.apiKey.findFirst({ where: { AND: [{ tenantId }, { id }] } })
      : null;
  if (!key) throw new AppError("KEY_NOT_FOUND", "key not found");
  return key;
}

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
  tenantId?: string,
) {
  const key = await findKeyToChange(deps, actor, id, tenantId);
  return deps.keys.transaction(deps.prisma, async (tx, announce) => {
    const { count } = await tx.apiKey.updateMany({
      where: { id: key.id, status: { in: change.from } },
      data: change.data,
    });
    if (count === 0) {
      const current = await tx.apiKey.findUniqueOrThrow({ where: { id: key.id } });
      throw new AppError("CONFLICT", `key is ${current.status.toLowerCase()}`);
    }
    await announce({ t: "keys", ids: [key.id] });
    await recordAudit(tx, actor, {
      tenantId: key.tenantId,
      action: change.action,
      targetType: "ApiKey",
      targetId: key.id,
      metadata: change.metadata,
      ip: meta?.ip,
      requestId: meta?.requestId,
    });
    return tx.apiKey.findUniqueOrThrow({ where: { id: key.id } });
  });
}

export function revokeKey(
  deps: Deps,
  actor: Actor,
  {
    id,
    reason,
    tenantId,
  }: {
    id: string;
    reason?: string | null;
    /** The system actor (CLI) names the tenant; a tenant actor's own is used otherwise. */
    tenantId?: string;
  },
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
    tenantId,
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
