// Permissions are `resource:action` strings with `*` and `resource:*` wildcards.
// One checker serves key verification, bearer API keys and Keygate's own operations.
import { AppError } from "../errors.ts";
import type { Actor } from "./actor.ts";

const permissionPattern = /^(\*|[a-z0-9][a-z0-9_.-]*:(\*|[a-z0-9][a-z0-9_.-]*))$/i;

export function isValidPermission(permission: string): boolean {
  return permissionPattern.test(permission);
}

/** Whether the granted set covers one required permission. */
export function grants(granted: readonly string[], required: string): boolean {
  const [resource] = required.split(":", 1);
  for (const g of granted) {
    if (g === "*" || g === required || g === `${resource}:*`) return true;
  }
  return false;
}

export function grantsAll(granted: readonly string[], required: readonly string[]): boolean {
  return required.every((r) => grants(granted, r));
}

/** Throws FORBIDDEN unless the actor holds the permission. The system actor holds all. */
export function requirePermission(actor: Actor, permission: string): void {
  if (actor.kind === "system") return;
  if (actor.kind === "anonymous") throw new AppError("UNAUTHENTICATED", "authentication required");
  if (!grants(actor.permissions, permission)) {
    throw new AppError("FORBIDDEN", `missing permission ${permission}`);
  }
}
