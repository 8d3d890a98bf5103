// Cursors are client input: every connection field checks its `after`/`before` before any
// resolver runs, so a forged or mangled cursor is VALIDATION_FAILED and never reaches the
// database (where a non-UUID id or a NaN offset would surface as an unexpected error).
//
// Keygate issues exactly two cursor shapes:
// - Prisma connections page by `id`, a UUID:      base64("GPC:S:<uuid>")
// - offset connections (resolveOffsetConnection):  base64("OffsetConnection:<n>")
// A connection that pages differently must teach isKnownCursor its shape (test/hardening/paging.test.ts
// pages every connection with a cursor it issued, and fails until it does).
import SchemaBuilder, {
  BasePlugin,
  type PothosOutputFieldConfig,
  type SchemaTypes,
} from "@pothos/core";
import type { GraphQLFieldResolver } from "graphql";
import { AppError } from "../errors.ts";

declare global {
  export namespace PothosSchemaTypes {
    export interface Plugins<Types extends SchemaTypes> {
      pagingArguments: PagingArgumentsPlugin<Types>;
    }
  }
}

const UUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}";
const KNOWN_CURSOR = new RegExp(`^(?:GPC:S:${UUID}|OffsetConnection:(?:0|[1-9][0-9]{0,8}))$`);
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** Far above any cursor Keygate issues; longer input is not decoded at all. */
const MAX_CURSOR_LENGTH = 200;

function isKnownCursor(cursor: string): boolean {
  if (cursor.length > MAX_CURSOR_LENGTH || !BASE64.test(cursor)) return false;
  return KNOWN_CURSOR.test(Buffer.from(cursor, "base64").toString("utf8"));
}

function isConnectionField(fieldConfig: PothosOutputFieldConfig<SchemaTypes>): boolean {
  const args = fieldConfig.args ?? {};
  return ["first", "after", "last", "before"].every((name) => name in args);
}

function checkCursorArguments(args: Record<string, unknown>): void {
  for (const name of ["after", "before"] as const) {
    const cursor = args[name];
    if (cursor == null) continue;
    if (typeof cursor !== "string" || !isKnownCursor(cursor))
      throw AppError.validation(name, "not a cursor this connection issued");
  }
}

class PagingArgumentsPlugin<Types extends SchemaTypes> extends BasePlugin<Types> {
  override wrapResolve(
    resolver: GraphQLFieldResolver<unknown, Types["Context"], object>,
    fieldConfig: PothosOutputFieldConfig<Types>,
  ): GraphQLFieldResolver<unknown, Types["Context"], object> {
    if (!isConnectionField(fieldConfig as PothosOutputFieldConfig<SchemaTypes>)) return resolver;
    return (parent, args, context, info) => {
      checkCursorArguments(args as Record<string, unknown>);
      return resolver(parent, args, context, info);
    };
  }
}

const pluginName = "pagingArguments";
SchemaBuilder.registerPlugin(pluginName, PagingArgumentsPlugin);
export default pluginName;
