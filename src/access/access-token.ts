// Keygate's own access tokens: HS256 JWTs with issuer, audience, expiry, jti and sid,
// verified with the algorithm pinned.
import { randomUUID } from "node:crypto";
import { SignJWT, jwtVerify, errors as joseErrors } from "jose";
import type { Config } from "../config.ts";
import { AppError } from "../errors.ts";

const ACCESS_TOKEN_ALG = "HS256";

export type AccessTokenKind = "session" | "exchange";

export interface AccessTokenClaims {
  sub: string;
  tid: string;
  sid?: string;
  jti: string;
  /** `session`: a signed-in user; `exchange`: an API key traded for a bearer token. */
  kind: AccessTokenKind;
  /** Permissions carried by an exchange token. */
  perms?: string[];
  exp: number;
}

export async function signAccessToken(
  config: Pick<Config, "jwtSecret" | "jwtIssuer" | "jwtAudience" | "accessTokenTtlSeconds">,
  claims: {
    sub: string;
    tid: string;
    sid?: string;
    jti?: string;
    kind: AccessTokenKind;
    perms?: string[];
    ttlSeconds?: number;
  },
): Promise<{ token: string; jti: string; expiresAt: Date }> {
  const jti = claims.jti ?? randomUUID();
  const now = Math.floor(Date.now() / 1000);
  const exp = now + (claims.ttlSeconds ?? config.accessTokenTtlSeconds);
  const payload: Record<string, unknown> = { tid: claims.tid, kind: claims.kind };
  if (claims.sid) payload.sid = claims.sid;
  if (claims.perms) payload.perms = claims.perms;
  const token = await new SignJWT(payload)
    .setProtectedHeader({ alg: ACCESS_TOKEN_ALG, typ: "JWT" })
    .setSubject(claims.sub)
    .setIssuer(config.jwtIssuer)
    .setAudience(config.jwtAudience)
    .setJti(jti)
    .setIssuedAt(now)
    .setExpirationTime(exp)
    .sign(config.jwtSecret);
  return { token, jti, expiresAt: new Date(exp * 1000) };
}

/** Verifies signature, algorithm, issuer, audience and expiry (no clock tolerance). */
export async function verifyAccessToken(
  config: Pick<Config, "jwtSecret" | "jwtIssuer" | "jwtAudience">,
  token: string,
): Promise<AccessTokenClaims> {
  try {
    const { payload } = await jwtVerify(token, config.jwtSecret, {
      algorithms: [ACCESS_TOKEN_ALG],
      issuer: config.jwtIssuer,
      audience: config.jwtAudience,
      requiredClaims: ["sub", "jti", "exp", "tid"],
    });
    const kind =
      payload.kind === "exchange" ? "exchange" : payload.kind === "session" ? "session" : undefined;
    const { sub, jti, exp } = payload;
    if (
      !kind ||
      typeof payload.tid !== "string" ||
      typeof sub !== "string" ||
      typeof jti !== "string" ||
      typeof exp !== "number"
    )
      throw new AppError("INVALID_TOKEN", "invalid access token");
    if (kind === "session" && typeof payload.sid !== "string")
      throw new AppError("INVALID_TOKEN", "invalid access token");
    return {
      sub,
      tid: payload.tid,
      sid: typeof payload.sid === "string" ? payload.sid : undefined,
      jti,
      kind,
      perms: Array.isArray(payload.perms)
        ? payload.perms.filter((p): p is string => typeof p === "string")
        : undefined,
      exp,
    };
  } catch (error) {
    if (error instanceof AppError) throw error;
    if (error instanceof joseErrors.JOSEError)
      throw new AppError("INVALID_TOKEN", "invalid access token");
    throw error;
  }
}

export function looksLikeJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token);
}
