// GraphQL adapters for sign-in, refresh and sessions.
import { z } from "zod";
import { builder } from "../../graphql/builder.ts";
import { requestMetaOf } from "../../graphql/context.ts";
import { requestMagicLink, verifyMagicLink } from "./magic-link.ts";
import {
  listSessions,
  logout,
  refreshSession,
  revokeSession,
  type SessionTokens,
} from "./sessions.ts";
import { effectivePermissions } from "../../access/actor.ts";
import { RoleEnum, TenantType, UserType } from "../tenants/graphql.ts";
import { listMemberships, switchTenant } from "./switch-tenant.ts";

builder.prismaObject("Session", {
  fields: (t) => ({
    id: t.exposeID("id"),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    lastUsedAt: t.expose("lastUsedAt", { type: "DateTime" }),
    expiresAt: t.expose("expiresAt", { type: "DateTime" }),
    revokedAt: t.expose("revokedAt", { type: "DateTime", nullable: true }),
    revokeReason: t.exposeString("revokeReason", { nullable: true }),
    ip: t.exposeString("ip", { nullable: true }),
    userAgent: t.exposeString("userAgent", { nullable: true }),
    current: t.boolean({
      description: "Whether this is the session of the token making the request.",
      resolve: (session, _args, ctx) =>
        ctx.actor.kind === "user" && ctx.actor.sessionId === session.id,
    }),
  }),
});

builder.prismaObjectField(UserType, "sessions", (t) =>
  t.prismaField({
    type: ["Session"],
    description:
      "The user's sessions, newest first (the user itself, or an owner or admin of the tenant).",
    authScopes: { user: true },
    resolve: (_query, user, _args, ctx) => listSessions(ctx.deps, ctx.actor, { userId: user.id }),
  }),
);

const AuthPayload = builder.objectRef<SessionTokens>("AuthPayload").implement({
  description: "Tokens of a new or refreshed session. The refresh token is shown here only.",
  fields: (t) => ({
    userId: t.exposeID("userId"),
    sessionId: t.exposeID("sessionId"),
    tokenId: t.exposeID("tokenId", { description: "The access token's jti." }),
    accessToken: t.exposeString("accessToken", {
      description: "A JWT for `Authorization: Bearer`.",
    }),
    accessTokenExpiresAt: t.expose("accessTokenExpiresAt", { type: "DateTime" }),
    refreshToken: t.exposeString("refreshToken", {
      description: "Opaque; single use: every refresh returns a new one.",
    }),
  }),
});

const RequestMagicLinkPayload = builder
  .objectRef<{ message: string }>("RequestMagicLinkPayload")
  .implement({
    fields: (t) => ({ message: t.exposeString("message") }),
  });

const token = z.string().min(1, "must not be empty").max(200, "is too long");

builder.mutationFields((t) => ({
  requestMagicLink: t.field({
    type: RequestMagicLinkPayload,
    description:
      "Mails a sign-in link if the address has an account. The answer is the same either way.",
    args: {
      email: t.arg({ type: "EmailAddress", required: true }),
      tenantId: t.arg.id({
        description:
          "For a person in several tenants: the tenant the link signs into (default: the one used last).",
      }),
    },
    resolve: async (_root, { email, tenantId }, ctx) => {
      await requestMagicLink(ctx.deps, email, requestMetaOf(ctx), { tenantId });
      return { message: "login magic link sent to your email" };
    },
  }),
  verify: t.field({
    type: AuthPayload,
    description: "Consumes a sign-in link's token (`hash`) and opens a session.",
    args: { hash: t.arg.string({ required: true, validate: token }) },
    resolve: (_root, { hash }, ctx) => verifyMagicLink(ctx.deps, hash, requestMetaOf(ctx)),
  }),
  refreshSession: t.field({
    type: AuthPayload,
    description: "Rotates a refresh token. Replaying a used one ends the whole session.",
    args: { refreshToken: t.arg.string({ required: true, validate: token }) },
    resolve: (_root, { refreshToken }, ctx) =>
      refreshSession(ctx.deps, refreshToken, requestMetaOf(ctx)),
  }),
  switchTenant: t.field({
    type: AuthPayload,
    authScopes: { user: true },
    description:
      "Ends this session and opens one in another tenant the signed-in person belongs to.",
    args: { tenantId: t.arg.id({ required: true }) },
    resolve: (_root, { tenantId }, ctx) =>
      switchTenant(ctx.deps, ctx.actor, { tenantId }, requestMetaOf(ctx)),
  }),
  logout: t.prismaField({
    type: "Session",
    authScopes: { user: true },
    description: "Ends the session of the calling access token.",
    resolve: (_query, _root, _args, ctx) => logout(ctx.deps, ctx.actor, requestMetaOf(ctx)),
  }),
  revokeSession: t.prismaField({
    type: "Session",
    authScopes: { user: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_query, _root, { id }, ctx) =>
      revokeSession(ctx.deps, ctx.actor, { id }, requestMetaOf(ctx)),
  }),
}));

type MembershipRow = Awaited<ReturnType<typeof listMemberships>>[number];
const Membership = builder.objectRef<MembershipRow>("Membership").implement({
  description: "A tenant the signed-in person belongs to, with their role there.",
  fields: (t) => ({
    userId: t.exposeID("id", { description: "The person's user id in that tenant." }),
    tenant: t.field({ type: TenantType, resolve: (m) => m.tenant }),
    role: t.field({ type: RoleEnum, resolve: (m) => m.role }),
    permissions: t.stringList({ resolve: (m) => effectivePermissions(m) }),
    current: t.boolean({
      description: "Whether the calling session acts in this tenant.",
      resolve: (m, _args, ctx) => ctx.actor.kind === "user" && ctx.actor.userId === m.id,
    }),
  }),
});

builder.queryFields((t) => ({
  memberships: t.field({
    type: [Membership],
    authScopes: { user: true },
    description:
      "The tenants the signed-in person can act in, most recently used first (the tenant switcher).",
    resolve: (_root, _args, ctx) => listMemberships(ctx.deps, ctx.actor),
  }),
}));
