// Password-less sign-in. Link tokens: 256 random bits, stored only as SHA-256,
// 15-minute life, one use, consumed in one atomic statement; a new request
// retires the older unused links of the address. Requests answer the same
// whether or not the address has an account: the work happens after the answer.
import { z } from "zod";
import { randomToken, sha256Hex } from "../../crypto/tokens.ts";
import type { Deps, RequestMeta } from "../../deps.ts";
import { AppError } from "../../errors.ts";
import { recordAudit } from "../audit/service.ts";
import { magicLinkMail } from "./magic-link-mail.ts";
import { membershipForSignIn } from "../users/people.ts";
import { type SessionTokens, accountIsActive, signInto } from "./sessions.ts";

export const MAGIC_LINK_PATH = "/api/v3/auth/verify";

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

const isUuid = (value: string) => z.uuid().safeParse(value).success;

const emailPattern = /^[^\s@]{1,64}@[^\s@]{1,255}\.[^\s@]{1,63}$/;

/**
 * Validates and rate-limits, then returns at once; the lookup, the link and the mail
 * follow in the background so that timing says nothing about the address.
 */
export async function requestMagicLink(
  deps: Deps,
  rawEmail: string,
  meta: RequestMeta = {},
  /** A person in several tenants may choose the one the link signs into. */
  choice: { tenantId?: string | null } = {},
): Promise<void> {
  if (typeof rawEmail !== "string" || !emailPattern.test(rawEmail.trim())) {
    throw AppError.validation("email", "must be an email address");
  }
  const email = normalizeEmail(rawEmail);
  if (meta.ip) await deps.limiters.consume("magicLinkIp", meta.ip);
  await deps.limiters.consume("magicLinkEmail", email);
  const tenantId = choice.tenantId && isUuid(choice.tenantId) ? choice.tenantId : null;
  if (choice.tenantId && !tenantId) throw AppError.validation("tenantId", "must be a tenant id");
  deps.background.run(
    "magic-link",
    () => issueMagicLink(deps, email, tenantId, meta),
    meta.responseSent,
  );
}

async function issueMagicLink(
  deps: Deps,
  email: string,
  tenantId: string | null,
  meta: RequestMeta,
): Promise<void> {
  const user = await membershipForSignIn(deps.prisma, email, tenantId);
  if (!user) return;
  const token = randomToken(32);
  const now = new Date();
  await deps.prisma.$transaction(async (tx) => {
    // Pending invitations keep their links: they are not sign-in links.
    await tx.magicLink.deleteMany({ where: { email, consumedAt: null, purpose: "SIGN_IN" } });
    await tx.magicLink.create({
      data: {
        tokenHash: sha256Hex(token),
        email,
        userId: user.id,
        expiresAt: new Date(now.getTime() + deps.config.magicLinkTtlSeconds * 1000),
        requestIp: meta.ip ?? null,
      },
    });
    await recordAudit(
      tx,
      { actorType: "USER", actorId: user.id },
      {
        tenantId: user.tenantId,
        action: "auth.magic_link_requested",
        targetType: "User",
        targetId: user.id,
        ip: meta.ip,
        requestId: meta.requestId,
      },
    );
  });
  const link = `${deps.config.publicUrl}${MAGIC_LINK_PATH}?hash=${encodeURIComponent(token)}`;
  deps.mailer.send(magicLinkMail(email, link, deps.config.magicLinkTtlSeconds), {
    userId: user.id,
    purpose: "magic-link",
  });
  if (deps.mailer.outboxDir && deps.config.env === "development") {
    // Local development without SMTP: the link is only useful if someone can see it.
    deps.logger.info({ email, link }, "magic link (development outbox)");
  }
}

const invalidLink = () => new AppError("INVALID_TOKEN", "invalid or expired link");

/**
 * The membership a link signs into, as of `now`: an invitation's link accepts it (the membership
 * begins now, unless it was withdrawn). A link whose membership could not sign in is invalid.
 */
function membershipOfLink<U extends Parameters<typeof accountIsActive>[0]>(
  link: { purpose: string; user: U | null },
  now: Date,
): { user: U; accepting: boolean } {
  if (!link.user) throw invalidLink();
  const accepting = link.purpose === "INVITATION" && link.user.joinedAt === null;
  const user = { ...link.user, joinedAt: accepting ? now : link.user.joinedAt };
  if (!accountIsActive(user)) throw invalidLink();
  return { user, accepting };
}

/** A link token's stored hash, once the caller's IP is within its limit and the token well-formed. */
async function linkTokenHash(deps: Deps, token: string, meta: RequestMeta): Promise<string> {
  if (meta.ip) await deps.limiters.consume("verifyIp", meta.ip);
  if (typeof token !== "string" || token.length < 20 || token.length > 200) throw invalidLink();
  return sha256Hex(token);
}

/** Whom a link signs in, shown before it is consumed. */
export interface MagicLinkAccount {
  email: string;
  tenantName: string;
  /** An invitation's link also accepts the invitation. */
  purpose: "SIGN_IN" | "INVITATION";
}

/**
 * The account a live link would sign into, consuming nothing: a confirmation page names it before
 * the click, so that a link somebody else requested (login CSRF: their link, sent to you, would
 * sign your browser into their account) is seen for what it is. Whoever holds the link could sign
 * in with it anyway, so naming its account tells them nothing more. Rate-limited like a sign-in;
 * every link that would not sign in answers alike.
 */
export async function describeMagicLink(
  deps: Deps,
  token: string,
  meta: RequestMeta = {},
): Promise<MagicLinkAccount> {
  const tokenHash = await linkTokenHash(deps, token, meta);
  const link = await deps.prisma.magicLink.findFirst({
    where: { tokenHash, consumedAt: null, expiresAt: { gt: new Date() } },
    include: { user: { include: { tenant: true } } },
  });
  if (!link) throw invalidLink();
  const { user } = membershipOfLink(link, new Date());
  return {
    email: link.email,
    tenantName: user.tenant.name,
    purpose: link.purpose === "INVITATION" ? "INVITATION" : "SIGN_IN",
  };
}

/** Consumes a link and opens a session. Of concurrent calls with one token exactly one succeeds. */
export async function verifyMagicLink(
  deps: Deps,
  token: string,
  meta: RequestMeta = {},
): Promise<SessionTokens> {
  const tokenHash = await linkTokenHash(deps, token, meta);
  return deps.prisma.$transaction(async (tx) => {
    const now = new Date();
    const consumed = await tx.magicLink.updateMany({
      where: { tokenHash, consumedAt: null, expiresAt: { gt: now } },
      data: { consumedAt: now },
    });
    if (consumed.count !== 1) throw invalidLink();
    const link = await tx.magicLink.findUniqueOrThrow({
      where: { tokenHash },
      include: { user: { include: { tenant: true } } },
    });
    const { user, accepting } = membershipOfLink(link, now);
    if (accepting) {
      await recordAudit(
        tx,
        { actorType: "USER", actorId: user.id },
        {
          tenantId: user.tenantId,
          action: "member.join",
          targetType: "User",
          targetId: user.id,
          metadata: { invitedById: user.invitedById },
          ip: meta.ip,
          requestId: meta.requestId,
        },
      );
    }
    return signInto(deps, tx, user, "magic_link", meta, accepting ? now : undefined);
  });
}
