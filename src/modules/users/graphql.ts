// GraphQL adapters for people of a tenant: thin calls into ./service.ts and ./members.ts.
import { builder } from "../../graphql/builder.ts";
import { requestMetaOf } from "../../graphql/context.ts";
import { RoleEnum } from "../tenants/graphql.ts";
import { inviteMember } from "./invitations.ts";
import { removeMember, updateMember } from "./members.ts";
import { setUserDisabled } from "./service.ts";

const UpdateMemberInput = builder.inputType("UpdateMemberInput", {
  fields: (t) => ({
    id: t.id({ required: true }),
    role: t.field({ type: RoleEnum, description: "Only owners make or unmake owners." }),
    permissions: t.stringList({ description: "What a MEMBER may do and delegate to its keys." }),
  }),
});

const InviteMemberInput = builder.inputType("InviteMemberInput", {
  fields: (t) => ({
    email: t.field({ type: "EmailAddress", required: true }),
    name: t.string(),
    role: t.field({ type: RoleEnum, defaultValue: "MEMBER" }),
    permissions: t.stringList({ description: "For MEMBERs: what they may do and delegate." }),
  }),
});

builder.mutationFields((t) => ({
  inviteMember: t.prismaField({
    type: "User",
    authScopes: { tenantAdmin: true },
    description:
      "Mails an invitation link; opening it accepts and signs in. Until then the member is INVITED and holds nothing. Inviting an INVITED address again renews the invitation.",
    args: { input: t.arg({ type: InviteMemberInput, required: true }) },
    resolve: (_query, _root, { input }, ctx) =>
      inviteMember(
        ctx.deps,
        ctx.actor,
        {
          email: input.email,
          name: input.name,
          role: input.role ?? "MEMBER",
          permissions: input.permissions ?? [],
        },
        requestMetaOf(ctx),
      ),
  }),
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
  updateMember: t.prismaField({
    type: "User",
    authScopes: { tenantAdmin: true },
    description:
      "Changes a member's role or permissions; their keys are narrowed on the next request. The last owner stays an owner.",
    args: { input: t.arg({ type: UpdateMemberInput, required: true }) },
    resolve: (_query, _root, { input }, ctx) =>
      updateMember(ctx.deps, ctx.actor, input, requestMetaOf(ctx)),
  }),
  removeMember: t.prismaField({
    type: "User",
    authScopes: { tenantAdmin: true },
    description:
      "Removes a member: their sessions end and their user-bound keys are revoked. The last owner cannot be removed.",
    args: { id: t.arg.id({ required: true }) },
    resolve: (_query, _root, { id }, ctx) =>
      removeMember(ctx.deps, ctx.actor, { id }, requestMetaOf(ctx)),
  }),
}));
