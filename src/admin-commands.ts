// The administration commands that also run inside a live server: the CLI runs them on its own
// database, or sends them over the control socket to the server that holds the embedded one.
// Both transports call these, so the answer is the same either way.
import { system } from "./access/actor.ts";
import type { Deps } from "./deps.ts";
import { AppError } from "./errors.ts";
import { masked } from "./crypto/key-format.ts";
import { revokeKey } from "./modules/keys/service.ts";
import { addUser, createTenant } from "./modules/tenants/service.ts";

export type CommandValues = Record<string, string | boolean | undefined>;

function required(values: CommandValues, name: string): string {
  const value = values[name];
  if (typeof value !== "string" || !value)
    throw new AppError("VALIDATION_FAILED", `--${name} is required`);
  return value;
}

function optional(values: CommandValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === "string" ? value : undefined;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const KEY_STATUSES = ["ACTIVE", "DISABLED", "REVOKED", "DELETED"] as const;

/** The tenant named by --tenant, or TENANT_NOT_FOUND. */
async function tenantOf(deps: Deps, values: CommandValues) {
  const id = required(values, "tenant");
  if (!UUID.test(id)) throw AppError.validation("--tenant", "must be a UUID");
  const tenant = await deps.prisma.tenant.findUnique({ where: { id }, select: { id: true } });
  if (!tenant) throw new AppError("TENANT_NOT_FOUND", "tenant not found");
  return tenant.id;
}

/** Each returns the line the CLI prints. */
export const serverCommands = {
  async "tenant create"(deps: Deps, values: CommandValues): Promise<string> {
    const { tenant, owner } = await createTenant(deps, system, {
      name: required(values, "name"),
      ownerEmail: required(values, "owner-email"),
      keyPrefix: optional(values, "key-prefix"),
      platformAdmin: values["platform-admin"] === true,
    });
    return JSON.stringify({
      tenantId: tenant.id,
      tenantNumber: Number(tenant.number),
      ownerId: owner.id,
      ownerEmail: owner.email,
    });
  },
  async "user add"(deps: Deps, values: CommandValues): Promise<string> {
    const permissions = optional(values, "permissions");
    const user = await addUser(deps, system, {
      email: required(values, "email"),
      role: (optional(values, "role")?.toUpperCase() ?? "MEMBER") as "MEMBER",
      permissions: permissions ? permissions.split(",").filter(Boolean) : [],
      tenantId: required(values, "tenant"),
    });
    return JSON.stringify({ userId: user.id, email: user.email, role: user.role });
  },
  /** Masked keys only: the CLI never shows a key, a hash or a secret. */
  async "keys list"(deps: Deps, values: CommandValues): Promise<string> {
    const tenantId = await tenantOf(deps, values);
    const status = optional(values, "status")?.toUpperCase();
    if (status && !(KEY_STATUSES as readonly string[]).includes(status))
      throw AppError.validation("--status", `one of ${KEY_STATUSES.join(", ")}`);
    const keys = await deps.prisma.apiKey.findMany({
      where: { AND: [{ tenantId }, status ? { status: status as "ACTIVE" } : {}] },
      select: {
        id: true,
        name: true,
        kind: true,
        status: true,
        start: true,
        end: true,
        ownerId: true,
        projectId: true,
        permissions: true,
        expiresAt: true,
        lastUsedAt: true,
        createdAt: true,
      },
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    });
    return keys
      .map(({ start, end, ...k }) => JSON.stringify({ ...k, masked: masked(start, end) }))
      .join("\n");
  },
  async "keys revoke"(deps: Deps, values: CommandValues): Promise<string> {
    const tenantId = await tenantOf(deps, values);
    const key = await revokeKey(deps, system, {
      tenantId,
      id: required(values, "id"),
      reason: optional(values, "reason"),
    });
    return JSON.stringify({
      id: key.id,
      status: key.status,
      revokedAt: key.revokedAt,
      masked: masked(key.start, key.end),
    });
  },
  async "members list"(deps: Deps, values: CommandValues): Promise<string> {
    const tenantId = await tenantOf(deps, values);
    const users = await deps.prisma.user.findMany({
      where: { tenantId },
      select: {
        id: true,
        email: true,
        name: true,
        role: true,
        permissions: true,
        disabledAt: true,
        removedAt: true,
        invitedAt: true,
        joinedAt: true,
        lastLoginAt: true,
      },
      orderBy: [{ createdAt: "asc" }, { id: "asc" }],
    });
    return users.map((u) => JSON.stringify(u)).join("\n");
  },
} satisfies Record<string, (deps: Deps, values: CommandValues) => Promise<string>>;

export type ServerCommand = keyof typeof serverCommands;

export function isServerCommand(name: string): name is ServerCommand {
  return Object.hasOwn(serverCommands, name);
}
