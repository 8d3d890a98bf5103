// The Pothos builder and nothing else. Plugin order: ScopeAuth, Errors, Prisma, Relay, Validation,
// then Keygate's paging check (./paging-plugin.ts), innermost: authorization answers first.
import SchemaBuilder from "@pothos/core";
import ScopeAuthPlugin from "@pothos/plugin-scope-auth";
import ErrorsPlugin from "@pothos/plugin-errors";
import PrismaPlugin from "@pothos/plugin-prisma";
import RelayPlugin from "@pothos/plugin-relay";
import ValidationPlugin from "@pothos/plugin-validation";
import PagingArgumentsPlugin from "./paging-plugin.ts";
import { DateTimeResolver, EmailAddressResolver, JSONResolver } from "graphql-scalars";
import type PrismaTypes from "../generated/pothos-types.ts";
import { getDatamodel } from "../generated/pothos-types.ts";
import { isPlatformAdmin, isTenantAdmin } from "../access/actor.ts";
import { grants } from "../access/permissions.ts";
import { AppError } from "../errors.ts";
import type { GraphQLContext } from "./context.ts";

export const builder = new SchemaBuilder<{
  Context: GraphQLContext;
  PrismaTypes: PrismaTypes;
  DefaultFieldNullability: false;
  AuthScopes: {
    authenticated: boolean;
    user: boolean;
    tenantAdmin: boolean;
    platformAdmin: boolean;
    permission: string;
  };
  Scalars: {
    // IDs are UUID strings everywhere: resolvers get a string, never `string | number`.
    ID: { Input: string; Output: string };
    DateTime: { Input: Date; Output: Date | string };
    EmailAddress: { Input: string; Output: string };
    JSON: { Input: unknown; Output: unknown };
    // A JSON number on the wire, `number` in generated clients (README: "Int64").
    Int64: { Input: bigint; Output: bigint | number };
  };
}>({
  defaultFieldNullability: false,
  plugins: [
    ScopeAuthPlugin,
    ErrorsPlugin,
    PrismaPlugin,
    RelayPlugin,
    ValidationPlugin,
    PagingArgumentsPlugin,
  ],
  scopeAuth: {
    authScopes: async (ctx) => ({
      authenticated: ctx.actor.kind === "user" || ctx.actor.kind === "apiKey",
      user: ctx.actor.kind === "user",
      tenantAdmin: isTenantAdmin(ctx.actor),
      platformAdmin: isPlatformAdmin(ctx.actor),
      permission: (perm: string) =>
        (ctx.actor.kind === "user" || ctx.actor.kind === "apiKey") &&
        grants(ctx.actor.permissions, perm),
    }),
    // Anonymous callers learn they must sign in; signed-in callers learn they may not.
    unauthorizedError: (_parent, ctx) =>
      ctx.actor.kind === "anonymous"
        ? new AppError("UNAUTHENTICATED", "authentication required")
        : new AppError("FORBIDDEN", "not allowed"),
  },
  errors: { defaultTypes: [] },
  prisma: {
    client: (ctx) => ctx.deps.prisma,
    dmmf: getDatamodel(),
    exposeDescriptions: false,
    filterConnectionTotalCount: true,
    onUnusedQuery: null,
  },
  relay: {
    clientMutationId: "omit",
    cursorType: "String",
    // Every id is a random UUID, unique across all tables: it is already a global id, so the
    // id a client reads is the id node(id:), the other fields and the REST routes take.
    // Keygate's own `node` field (./node.ts) resolves it through the services' finders.
    encodeGlobalID: (_typename, id) => String(id),
    decodeGlobalID: (globalID) => ({ typename: "Node", id: globalID }),
    nodeQueryOptions: false,
    nodesQueryOptions: false,
  },
  validation: {
    validationError: (result) => {
      const fields = result.issues.map((issue) => ({
        field:
          (issue.path ?? [])
            .map((p) => (typeof p === "object" ? String(p.key) : String(p)))
            .join(".") || "input",
        message: issue.message,
      }));
      return new AppError(
        "VALIDATION_FAILED",
        fields.map((f) => `${f.field}: ${f.message}`).join("; "),
        { fields },
      );
    },
  },
});

builder.addScalarType("DateTime", DateTimeResolver);
builder.addScalarType("EmailAddress", EmailAddressResolver);
builder.addScalarType("JSON", JSONResolver);
builder.scalarType("Int64", {
  description:
    "A 64-bit integer id, serialized as a JSON number (TypeScript: number). Keygate's Int64 values are sequence numbers, far below 2^53.",
  serialize: (value) => {
    const n = typeof value === "bigint" ? value : BigInt(value);
    // Never rounded: a value a JSON number cannot hold exactly is an error, not a wrong id.
    if (n > BigInt(Number.MAX_SAFE_INTEGER) || n < BigInt(Number.MIN_SAFE_INTEGER))
      throw new Error("Int64 value beyond 2^53 - 1");
    return Number(n);
  },
  parseValue: (value) => {
    if (typeof value === "number" && Number.isSafeInteger(value)) return BigInt(value);
    // Strings stay accepted for clients written against the earlier "string when large" form.
    if (typeof value === "string" && /^-?\d{1,19}$/.test(value)) return BigInt(value);
    throw new AppError("VALIDATION_FAILED", "Int64: expected an integer");
  },
});

builder.queryType({});
builder.mutationType({});
