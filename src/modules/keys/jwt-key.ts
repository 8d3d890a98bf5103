// JWT-format API keys (seed 003): the key is a signed JWT whose `jti` is the key's id.
// Signed with a key derived from JWT_SECRET for this purpose only, so an access token
// can never pass as an API key or the reverse.
import { hkdfSync } from "node:crypto";
import { SignJWT, jwtVerify, errors as joseErrors } from "jose";
import type { Config } from "../../config.ts";

const ALG = "HS256";
const API_KEY_AUDIENCE = "keygate:api-key";

const derived = new WeakMap<Uint8Array, Uint8Array>();
function signingKey(config: Pick<Config, "jwtSecret">): Uint8Array {
  let key = derived.get(config.jwtSecret);
  if (!key) {
    key = new Uint8Array(hkdfSync("sha256", config.jwtSecret, "keygate", "api-key-jwt", 32));
    derived.set(config.jwtSecret, key);
  }
  return key;
}

export async function signKeyJwt(
  config: Pick<Config, "jwtSecret" | "jwtIssuer">,
  claims: {
    keyId: string;
    tenantId: string;
    subject: string;
    issuedAt: Date;
    expiresAt: Date | null;
  },
): Promise<string> {
  const jwt = new SignJWT({ tid: claims.tenantId, typ: "api_key" })
    .setProtectedHeader({ alg: ALG, typ: "JWT" })
    .setIssuer(config.jwtIssuer)
    .setAudience(API_KEY_AUDIENCE)
    .setSubject(claims.subject)
    .setJti(claims.keyId)
    .setIssuedAt(Math.floor(claims.issuedAt.getTime() / 1000));
  if (claims.expiresAt) jwt.setExpirationTime(Math.floor(claims.expiresAt.getTime() / 1000));
  return jwt.sign(signingKey(config));
}

export type KeyJwtCheck =
  | { ok: true; keyId: string; tenantId: string }
  | { ok: false; reason: "MALFORMED" | "EXPIRED" };

/** Signature, algorithm, issuer, audience and expiry; the key's status is checked by the caller. */
export async function checkKeyJwt(
  config: Pick<Config, "jwtSecret" | "jwtIssuer">,
  token: string,
): Promise<KeyJwtCheck> {
  try {
    const { payload } = await jwtVerify(token, signingKey(config), {
      algorithms: [ALG],
      issuer: config.jwtIssuer,
      audience: API_KEY_AUDIENCE,
      requiredClaims: ["jti", "tid"],
    });
    if (
      payload.typ !== "api_key" ||
      typeof payload.tid !== "string" ||
      typeof payload.jti !== "string"
    )
      return { ok: false, reason: "MALFORMED" };
    return { ok: true, keyId: payload.jti, tenantId: payload.tid };
  } catch (error) {
    if (error instanceof joseErrors.JWTExpired) return { ok: false, reason: "EXPIRED" };
    return { ok: false, reason: "MALFORMED" };
  }
}
