// Inviting a person by email. The invitation is a pending membership (it grants nothing) and a
// one-use link that accepts it and signs in. Inviting a pending address again renews the
// invitation; the answer never says whether the address has memberships in other tenants.
import { z } from "zod";
import { requireTenantAdmin, type Actor } from "../../access/actor.ts";
import { isValidPermission } from "../../access/permissions.ts";
import { randomToken, sha256Hex } from "../../crypto/tokens.ts";
import type { Deps, RequestMeta } from "../../deps.ts";
import { AppError } from "../../errors.ts";
import { recordAudit } from "../audit/service.ts";
import { parseInput } from "../validation.ts";
import { invitationMail } from "./invitation-mail.ts";
import { createMembership, ensurePerson } from "./people.ts";

/**
 * Invitees land in the dashboard's confirmation page, which accepts on a click and keeps the
 * session in its cookie. The token is an ordinary link token: the sign-in link's route
 * (`/api/v3/auth/verify?hash=`) and GraphQL `verify` accept it as well.
 */
export const INVITATION_LINK_PATH = "/dashboard/sign-in/confirm";

/** An invitation is a letter, not a sign-in prompt: it may wait a week. */
export const INVITATION_TTL_SECONDS = 7 * 24 * 3600;

const inviteInput = z.object({
  email: z.email().transform((e) => e.trim().toLowerCase()),
  name: z.string().trim().max(200).nullable().optional(),
  role: z.enum(["OWNER", "ADMIN", "MEMBER"]).default("MEMBER"),
  permissions: z
    .array(z.string().refine(isValidPermission, "must be resource:action, resource:* or *"))
    .max(200)
    .default([]),
});

export async function inviteMember(
  deps: Deps,
  actor: Actor,
  raw: z.input<typeof inviteInput>,
  meta: RequestMeta = {},
) {
  const a = requireTenantAdmin(actor);
  const input = parseInput(inviteInput, raw);
  if (input.role === "OWNER" && a.role !== "OWNER")
    throw new AppError("FORBIDDEN", "only owners invite owners");
  // Invitations share the per-address budget of sign-in links: no mail-bombing an address.
  await deps.limiters.consume("magicLinkEmail", input.email);
  const token = randomToken(32);
  const { member, tenantName, inviter } = await deps.prisma.$transaction(async (tx) => {
    const person = await ensurePerson(tx, input.email);
    const existing = await tx.user.findUnique({
      where: { tenantId_personId: { tenantId: a.tenantId, personId: person.id } },
    });
    const pending = existing && !existing.removedAt && existing.joinedAt === null;
    const member = pending
      ? await tx.user.update({
          where: { id: existing.id },
          data: {
            name: input.name ?? existing.name,
            role: input.role,
            permissions: input.role === "MEMBER" ? input.permissions : [],
            invitedAt: new Date(),
            invitedById: a.userId,
          },
        })
      : await createMembership(tx, {
          tenantId: a.tenantId,
          email: input.email,
          name: input.name,
          role: input.role,
          permissions: input.permissions,
          invited: true,
          invitedById: a.userId,
        });
    // One live invitation link per membership: a renewed invitation retires the older link.
    await tx.magicLink.deleteMany({
      where: { userId: member.id, purpose: "INVITATION", consumedAt: null },
    });
    await tx.magicLink.create({
      data: {
        tokenHash: sha256Hex(token),
        email: input.email,
        userId: member.id,
        purpose: "INVITATION",
        expiresAt: new Date(Date.now() + INVITATION_TTL_SECONDS * 1000),
        requestIp: meta.ip ?? null,
      },
    });
    await recordAudit(tx, a, {
      tenantId: a.tenantId,
      action: pending ? "member.reinvite" : "member.invite",
      targetType: "User",
      targetId: member.id,
      metadata: { role: member.role, permissions: member.permissions },
      ip: meta.ip,
      requestId: meta.requestId,
    });
    const tenant = await tx.tenant.findUniqueOrThrow({ where: { id: a.tenantId } });
    const inviter = await tx.user.findUniqueOrThrow({ where: { id: a.userId } });
    return { member, tenantName: tenant.name, inviter: inviter.email };
  });
  const link = `${deps.config.publicUrl}${INVITATION_LINK_PATH}?hash=${encodeURIComponent(token)}`;
  deps.mailer.send(
    invitationMail(input.email, { tenantName, inviter, link, ttlSeconds: INVITATION_TTL_SECONDS }),
    { userId: member.id, purpose: "invitation" },
  );
  return member;
}
