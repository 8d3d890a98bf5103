// The administration commands that also run inside a live server: the CLI runs them on its own
// database, or sends them over the control socket to the server that holds the embedded one.
// Both transports call these, so the answer is the same either way.
import { system } from "./access/actor.ts";
import type { Deps } from "./deps.ts";
import { AppError } from "./errors.ts";
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
} satisfies Record<string, (deps: Deps, values: CommandValues) => Promise<string>>;

export type ServerCommand = keyof typeof serverCommands;

export function isServerCommand(name: string): name is ServerCommand {
  return Object.hasOwn(serverCommands, name);
}
