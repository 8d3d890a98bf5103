// The Pothos builder and nothing else. Plugin order: ScopeAuth, Errors, Prisma, Relay, Validation,
// then Keygate's paging check (./paging-plugin.ts), innermost: authorization answers first.
import SchemaBuilder from "@pothos/core";
import ScopeAuthPlugin from "@pothos/plugin-scope-auth";
import ErrorsPlugin from "@pothos/plugin-errors";
import PrismaPlugin from "@pothos/plugin-prisma";
import RelayPlugin from "@pothos/plugin-relay";
import ValidationPlugin from "@pothos/plugin-validation";
import PagingArgumentsPlugin from "./paging-plugin.ts";
import {
  DateTimeResolver,
  EmailAddressResolver,
  JSONResolver,
  UUIDResolver,
} from "graphql-scalars";
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
    UUID: { Input: string; Output: string };
    JSON: { Input: unknown; Output: unknown };
    Int64: { Input: bigint; Output: bigint | number | string };
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
builder.addScalarType("UUID", UUIDResolver);
builder.addScalarType("JSON", JSONResolver);
builder.scalarType("Int64", {
  description: "A 64-bit integer, serialized as a JSON number when it is a safe integer.",
  serialize: (value) => {
    const n = typeof value === "bigint" ? value : BigInt(value);
    return n <= BigInt(Number.MAX_SAFE_INTEGER) && n >= BigInt(Number.MIN_SAFE_INTEGER)
      ? Number(n)
      : n.toString();
  },
  parseValue: (value) => {
    if (typeof value === "number" && Number.isInteger(value)) return BigInt(value);
    if (typeof value === "string" && /^-?\d+$/.test(value)) return BigInt(value);
    throw new AppError("VALIDATION_FAILED", "Int64: expected an integer");
  },
});

builder.queryType({});
builder.mutationType({});
