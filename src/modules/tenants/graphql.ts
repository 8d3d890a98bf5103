// GraphQL adapters for tenants and users: thin calls into ./service.ts.
import { z } from "zod";
import { builder } from "../../graphql/builder.ts";
import { requestMetaOf } from "../../graphql/context.ts";
import { NodeInterface, nodeLoader } from "../../graphql/node.ts";
import { findUser } from "../users/service.ts";
import { effectivePermissions, requireTenantActor } from "../../access/actor.ts";
import {
  addUser,
  createTenant,
  countTenants,
  findOwnTenant,
  findTenants,
  findViewer,
  getTenant,
  keyPrefixSchema,
  setTenantState,
  updateTenant,
} from "./service.ts";

export const RoleEnum = builder.enumType("Role", { values: ["OWNER", "ADMIN", "MEMBER"] as const });

const TenantStateEnum = builder.enumType("TenantState", {
  values: ["ACTIVE", "SUSPENDED", "DELETED"] as const,
  description: "SUSPENDED: no credential of the tenant works (reversible). DELETED: for good.",
});

export const TenantType = builder.prismaObject("Tenant", {
  interfaces: [NodeInterface],
  fields: (t) => ({
    id: t.exposeID("id"),
    number: t.expose("number", {
      type: "Int64",
      description: "Numeric id used by vendor contracts with int64 tenant ids.",
    }),
    name: t.exposeString("name"),
    keyPrefix: t.exposeString("keyPrefix"),
    state: t.field({
      type: TenantStateEnum,
      resolve: (tenant) =>
        tenant.deletedAt ? "DELETED" : tenant.suspendedAt ? "SUSPENDED" : "ACTIVE",
    }),
    suspendedAt: t.expose("suspendedAt", { type: "DateTime", nullable: true }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    updatedAt: t.expose("updatedAt", { type: "DateTime" }),
    users: t.relation("users", {
      // The caller's role counts in its own tenant only: an admin of tenant A who is a member of
      // B (reached through `memberships`) does not see B's people.
      authScopes: (tenant, _args, ctx) =>
        ctx.actor.kind === "user" && ctx.actor.tenantId === tenant.id
          ? { tenantAdmin: true, platformAdmin: true }
          : { platformAdmin: true },
      query: { orderBy: { createdAt: "asc" } },
    }),
  }),
});

const MembershipStatusEnum = builder.enumType("MembershipStatus", {
  values: ["INVITED", "ACTIVE", "DISABLED", "REMOVED"] as const,
  description: "INVITED: the invitation is not accepted yet; the membership grants nothing.",
});

export const UserType = builder.prismaObject("User", {
  interfaces: [NodeInterface],
  fields: (t) => ({
    id: t.exposeID("id"),
    email: t.expose("email", { type: "EmailAddress" }),
    name: t.exposeString("name", { nullable: true }),
    status: t.field({
      type: MembershipStatusEnum,
      resolve: (user) =>
        user.removedAt
          ? "REMOVED"
          : user.joinedAt === null
            ? "INVITED"
            : user.disabledAt
              ? "DISABLED"
              : "ACTIVE",
    }),
    invitedAt: t.expose("invitedAt", { type: "DateTime", nullable: true }),
    joinedAt: t.expose("joinedAt", { type: "DateTime", nullable: true }),
    role: t.expose("role", { type: RoleEnum }),
    isPlatformAdmin: t.exposeBoolean("isPlatformAdmin"),
    permissions: t.stringList({
      description:
        "Effective permissions: `*` for owners and admins, the granted ones for members.",
      resolve: (user) => effectivePermissions(user),
    }),
    grantedPermissions: t.exposeStringList("permissions", {
      description: "What was granted to a MEMBER (owners and admins hold everything regardless).",
    }),
    disabled: t.boolean({ resolve: (user) => user.disabledAt !== null }),
    removedAt: t.expose("removedAt", { type: "DateTime", nullable: true }),
    lastLoginAt: t.expose("lastLoginAt", { type: "DateTime", nullable: true }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    tenant: t.relation("tenant"),
  }),
});

nodeLoader("Tenant", (ctx, id) => findOwnTenant(ctx.deps, ctx.actor, id));
nodeLoader("User", (ctx, id) => findUser(ctx.deps, ctx.actor, id));

builder.queryFields((t) => ({
  viewer: t.prismaField({
    type: "User",
    nullable: true,
    description: "The signed-in user; null for anonymous callers and API keys.",
    resolve: (query, _root, _args, ctx) => findViewer(ctx.deps, ctx.actor, query),
  }),
  tenant: t.prismaField({
    type: "Tenant",
    authScopes: { authenticated: true },
    description: "The caller's tenant.",
    resolve: (query, _root, _args, ctx) => getTenant(ctx.deps, ctx.actor, query),
  }),
  tenants: t.prismaConnection(
    {
      type: "Tenant",
      cursor: "id",
      authScopes: { platformAdmin: true },
      description: "Every tenant (platform administrators only).",
      totalCount: (_root, _args, ctx) => countTenants(ctx.deps, ctx.actor),
      resolve: (query, _root, _args, ctx) => findTenants(ctx.deps, ctx.actor, query),
    },
    { name: "TenantConnection" },
    { name: "TenantEdge" },
  ),
}));

const CreateTenantInput = builder.inputType("CreateTenantInput", {
  fields: (t) => ({
    name: t.string({ required: true, validate: z.string().trim().min(1).max(200) }),
    ownerEmail: t.field({ type: "EmailAddress", required: true }),
    keyPrefix: t.string({ validate: keyPrefixSchema }),
  }),
});

type CreateTenantResult = Awaited<ReturnType<typeof createTenant>>;
const CreateTenantPayload = builder.objectRef<CreateTenantResult>("CreateTenantPayload").implement({
  fields: (t) => ({
    tenant: t.field({ type: TenantType, resolve: (p) => p.tenant }),
    owner: t.field({ type: UserType, resolve: (p) => p.owner }),
  }),
});

const AddUserInput = builder.inputType("AddUserInput", {
  fields: (t) => ({
    email: t.field({ type: "EmailAddress", required: true }),
    name: t.string(),
    role: t.field({ type: RoleEnum, defaultValue: "MEMBER" }),
    permissions: t.stringList({
      description: "For MEMBERs: what they may do and delegate to their keys.",
    }),
  }),
});

builder.mutationFields((t) => ({
  createTenant: t.field({
    type: CreateTenantPayload,
    authScopes: { platformAdmin: true },
    args: { input: t.arg({ type: CreateTenantInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      createTenant(
        ctx.deps,
        ctx.actor,
        {
          name: input.name,
          ownerEmail: input.ownerEmail,
          keyPrefix: input.keyPrefix ?? undefined,
        },
        requestMetaOf(ctx),
      ),
  }),
  addUser: t.field({
    type: UserType,
    authScopes: { authenticated: true },
    args: { input: t.arg({ type: AddUserInput, required: true }) },
    resolve: (_root, { input }, ctx) => {
      requireTenantActor(ctx.actor);
      return addUser(
        ctx.deps,
        ctx.actor,
        {
          email: input.email,
          name: input.name ?? undefined,
          role: input.role ?? "MEMBER",
          permissions: input.permissions ?? [],
        },
        requestMetaOf(ctx),
      );
    },
  }),
}));

const UpdateTenantInput = builder.inputType("UpdateTenantInput", {
  fields: (t) => ({
    name: t.string({ validate: z.string().trim().min(1).max(200) }),
    keyPrefix: t.string({
      description: "Prefix of keys issued from now on.",
      validate: keyPrefixSchema,
    }),
  }),
});

builder.mutationFields((t) => ({
  updateTenant: t.prismaField({
    type: "Tenant",
    authScopes: { tenantAdmin: true },
    description:
      "Renames the caller's tenant or changes the prefix of its new keys (owners and admins).",
    args: { input: t.arg({ type: UpdateTenantInput, required: true }) },
    resolve: (_query, _root, { input }, ctx) =>
      updateTenant(ctx.deps, ctx.actor, input, requestMetaOf(ctx)),
  }),
  setTenantState: t.prismaField({
    type: "Tenant",
    authScopes: { platformAdmin: true },
    description: "Suspends, resumes or deletes (soft) a tenant (platform administrators).",
    args: {
      id: t.arg.id({ required: true }),
      state: t.arg({ type: TenantStateEnum, required: true }),
    },
    resolve: (_query, _root, { id, state }, ctx) =>
      setTenantState(ctx.deps, ctx.actor, { id, state }, requestMetaOf(ctx)),
  }),
}));
