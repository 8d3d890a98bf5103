// GraphQL adapters for user administration: thin calls into ./service.ts.
import { builder } from "../../graphql/builder.ts";
import { requestMetaOf } from "../../graphql/context.ts";
import { setUserDisabled } from "./service.ts";

builder.mutationFields((t) => ({
  disableUser: t.prismaField({
    type: "User",
    authScopes: { tenantAdmin: true },
    description: "Ends the user's sessions and stops every key bound to them (owners and admins).",
    args: { id: t.arg.id({ required: true }) },
    resolve: (_query, _root, { id }, ctx) =>
      setUserDisabled(ctx.deps, ctx.actor, { id, disabled: true }, requestMetaOf(ctx)),
  }),
  enableUser: t.prismaField({
    type: "User",
    authScopes: { tenantAdmin: true },
    description: "Lets a disabled user sign in again; their keys verify again unless revoked.",
    args: { id: t.arg.id({ required: true }) },
    resolve: (_query, _root, { id }, ctx) =>
      setUserDisabled(ctx.deps, ctx.actor, { id, disabled: false }, requestMetaOf(ctx)),
  }),
}));
