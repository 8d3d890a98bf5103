// Kotani Pay compatibility (seeds 000, 001): `/api/v3/auth/*` with the `{ success, message, data }`
// envelope. Thin adapters: parse, call the services, reshape. Each route is declared with its
// request and response schemas (the document at /openapi.json is generated from them).
import { z } from "zod";
import type { TenantActor } from "../access/actor.ts";
import { looksLikeJwt } from "../access/access-token.ts";
import { bearerToken } from "../access/authenticate.ts";
import type { Deps } from "../deps.ts";
import { generateApiKey, generateSecureApiKey } from "../modules/keys/service.ts";
import { AppError } from "../errors.ts";
import {
  MAGIC_LINK_PATH,
  describeMagicLink,
  requestMagicLink,
  verifyMagicLink,
} from "../modules/sign-in/magic-link.ts";
import { refreshSession, type SessionTokens } from "../modules/sign-in/sessions.ts";
import { parseInput } from "../modules/validation.ts";
import { hasKotaniSigning, tenantActorOf } from "./actor.ts";
import { SIGNATURE_HEADER } from "../access/signature.ts";
import { kotaniEnvelope, kotaniOk, kotaniSuccess } from "./envelope.ts";
import { prefersHtml, readJsonObject, requestMeta } from "./http.ts";
import { defineRoute, mountRoutes, routeGroup, type RestContext } from "./route.ts";
import { confirmPage, failedPage, noStoreHeaders, signedInPage } from "./verify-page.ts";

const kotaniSession = z.object({
  user_id: z.string(),
  session_id: z.string(),
  token_id: z.string(),
  token: z.string(),
  refresh_token: z.string(),
});

function sessionData(tokens: SessionTokens): z.infer<typeof kotaniSession> {
  return {
    user_id: tokens.userId,
    session_id: tokens.sessionId,
    token_id: tokens.tokenId,
    token: tokens.accessToken,
    refresh_token: tokens.refreshToken,
  };
}

const kotaniLoginBody = z.object({
  email: z.string({ error: "is required" }).meta({ format: "email" }),
});
const hashInput = z.object({ hash: z.string().min(1) });

async function hashFromPost(c: RestContext): Promise<unknown> {
  const type = c.req.header("content-type") ?? "";
  if (/application\/x-www-form-urlencoded|multipart\/form-data/i.test(type)) {
    const form = await c.req.parseBody().catch(() => {
      throw new AppError("BAD_REQUEST", "body: not a valid form", {
        fields: [{ field: "body", message: "not a valid form" }],
      });
    });
    return form.hash;
  }
  if (/application\/json/i.test(type)) return (await readJsonObject(c)).hash;
  return c.req.query("hash");
}

/**
 * Kotani answers a bad API key with 404 "Invalid Api Key" and any other bad credential with 403.
 * A signed request (x-signature or Keygate-Signature) whose key and signature do not hold is a
 * 401, whether the key is unknown or the signature wrong: the answer must not tell someone who
 * saw a secure key, but not its secret, that the key exists.
 */
async function kotaniActor(deps: Deps, c: RestContext): Promise<TenantActor> {
  try {
    return await tenantActorOf(deps, c, { kotaniSigning: true });
  } catch (error) {
    const token = bearerToken(c.req.header("authorization"));
    if (
      error instanceof AppError &&
      error.code === "UNAUTHENTICATED" &&
      token &&
      !looksLikeJwt(token)
    ) {
      if (hasKotaniSigning(c) || c.req.header(SIGNATURE_HEADER))
        throw new AppError("INVALID_SIGNATURE", "invalid api key or request signature");
      throw new AppError("KEY_NOT_FOUND", "invalid api key");
    }
    throw error;
  }
}

const login = defineRoute({
  method: "post",
  path: "/api/v3/auth/login",
  operationId: "kotaniLogin",
  summary: "Request a magic link (same answer for unknown emails)",
  request: { body: kotaniLoginBody },
  responses: {
    200: {
      description: "sent",
      json: kotaniSuccess(z.object({}), "login magic link sent to your email"),
    },
  },
  handler: async (c, deps) => {
    const body = parseInput(kotaniLoginBody, await readJsonObject(c));
    await requestMagicLink(deps, body.email, requestMeta(c));
    return kotaniOk(c, "login magic link sent to your email");
  },
});

/** A browser's page for a link that cannot sign in, with the error's status. */
function linkFailedPage(c: RestContext, error: AppError): Response {
  return c.html(
    failedPage("This link is invalid, expired or already used."),
    error.status as 401,
    noStoreHeaders,
  );
}

// GET from an API client consumes the link (the documented contract): curl and HTTP libraries
// send `Accept: */*` or nothing. A browser (it prefers text/html) and HEAD get a page that
// consumes nothing, so that opening the mail does not spend the link.
const openLink = defineRoute({
  method: ["get", "head"],
  path: MAGIC_LINK_PATH,
  operationId: "kotaniVerifyMagicLink",
  summary: "Open a magic link",
  description:
    "Consumes the link and returns the tokens as JSON, unless the request prefers `text/html` (a browser): then a confirmation page that consumes nothing, names the account the link signs in to, and whose button POSTs the link (a link that cannot sign in gets a page saying so, with the error's status). HEAD never consumes the link.",
  request: { query: z.object({ hash: z.string() }) },
  responses: {
    200: {
      description: "tokens, or the confirmation page",
      json: kotaniSuccess(kotaniSession, "ok"),
      html: true,
    },
    400: {
      description: "no hash: Bad Request, or a page saying the link is incomplete",
      html: true,
    },
  },
  htmlErrors: true,
  handler: async (c, deps) => {
    c.header("Cache-Control", "no-store");
    const hash = c.req.query("hash");
    const html = prefersHtml(c);
    if (typeof hash !== "string" || !hash) {
      if (!html) throw AppError.validation("hash", "is required");
      return c.html(failedPage("This link is incomplete."), 400, noStoreHeaders);
    }
    if (c.req.method === "HEAD")
      return c.html(confirmPage(MAGIC_LINK_PATH, hash), 200, noStoreHeaders);
    if (html) {
      // The page names the link's account before the click; a link that would not sign in says
      // so now rather than after it.
      try {
        const account = await describeMagicLink(deps, hash, requestMeta(c));
        return c.html(confirmPage(MAGIC_LINK_PATH, hash, account), 200, noStoreHeaders);
      } catch (error) {
        if (error instanceof AppError) return linkFailedPage(c, error);
        throw error;
      }
    }
    const tokens = await verifyMagicLink(deps, hash, requestMeta(c));
    c.header("Cache-Control", "no-store");
    return kotaniOk(c, "ok", sessionData(tokens));
  },
});

const consumeLink = defineRoute({
  method: "post",
  path: MAGIC_LINK_PATH,
  operationId: "kotaniConsumeMagicLink",
  summary: "Consume a magic link (the confirmation page's button)",
  description:
    "A browser (`Accept: text/html`) gets a page with the tokens, or a page saying the link failed (with the error's status).",
  request: { body: hashInput, form: hashInput },
  responses: {
    200: { description: "tokens", json: kotaniSuccess(kotaniSession, "ok"), html: true },
  },
  htmlErrors: true,
  handler: async (c, deps) => {
    const html = prefersHtml(c);
    const hash = await hashFromPost(c);
    try {
      if (typeof hash !== "string" || !hash) throw AppError.validation("hash", "is required");
      const data = sessionData(await verifyMagicLink(deps, hash, requestMeta(c)));
      if (html) return c.html(signedInPage(data), 200, noStoreHeaders);
      c.header("Cache-Control", "no-store");
      return kotaniOk(c, "ok", data);
    } catch (error) {
      if (html && error instanceof AppError) return linkFailedPage(c, error);
      throw error;
    }
  },
});

// The refresh token may come as a bearer token, a `refresh_token` query parameter or header.
const refresh = defineRoute({
  method: "get",
  path: "/api/v3/auth/refresh-token",
  operationId: "kotaniRefreshToken",
  summary: "Rotate the refresh token",
  description:
    "The refresh token may come as `Authorization: Bearer <refresh token>`, the `refresh_token` query parameter, or a `refresh_token` (or `x-refresh-token`) header. Replaying a used one ends the session.",
  security: ["refreshToken", "bearer"],
  request: {
    query: z.object({ refresh_token: z.string().optional() }),
    headers: z.object({
      refresh_token: z.string().optional(),
      "x-refresh-token": z.string().optional(),
    }),
  },
  responses: { 200: { description: "new tokens", json: kotaniSuccess(kotaniSession, "ok") } },
  handler: async (c, deps) => {
    const bearer = /^Bearer\s+(\S+)$/i.exec(c.req.header("authorization") ?? "")?.[1];
    const token =
      bearer ??
      c.req.query("refresh_token") ??
      c.req.header("refresh_token") ??
      c.req.header("x-refresh-token");
    if (!token) throw AppError.validation("refresh_token", "is required");
    const tokens = await refreshSession(deps, token, requestMeta(c));
    c.header("Cache-Control", "no-store");
    return kotaniOk(c, "ok", sessionData(tokens));
  },
});

const refreshBody = z.object({
  refresh_token: z.string({ error: "is required" }).min(1, "is required").max(4096),
});

// Kotani's npm SDK refreshes with a JSON body and keeps the answer's `data` as its session.
const refreshPost = defineRoute({
  method: "post",
  path: "/api/v3/auth/refresh",
  operationId: "kotaniRefresh",
  summary: "Rotate the refresh token (JSON body, as Kotani's SDK sends it)",
  description:
    "The same rotation as GET /api/v3/auth/refresh-token: the answer's `data` is the new session. Replaying a used refresh token ends the session.",
  request: { body: refreshBody },
  responses: { 200: { description: "new tokens", json: kotaniSuccess(kotaniSession, "ok") } },
  handler: async (c, deps) => {
    const body = parseInput(refreshBody, await readJsonObject(c));
    const tokens = await refreshSession(deps, body.refresh_token, requestMeta(c));
    c.header("Cache-Control", "no-store");
    return kotaniOk(c, "ok", sessionData(tokens));
  },
});

// Seed 001, "API Key Types": integrator-level (`*`) for owners and admins, user-bound
// with no permissions otherwise (the service applies exactly that rule).
const apiKey = defineRoute({
  method: "get",
  path: "/api/v3/auth/api-key",
  operationId: "kotaniGenerateApiKey",
  signing: ["keygate", "kotani"],
  summary: "Generate an API key (integrator-level for owners and admins, user-bound otherwise)",
  security: ["bearer"],
  responses: {
    200: {
      description: "the key, once",
      json: kotaniSuccess(z.object({ key: z.string() }), "Api-key generated successfully"),
    },
  },
  handler: async (c, deps) => {
    const actor = await kotaniActor(deps, c);
    const { key } = await generateApiKey(deps, actor, { name: "Kotani API key" }, requestMeta(c));
    c.header("Cache-Control", "no-store");
    return kotaniOk(c, "Api-key generated successfully", { key });
  },
});

const secureApiKey = defineRoute({
  method: "get",
  path: "/api/v3/auth/api-key/secure",
  operationId: "kotaniGenerateSecureApiKey",
  signing: ["keygate", "kotani"],
  summary: "Generate an API key and a signing secret",
  security: ["bearer"],
  responses: {
    200: {
      description: "key and secret, once",
      json: kotaniSuccess(
        z.object({ key: z.string(), secret: z.string() }),
        "Api-key generated successfully",
      ),
    },
  },
  handler: async (c, deps) => {
    const actor = await kotaniActor(deps, c);
    const { key, secret } = await generateSecureApiKey(
      deps,
      actor,
      { name: "Kotani secure API key" },
      requestMeta(c),
    );
    c.header("Cache-Control", "no-store");
    return kotaniOk(c, "Api-key generated successfully", { key, secret });
  },
});

const healthData = z.object({
  status: z.literal("up"),
  time: z.iso.datetime(),
  tenant_id: z.string(),
  auth: z.enum(["jwt", "api_key"]),
});

// "The API also accepts a JWT token in the same header — both formats are valid."
const health = defineRoute({
  method: "get",
  path: "/api/v3/health",
  operationId: "kotaniHealth",
  signing: ["keygate", "kotani"],
  summary: "Health, for a bearer JWT or a bearer API key",
  security: ["bearer"],
  responses: { 200: { description: "up", json: kotaniSuccess(healthData, "ok") } },
  handler: async (c, deps) => {
    const actor = await kotaniActor(deps, c);
    await deps.db.ping();
    const data: z.infer<typeof healthData> = {
      status: "up",
      time: new Date().toISOString(),
      tenant_id: actor.tenantId,
      auth: actor.kind === "user" ? "jwt" : "api_key",
    };
    return kotaniOk(c, "ok", data);
  },
});

export const kotaniApi = routeGroup("Kotani Pay", kotaniEnvelope, [
  login,
  openLink,
  consumeLink,
  refresh,
  refreshPost,
  apiKey,
  secureApiKey,
  health,
]);

export const kotaniRoutes = (deps: Deps) => mountRoutes(deps, kotaniApi);
