// Who may see and change which keys. Every key query of every service starts from keyScope.
import { z } from "zod";
import { administersTenant, confinedProject, type TenantActor } from "../../access/actor.ts";
import type { Deps } from "../../deps.ts";
import { AppError } from "../../errors.ts";
import type { Prisma as P } from "../../generated/prisma/client.ts";

export const uuid = z.uuid("must be a UUID");

/** The user a tenant actor acts for (an API key acts for its owner, if any). */
export function selfUserId(a: TenantActor): string | null {
  return a.kind === "user" ? a.userId : a.ownerId;
}

/** Owners, admins and integrator-level keys administer every key of the tenant. */
export const administersKeys = administersTenant;

/**
 * The filter of every key query, as conditions that are only ever combined (AND), never
 * spread into an object where a later `id` or `projectId` could overwrite one. Administrators
 * see the tenant; members and their keys see the keys they own or made; a key bound to no
 * one sees the keys it minted; a key in a project sees nothing outside it.
 */
export function keyScope(a: TenantActor): P.ApiKeyWhereInput {
  if (administersKeys(a)) return { tenantId: a.tenantId };
  const conditions: P.ApiKeyWhereInput[] = [{ tenantId: a.tenantId }];
  const project = confinedProject(a);
  if (project) conditions.push({ projectId: project });
  const self = selfUserId(a);
  if (self) conditions.push({ OR: [{ ownerId: self }, { createdById: self }] });
  else if (a.kind === "apiKey") conditions.push({ createdByKeyId: a.keyId });
  else conditions.push({ id: { in: [] } });
  return { AND: conditions };
}

/** One key by id inside the actor's scope. */
export function keyById(a: TenantActor, id: string): P.ApiKeyWhereInput {
  return { AND: [keyScope(a), { id }] };
}

const keyNotFound = () => new AppError("KEY_NOT_FOUND", "key not found");

/** A key in the actor's scope, or KEY_NOT_FOUND: a foreign id answers like an unknown one. */
export async function findOwnKey(deps: Deps, a: TenantActor, id: string) {
  if (!uuid.safeParse(id).success) throw keyNotFound();
  const key = await deps.prisma.apiKey.findFirst({ where: keyById(a, id) });
  if (!key) throw keyNotFound();
  return key;
}
