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
import { UserType } from "../tenants/graphql.ts";

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
    args: { email: t.arg({ type: "EmailAddress", required: true }) },
    resolve: async (_root, { email }, ctx) => {
      await requestMagicLink(ctx.deps, email, requestMetaOf(ctx));
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
