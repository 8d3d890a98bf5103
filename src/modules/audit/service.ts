// Append-only audit trail. Written in the same transaction as the change it records.
import type { Actor } from "../../auth/actor.ts";
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

export function actorRef(actor: Actor | ActorRef): ActorRef {
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

export async function recordAudit(tx: Tx, actor: Actor | ActorRef, event: AuditInput): Promise<void> {
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
