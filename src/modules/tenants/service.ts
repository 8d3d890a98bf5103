// Tenants and their users.
import { z } from "zod";
import {
  isPlatformAdmin,
  isTenantAdmin,
  requireTenantActor,
  requireTenantAdmin,
  type Actor,
} from "../../access/actor.ts";
import { isValidPermission, requirePermission } from "../../access/permissions.ts";
import type { Deps, RequestMeta } from "../../deps.ts";
import { AppError } from "../../errors.ts";
import type { Role } from "../../generated/prisma/enums.ts";
import type { Prisma as P } from "../../generated/prisma/client.ts";
import { recordAudit } from "../audit/service.ts";
import { parseInput } from "../validation.ts";
import { createMembership } from "../users/people.ts";

export const keyPrefixSchema = z
  .string()
  .regex(/^[a-z][a-z0-9]{1,11}$/, "2-12 lower-case letters or digits, starting with a letter");

const createTenantInput = z.object({
  name: z.string().trim().min(1, "must not be empty").max(200),
  ownerEmail: z.email().transform((e) => e.toLowerCase()),
  keyPrefix: keyPrefixSchema.optional(),
  platformAdmin: z.boolean().optional(),
});

const addUserInput = z.object({
  email: z.email().transform((e) => e.toLowerCase()),
  name: z.string().trim().max(200).optional(),
  role: z.enum(["OWNER", "ADMIN", "MEMBER"]).default("MEMBER"),
  permissions: z
    .array(z.string().refine(isValidPermission, "must be resource:action, resource:* or *"))
    .default([]),
  tenantId: z.uuid().optional(),
});

/** The caller's tenant, with the caller's selection (`query`: Pothos' include/select). */
export async function getTenant<Q extends Omit<P.TenantFindUniqueArgs, "where">>(
  deps: Deps,
  actor: Actor,
  query?: Q,
) {
  const a = requireTenantActor(actor);
  const tenant = await deps.prisma.tenant.findUnique({
    ...(query ?? {}),
    where: { id: a.tenantId },
  });
  if (!tenant) throw new AppError("TENANT_NOT_FOUND", "tenant not found");
  return tenant;
}

/** The caller's own tenant when `id` is its id; null for any other (node(id:) lookups). */
export async function findOwnTenant(deps: Deps, actor: Actor, id: string) {
  if (actor.kind !== "user" && actor.kind !== "apiKey") return null;
  if (id !== actor.tenantId) return null;
  return deps.prisma.tenant.findUnique({ where: { id } });
}

/** Every tenant: platform administrators only. */
export async function findTenants<Q extends Omit<P.TenantFindManyArgs, "orderBy">>(
  deps: Deps,
  actor: Actor,
  query: Q,
) {
  assertPlatformAdmin(actor);
  return deps.prisma.tenant.findMany({ ...query, orderBy: [{ createdAt: "asc" }, { id: "asc" }] });
}

export async function countTenants(deps: Deps, actor: Actor) {
  assertPlatformAdmin(actor);
  return deps.prisma.tenant.count();
}

/** The signed-in person; null for anonymous callers and API keys. */
export async function findViewer<Q extends Omit<P.UserFindUniqueArgs, "where">>(
  deps: Deps,
  actor: Actor,
  query?: Q,
) {
  if (actor.kind !== "user") return null;
  return deps.prisma.user.findUnique({ ...(query ?? {}), where: { id: actor.userId } });
}

function assertPlatformAdmin(actor: Actor): void {
  if (actor.kind === "anonymous") throw new AppError("UNAUTHENTICATED", "authentication required");
  if (!isPlatformAdmin(actor)) throw new AppError("FORBIDDEN", "platform administrators only");
}

export async function createTenant(
  deps: Deps,
  actor: Actor,
  raw: z.input<typeof createTenantInput>,
  meta: RequestMeta = {},
) {
  assertPlatformAdmin(actor);
  const input = parseInput(createTenantInput, raw);
  return deps.prisma.$transaction(async (tx) => {
    const tenant = await tx.tenant.create({
      data: { name: input.name, keyPrefix: input.keyPrefix ?? "kg" },
    });
    // The owner may already be a person with memberships elsewhere: that stays invisible here.
    const owner = await createMembership(
      tx,
      {
        tenantId: tenant.id,
        email: input.ownerEmail,
        role: "OWNER",
        permissions: [],
        isPlatformAdmin: input.platformAdmin ?? false,
      },
      "ownerEmail",
    );
    await recordAudit(tx, actor, {
      tenantId: tenant.id,
      action: "tenant.create",
      targetType: "Tenant",
      targetId: tenant.id,
      metadata: { ownerId: owner.id },
      ip: meta.ip,
      requestId: meta.requestId,
    });
    return { tenant, owner };
  });
}

/** `tenantId` is for the system actor (CLI) only; everyone else adds to their own tenant. */
export async function addUser(
  deps: Deps,
  actor: Actor,
  raw: z.input<typeof addUserInput>,
  meta: RequestMeta = {},
) {
  const input = parseInput(addUserInput, raw);
  const tenantId = input.tenantId;
  let targetTenant: string;
  if (actor.kind === "system") {
    if (!tenantId) throw AppError.validation("tenantId", "required");
    targetTenant = tenantId;
    if (!(await deps.prisma.tenant.findUnique({ where: { id: tenantId } }))) {
      throw new AppError("TENANT_NOT_FOUND", "tenant not found");
    }
  } else {
    const a = requireTenantActor(actor);
    requirePermission(a, "users:write");
    // Only people administer people: an API key cannot add users, an ADMIN cannot mint OWNERs.
    if (!isTenantAdmin(a)) throw new AppError("FORBIDDEN", "only owners and admins add users");
    if (input.role === "OWNER" && !(a.kind === "user" && a.role === "OWNER")) {
      throw new AppError("FORBIDDEN", "only owners add owners");
    }
    targetTenant = a.tenantId;
  }
  return deps.prisma.$transaction(async (tx) => {
    // Only this tenant's own members conflict: other tenants' memberships are invisible.
    const user = await createMembership(tx, {
      tenantId: targetTenant,
      email: input.email,
      name: input.name,
      role: input.role as Role,
      permissions: input.permissions,
    });
    await recordAudit(tx, actor, {
      tenantId: targetTenant,
      action: "user.add",
      targetType: "User",
      targetId: user.id,
      metadata: { role: user.role },
      ip: meta.ip,
      requestId: meta.requestId,
    });
    return user;
  });
}

/** First start on an empty database: tenant "Default" owned by ADMIN_EMAIL, a platform admin. */
export async function ensureDefaultTenant(
  deps: Deps,
): Promise<{ created: boolean; email: string }> {
  const email = deps.config.adminEmail;
  if ((await deps.prisma.tenant.count()) > 0) return { created: false, email };
  await createTenant(
    deps,
    { kind: "system" },
    { name: "Default", ownerEmail: email, platformAdmin: true },
  );
  return { created: true, email };
}

const updateTenantInput = z.object({
  name: z.string().trim().min(1, "must not be empty").max(200).nullable().optional(),
  keyPrefix: keyPrefixSchema.nullable().optional(),
});

/** Rename, or change the prefix of keys issued from now on (existing keys keep theirs). Owners and admins. */
export async function updateTenant(
  deps: Deps,
  actor: Actor,
  raw: z.input<typeof updateTenantInput>,
  meta: RequestMeta = {},
) {
  const a = requireTenantAdmin(actor);
  const input = parseInput(updateTenantInput, raw);
  return deps.prisma.$transaction(async (tx) => {
    const before = await tx.tenant.findUniqueOrThrow({ where: { id: a.tenantId } });
    const tenant = await tx.tenant.update({
      where: { id: a.tenantId },
      data: { name: input.name ?? undefined, keyPrefix: input.keyPrefix ?? undefined },
    });
    await recordAudit(tx, a, {
      tenantId: a.tenantId,
      action: "tenant.update",
      targetType: "Tenant",
      targetId: a.tenantId,
      metadata: {
        name: tenant.name,
        previousName: before.name,
        keyPrefix: tenant.keyPrefix,
        previousKeyPrefix: before.keyPrefix,
      },
      ip: meta.ip,
      requestId: meta.requestId,
    });
    return tenant;
  });
}

/**
 * Platform administrators suspend a tenant (every credential of it stops at once: keys,
 * exchange tokens, sessions; reversible) or delete it (soft: suspended for good, kept for the
 * audit trail). A deleted tenant cannot be resumed.
 */
export async function setTenantState(
  deps: Deps,
  actor: Actor,
  { id, state }: { id: string; state: "SUSPENDED" | "ACTIVE" | "DELETED" },
  meta: RequestMeta = {},
) {
  assertPlatformAdmin(actor);
  if (!z.uuid().safeParse(id).success) throw new AppError("TENANT_NOT_FOUND", "tenant not found");
  return deps.keys.transaction(deps.prisma, async (tx, announce) => {
    const current = await tx.tenant.findUnique({ where: { id } });
    if (!current || current.deletedAt) throw new AppError("TENANT_NOT_FOUND", "tenant not found");
    const now = new Date();
    const data =
      state === "ACTIVE"
        ? { suspendedAt: null }
        : state === "SUSPENDED"
          ? { suspendedAt: current.suspendedAt ?? now }
          : { suspendedAt: current.suspendedAt ?? now, deletedAt: now };
    const updated = await tx.tenant.update({ where: { id }, data });
    await announce({ t: "tenants", ids: [id] });
    await recordAudit(tx, actor, {
      tenantId: id,
      action:
        state === "ACTIVE"
          ? "tenant.resume"
          : state === "SUSPENDED"
            ? "tenant.suspend"
            : "tenant.delete",
      targetType: "Tenant",
      targetId: id,
      ip: meta.ip,
      requestId: meta.requestId,
    });
    return updated;
  });
}
