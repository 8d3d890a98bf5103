// CORS, decided in one place for every route (GraphQL and REST): an allowed origin (CORS_ORIGINS
// plus PUBLIC_URL's own) gets the echo and a 204 preflight; any other origin gets no CORS header.
// No Access-Control-Allow-Credentials: Keygate's credentials are bearer tokens and signatures in
// headers, never cookies, so a page needs no credentialed requests, and none are offered.
import type { MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import { SIGNATURE_HEADER } from "./access/signature.ts";

/** Request headers a browser page may send: Keygate's own and the vendor routes'. */
const CORS_ALLOW_HEADERS = [
  "authorization",
  "content-type",
  SIGNATURE_HEADER,
  "x-request-id",
  // Kotani's refresh route takes the refresh token in either header.
  "x-refresh-token",
  "refresh_token",
  // yoga's CSRF prevention asks GET queries for it.
  "x-graphql-yoga-csrf",
];
const CORS_ALLOW_METHODS = ["GET", "HEAD", "POST", "OPTIONS"];
const CORS_EXPOSE_HEADERS = ["x-request-id", "retry-after"];

export function corsMiddleware(origins: readonly string[]): MiddlewareHandler {
  const allowed = new Set(origins);
  const allow = cors({
    origin: (origin) => (allowed.has(origin) ? origin : null),
    allowMethods: CORS_ALLOW_METHODS,
    allowHeaders: CORS_ALLOW_HEADERS,
    exposeHeaders: CORS_EXPOSE_HEADERS,
    maxAge: 600,
    credentials: false,
  });
  return async (c, next) => {
    const origin = c.req.header("origin");
    // No Origin: not a browser's cross-origin call; servers verifying keys pay nothing here.
    if (origin === undefined) return next();
    if (allowed.has(origin)) return allow(c, next);
    // Through c.res (not c.header): a Response returned as is, like yoga's, keeps it too.
    c.res.headers.append("Vary", "Origin");
    // A preflight from elsewhere: answered here, the same for every route, with nothing to allow.
    if (c.req.method === "OPTIONS" && c.req.header("access-control-request-method"))
      return c.body(null, 204);
    return next();
  };
}
