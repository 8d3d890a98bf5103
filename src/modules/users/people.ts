// People and their memberships. A person is one email address; each tenant they belong to
// holds a membership (a User row) with its own role and permissions. Whether an address has
// memberships elsewhere is never visible to a tenant: adding or inviting it answers the same.
import type { Tx } from "../projects/live-project.ts";
import { AppError } from "../../errors.ts";
import type { Role } from "../../generated/prisma/enums.ts";

export interface NewMembership {
  tenantId: string;
  email: string;
  name?: string | null;
  role: Role;
  permissions: string[];
  isPlatformAdmin?: boolean;
  /** An invitation: the membership counts only once accepted. Otherwise it begins now. */
  invitedById?: string | null;
  invited?: boolean;
}

const alreadyMember = (field: string) =>
  AppError.validation(field, "this address is already a member of this tenant");

/**
 * The person of an address, created on first use. Safe under concurrent calls: ON CONFLICT waits
 * for a concurrent insert of the address and then keeps it (Prisma's upsert would fail with a
 * unique violation on PostgreSQL instead).
 */
export async function ensurePerson(tx: Tx, email: string) {
  await tx.$executeRaw`
    INSERT INTO "Person" ("id", "email") VALUES (gen_random_uuid(), ${email})
    ON CONFLICT ("email") DO NOTHING`;
  return tx.person.findUniqueOrThrow({ where: { email } });
}

/**
 * Creates a membership in the given tenant, or gives a removed member a new one (same row:
 * their old keys stay revoked). A live or pending membership of this tenant is a conflict.
 */
export async function createMembership(tx: Tx, input: NewMembership, field = "email") {
  const person = await ensurePerson(tx, input.email);
  const now = new Date();
  const data = {
    name: input.name ?? null,
    role: input.role,
    permissions: input.role === "MEMBER" ? input.permissions : [],
    isPlatformAdmin: input.isPlatformAdmin ?? false,
    invitedAt: input.invited ? now : null,
    invitedById: input.invitedById ?? null,
    joinedAt: input.invited ? null : now,
    disabledAt: null,
    removedAt: null,
  };
  const existing = await tx.user.findUnique({
    where: { tenantId_personId: { tenantId: input.tenantId, personId: person.id } },
  });
  if (existing) {
    if (!existing.removedAt) throw alreadyMember(field);
    return tx.user.update({ where: { id: existing.id }, data });
  }
  try {
    return await tx.user.create({
      data: { ...data, tenantId: input.tenantId, personId: person.id, email: input.email },
    });
  } catch (error) {
    // Two concurrent adds of one address to one tenant: the unique index decides.
    if ((error as { code?: string }).code === "P2002") throw alreadyMember(field);
    throw error;
  }
}

/** Whether a membership may sign in and act: joined, not disabled, not removed, tenant live. */
export function membershipIsActive(user: {
  joinedAt: Date | null;
  disabledAt: Date | null;
  removedAt: Date | null;
  tenant: { suspendedAt: Date | null; deletedAt: Date | null };
}): boolean {
  return (
    user.joinedAt !== null &&
    !user.disabledAt &&
    !user.removedAt &&
    !user.tenant.suspendedAt &&
    !user.tenant.deletedAt
  );
}

/** The memberships a person can act in, most recently used first. */
export async function activeMemberships(tx: Tx, personId: string) {
  const rows = await tx.user.findMany({
    where: { personId, joinedAt: { not: null }, disabledAt: null, removedAt: null },
    include: { tenant: true },
    orderBy: [{ lastLoginAt: { sort: "desc", nulls: "last" } }, { createdAt: "asc" }],
  });
  return rows.filter(membershipIsActive);
}

/**
 * The membership a sign-in opens: the one in the chosen tenant, or else the person's most
 * recently used one. Null when the address has no membership it can act in.
 */
export async function membershipForSignIn(tx: Tx, email: string, tenantId?: string | null) {
  const person = await tx.person.findUnique({ where: { email } });
  if (!person) return null;
  const memberships = await activeMemberships(tx, person.id);
  if (tenantId) return memberships.find((m) => m.tenantId === tenantId) ?? null;
  return memberships[0] ?? null;
}
