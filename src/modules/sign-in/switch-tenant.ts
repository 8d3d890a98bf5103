// A person in several tenants acts in one at a time. Switching ends the current session and
// opens one in the chosen membership: a token never carries two tenants' rights.
import { z } from "zod";
import type { Actor } from "../../access/actor.ts";
import type { Deps, RequestMeta } from "../../deps.ts";
import { AppError } from "../../errors.ts";
import { recordAudit } from "../audit/service.ts";
import { activeMemberships } from "../users/people.ts";
import { type SessionTokens, signInto } from "./sessions.ts";

const tenantNotFound = () => new AppError("TENANT_NOT_FOUND", "tenant not found");

function requireSession(actor: Actor) {
  if (actor.kind !== "user" || !actor.sessionId)
    throw new AppError("UNAUTHENTICATED", "sign in first");
  return { ...actor, sessionId: actor.sessionId };
}

/** The signed-in person's memberships they can act in (the tenant switcher's list). */
export async function listMemberships(deps: Deps, actor: Actor) {
  if (actor.kind !== "user") return [];
  const me = await deps.prisma.user.findUnique({ where: { id: actor.userId } });
  if (!me) return [];
  return activeMemberships(deps.prisma, me.personId);
}

export async function switchTenant(
  deps: Deps,
  actor: Actor,
  { tenantId }: { tenantId: string },
  meta: RequestMeta = {},
): Promise<SessionTokens> {
  const a = requireSession(actor);
  // A tenant the person does not belong to answers like one that does not exist.
  if (!z.uuid().safeParse(tenantId).success) throw tenantNotFound();
  return deps.prisma.$transaction(async (tx) => {
    const me = await tx.user.findUniqueOrThrow({ where: { id: a.userId } });
    const target = (await activeMemberships(tx, me.personId)).find((m) => m.tenantId === tenantId);
    if (!target) throw tenantNotFound();
    const now = new Date();
    await tx.session.updateMany({
      where: { id: a.sessionId, revokedAt: null },
      data: { revokedAt: now, revokeReason: "switched tenant" },
    });
    await recordAudit(tx, a, {
      tenantId: a.tenantId,
      action: "session.switch_tenant",
      targetType: "Session",
      targetId: a.sessionId,
      ip: meta.ip,
      requestId: meta.requestId,
    });
    return signInto(deps, tx, target, "switch_tenant", meta);
  });
}
