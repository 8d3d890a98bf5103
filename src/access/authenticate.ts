// `Authorization: Bearer ...` → Actor. Each credential kind is one authenticator:
// session JWTs, exchange tokens and API keys (opaque or JWT, signed when secure).
import type { Deps } from "../deps.ts";
import { AppError } from "../errors.ts";
import { anonymous, effectivePermissions, type Actor } from "./actor.ts";
import { looksLikeJwt, verifyAccessToken, type AccessTokenClaims } from "./access-token.ts";
import { accountIsActive, sessionIsLive } from "../modules/sign-in/sessions.ts";
import {
  chargeKey,
  checkKeyState,
  keyShapeOk,
  verifyKey,
  type VerifyResult,
} from "../modules/keys/verify.ts";
import { loadKey, type CachedKey } from "../modules/keys/runtime.ts";
import { keySecret } from "../modules/keys/key-secret.ts";
import { sha256Hex } from "../crypto/tokens.ts";
import { verifySignature } from "./signature.ts";

/** What authentication may read of a request: headers always, the body only to check a signature. */
export interface AuthRequest {
  authorization: string | null;
  signature: string | null;
  method: string;
  pathAndQuery: string;
  /** The client's address, checked against a key's IP allowlist. */
  clientIp: string | null;
  body(): Promise<Uint8Array>;
}

type Authenticator = (deps: Deps, token: string, request: AuthRequest) => Promise<Actor | null>;

/**
 * Keygate's own access tokens, verified once: a session token must belong to a live
 * session; an exchange token (from `exchangeApiKey`) lives only while its key does.
 */
const accessToken: Authenticator = async (deps, token, request) => {
  if (!looksLikeJwt(token)) return null;
  const claims = await verifyAccessToken(deps.config, token).catch(() => null);
  if (!claims) return null;
  return claims.kind === "session"
    ? sessionActor(deps, claims)
    : exchangeActor(deps, claims, request.clientIp);
};

async function sessionActor(deps: Deps, claims: AccessTokenClaims): Promise<Actor | null> {
  const session = await deps.prisma.session.findUnique({
    where: { id: claims.sid },
    include: { user: { include: { tenant: true } } },
  });
  if (
    !session ||
    session.userId !== claims.sub ||
    session.tenantId !== claims.tid ||
    !sessionIsLive(deps, session) ||
    !accountIsActive(session.user)
  ) {
    return null;
  }
  const user = session.user;
  return {
    kind: "user",
    userId: user.id,
    tenantId: user.tenantId,
    email: user.email,
    role: user.role,
    isPlatformAdmin: user.isPlatformAdmin,
    permissions: effectivePermissions(user),
    sessionId: session.id,
    tokenId: claims.jti,
  };
}

function rejectUnlessValid(result: VerifyResult): CachedKey | null {
  if (result.code === "RATE_LIMITED") {
    throw new AppError("RATE_LIMITED", "rate limit exceeded for this key", {
      retryAfter: result.ratelimit?.reset ?? 1,
      limit: result.ratelimit?.limit,
    });
  }
  return result.valid && result.key ? result.key : null;
}

function keyActor(key: CachedKey, permissions = key.permissions): Actor {
  return {
    kind: "apiKey",
    keyId: key.id,
    keyKind: key.kind,
    tenantId: key.tenantId,
    ownerId: key.ownerId,
    projectId: key.projectId,
    permissions,
  };
}

async function exchangeActor(
  deps: Deps,
  claims: AccessTokenClaims,
  clientIp: string | null,
): Promise<Actor | null> {
  const row = await loadKey(deps.prisma, { id: claims.sub });
  if (!row || row.tenantId !== claims.tid) return null;
  // The secret was proven at the exchange: the token stands for it, so no signature is asked.
  const checked = rejectUnlessValid(await checkKeyState(deps, row, { charge: false, clientIp }));
  const key = checked && rejectUnlessValid(await chargeKey(deps, checked));
  if (!key) return null;
  // The token carries the permissions of its minting; later narrowing of the key applies too.
  return keyActor(
    key,
    (claims.perms ?? []).filter(
      (p) => key.permissions.includes(p) || key.permissions.includes("*"),
    ),
  );
}

/** API keys as bearer credentials ("both formats are valid"); secure keys must sign the request. */
const apiKey: Authenticator = async (deps, token, request) => {
  if (!keyShapeOk(token)) return null;
  // Limits and last-used are charged only after the signature holds: a caller who merely saw
  // a secure key cannot spend its rate limit or learn from a 429 that it exists.
  const key = rejectUnlessValid(
    await verifyKey(deps, token, { charge: false, clientIp: request.clientIp }),
  );
  if (!key) return null;
  if (key.kind === "SECURE_API_KEY") {
    await verifySignature(deps, key.id, keySecret(deps, key), {
      method: request.method,
      pathAndQuery: request.pathAndQuery,
      bodySha256: sha256Hex(await request.body()),
      header: request.signature,
    });
  }
  const charged = rejectUnlessValid(await chargeKey(deps, key));
  return charged ? keyActor(charged) : null;
};

const authenticators: Authenticator[] = [accessToken, apiKey];

export function bearerToken(header: string | null | undefined): string | null {
  if (!header) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1] ?? null;
}

/**
 * No header: anonymous. A header whose credential nothing accepts: UNAUTHENTICATED, the
 * same answer for forged, expired, revoked, disabled and unknown credentials.
 */
export async function authenticate(deps: Deps, request: AuthRequest): Promise<Actor> {
  if (!request.authorization) return anonymous;
  const token = bearerToken(request.authorization);
  if (!token) throw new AppError("UNAUTHENTICATED", "invalid or expired credentials");
  for (const authenticator of authenticators) {
    try {
      const actor = await authenticator(deps, token, request);
      if (actor) return actor;
    } catch (error) {
      if (error instanceof AppError && error.code === "RATE_LIMITED") throw error;
      if (error instanceof AppError && error.status === 401) break;
      throw error;
    }
  }
  throw new AppError("UNAUTHENTICATED", "invalid or expired credentials");
}
