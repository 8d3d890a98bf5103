// GET /openapi.json: an OpenAPI 3.1 document of every REST route, request bodies generated
// from the same zod schemas the routes validate with. GET /docs renders it with Swagger UI
// served from node_modules (no CDN).
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { Hono } from "hono";
import { z } from "zod";
import { verifyCodes } from "../modules/keys/verify.ts";
import { companyGenerateBody } from "./company.ts";
import { extractorCreateBody } from "./extractor.ts";
import { verifyBody } from "../modules/keys/verify-request.ts";
import { yativoGenerateBody, yativoTokenBody } from "./yativo.ts";

type Schema = Record<string, unknown>;

const bodySchema = (schema: z.ZodType): Schema => z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as Schema;
const json = (schema: Schema) => ({ "application/json": { schema } });
const obj = (properties: Record<string, Schema>, required = Object.keys(properties), extra: Schema = {}): Schema => ({
  type: "object",
  properties,
  required,
  ...extra,
});
const str: Schema = { type: "string" };
const nullableStr: Schema = { type: ["string", "null"] };
const int: Schema = { type: "integer" };
const bool: Schema = { type: "boolean" };
const dateTime: Schema = { type: "string", format: "date-time" };

const kotani = (data: Schema, message?: string): Schema =>
  obj({ success: { type: "boolean", const: true }, message: message ? { type: "string", const: message } : str, data });
const kotaniFailure = obj({ success: { type: "boolean", const: false }, message: str, data: obj({}, []) });
const kotaniErrors = {
  "400": { description: "Bad Request", content: json(kotaniFailure) },
  "403": { description: "Unauthorized", content: json(kotaniFailure) },
  "404": { description: "Invalid Api Key", content: json(kotaniFailure) },
  "429": { description: "Too Many Requests", content: json(kotaniFailure) },
  "500": { description: "Internal Server Error", content: json(kotaniFailure) },
};
const sessionData = obj({ user_id: str, session_id: str, token_id: str, token: str, refresh_token: str });

const yativoFailure = obj({ success: { type: "boolean", const: false }, message: str, error: obj({ code: str }), errors: { type: "object" } }, ["success", "message", "error"]);
const yativoErrors = Object.fromEntries(["400", "401", "403", "429", "500"].map((s) => [s, { description: s, content: json(yativoFailure) }]));
const extractorFailure = obj({ status: int, error: str, message: str });
const extractorErrors = Object.fromEntries(["400", "401", "403", "404", "429", "500"].map((s) => [s, { description: s, content: json(extractorFailure) }]));
const companyFailure = obj({ success: { type: "boolean", const: false }, code: int, errorMessage: str });
const companyErrors = Object.fromEntries(["400", "401", "403", "404", "429", "500"].map((s) => [s, { description: s, content: json(companyFailure) }]));

const bearer = [{ bearer: [] }];

export const schemas = {
  VerifyAnswer: obj({
    valid: bool,
    code: { type: "string", enum: [...verifyCodes] },
    keyId: nullableStr,
    tenantId: nullableStr,
    ownerId: nullableStr,
    projectId: nullableStr,
    name: nullableStr,
    permissions: { type: "array", items: str },
    expiresAt: { type: ["string", "null"], format: "date-time" },
    ratelimit: { oneOf: [{ type: "null" }, obj({ limit: int, remaining: int, reset: int })] },
  }),
  NativeError: obj({ error: obj({ code: str, message: str, fields: { type: "array" }, requestId: str }, ["code", "message"]) }),
  ApiKeyDto: obj(
    {
      id: int,
      createdAt: int,
      updatedAt: int,
      status: { type: "string", enum: ["ACTIVE", "DISABLED", "DELETED"] },
      tenantId: int,
      apiKey: str,
      label: str,
      lifetime: int,
      expiresAt: int,
      jti: str,
    },
    ["id", "createdAt", "updatedAt", "status", "tenantId", "apiKey", "label", "jti"],
  ),
};

export function openApiDocument(): Schema {
  return {
    openapi: "3.1.0",
    info: {
      title: "Keygate REST API",
      version: "0.1.0",
      description:
        "Keygate's native verification route and the vendor-compatible routes (Kotani Pay, Yativo, Extractor, company project keys). GraphQL is served at /graphql.",
    },
    components: {
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer", description: "A session JWT, an exchange token, or an API key (secure keys also send Keygate-Signature)." },
        refreshToken: { type: "apiKey", in: "header", name: "refresh_token", description: "Or `Authorization: Bearer <refresh token>`, or the `refresh_token` query parameter." },
      },
      schemas,
    },
    paths: {
      "/healthz": { get: { summary: "Process up", responses: { "200": { description: "up", content: json(obj({ status: { const: "ok" } })) } } } },
      "/readyz": {
        get: {
          summary: "Database answers",
          responses: {
            "200": { description: "ready", content: json(obj({ status: str, database: str })) },
            "503": { description: "unavailable", content: json(obj({ status: str, database: str })) },
          },
        },
      },
      "/v1/keys/verify": {
        post: {
          tags: ["Keygate"],
          summary: "Verify a key (for the services behind the gateway)",
          description: "Always 200 with valid and code. A caller signed in to a tenant sees only its tenant's keys.",
          requestBody: { required: true, content: json(bodySchema(verifyBody)) },
          responses: {
            "200": { description: "verification result", content: json({ $ref: "#/components/schemas/VerifyAnswer" }) },
            "400": { description: "bad body", content: json({ $ref: "#/components/schemas/NativeError" }) },
            "401": { description: "bad credentials", content: json({ $ref: "#/components/schemas/NativeError" }) },
          },
        },
      },
      "/api/v3/auth/login": {
        post: {
          tags: ["Kotani Pay"],
          summary: "Request a magic link (same answer for unknown emails)",
          requestBody: { required: true, content: json(obj({ email: { type: "string", format: "email" } })) },
          responses: { "200": { description: "sent", content: json(kotani(obj({}, []), "login magic link sent to your email")) }, ...kotaniErrors },
        },
      },
      "/api/v3/auth/verify": {
        get: {
          tags: ["Kotani Pay"],
          summary: "Open a magic link",
          description: "`Accept: application/json`: consumes the link and returns the tokens. Anything else (browsers, mail scanners): a confirmation page that consumes nothing.",
          parameters: [{ name: "hash", in: "query", required: true, schema: str }],
          responses: {
            "200": { description: "tokens, or the confirmation page", content: { ...json(kotani(sessionData, "ok")), "text/html": { schema: str } } },
            ...kotaniErrors,
          },
        },
        post: {
          tags: ["Kotani Pay"],
          summary: "Consume a magic link (the confirmation page's button)",
          requestBody: {
            required: true,
            content: { ...json(obj({ hash: str })), "application/x-www-form-urlencoded": { schema: obj({ hash: str }) } },
          },
          responses: { "200": { description: "tokens", content: { ...json(kotani(sessionData, "ok")), "text/html": { schema: str } } }, ...kotaniErrors },
        },
      },
      "/api/v3/auth/refresh-token": {
        get: {
          tags: ["Kotani Pay"],
          summary: "Rotate the refresh token",
          description: "The refresh token may come as `Authorization: Bearer <refresh token>`, the `refresh_token` query parameter, or a `refresh_token` header. Replaying a used one ends the session.",
          parameters: [
            { name: "refresh_token", in: "query", required: false, schema: str },
            { name: "refresh_token", in: "header", required: false, schema: str },
          ],
          security: [{ refreshToken: [] }, { bearer: [] }],
          responses: { "200": { description: "new tokens", content: json(kotani(sessionData, "ok")) }, ...kotaniErrors },
        },
      },
      "/api/v3/auth/api-key": {
        get: {
          tags: ["Kotani Pay"],
          summary: "Generate an API key (integrator-level for owners and admins, user-bound otherwise)",
          security: bearer,
          responses: { "200": { description: "the key, once", content: json(kotani(obj({ key: str }), "Api-key generated successfully")) }, ...kotaniErrors },
        },
      },
      "/api/v3/auth/api-key/secure": {
        get: {
          tags: ["Kotani Pay"],
          summary: "Generate an API key and a signing secret",
          security: bearer,
          responses: { "200": { description: "key and secret, once", content: json(kotani(obj({ key: str, secret: str }), "Api-key generated successfully")) }, ...kotaniErrors },
        },
      },
      "/api/v3/health": {
        get: {
          tags: ["Kotani Pay"],
          summary: "Health, for a bearer JWT or a bearer API key",
          security: bearer,
          responses: { "200": { description: "up", content: json(kotani(obj({ status: str, time: dateTime, tenant_id: str, auth: { enum: ["jwt", "api_key"] } }), "ok")) }, ...kotaniErrors },
        },
      },
      "/api/v1/apikey/generate": {
        post: {
          tags: ["Yativo"],
          summary: "Create an API key and secret",
          security: bearer,
          requestBody: { required: true, content: json(bodySchema(yativoGenerateBody)) },
          responses: {
            "200": {
              description: "key and secret, once",
              content: json(
                obj({
                  success: { const: true },
                  message: { const: "API key generated successfully" },
                  warning: str,
                  data: obj({
                    key_id: str,
                    api_key: str,
                    api_secret: str,
                    key_name: str,
                    name: str,
                    scopes: { type: "array", items: str },
                    permissions: { type: "array", items: str },
                    expires_at: { type: ["string", "null"], format: "date-time" },
                    created_at: dateTime,
                    rate_limit: obj({ requests_per_minute: int, requests_per_hour: int, requests_per_day: int }),
                    token_expiry_minutes: { const: 60 },
                  }),
                }),
              ),
            },
            ...yativoErrors,
          },
        },
      },
      "/auth/token": {
        post: {
          tags: ["Yativo"],
          summary: "Trade api_key + api_secret for a bearer token valid 60 minutes",
          requestBody: { required: true, content: json(bodySchema(yativoTokenBody)) },
          responses: {
            "200": {
              description: "token",
              content: json(obj({ success: { const: true }, message: str, data: obj({ access_token: str, token_type: { const: "Bearer" }, expires_in: int, expires_at: dateTime }) })),
            },
            ...yativoErrors,
          },
        },
      },
      "/api/v1/apikey": {
        post: {
          tags: ["Extractor"],
          summary: "Generate a JWT API key",
          security: bearer,
          requestBody: { required: true, content: json(bodySchema(extractorCreateBody)) },
          responses: { "200": { description: "OK", content: json({ $ref: "#/components/schemas/ApiKeyDto" }) }, ...extractorErrors },
        },
      },
      ...Object.fromEntries(
        ["/api/adm/companyProjectKeys/generate", "/api/admin/companyProjectKeys/generate"].map((route) => [
          route,
          {
            post: {
              tags: ["Company project keys"],
              summary: "Generate a project key, or an RSA/PGP key pair",
              security: bearer,
              requestBody: { required: true, content: json(bodySchema(companyGenerateBody)) },
              responses: {
                "200": {
                  description: "the key (or key pair), once",
                  content: json({
                    oneOf: [
                      obj({ success: { const: true }, code: { const: 200 }, errorMessage: { type: "null" }, id: str, keyValue: str }),
                      obj(
                        {
                          success: { const: true },
                          code: { const: 200 },
                          errorMessage: { type: "null" },
                          id: str,
                          publicKey: str,
                          encryptedPrivateKey: str,
                          expirationDate: dateTime,
                          type: { enum: ["TransactionRSAKey", "FileContentPGPKey"] },
                          passphrase: str,
                        },
                        ["success", "code", "errorMessage", "id", "publicKey", "encryptedPrivateKey", "expirationDate", "type"],
                      ),
                    ],
                  }),
                },
                ...companyErrors,
              },
            },
          },
        ]),
      ),
    },
  };
}

const swaggerDir = path.dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
const assets: Record<string, string> = {
  "swagger-ui.css": "text/css; charset=utf-8",
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
};

const docsPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Keygate REST API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css"></head>
<body><div id="docs"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body></html>`;

export function docsRoutes() {
  const app = new Hono();
  let cached: string | undefined;
  app.get("/openapi.json", (c) => {
    cached ??= JSON.stringify(openApiDocument());
    return c.body(cached, 200, { "content-type": "application/json; charset=utf-8" });
  });
  app.get("/docs", (c) => c.html(docsPage));
  app.get("/docs/init.js", (c) =>
    c.body('window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#docs" });', 200, { "content-type": "text/javascript; charset=utf-8" }),
  );
  app.get("/docs/:asset", async (c) => {
    const asset = c.req.param("asset");
    const type = assets[asset];
    if (!type) return c.notFound();
    const body = await readFile(path.join(swaggerDir, asset));
    return c.body(body, 200, { "content-type": type, "cache-control": "public, max-age=86400" });
  });
  return app;
}
