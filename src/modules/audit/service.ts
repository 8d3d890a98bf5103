// Append-only audit trail. Written in the same transaction as the change it records.
import { requireTenantAdmin, type Actor } from "../../access/actor.ts";
import { AppError } from "../../errors.ts";
import type { Prisma } from "../../db/client.ts";
import type { Prisma as P } from "../../generated/prisma/client.ts";

type Tx = Pick<Prisma, "auditEvent">;

export interface AuditInput {
  tenantId: string;
  action: string;
  targetType?: string;
  targetId?: string;
  metadata?: P.InputJsonValue;
  ip?: string | null;
  requestId?: string | null;
}

export interface ActorRef {
  actorType: "USER" | "API_KEY" | "SYSTEM";
  actorId: string | null;
}

function actorRef(actor: Actor | ActorRef): ActorRef {
  if ("actorType" in actor) return actor;
  switch (actor.kind) {
    case "user":
      return { actorType: "USER", actorId: actor.userId };
    case "apiKey":
      return { actorType: "API_KEY", actorId: actor.keyId };
    default:
      return { actorType: "SYSTEM", actorId: null };
  }
}

export async function recordAudit(
  tx: Tx,
  actor: Actor | ActorRef,
  event: AuditInput,
): Promise<void> {
  await tx.auditEvent.create({
    data: {
      tenantId: event.tenantId,
      ...actorRef(actor),
      action: event.action,
      targetType: event.targetType,
      targetId: event.targetId,
      metadata: event.metadata ?? {},
      ip: event.ip ?? undefined,
      requestId: event.requestId ?? undefined,
    },
  });
}

export interface AuditFilter {
  action?: string | null;
  actorId?: string | null;
  targetId?: string | null;
  from?: Date | null;
  to?: Date | null;
}

/** The actor's tenant's events matching the filter: owners and admins only. */
function auditWhere(actor: Actor, filter: AuditFilter): P.AuditEventWhereInput {
  const a = requireTenantAdmin(actor);
  if (filter.from && filter.to && filter.from > filter.to)
    throw AppError.validation("from", "must not be after to");
  const where: P.AuditEventWhereInput = { tenantId: a.tenantId };
  // `key.` matches every key action; `key.revoke` only that one.
  if (filter.action)
    where.action = filter.action.endsWith(".") ? { startsWith: filter.action } : filter.action;
  if (filter.actorId) where.actorId = filter.actorId;
  if (filter.targetId) where.targetId = filter.targetId;
  if (filter.from || filter.to)
    where.createdAt = {
      ...(filter.from ? { gte: filter.from } : {}),
      ...(filter.to ? { lte: filter.to } : {}),
    };
  return where;
}

/** The tenant's audit trail, newest first: owners and admins only. */
export async function findAuditEvents<
  Q extends Omit<P.AuditEventFindManyArgs, "where" | "orderBy">,
>(deps: { prisma: Prisma }, actor: Actor, filter: AuditFilter, query: Q) {
  const where = auditWhere(actor, filter);
  return deps.prisma.auditEvent.findMany({
    ...query,
    where,
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
  });
}

/** How many events findAuditEvents lists in all (a connection's totalCount). */
export async function countAuditEvents(
  deps: { prisma: Prisma },
  actor: Actor,
  filter: AuditFilter,
) {
  return deps.prisma.auditEvent.count({ where: auditWhere(actor, filter) });
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** One event of the tenant's trail (owners and admins); null for an unknown or foreign id. */
export async function findAuditEvent(deps: { prisma: Prisma }, actor: Actor, id: string) {
  const a = requireTenantAdmin(actor);
  if (!UUID.test(id)) return null;
  return deps.prisma.auditEvent.findFirst({ where: { AND: [{ tenantId: a.tenantId }, { id }] } });
}
