// The dashboard's session endpoint. The console keeps its access token in memory only; what
// lets it survive a reload is the refresh token in an HttpOnly cookie that scripts never see,
// scoped to this path, SameSite=Strict, Secure outside development. Every request here must
// carry DASHBOARD_HEADER, which a cross-site form cannot send and CORS never allows, so a
// forged request cannot spend the cookie (CSRF). The sign-in services do all the work.
import { Hono, type Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { AppEnv } from "../app.ts";
import type { Deps } from "../deps.ts";
import { AppError } from "../errors.ts";
import {
  MAGIC_LINK_PATH,
  requestMagicLink,
  describeMagicLink,
  verifyMagicLink,
} from "../modules/sign-in/magic-link.ts";
import { logout, refreshSession, type SessionTokens } from "../modules/sign-in/sessions.ts";
import { switchTenant } from "../modules/sign-in/switch-tenant.ts";
import { authenticate } from "../access/authenticate.ts";
import { clientIp } from "../rest/client-ip.ts";
import { keygateError } from "../rest/envelope.ts";
import { readJsonObject, requestMeta } from "../rest/http.ts";

export const DASHBOARD_BASE = "/dashboard";
export const SESSION_PATH = `${DASHBOARD_BASE}/session`;
/** The custom header every session request must carry (CSRF protection). */
export const DASHBOARD_HEADER = "x-keygate-dashboard";
export const REFRESH_COOKIE = "kg_dashboard_refresh";
/** Marks a browser whose sign-in started in the dashboard; no secret in it. */
export const SIGN_IN_MARKER_COOKIE = "kg_dashboard_signin";
export const CONFIRM_PATH = `${DASHBOARD_BASE}/sign-in/confirm`;

type Ctx = Context<AppEnv>;

function secureCookies(deps: Deps): boolean {
  return deps.config.env !== "development";
}

function setRefreshCookie(c: Ctx, deps: Deps, token: string) {
  setCookie(c, REFRESH_COOKIE, token, {
    path: SESSION_PATH,
    httpOnly: true,
    sameSite: "Strict",
    secure: secureCookies(deps),
    maxAge: deps.config.sessionAbsoluteTtlSeconds,
  });
}

function clearRefreshCookie(c: Ctx, deps: Deps) {
  deleteCookie(c, REFRESH_COOKIE, {
    path: SESSION_PATH,
    httpOnly: true,
    sameSite: "Strict",
    secure: secureCookies(deps),
  });
}

/** What the console gets: the access token, never the refresh token. */
function answer(c: Ctx, tokens: SessionTokens) {
  return c.json({
    accessToken: tokens.accessToken,
    accessTokenExpiresAt: tokens.accessTokenExpiresAt.toISOString(),
    userId: tokens.userId,
    sessionId: tokens.sessionId,
  });
}

/** The request's own origin, or PUBLIC_URL's. */
function sameOrigin(c: Ctx, deps: Deps, origin: string): boolean {
  if (origin === new URL(c.req.url).origin) return true;
  try {
    return origin === new URL(deps.config.publicUrl).origin;
  } catch {
    return false;
  }
}

/** The signed-in person behind a session access token, or null (API keys and others are not). */
async function userOf(c: Ctx, deps: Deps, authorization: string | null) {
  if (!authorization) return null;
  const actor = await authenticate(deps, {
    authorization,
    signature: null,
    method: "POST",
    pathAndQuery: c.req.path,
    clientIp: clientIp(c),
    body: async () => new Uint8Array(),
  }).catch(() => null);
  return actor?.kind === "user" && actor.sessionId ? actor : null;
}

function stringField(body: Record<string, unknown>, name: string): string {
  const value = body[name];
  if (typeof value !== "string" || !value)
    throw AppError.validation(name, "is required and must be a string");
  return value;
}

/** CSRF protection of every cookie-carrying request: the custom header, and no foreign origin. */
function checkDashboardRequest(c: Ctx, deps: Deps) {
  c.header("Cache-Control", "no-store");
  if (c.req.header(DASHBOARD_HEADER) !== "1")
    throw new AppError("FORBIDDEN", `${DASHBOARD_HEADER}: header required`, {
      fields: [{ field: DASHBOARD_HEADER, message: "header required" }],
    });
  const origin = c.req.header("origin");
  if (origin !== undefined && !sameOrigin(c, deps, origin))
    throw new AppError("FORBIDDEN", "origin: not this dashboard's", {
      fields: [{ field: "origin", message: "not this dashboard's" }],
    });
  if (c.req.header("sec-fetch-site") === "cross-site")
    throw new AppError("FORBIDDEN", "sec-fetch-site: cross-site request", {
      fields: [{ field: "sec-fetch-site", message: "cross-site request" }],
    });
}

export function dashboardSessionRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();
  const post = (name: string, handler: (c: Ctx) => Promise<Response>) =>
    app.post(`${SESSION_PATH}/${name}`, async (c) => {
      try {
        checkDashboardRequest(c, deps);
        return await handler(c);
      } catch (error) {
        if (!(error instanceof AppError) || error.status >= 500)
          deps.logger.error({ err: error, requestId: c.get("requestId") }, "unexpected error");
        return keygateError(c, error);
      }
    });

  // Asks for a sign-in link and remembers, in this browser, that the sign-in started here: the
  // link's page then sends the browser back to the dashboard's confirmation page.
  post("link", async (c) => {
    const body = await readJsonObject(c);
    const email = body.email;
    if (typeof email !== "string") throw AppError.validation("email", "must be an email address");
    await requestMagicLink(deps, email, requestMeta(c));
    setCookie(c, SIGN_IN_MARKER_COOKIE, "1", {
      path: MAGIC_LINK_PATH,
      httpOnly: true,
      // Lax: the link is opened from a mail, a cross-site navigation; the cookie holds no secret.
      sameSite: "Lax",
      secure: secureCookies(deps),
      maxAge: deps.config.magicLinkTtlSeconds,
    });
    return c.json({ message: "If the address has an account, a sign-in link is on its way." });
  });

  // Whom the link signs in, before the click that consumes it: the confirmation page names the
  // account, so that a link requested by somebody else is not followed into their account.
  post("link-account", async (c) => {
    const body = await readJsonObject(c);
    return c.json(await describeMagicLink(deps, stringField(body, "hash"), requestMeta(c)));
  });

  post("confirm", async (c) => {
    const body = await readJsonObject(c);
    const tokens = await verifyMagicLink(deps, stringField(body, "hash"), requestMeta(c));
    setRefreshCookie(c, deps, tokens.refreshToken);
    deleteCookie(c, SIGN_IN_MARKER_COOKIE, { path: MAGIC_LINK_PATH });
    return answer(c, tokens);
  });

  post("refresh", async (c) => {
    const token = getCookie(c, REFRESH_COOKIE);
    if (!token) throw new AppError("UNAUTHENTICATED", "no dashboard session");
    try {
      const tokens = await refreshSession(deps, token, requestMeta(c));
      setRefreshCookie(c, deps, tokens.refreshToken);
      return answer(c, tokens);
    } catch (error) {
      if (error instanceof AppError && error.code === "INVALID_TOKEN") clearRefreshCookie(c, deps);
      throw error;
    }
  });

  // The tenant switcher: ends this session and opens one in another of the person's tenants;
  // the new refresh token replaces the old in the cookie, never reaching the page.
  post("switch", async (c) => {
    const body = await readJsonObject(c);
    const actor = await userOf(c, deps, c.req.header("authorization") ?? null);
    if (!actor) throw new AppError("UNAUTHENTICATED", "sign in first");
    const tokens = await switchTenant(
      deps,
      actor,
      { tenantId: stringField(body, "tenantId") },
      requestMeta(c),
    );
    setRefreshCookie(c, deps, tokens.refreshToken);
    return answer(c, tokens);
  });

  // Ends the session of the access token the console holds; without one (it expired), the
  // cookie's session is refreshed once to learn which session to end.
  post("sign-out", async (c) => {
    const cookie = getCookie(c, REFRESH_COOKIE);
    clearRefreshCookie(c, deps);
    let actor = await userOf(c, deps, c.req.header("authorization") ?? null);
    if (!actor && cookie) {
      const tokens = await refreshSession(deps, cookie, requestMeta(c)).catch(() => null);
      if (tokens) actor = await userOf(c, deps, `Bearer ${tokens.accessToken}`);
    }
    if (actor) await logout(deps, actor, requestMeta(c));
    return c.json({ signedOut: true });
  });

  return app;
}

/**
 * GET of the sign-in link in a browser whose sign-in started in the dashboard: on to the
 * dashboard's confirmation page, which consumes the link only on a click, like the link's own page.
 */
export function redirectDashboardSignIn(c: Ctx, next: () => Promise<void>) {
  const hash = c.req.query("hash");
  if (
    getCookie(c, SIGN_IN_MARKER_COOKIE) === "1" &&
    hash &&
    /text\/html/i.test(c.req.header("accept") ?? "")
  ) {
    c.header("Cache-Control", "no-store");
    c.header("Referrer-Policy", "no-referrer");
    return c.redirect(`${CONFIRM_PATH}?hash=${encodeURIComponent(hash)}`, 303);
  }
  return next();
}
