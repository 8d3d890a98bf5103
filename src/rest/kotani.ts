// Kotani Pay compatibility (seeds 000, 001): `/api/v3/auth/*` with the `{ success, message, data }`
// envelope. Thin adapters: parse, call the services, reshape.
import type { Context } from "hono";
import type { TenantActor } from "../access/actor.ts";
import { looksLikeJwt } from "../access/access-token.ts";
import { bearerToken } from "../access/authenticate.ts";
import type { Deps } from "../deps.ts";
import { generateApiKey, generateSecureApiKey } from "../modules/keys/service.ts";
import { AppError } from "../errors.ts";
import { MAGIC_LINK_PATH, requestMagicLink, verifyMagicLink } from "../modules/sign-in/magic-link.ts";
import { refreshSession, type SessionTokens } from "../modules/sign-in/sessions.ts";
import { kotaniError, kotaniOk } from "./envelope.ts";
import { readJsonObject, requestMeta, wantsHtml, wantsJson } from "./http.ts";
import { tenantActorOf, vendorApp } from "./vendor-app.ts";
import { confirmPage, failedPage, noStoreHeaders, signedInPage } from "./verify-page.ts";

export function sessionData(tokens: SessionTokens) {
  return {
    user_id: tokens.userId,
    session_id: tokens.sessionId,
    token_id: tokens.tokenId,
    token: tokens.accessToken,
    refresh_token: tokens.refreshToken,
  };
}

async function hashFromPost(c: Context): Promise<unknown> {
  const type = c.req.header("content-type") ?? "";
  if (/application\/x-www-form-urlencoded|multipart\/form-data/i.test(type)) {
    const form = await c.req.parseBody().catch(() => {
      throw new AppError("BAD_REQUEST", "body: not a valid form", { fields: [{ field: "body", message: "not a valid form" }] });
    });
    return form.hash;
  }
  if (/application\/json/i.test(type)) return (await readJsonObject(c)).hash;
  return c.req.query("hash");
}

/** Kotani answers a bad API key with 404 "Invalid Api Key" and any other bad credential with 403. */
async function kotaniActor(deps: Deps, c: Context): Promise<TenantActor> {
  try {
    return await tenantActorOf(deps, c);
  } catch (error) {
    const token = bearerToken(c.req.header("authorization"));
    if (error instanceof AppError && error.code === "UNAUTHENTICATED" && token && !looksLikeJwt(token)) {
      throw new AppError("KEY_NOT_FOUND", "invalid api key");
    }
    throw error;
  }
}

export function kotaniRoutes(deps: Deps) {
  const app = vendorApp(deps, kotaniError);

  app.post("/api/v3/auth/login", async (c) => {
    const body = await readJsonObject(c);
    if (typeof body.email !== "string") throw AppError.validation("email", "is required");
    await requestMagicLink(deps, body.email, requestMeta(c));
    return kotaniOk(c, "login magic link sent to your email");
  });

  // GET from a JSON client consumes the link (the documented contract); a browser, a
  // scanner or anything that does not ask for JSON gets a page that consumes nothing.
  app.on(["GET", "HEAD"], MAGIC_LINK_PATH, async (c) => {
    c.header("Cache-Control", "no-store");
    const hash = c.req.query("hash");
    if (typeof hash !== "string" || !hash) {
      if (wantsJson(c)) throw AppError.validation("hash", "is required");
      return c.html(failedPage("This link is incomplete."), 400, noStoreHeaders);
    }
    if (c.req.method === "HEAD" || !wantsJson(c)) {
      return c.html(confirmPage(MAGIC_LINK_PATH, hash), 200, noStoreHeaders);
    }
    const tokens = await verifyMagicLink(deps, hash, requestMeta(c));
    c.header("Cache-Control", "no-store");
    return kotaniOk(c, "ok", sessionData(tokens));
  });

  app.post(MAGIC_LINK_PATH, async (c) => {
    const html = wantsHtml(c);
    const hash = await hashFromPost(c);
    try {
      if (typeof hash !== "string" || !hash) throw AppError.validation("hash", "is required");
      const data = sessionData(await verifyMagicLink(deps, hash, requestMeta(c)));
      if (html) return c.html(signedInPage(data), 200, noStoreHeaders);
      c.header("Cache-Control", "no-store");
      return kotaniOk(c, "ok", data);
    } catch (error) {
      if (html && error instanceof AppError) {
        return c.html(failedPage("This link is invalid, expired or already used."), error.status as 401, noStoreHeaders);
      }
      throw error;
    }
  });

  // The refresh token may come as a bearer token, a `refresh_token` query parameter or header.
  app.get("/api/v3/auth/refresh-token", async (c) => {
    const bearer = /^Bearer\s+(\S+)$/i.exec(c.req.header("authorization") ?? "")?.[1];
    const token = bearer ?? c.req.query("refresh_token") ?? c.req.header("refresh_token") ?? c.req.header("x-refresh-token");
    if (!token) throw AppError.validation("refresh_token", "is required");
    const tokens = await refreshSession(deps, token, requestMeta(c));
    c.header("Cache-Control", "no-store");
    return kotaniOk(c, "ok", sessionData(tokens));
  });

  // Seed 001, "API Key Types": integrator-level (`*`) for owners and admins, user-bound
  // with no permissions otherwise (the service applies exactly that rule).
  app.get("/api/v3/auth/api-key", async (c) => {
    const actor = await kotaniActor(deps, c);
    const { key } = await generateApiKey(deps, actor, { name: "Kotani API key" }, { meta: requestMeta(c) });
    c.header("Cache-Control", "no-store");
    return kotaniOk(c, "Api-key generated successfully", { key });
  });

  app.get("/api/v3/auth/api-key/secure", async (c) => {
    const actor = await kotaniActor(deps, c);
    const { key, secret } = await generateSecureApiKey(deps, actor, { name: "Kotani secure API key" }, requestMeta(c));
    c.header("Cache-Control", "no-store");
    return kotaniOk(c, "Api-key generated successfully", { key, secret });
  });

  // "The API also accepts a JWT token in the same header — both formats are valid."
  app.get("/api/v3/health", async (c) => {
    const actor = await kotaniActor(deps, c);
    await deps.db.ping();
    return kotaniOk(c, "ok", {
      status: "up",
      time: new Date().toISOString(),
      tenant_id: actor.tenantId,
      auth: actor.kind === "user" ? "jwt" : "api_key",
    });
  });

  return app;
}
