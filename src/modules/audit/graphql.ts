// GraphQL adapter for the audit trail.
import { z } from "zod";
import { builder } from "../../graphql/builder.ts";
import { NodeInterface, nodeLoader } from "../../graphql/node.ts";
import { countAuditEvents, findAuditEvent, findAuditEvents } from "./service.ts";

const ActorTypeEnum = builder.enumType("AuditActorType", {
  values: ["USER", "API_KEY", "SYSTEM"] as const,
});

builder.prismaObject("AuditEvent", {
  interfaces: [NodeInterface],
  fields: (t) => ({
    id: t.exposeID("id"),
    action: t.exposeString("action", {
      description: "e.g. key.create, key.revoke, auth.sign_in, session.reuse_detected",
    }),
    actorType: t.expose("actorType", { type: ActorTypeEnum }),
    actorId: t.exposeID("actorId", { nullable: true }),
    targetType: t.exposeString("targetType", { nullable: true }),
    targetId: t.exposeID("targetId", { nullable: true }),
    metadata: t.expose("metadata", { type: "JSON" }),
    ip: t.exposeString("ip", { nullable: true }),
    requestId: t.exposeID("requestId", { nullable: true }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
  }),
});

nodeLoader("AuditEvent", (ctx, id) => findAuditEvent(ctx.deps, ctx.actor, id));

builder.queryFields((t) => ({
  auditEvents: t.prismaConnection(
    {
      type: "AuditEvent",
      cursor: "id",
      authScopes: { tenantAdmin: true },
      description:
        "The tenant's audit trail, newest first (owners and admins). `action` ending in a dot matches a prefix.",
      args: {
        action: t.arg.string({ validate: z.string().max(100) }),
        actorId: t.arg.id({ validate: z.string().max(100) }),
        targetId: t.arg.id({ validate: z.string().max(100) }),
        from: t.arg({ type: "DateTime" }),
        to: t.arg({ type: "DateTime" }),
      },
      totalCount: (_root, args, ctx) => countAuditEvents(ctx.deps, ctx.actor, args),
      resolve: (query, _root, args, ctx) => findAuditEvents(ctx.deps, ctx.actor, args, query),
    },
    { name: "AuditEventConnection" },
    { name: "AuditEventEdge" },
  ),
}));
