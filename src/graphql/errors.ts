// The one place an AppError becomes a GraphQL error: its code, the fields it names, the
// seconds to wait, and the HTTP status when it ends the request before execution.
import { GraphQLError, type ASTNode, type Source } from "graphql";
import type { AppError } from "../errors.ts";

interface Location {
  nodes?: readonly ASTNode[] | ASTNode;
  source?: Source;
  positions?: readonly number[];
  path?: readonly (string | number)[];
}

/**
 * `http`: the status to answer with when the error stops the request before execution
 * (`spec: false`: for every client, not only those that accept graphql-response+json).
 */
export function toGraphQLError(
  error: AppError,
  at: Location = {},
  http?: { status: number; spec?: boolean },
): GraphQLError {
  const extensions: Record<string, unknown> = { code: error.code };
  // A rejected token answers 401 over HTTP too, so clients and proxies see it without parsing.
  if (http) extensions.http = http;
  else if (error.code === "INVALID_TOKEN") extensions.http = { status: 401 };
  if (error.fields.length) extensions.fields = error.fields;
  if (error.retryAfter !== undefined) extensions.retryAfter = error.retryAfter;
  return new GraphQLError(error.message, {
    nodes: at.nodes,
    source: at.source,
    positions: at.positions,
    path: at.path,
    extensions,
  });
}

/** The whole answer to a GraphQL request refused before yoga saw it (authentication). */
export function graphQLErrorBody(error: AppError): {
  errors: ReturnType<GraphQLError["toJSON"]>[];
} {
  const json = toGraphQLError(error).toJSON();
  return { errors: [json] };
}
