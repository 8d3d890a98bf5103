// Extractor compatibility (seed 003): POST /api/v1/apikey issues a JWT-format key and
// answers an ApiKeyDto with int64 ids and epoch-millisecond times. The route is declared with its
// request and response schemas.
import { z } from "zod";
import { isPlatformAdmin, type TenantActor } from "../access/actor.ts";
import type { Deps } from "../deps.ts";
import { AppError } from "../errors.ts";
import type { ApiKey } from "../generated/prisma/client.ts";
import { generateApiKey } from "../modules/keys/service.ts";
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
    apiKey: z.string(),
    label: z.string(),
    jti: z.string(),
    lifetime: z.number().int().optional(),
    expiresAt: z.number().int().optional(),
  }),
);

function apiKeyDto(
  apiKey: ApiKey,
  key: string,
  tenantNumber: bigint,
): z.infer<typeof apiKeyDtoSchema> {
  const dto: z.infer<typeof apiKeyDtoSchema> = {
    id: Number(apiKey.number),
    createdAt: apiKey.createdAt.getTime(),
    updatedAt: apiKey.updatedAt.getTime(),
    status: apiKey.status === "REVOKED" ? "DELETED" : apiKey.status,
    tenantId: Number(tenantNumber),
    apiKey: key,
    label: apiKey.name,
    jti: apiKey.jti,
  };
  // int64 fields are not nullable in the contract: absent rather than null.
  if (apiKey.lifetime !== null) dto.lifetime = apiKey.lifetime;
  if (apiKey.expiresAt) dto.expiresAt = apiKey.expiresAt.getTime();
  return dto;
}

const create = defineRoute({
  method: "post",
  path: "/api/v1/apikey",
  summary: "Generate a JWT API key",
  security: ["bearer"],
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

export const extractorApi = routeGroup("Extractor", extractorEnvelope, [create]);

export const extractorRoutes = (deps: Deps) => mountRoutes(deps, extractorApi);
