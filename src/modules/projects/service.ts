// Projects group keys and key pairs inside a tenant.
import { z } from "zod";
import {
  requireTenantActor,
  requireUnconfined,
  type Actor,
  type TenantActor,
} from "../../access/actor.ts";
import { requirePermission } from "../../access/permissions.ts";
import type { Deps, RequestMeta } from "../../deps.ts";
import { AppError } from "../../errors.ts";
import type { Prisma as P } from "../../generated/prisma/client.ts";
import { recordAudit } from "../audit/service.ts";
import { administersKeys } from "../keys/service.ts";
import { visibleProjects } from "./live-project.ts";
import { parseInput } from "../validation.ts";

const name = z.string().trim().min(1, "must not be empty").max(200);
const description = z.string().trim().max(2000);

const createInput = z.object({ name, description: description.optional().nullable() });
const updateInput = z.object({
  id: z.uuid(),
  name: name.optional().nullable(),
  description: description.optional().nullable(),
});

/**
 * The filter every project query carries: a foreign id is an unknown id, and a project's key
 * sees its own project only. Combined with AND, so that no `id` can overwrite it.
 */
function scoped(a: TenantActor, where: P.ProjectWhereInput = {}): P.ProjectWhereInput {
  return { AND: [visibleProjects(a), where] };
}

export async function findProjects<Q extends Omit<P.ProjectFindManyArgs, "where">>(
  deps: Deps,
  actor: Actor,
  query: Q,
) {
  const a = requireTenantActor(actor);
  requirePermission(a, "projects:read");
  return deps.prisma.project.findMany({
    ...query,
    where: scoped(a),
    orderBy: { createdAt: "asc" },
  });
}

/** How many projects findProjects lists (a connection's totalCount). */
export async function countProjects(deps: Deps, actor: Actor) {
  const a = requireTenantActor(actor);
  requirePermission(a, "projects:read");
  return deps.prisma.project.count({ where: scoped(a) });
}

/** Null for an unknown or foreign id. */
export async function findProject<Q extends Omit<P.ProjectFindFirstArgs, "where">>(
  deps: Deps,
  actor: Actor,
  id: string,
  query?: Q,
) {
  const a = requireTenantActor(actor);
  requirePermission(a, "projects:read");
  if (!z.uuid().safeParse(id).success) return null;
  return deps.prisma.project.findFirst({ ...(query ?? {}), where: scoped(a, { id }) });
}

export async function createProject(
  deps: Deps,
  actor: Actor,
  raw: z.input<typeof createInput>,
  meta: RequestMeta = {},
) {
  const a = requireTenantActor(actor);
  requirePermission(a, "projects:write");
  requireUnconfined(a);
  const input = parseInput(createInput, raw);
  return deps.prisma.$transaction(async (tx) => {
    const project = await tx.project.create({
      data: { tenantId: a.tenantId, name: input.name, description: input.description ?? null },
    });
    await recordAudit(tx, a, {
      tenantId: a.tenantId,
      action: "project.create",
      targetType: "Project",
      targetId: project.id,
      ip: meta.ip,
      requestId: meta.requestId,
    });
    return project;
  });
}

export async function updateProject(
  deps: Deps,
  actor: Actor,
  raw: z.input<typeof updateInput>,
  meta: RequestMeta = {},
) {
  const a = requireTenantActor(actor);
  requirePermission(a, "projects:write");
  requireUnconfined(a);
  const input = parseInput(updateInput, raw);
  return deps.prisma.$transaction(async (tx) => {
    const data: P.ProjectUpdateManyMutationInput = {};
    if (input.name != null) data.name = input.name;
    if (input.description !== undefined) data.description = input.description;
    const { count } = await tx.project.updateMany({ where: scoped(a, { id: input.id }), data });
    if (count === 0) throw new AppError("PROJECT_NOT_FOUND", "project not found");
    await recordAudit(tx, a, {
      tenantId: a.tenantId,
      action: "project.update",
      targetType: "Project",
      targetId: input.id,
      ip: meta.ip,
      requestId: meta.requestId,
    });
    return tx.project.findUniqueOrThrow({ where: { id: input.id } });
  });
}

/** Soft delete: the project disappears and every credential in it is revoked, in one transaction. */
export async function deleteProject(deps: Deps, actor: Actor, id: string, meta: RequestMeta = {}) {
  const a = requireTenantActor(actor);
  requirePermission(a, "projects:write");
  requireUnconfined(a);
  if (!z.uuid().safeParse(id).success) throw new AppError("PROJECT_NOT_FOUND", "project not found");
  const live = {
    tenantId: a.tenantId,
    projectId: id,
    status: { in: ["ACTIVE" as const, "DISABLED" as const] },
  };
  return deps.keys.transaction(deps.prisma, async (tx, announce) => {
    const now = new Date();
    const { count } = await tx.project.updateMany({
      where: scoped(a, { id }),
      data: { deletedAt: now },
    });
    if (count === 0) throw new AppError("PROJECT_NOT_FOUND", "project not found");
    const keys = await tx.apiKey.findMany({ where: live, select: { id: true } });
    const pairs = await tx.keyPair.count({ where: live });
    // Deleting revokes every credential in the project: only those who could revoke them all may.
    if ((keys.length || pairs) && !administersKeys(a)) {
      throw new AppError(
        "FORBIDDEN",
        "the project holds live credentials: an owner or admin must delete it",
      );
    }
    const revoked = {
      status: "REVOKED" as const,
      revokedAt: now,
      revokeReason: "project deleted",
      revokedById: a.kind === "user" ? a.userId : null,
    };
    await tx.apiKey.updateMany({ where: live, data: revoked });
    await tx.keyPair.updateMany({ where: live, data: revoked });
    await announce({ t: "keys", ids: keys.map((k) => k.id) });
    await recordAudit(tx, a, {
      tenantId: a.tenantId,
      action: "project.delete",
      targetType: "Project",
      targetId: id,
      metadata: { revokedKeys: keys.length, revokedKeyPairs: pairs },
      ip: meta.ip,
      requestId: meta.requestId,
    });
    return tx.project.findUniqueOrThrow({ where: { id } });
  });
}
