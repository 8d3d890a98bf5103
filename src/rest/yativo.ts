// Yativo compatibility (seed 002): API keys with a secret, traded for 60-minute bearer tokens.
// Each route is declared with its request and response schemas.
import { z } from "zod";
import type { Deps } from "../deps.ts";
import { exchangeApiKey, EXCHANGE_TOKEN_TTL_SECONDS } from "../modules/keys/exchange.ts";
import { generateSecureApiKey } from "../modules/keys/service.ts";
import { parseInput } from "../modules/validation.ts";
import { tenantActorOf } from "./actor.ts";
import { yativoEnvelope } from "./envelope.ts";
import { readJsonObject, requestMeta } from "./http.ts";
import { defineRoute, mountRoutes, type RestContext, routeGroup } from "./route.ts";

/** The scopes Yativo documents; omitting `permissions` grants them all. */
const yativoScopes = [
  "transactions:read",
  "transactions:write",
  "accounts:read",
  "accounts:write",
  "webhooks:manage",
  "analytics:read",
] as const;

/** Yativo's documented defaults for a new key. */
const yativoRateLimit = {
  requests_per_minute: 60,
  requests_per_hour: 3000,
  requests_per_day: 50000,
};

const yativoGenerateBody = z.object({
  name: z.string({ error: "is required" }).trim().min(1, "must not be empty").max(200),
  permissions: z
    .array(z.enum(yativoScopes, { error: `must be one of ${yativoScopes.join(", ")}` }))
    .max(yativoScopes.length)
    .optional(),
  expires_at: z.iso
    .datetime({ offset: true, error: "must be an ISO 8601 timestamp" })
    .nullable()
    .optional(),
});

const yativoTokenBody = z.object({
  api_key: z.string({ error: "is required" }).min(1, "is required").max(4096),
  api_secret: z.string({ error: "is required" }).min(1, "is required").max(256),
});

const yativoGenerateAnswer = z.object({
  success: z.literal(true),
  message: z.literal("API key generated successfully"),
  warning: z.string(),
  data: z.object({
    key_id: z.string(),
    api_key: z.string(),
    api_secret: z.string(),
    key_name: z.string(),
    name: z.string(),
    scopes: z.array(z.string()),
    permissions: z.array(z.string()),
    expires_at: z.iso.datetime().nullable(),
    created_at: z.iso.datetime(),
    rate_limit: z.object({
      requests_per_minute: z.number().int(),
      requests_per_hour: z.number().int(),
      requests_per_day: z.number().int(),
    }),
    token_expiry_minutes: z.literal(EXCHANGE_TOKEN_TTL_SECONDS / 60),
  }),
});

// The flat shape Yativo documents for the token exchange.
const yativoTokenAnswer = z.object({
  success: z.literal(true),
  access_token: z.string(),
  token_type: z.literal("Bearer"),
  expires_in: z.number().int(),
  expires_at: z.iso.datetime(),
  scopes: z.array(z.string()),
});

async function generateKey(c: RestContext, deps: Deps) {
  const actor = await tenantActorOf(deps, c);
  const body = parseInput(yativoGenerateBody, await readJsonObject(c));
  const scopes = body.permissions ? [...new Set(body.permissions)] : [...yativoScopes];
  const { key, secret, apiKey } = await generateSecureApiKey(
    deps,
    actor,
    {
      name: body.name,
      permissions: scopes,
      expiresAt: body.expires_at ? new Date(body.expires_at) : null,
      rateLimit: {
        perMinute: yativoRateLimit.requests_per_minute,
        perHour: yativoRateLimit.requests_per_hour,
        perDay: yativoRateLimit.requests_per_day,
      },
    },
    requestMeta(c),
  );
  c.header("Cache-Control", "no-store");
  const answer: z.infer<typeof yativoGenerateAnswer> = {
    success: true,
    message: "API key generated successfully",
    warning: "Save the API Secret securely. It will not be shown again!",
    data: {
      key_id: apiKey.id,
      api_key: key,
      api_secret: secret,
      key_name: apiKey.name,
      name: apiKey.name,
      scopes: apiKey.permissions,
      permissions: apiKey.permissions,
      expires_at: apiKey.expiresAt?.toISOString() ?? null,
      created_at: apiKey.createdAt.toISOString(),
      rate_limit: yativoRateLimit,
      token_expiry_minutes: EXCHANGE_TOKEN_TTL_SECONDS / 60,
    },
  };
  return c.json(answer);
}

// Yativo documents key generation under both prefixes.
const generateRoute = (path: string, operationId: string) =>
  defineRoute({
    method: "post",
    path,
    operationId,
    summary: "Create an API key and secret",
    security: ["bearer"],
    signing: ["keygate"],
    request: { body: yativoGenerateBody },
    responses: { 200: { description: "key and secret, once", json: yativoGenerateAnswer } },
    handler: generateKey,
  });

async function exchange(c: RestContext, deps: Deps) {
  const body = parseInput(yativoTokenBody, await readJsonObject(c));
  const token = await exchangeApiKey(
    deps,
    { apiKey: body.api_key, apiSecret: body.api_secret },
    requestMeta(c),
  );
  c.header("Cache-Control", "no-store");
  const answer: z.infer<typeof yativoTokenAnswer> = {
    success: true,
    access_token: token.accessToken,
    token_type: token.tokenType,
    expires_in: token.expiresIn,
    expires_at: token.expiresAt.toISOString(),
    scopes: token.scopes,
  };
  return c.json(answer);
}

// The exchange is documented (by Yativo and its clients) under three prefixes: all work.
const tokenRoute = (path: string, operationId: string) =>
  defineRoute({
    method: "post",
    path,
    operationId,
    summary: "Trade api_key + api_secret for a bearer token valid 60 minutes",
    description:
      "A wrong key or secret answers 401 with `success: false`. The token carries the key's permissions as `scopes`.",
    request: { body: yativoTokenBody },
    responses: { 200: { description: "token", json: yativoTokenAnswer } },
    handler: exchange,
  });

export const yativoApi = routeGroup("Yativo", yativoEnvelope, [
  generateRoute("/api/v1/apikey/generate", "yativoGenerateApiKey"),
  generateRoute("/api/apikey/generate", "yativoGenerateApiKeyUnversioned"),
  tokenRoute("/auth/token", "yativoToken"),
  tokenRoute("/api/auth/token", "yativoTokenApi"),
  tokenRoute("/api/v1/auth/token", "yativoTokenApiV1"),
]);

export const yativoRoutes = (deps: Deps) => mountRoutes(deps, yativoApi);
