// Who is calling. Built once per request from its credentials; every service
// takes it and filters by its tenant.
import type { Role } from "../generated/prisma/enums.ts";
import { AppError } from "../errors.ts";

export interface UserActor {
  kind: "user";
  userId: string;
  tenantId: string;
  email: string;
  role: Role;
  isPlatformAdmin: boolean;
  /** Effective permissions: `*` for owners and admins. */
  permissions: string[];
  sessionId?: string;
  tokenId?: string;
}

export interface ApiKeyActor {
  kind: "apiKey";
  keyId: string;
  keyKind: "API_KEY" | "SECURE_API_KEY" | "PROJECT_KEY";
  tenantId: string;
  ownerId: string | null;
  /** A key that belongs to a project is confined to it: it sees and creates nothing outside. */
  projectId: string | null;
  /** The key's permissions, narrowed to its owner's current permissions for a user-bound key. */
  permissions: string[];
}

/** Trusted local callers: the CLI and the first-start bootstrap. */
export interface SystemActor {
  kind: "system";
}

export interface AnonymousActor {
  kind: "anonymous";
}

export type Actor = UserActor | ApiKeyActor | SystemActor | AnonymousActor;
export type TenantActor = UserActor | ApiKeyActor;

export const anonymous: AnonymousActor = { kind: "anonymous" };
export const system: SystemActor = { kind: "system" };

export function requireTenantActor(actor: Actor): TenantActor {
  if (actor.kind === "user" || actor.kind === "apiKey") return actor;
  throw new AppError("UNAUTHENTICATED", "authentication required");
}

export function isTenantAdmin(actor: Actor): boolean {
  return actor.kind === "user" && (actor.role === "OWNER" || actor.role === "ADMIN");
}

/** The owner or admin making the call; anyone else (keys included) is FORBIDDEN. */
export function requireTenantAdmin(actor: Actor): UserActor {
  const a = requireTenantActor(actor);
  if (a.kind !== "user" || !isTenantAdmin(a))
    throw new AppError("FORBIDDEN", "owners and admins only");
  return a;
}

export function isPlatformAdmin(actor: Actor): boolean {
  return actor.kind === "system" || (actor.kind === "user" && actor.isPlatformAdmin);
}

/** The project a credential is confined to, if any: people and unscoped keys have none. */
export function confinedProject(actor: Actor): string | null {
  return actor.kind === "apiKey" ? actor.projectId : null;
}

/**
 * Who administers a tenant's credentials: owners and admins, and integrator-level keys
 * (bound to no user and no project, holding `*`). Project keys and project-scoped keys never do.
 */
export function administersTenant(actor: Actor): boolean {
  if (actor.kind === "user") return actor.role === "OWNER" || actor.role === "ADMIN";
  if (actor.kind !== "apiKey") return false;
  return (
    actor.ownerId === null &&
    actor.projectId === null &&
    actor.keyKind !== "PROJECT_KEY" &&
    actor.permissions.includes("*")
  );
}

/** Tenant-level changes (projects, people, settings) are never made by a project's credential. */
export function requireUnconfined(actor: Actor): void {
  if (confinedProject(actor))
    throw new AppError("FORBIDDEN", "a project's key cannot change the tenant");
}

export function effectivePermissions(user: { role: Role; permissions: string[] }): string[] {
  return user.role === "MEMBER" ? user.permissions : ["*"];
}
