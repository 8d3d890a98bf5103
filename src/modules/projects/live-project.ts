// Credentials are inserted into a project only while it is live, decided inside the inserting
// transaction: a check made before it (or without a lock) loses to a concurrent delete.
import { confinedProject, type TenantActor } from "../../access/actor.ts";
import type { Prisma } from "../../db/client.ts";
import { AppError } from "../../errors.ts";

export type Tx = Parameters<Parameters<Prisma["$transaction"]>[0]>[0];

/**
 * Locks the live project row until the transaction ends (FOR SHARE). A delete that came first
 * makes this find nothing once it commits; a delete that comes later waits for this
 * transaction and then revokes what it inserted.
 */
export async function lockLiveProject(tx: Tx, tenantId: string, projectId: string): Promise<void> {
  const rows = await tx.$queryRaw<{ id: string }[]>`
    SELECT id FROM "Project"
    WHERE id = ${projectId}::uuid AND "tenantId" = ${tenantId}::uuid AND "deletedAt" IS NULL
    FOR SHARE`;
  if (rows.length === 0) throw new AppError("PROJECT_NOT_FOUND", "projectId: project not found");
}

/** The projects an actor may see: the tenant's live ones, or only its own for a project's key. */
export function visibleProjects(a: TenantActor): {
  tenantId: string;
  deletedAt: null;
  id?: string;
} {
  const own = confinedProject(a);
  return own
    ? { tenantId: a.tenantId, deletedAt: null, id: own }
    : { tenantId: a.tenantId, deletedAt: null };
}

/** A live project the actor may see; a foreign, deleted or out-of-scope id answers like an unknown one. */
export async function requireVisibleProject(prisma: Prisma, a: TenantActor, projectId: string) {
  const project = await prisma.project.findFirst({
    where: { AND: [visibleProjects(a), { id: projectId }] },
  });
  if (!project) throw new AppError("PROJECT_NOT_FOUND", "project not found");
  return project;
}
