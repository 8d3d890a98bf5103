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
  tenantId: string;
  ownerId: string | null;
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

export function isPlatformAdmin(actor: Actor): boolean {
  return actor.kind === "system" || (actor.kind === "user" && actor.isPlatformAdmin);
}

export function effectivePermissions(user: { role: Role; permissions: string[] }): string[] {
  return user.role === "MEMBER" ? user.permissions : ["*"];
}
