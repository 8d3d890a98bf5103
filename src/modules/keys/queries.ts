// Reading keys: masked listings and one key by id, inside the actor's scope.
import { requireTenantActor, type Actor } from "../../access/actor.ts";
import { requirePermission } from "../../access/permissions.ts";
import type { Deps } from "../../deps.ts";
import { AppError } from "../../errors.ts";
import type { ApiKey, Prisma as P } from "../../generated/prisma/client.ts";
import type { KeyKind } from "./generate.ts";
import { keyById, keyScope, uuid } from "./policy.ts";

export async function findKeys<Q extends Omit<P.ApiKeyFindManyArgs, "where" | "orderBy">>(
  deps: Deps,
  actor: Actor,
  filter: {
    status?: ApiKey["status"] | null;
    projectId?: string | null;
    ownerId?: string | null;
    kind?: KeyKind | null;
  },
  query: Q,
) {
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
  return deps.prisma.apiKey.findMany({
    ...query,
    where,
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
  });
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
