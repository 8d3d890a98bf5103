// Members of a tenant: change role and permissions, remove. Owners and admins only; only
// owners touch owners; the last owner can be neither demoted nor removed. A removed member's
// sessions end and their user-bound keys are revoked, in the same transaction.
import { z } from "zod";
import { requireTenantAdmin, type Actor, type TenantActor } from "../../access/actor.ts";
import { isValidPermission } from "../../access/permissions.ts";
import type { Deps, RequestMeta } from "../../deps.ts";
import { AppError } from "../../errors.ts";
import type { Tx } from "../projects/live-project.ts";
import { recordAudit } from "../audit/service.ts";
import { parseInput } from "../validation.ts";

const userNotFound = () => new AppError("USER_NOT_FOUND", "user not found");

const updateMemberInput = z.object({
  id: z.string(),
  role: z.enum(["OWNER", "ADMIN", "MEMBER"]).nullable().optional(),
  permissions: z
    .array(z.string().refine(isValidPermission, "must be resource:action, resource:* or *"))
    .max(200)
    .nullable()
    .optional(),
});

/** A live member of the actor's tenant, or USER_NOT_FOUND (a foreign id answers like an unknown one). */
async function findMember(tx: Tx, a: TenantActor, id: string) {
  if (!z.uuid().safeParse(id).success) throw userNotFound();
  const member = await tx.user.findFirst({ where: { id, tenantId: a.tenantId, removedAt: null } });
  if (!member) throw userNotFound();
  return member;
}

/**
 * Refuses a change that would leave the tenant without an owner who can act (joined, not
 * disabled): a pending owner invitation does not count. Locks the owners' rows.
 */
async function keepAnOwner(tx: Tx, tenantId: string, leaving: string): Promise<void> {
  const owners = await tx.$queryRaw<{ id: string }[]>`
    SELECT id FROM "User"
    WHERE "tenantId" = ${tenantId}::uuid AND role = 'OWNER' AND "removedAt" IS NULL
      AND "joinedAt" IS NOT NULL AND "disabledAt" IS NULL
    FOR UPDATE`;
  if (!owners.some((o) => o.id !== leaving)) {
    throw new AppError("CONFLICT", "the tenant's last owner cannot be removed or demoted");
  }
}

export async function updateMember(
  deps: Deps,
  actor: Actor,
  raw: z.input<typeof updateMemberInput>,
  meta: RequestMeta = {},
) {
  const a = requireTenantAdmin(actor);
  const input = parseInput(updateMemberInput, raw);
  return deps.keys.transaction(deps.prisma, async (tx, announce) => {
    const target = await findMember(tx, a, input.id);
    const touchesOwners = target.role === "OWNER" || input.role === "OWNER";
    if (touchesOwners && a.role !== "OWNER")
      throw new AppError("FORBIDDEN", "only owners change owners");
    if (target.role === "OWNER" && input.role && input.role !== "OWNER")
      await keepAnOwner(tx, a.tenantId, target.id);
    const data: { role?: "OWNER" | "ADMIN" | "MEMBER"; permissions?: string[] } = {};
    if (input.role) data.role = input.role;
    if (input.permissions) data.permissions = input.permissions;
    const user = await tx.user.update({ where: { id: target.id }, data });
    // The member's keys are narrowed to what the member holds now, from the next verification on.
    await announce({ t: "owners", ids: [user.id] });
    await recordAudit(tx, a, {
      tenantId: a.tenantId,
      action: "member.update",
      targetType: "User",
      targetId: target.id,
      metadata: {
        role: user.role,
        previousRole: target.role,
        permissions: user.permissions,
        previousPermissions: target.permissions,
      },
      ip: meta.ip,
      requestId: meta.requestId,
    });
    return user;
  });
}

export async function removeMember(
  deps: Deps,
  actor: Actor,
  { id }: { id: string },
  meta: RequestMeta = {},
) {
  const a = requireTenantAdmin(actor);
  return deps.keys.transaction(deps.prisma, async (tx, announce) => {
    const target = await findMember(tx, a, id);
    if (target.role === "OWNER") {
      if (a.role !== "OWNER") throw new AppError("FORBIDDEN", "only owners remove owners");
      await keepAnOwner(tx, a.tenantId, target.id);
    }
    const now = new Date();
    const user = await tx.user.update({ where: { id: target.id }, data: { removedAt: now } });
    await tx.session.updateMany({
      where: { userId: target.id, revokedAt: null },
      data: { revokedAt: now, revokeReason: "member removed" },
    });
    const live = {
      ownerId: target.id,
      tenantId: a.tenantId,
      status: { in: ["ACTIVE" as const, "DISABLED" as const] },
    };
    const keys = await tx.apiKey.findMany({ where: live, select: { id: true } });
    await tx.apiKey.updateMany({
      where: live,
      data: {
        status: "REVOKED",
        revokedAt: now,
        revokeReason: "member removed",
        revokedById: a.userId,
      },
    });
    await announce({ t: "keys", ids: keys.map((k) => k.id) });
    await announce({ t: "owners", ids: [user.id] });
    for (const key of keys) {
      await recordAudit(tx, a, {
        tenantId: a.tenantId,
        action: "key.revoke",
        targetType: "ApiKey",
        targetId: key.id,
        metadata: { reason: "member removed", memberId: target.id },
        ip: meta.ip,
        requestId: meta.requestId,
      });
    }
    await recordAudit(tx, a, {
      tenantId: a.tenantId,
      action: "member.remove",
      targetType: "User",
      targetId: target.id,
      metadata: { revokedKeys: keys.length },
      ip: meta.ip,
      requestId: meta.requestId,
    });
    return user;
  });
}
