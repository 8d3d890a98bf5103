// `Authorization: Bearer ...` → Actor. Each credential kind is one authenticator;
// later kinds (API keys, exchange tokens) are added to the list, not to the transports.
import type { Deps } from "../deps.ts";
import { AppError } from "../errors.ts";
import { anonymous, effectivePermissions, type Actor } from "./actor.ts";
import { looksLikeJwt, verifyAccessToken } from "./access-token.ts";
import { sessionIsLive } from "../modules/auth/sessions.ts";

export type Authenticator = (deps: Deps, token: string) => Promise<Actor | null>;

/** Session access tokens: the JWT must verify and its session must still be live. */
export const sessionTokenAuthenticator: Authenticator = async (deps, token) => {
  if (!looksLikeJwt(token)) return null;
  const claims = await verifyAccessToken(deps.config, token).catch(() => null);
  if (!claims || claims.kind !== "session") return null;
  const session = await deps.prisma.session.findUnique({
    where: { id: claims.sid },
    include: { user: true },
  });
  const now = new Date();
  if (
    !session ||
    session.userId !== claims.sub ||
    session.tenantId !== claims.tid ||
    !sessionIsLive(deps, session, now) ||
    session.user.disabledAt
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
};

export const authenticators: Authenticator[] = [sessionTokenAuthenticator];

export function bearerToken(header: string | null | undefined): string | null {
  if (!header) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? match[1] : null;
}

/**
 * No header: anonymous. A header whose credential nothing accepts: UNAUTHENTICATED,
 * the same answer for forged, expired, revoked and unknown credentials.
 */
export async function authenticate(deps: Deps, authorization: string | null | undefined): Promise<Actor> {
  if (!authorization) return anonymous;
  const token = bearerToken(authorization);
  if (!token) throw new AppError("UNAUTHENTICATED", "invalid or expired credentials");
  for (const authenticator of authenticators) {
    const actor = await authenticator(deps, token);
    if (actor) return actor;
  }
  throw new AppError("UNAUTHENTICATED", "invalid or expired credentials");
}
