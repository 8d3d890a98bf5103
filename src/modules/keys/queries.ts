// Reading keys: masked listings and one key by id, inside the actor's scope.
import { requireTenantActor, type Actor } from "../../access/actor.ts";
import { requirePermission } from "../../access/permissions.ts";
import type { Deps } from "../../deps.ts";
import { AppError } from "../../errors.ts";
import type { ApiKey, Prisma as P } from "../../generated/prisma/client.ts";
import type { KeyKind } from "./generate.ts";
import { keyById, keyScope, uuid } from "./policy.ts";

export interface KeyListFilter {
  status?: ApiKey["status"] | null;
  projectId?: string | null;
  ownerId?: string | null;
  kind?: KeyKind | null;
}

/** The actor's keys matching the filter: the condition findKeys lists and countKeys counts. */
function keysWhere(actor: Actor, filter: KeyListFilter): P.ApiKeyWhereInput {
  const a = requireTenantActor(actor);
  requirePermission(a, "keys:read");
  for (const [field, value] of [
    ["projectId", filter.projectId],
    ["ownerId", filter.ownerId],
  ] as const) {
    if (value && !uuid.safeParse(value).success) throw AppError.validation(field, "must be a UUID");
  }
  const where: P.ApiKeyWhereInput = { AND: [keyScope(a)] };
  if (filter.status) where.status = filter.status;
  if (filter.projectId) where.projectId = filter.projectId;
  if (filter.ownerId) where.ownerId = filter.ownerId;
  if (filter.kind) where.kind = filter.kind;
  return where;
}

export async function findKeys<Q extends Omit<P.ApiKeyFindManyArgs, "where" | "orderBy">>(
  deps: Deps,
  actor: Actor,
  filter: KeyListFilter,
  query: Q,
) {
  return deps.prisma.apiKey.findMany({
    ...query,
    where: keysWhere(actor, filter),
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
  });
}

/** How many keys findKeys lists in all (a connection's totalCount). */
export async function countKeys(deps: Deps, actor: Actor, filter: KeyListFilter) {
  return deps.prisma.apiKey.count({ where: keysWhere(actor, filter) });
}

export async function findKey<Q extends Omit<P.ApiKeyFindFirstArgs, "where">>(
  deps: Deps,
  actor: Actor,
  id: string,
  query?: Q,
) {
  const a = requireTenantActor(actor);
  requirePermission(a, "keys:read");
  if (!uuid.safeParse(id).success) return null;
  return deps.prisma.apiKey.findFirst({ ...(query ?? {}), where: keyById(a, id) });
}
