// Extractor compatibility (seed 003): POST /api/v1/apikey issues a JWT-format key and
// answers an ApiKeyDto with int64 ids and epoch-millisecond times; PUT /api/v1/apikey/{id}
// changes a key's status and label. The routes are declared with their request and response
// schemas.
import { z } from "zod";
import { isPlatformAdmin, type TenantActor } from "../access/actor.ts";
import type { Deps } from "../deps.ts";
import { AppError } from "../errors.ts";
import type { ApiKey } from "../generated/prisma/client.ts";
import { requirePermission } from "../access/permissions.ts";
import {
  disableKey,
  enableKey,
  findKey,
  generateApiKey,
  keyScope,
  revokeKey,
  updateKey,
} from "../modules/keys/service.ts";
import { parseInput } from "../modules/validation.ts";
import { tenantActorOf } from "./actor.ts";
import { extractorEnvelope } from "./envelope.ts";
import { readJsonObject, requestMeta } from "./http.ts";
import { component, defineRoute, mountRoutes, routeGroup } from "./route.ts";

const extractorCreateBody = z.object({
  label: z
    .string({ error: "is required" })
    .max(200)
    .regex(/\S/, "must contain a non-space character"),
  status: z.enum(["ACTIVE", "DISABLED", "DELETED"]).optional(),
  tenantId: z
    .number({ error: "must be an integer" })
    .int("must be an integer")
    .positive()
    .optional(),
  lifetime: z
    .number({ error: "must be an integer" })
    .int("must be an integer")
    .min(1)
    .max(20 * 365 * 24 * 3600)
    .optional(),
});

/** `tenantId` only from a platform admin, or when it is the caller's own tenant. */
async function actingFor(
  deps: Deps,
  actor: TenantActor,
  tenantNumber?: number,
): Promise<{ actor: TenantActor; tenantNumber: bigint }> {
  const own = await deps.prisma.tenant.findUniqueOrThrow({ where: { id: actor.tenantId } });
  if (tenantNumber === undefined || BigInt(tenantNumber) === own.number)
    return { actor, tenantNumber: own.number };
  if (!isPlatformAdmin(actor))
    throw new AppError("FORBIDDEN", "tenantId: only a platform admin may act for another tenant");
  const target = await deps.prisma.tenant.findUnique({ where: { number: BigInt(tenantNumber) } });
  if (!target) throw new AppError("TENANT_NOT_FOUND", "tenantId: no such tenant");
  // The platform admin acts as an administrator of the target tenant for this one key.
  return {
    actor: {
      ...(actor as Extract<TenantActor, { kind: "user" }>),
      tenantId: target.id,
      role: "ADMIN",
      permissions: ["*"],
    },
    tenantNumber: target.number,
  };
}

const apiKeyDtoSchema = component(
  "ApiKeyDto",
  z.object({
    id: z.number().int(),
    createdAt: z.number().int(),
    updatedAt: z.number().int(),
    status: z.enum(["ACTIVE", "DISABLED", "DELETED"]),
    tenantId: z.number().int(),
    /** The key itself: only in the answer that creates it (a secret is shown once). */
    apiKey: z.string().optional(),
    label: z.string(),
    jti: z.string(),
    lifetime: z.number().int().optional(),
    expiresAt: z.number().int().optional(),
  }),
);

const extractorStatus = (apiKey: ApiKey) =>
  apiKey.status === "REVOKED" ? ("DELETED" as const) : apiKey.status;

function apiKeyDto(
  apiKey: ApiKey,
  key: string | undefined,
  tenantNumber: bigint,
): z.infer<typeof apiKeyDtoSchema> {
  const dto: z.infer<typeof apiKeyDtoSchema> = {
    id: Number(apiKey.number),
    createdAt: apiKey.createdAt.getTime(),
    updatedAt: apiKey.updatedAt.getTime(),
    status: extractorStatus(apiKey),
    tenantId: Number(tenantNumber),
    label: apiKey.name,
    jti: apiKey.jti,
  };
  if (key !== undefined) dto.apiKey = key;
  // int64 fields are not nullable in the contract: absent rather than null.
  if (apiKey.lifetime !== null) dto.lifetime = apiKey.lifetime;
  if (apiKey.expiresAt) dto.expiresAt = apiKey.expiresAt.getTime();
  return dto;
}

const create = defineRoute({
  method: "post",
  path: "/api/v1/apikey",
  operationId: "extractorCreateApiKey",
  summary: "Generate a JWT API key",
  security: ["bearer"],
  signing: ["keygate"],
  request: { body: extractorCreateBody },
  responses: { 200: { description: "OK", json: apiKeyDtoSchema } },
  handler: async (c, deps) => {
    const caller = await tenantActorOf(deps, c);
    const body = parseInput(extractorCreateBody, await readJsonObject(c));
    const { actor, tenantNumber } = await actingFor(deps, caller, body.tenantId);
    const { apiKey, key } = await generateApiKey(
      deps,
      actor,
      {
        name: body.label,
        lifetime: body.lifetime ?? null,
        status: body.status ?? "ACTIVE",
        format: "JWT",
      },
      requestMeta(c),
    );
    c.header("Cache-Control", "no-store");
    return c.json(apiKeyDto(apiKey, key, tenantNumber));
  },
});

const extractorUpdateBody = z
  .object({
    status: z
      .enum(["ACTIVE", "DISABLED", "DELETED"], { error: "must be ACTIVE, DISABLED or DELETED" })
      .optional(),
    label: z
      .string({ error: "must be a string" })
      .max(200)
      .regex(/\S/, "must contain a non-space character")
      .optional(),
  })
  .refine((body) => body.status !== undefined || body.label !== undefined, {
    message: "give status or label",
    path: ["status"],
  });

const keyNotFound = () => new AppError("KEY_NOT_FOUND", "key not found");

/** The key's id from its int64 number, inside the caller's key scope (a foreign number is unknown). */
async function keyIdOf(deps: Deps, actor: TenantActor, number: string): Promise<string> {
  if (!/^[1-9]\d{0,17}$/.test(number)) throw keyNotFound();
  const key = await deps.prisma.apiKey.findFirst({
    where: { AND: [keyScope(actor), { number: BigInt(number) }] },
    select: { id: true },
  });
  if (!key) throw keyNotFound();
  return key.id;
}

// DELETED revokes the key (for good); DISABLED and ACTIVE switch it off and on. The same
// services as GraphQL's revokeKey, disableKey, enableKey and updateKey, with their tenant rules.
const update = defineRoute({
  method: "put",
  path: "/api/v1/apikey/:id",
  operationId: "extractorUpdateApiKey",
  summary: "Change a key's status (ACTIVE, DISABLED, DELETED) and label",
  description:
    "DELETED revokes the key for good. The answer is the key's ApiKeyDto without `apiKey` (the key is shown only when created).",
  security: ["bearer"],
  signing: ["keygate"],
  request: {
    params: z.object({ id: z.string().describe("The key's int64 id (ApiKeyDto.id)") }),
    body: extractorUpdateBody,
  },
  responses: { 200: { description: "OK", json: apiKeyDtoSchema } },
  handler: async (c, deps) => {
    const actor = await tenantActorOf(deps, c);
    requirePermission(actor, "keys:write");
    const body = parseInput(extractorUpdateBody, await readJsonObject(c));
    const id = await keyIdOf(deps, actor, c.req.param("id") ?? "");
    const meta = requestMeta(c);
    let key = await findKey(deps, actor, id);
    if (!key) throw keyNotFound();
    if (body.label !== undefined && body.label !== key.name)
      key = await updateKey(deps, actor, { id, name: body.label }, meta);
    if (body.status !== undefined && body.status !== extractorStatus(key)) {
      if (body.status === "DELETED")
        key = await revokeKey(deps, actor, { id, reason: "Extractor: status DELETED" }, meta);
      else if (body.status === "DISABLED") key = await disableKey(deps, actor, { id }, meta);
      else key = await enableKey(deps, actor, { id }, meta);
    }
    const tenant = await deps.prisma.tenant.findUniqueOrThrow({ where: { id: actor.tenantId } });
    return c.json(apiKeyDto(key, undefined, tenant.number));
  },
});

export const extractorApi = routeGroup("Extractor", extractorEnvelope, [create, update]);

export const extractorRoutes = (deps: Deps) => mountRoutes(deps, extractorApi);
