// Disabling and re-enabling a person. A disabled user's sessions end and every key bound to
// them stops verifying, as bearer credential and in exchanges, on the very next request.
import { z } from "zod";
import { isTenantAdmin, requireTenantAdmin, type Actor } from "../../access/actor.ts";
import type { Deps, RequestMeta } from "../../deps.ts";
import { AppError } from "../../errors.ts";
import { recordAudit } from "../audit/service.ts";

const userNotFound = () => new AppError("USER_NOT_FOUND", "user not found");

export async function setUserDisabled(
  deps: Deps,
  actor: Actor,
  { id: userId, disabled }: { id: string; disabled: boolean },
  meta: RequestMeta = {},
) {
  const a = requireTenantAdmin(actor);
  if (!z.uuid().safeParse(userId).success) throw userNotFound();
  if (a.userId === userId) throw new AppError("FORBIDDEN", "you cannot disable yourself");
  return deps.keys.transaction(deps.prisma, async (tx, announce) => {
    const target = await tx.user.findFirst({ where: { id: userId, tenantId: a.tenantId } });
    if (!target) throw userNotFound();
    if (target.role === "OWNER" && !(a.kind === "user" && a.role === "OWNER"))
      throw new AppError("FORBIDDEN", "only owners change owners");
    if (disabled === !!target.disabledAt) return target;
    const now = new Date();
    const updated = await tx.user.update({
      where: { id: target.id },
      data: { disabledAt: disabled ? now : null },
    });
    await announce({ t: "owners", ids: [updated.id] });
    if (disabled) {
      await tx.session.updateMany({
        where: { userId: target.id, revokedAt: null },
        data: { revokedAt: now, revokeReason: "user disabled" },
      });
    }
    await recordAudit(tx, a, {
      tenantId: a.tenantId,
      action: disabled ? "user.disable" : "user.enable",
      targetType: "User",
      targetId: target.id,
      ip: meta.ip,
      requestId: meta.requestId,
    });
    return updated;
  });
}

/**
 * A user of the caller's tenant by id: the caller itself, or anyone of the tenant for owners and
 * admins (as `tenant.users` shows them). Null otherwise, and for another tenant's user.
 */
export async function findUser(deps: Deps, actor: Actor, id: string) {
  if (actor.kind !== "user" || !z.uuid().safeParse(id).success) return null;
  if (id !== actor.userId && !isTenantAdmin(actor)) return null;
  return deps.prisma.user.findFirst({ where: { id, tenantId: actor.tenantId } });
}
