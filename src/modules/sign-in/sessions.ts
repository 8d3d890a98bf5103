// Sessions are refresh-token families. Refresh tokens are opaque, stored hashed and
// replaced on every use; a retry inside the grace window gets the same answer again, and any
// other replay of a used token revokes the family.
import { z } from "zod";
import { signAccessToken } from "../../access/access-token.ts";
import { isTenantAdmin, requireTenantActor, type Actor } from "../../access/actor.ts";
import type { Prisma } from "../../db/client.ts";
import type { Deps, RequestMeta } from "../../deps.ts";
import { AppError } from "../../errors.ts";
import { randomToken, sha256Hex } from "../../crypto/tokens.ts";
import { open, seal } from "../../crypto/envelope.ts";
import { recordAudit } from "../audit/service.ts";
import { membershipIsActive } from "../users/people.ts";

/** A client that lost the answer to a refresh may retry with the same token this long. */
const REFRESH_REUSE_GRACE_MS = 10_000;
const REFRESH_TOKEN_PREFIX = "kgr_";

type Tx = Parameters<Parameters<Prisma["$transaction"]>[0]>[0];

export interface SessionTokens {
  userId: string;
  sessionId: string;
  tokenId: string;
  accessToken: string;
  accessTokenExpiresAt: Date;
  refreshToken: string;
}

function newRefreshToken() {
  const token = `${REFRESH_TOKEN_PREFIX}${randomToken(32)}`;
  return { token, tokenHash: sha256Hex(token) };
}

async function accessTokenFor(
  deps: Deps,
  user: { id: string; tenantId: string },
  sessionId: string,
) {
  return signAccessToken(deps.config, {
    sub: user.id,
    tid: user.tenantId,
    sid: sessionId,
    kind: "session",
  });
}

/** Opens a session inside the caller's transaction (the magic-link consumption). */
export async function openSession(
  deps: Deps,
  tx: Tx,
  user: { id: string; tenantId: string },
  meta: RequestMeta,
): Promise<SessionTokens> {
  const session = await tx.session.create({
    data: {
      tenantId: user.tenantId,
      userId: user.id,
      ip: meta.ip ?? null,
      userAgent: meta.userAgent?.slice(0, 500) ?? null,
      expiresAt: new Date(Date.now() + deps.config.sessionAbsoluteTtlSeconds * 1000),
    },
  });
  const refresh = newRefreshToken();
  await tx.refreshToken.create({ data: { sessionId: session.id, tokenHash: refresh.tokenHash } });
  const access = await accessTokenFor(deps, user, session.id);
  return {
    userId: user.id,
    sessionId: session.id,
    tokenId: access.jti,
    accessToken: access.token,
    accessTokenExpiresAt: access.expiresAt,
    refreshToken: refresh.token,
  };
}

/**
 * Signs a membership in, inside the caller's transaction: marks it used (plus `joined`, for an
 * accepted invitation), opens a session and records `auth.sign_in` with the way in.
 */
export async function signInto(
  deps: Deps,
  tx: Tx,
  user: { id: string; tenantId: string },
  method: "magic_link" | "switch_tenant",
  meta: RequestMeta,
  joinedAt?: Date,
): Promise<SessionTokens> {
  await tx.user.update({
    where: { id: user.id },
    data: { lastLoginAt: new Date(), ...(joinedAt ? { joinedAt } : {}) },
  });
  const tokens = await openSession(deps, tx, user, meta);
  await recordAudit(
    tx,
    { actorType: "USER", actorId: user.id },
    {
      tenantId: user.tenantId,
      action: "auth.sign_in",
      targetType: "Session",
      targetId: tokens.sessionId,
      metadata: { method },
      ip: meta.ip,
      requestId: meta.requestId,
    },
  );
  return tokens;
}

export function sessionIsLive(
  deps: Deps,
  session: { revokedAt: Date | null; expiresAt: Date; lastUsedAt: Date },
  now = new Date(),
) {
  return (
    !session.revokedAt &&
    session.expiresAt > now &&
    session.lastUsedAt.getTime() + deps.config.sessionIdleTtlSeconds * 1000 > now.getTime()
  );
}

/** Whether a membership may sign in and act (see users/people.ts). */
export const accountIsActive = membershipIsActive;

const invalidRefresh = () => new AppError("INVALID_TOKEN", "invalid or expired refresh token");

/** The AAD of a rotation's sealed answer: bound to the session and the token it replaced. */
function successorAad(sessionId: string, refreshTokenId: string): string {
  return `keygate:refresh-successor:${sessionId}:${refreshTokenId}`;
}

function sealAnswer(deps: Deps, tokens: SessionTokens, sessionId: string, refreshTokenId: string) {
  const plain = JSON.stringify({
    ...tokens,
    accessTokenExpiresAt: tokens.accessTokenExpiresAt.toISOString(),
  });
  return seal(deps.config.encryptionKeys, plain, successorAad(sessionId, refreshTokenId));
}

function openAnswer(
  deps: Deps,
  row: {
    id: string;
    sessionId: string;
    successorCiphertext: string | null;
    successorKeyVersion: number | null;
  },
): SessionTokens | null {
  if (!row.successorCiphertext || row.successorKeyVersion == null) return null;
  try {
    const plain = open(
      deps.config.encryptionKeys,
      { ciphertext: row.successorCiphertext, keyVersion: row.successorKeyVersion },
      successorAad(row.sessionId, row.id),
    );
    const parsed = JSON.parse(plain.toString()) as SessionTokens & { accessTokenExpiresAt: string };
    return { ...parsed, accessTokenExpiresAt: new Date(parsed.accessTokenExpiresAt) };
  } catch {
    return null;
  }
}

/**
 * Rotates a refresh token. A retry of the newest rotation inside the grace window (a client
 * that lost the answer) gets that very answer again, so it never displaces the token the
 * first call handed out; any other reuse is a stolen token replayed and ends the family.
 */
export async function refreshSession(
  deps: Deps,
  refreshToken: string,
  meta: RequestMeta = {},
): Promise<SessionTokens> {
  if (
    typeof refreshToken !== "string" ||
    !refreshToken.startsWith(REFRESH_TOKEN_PREFIX) ||
    refreshToken.length > 200
  ) {
    throw invalidRefresh();
  }
  if (meta.ip) await deps.limiters.consume("refreshIp", meta.ip);
  const tokenHash = sha256Hex(refreshToken);
  const outcome = await deps.prisma.$transaction(async (tx) => {
    const current = await tx.refreshToken.findUnique({
      where: { tokenHash },
      include: { session: { include: { user: { include: { tenant: true } } } } },
    });
    if (!current) return { error: invalidRefresh() };
    const { session } = current;
    const now = new Date();
    if (!sessionIsLive(deps, session, now) || !accountIsActive(session.user))
      return { error: invalidRefresh() };

    // Claim the token atomically: of two concurrent refreshes only one sees usedAt null.
    const claimed = await tx.refreshToken.updateMany({
      where: { id: current.id, usedAt: null },
      data: { usedAt: now },
    });
    if (claimed.count === 0) {
      const used = await tx.refreshToken.findUniqueOrThrow({ where: { id: current.id } });
      const successor = used.replacedBy
        ? await tx.refreshToken.findUnique({ where: { id: used.replacedBy } })
        : null;
      const withinGrace =
        used.usedAt && now.getTime() - used.usedAt.getTime() <= REFRESH_REUSE_GRACE_MS;
      const answer = withinGrace && successor && !successor.usedAt ? openAnswer(deps, used) : null;
      if (answer) {
        await recordAudit(
          tx,
          { actorType: "USER", actorId: session.userId },
          {
            tenantId: session.tenantId,
            action: "session.refresh_retry",
            targetType: "Session",
            targetId: session.id,
            ip: meta.ip,
            requestId: meta.requestId,
          },
        );
        return { tokens: answer };
      }
      await tx.session.update({
        where: { id: session.id },
        data: { revokedAt: now, revokeReason: "refresh token reuse" },
      });
      await recordAudit(
        tx,
        { kind: "system" },
        {
          tenantId: session.tenantId,
          action: "session.reuse_detected",
          targetType: "Session",
          targetId: session.id,
          metadata: { userId: session.userId },
          ip: meta.ip,
          requestId: meta.requestId,
        },
      );
      return { error: invalidRefresh() };
    }
    const next = newRefreshToken();
    const created = await tx.refreshToken.create({
      data: { sessionId: session.id, tokenHash: next.tokenHash },
    });
    const access = await accessTokenFor(deps, session.user, session.id);
    const tokens: SessionTokens = {
      userId: session.userId,
      sessionId: session.id,
      tokenId: access.jti,
      accessToken: access.token,
      accessTokenExpiresAt: access.expiresAt,
      refreshToken: next.token,
    };
    // The answer is kept sealed on the used token for a retry inside the grace window; the
    // predecessor's sealed answer is dropped now that its successor has been used.
    const sealed = sealAnswer(deps, tokens, session.id, current.id);
    await tx.refreshToken.update({
      where: { id: current.id },
      data: {
        replacedBy: created.id,
        successorCiphertext: sealed.ciphertext,
        successorKeyVersion: sealed.keyVersion,
      },
    });
    await tx.refreshToken.updateMany({
      where: { replacedBy: current.id },
      data: { successorCiphertext: null, successorKeyVersion: null },
    });
    await tx.session.update({ where: { id: session.id }, data: { lastUsedAt: now } });
    await recordAudit(
      tx,
      { actorType: "USER", actorId: session.userId },
      {
        tenantId: session.tenantId,
        action: "session.refresh",
        targetType: "Session",
        targetId: session.id,
        ip: meta.ip,
        requestId: meta.requestId,
      },
    );
    return { tokens };
  });
  // The reuse revocation must commit even though the caller gets an error.
  if ("error" in outcome) throw outcome.error;
  return outcome.tokens;
}

async function revoke(
  deps: Deps,
  actor: Actor,
  sessionId: string,
  reason: string,
  meta: RequestMeta,
) {
  const a = requireTenantActor(actor);
  if (a.kind !== "user") throw new AppError("FORBIDDEN", "sessions belong to users");
  return deps.prisma.$transaction(async (tx) => {
    const now = new Date();
    // Users end their own sessions; owners and admins may end any session of their tenant.
    const where =
      a.role === "MEMBER"
        ? { id: sessionId, userId: a.userId, tenantId: a.tenantId }
        : { id: sessionId, tenantId: a.tenantId };
    const session = await tx.session.findFirst({ where });
    if (!session) throw new AppError("SESSION_NOT_FOUND", "session not found");
    if (!session.revokedAt) {
      await tx.session.update({
        where: { id: session.id },
        data: { revokedAt: now, revokeReason: reason },
      });
      await recordAudit(tx, a, {
        tenantId: a.tenantId,
        action: reason === "logout" ? "session.logout" : "session.revoke",
        targetType: "Session",
        targetId: session.id,
        ip: meta.ip,
        requestId: meta.requestId,
      });
    }
    return tx.session.findUniqueOrThrow({ where: { id: session.id } });
  });
}

export async function logout(deps: Deps, actor: Actor, meta: RequestMeta = {}) {
  if (actor.kind !== "user" || !actor.sessionId)
    throw new AppError("UNAUTHENTICATED", "sign in first");
  return revoke(deps, actor, actor.sessionId, "logout", meta);
}

export async function revokeSession(
  deps: Deps,
  actor: Actor,
  { id: sessionId }: { id: string },
  meta: RequestMeta = {},
) {
  if (!z.uuid().safeParse(sessionId).success)
    throw new AppError("SESSION_NOT_FOUND", "session not found");
  return revoke(deps, actor, sessionId, "revoked", meta);
}

/** A user's sessions, newest first: the user's own, or any user's of the tenant for owners and admins. */
export async function listSessions(deps: Deps, actor: Actor, { userId }: { userId?: string } = {}) {
  const a = requireTenantActor(actor);
  if (a.kind !== "user") return [];
  const whose = userId ?? a.userId;
  if (whose !== a.userId && !isTenantAdmin(a)) throw new AppError("FORBIDDEN", "not allowed");
  return deps.prisma.session.findMany({
    where: { userId: whose, tenantId: a.tenantId },
    orderBy: { createdAt: "desc" },
    take: 100,
  });
}
