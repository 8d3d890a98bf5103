// The yoga server over the Pothos schema. Errors: AppError keeps its code, everything
// unexpected is masked and logged with the request id.
import { GraphQLError, type ValidationRule } from "graphql";
import { PothosValidationError } from "@pothos/core";
import { createYoga, type Plugin, type YogaServerInstance } from "graphql-yoga";
import { EnvelopArmorPlugin } from "@escape.tech/graphql-armor";
import { useCSRFPrevention } from "@graphql-yoga/plugin-csrf-prevention";
import { useDisableIntrospection } from "@graphql-yoga/plugin-disable-introspection";
import type { Actor } from "../access/actor.ts";
import type { Deps } from "../deps.ts";
import { AppError } from "../errors.ts";
import { toGraphQLError } from "./errors.ts";
import { findUnstorable } from "../storable-text.ts";
import { StorableTextRule } from "./storable-text-rule.ts";
import { renderGraphiQLPage } from "./graphiql.ts";
import type { GraphQLContext } from "./context.ts";
import { schema } from "./schema.ts";

/** What the HTTP layer knows about the request: the caller, authenticated once, and its facts. */
export interface ServerContext {
  actor: Actor;
  requestId: string;
  ip: string | null;
  /** Settles once the response is sent in full (the request's RequestFacts). */
  responseSent?: () => Promise<void>;
}

const BEARER = /^bearer\s+\S/i;

/**
 * Browsers cannot send a JSON body or the `x-graphql-yoga-csrf` header cross-site without a
 * preflight, and cannot attach `Authorization: Bearer` at all on their own (unlike cookies or
 * Basic credentials), so a bearer request was written by a script the caller trusts: default
 * urql and Apollo clients (queries as GET, no extra header) work. Requests without a bearer
 * token (anonymous, or anything a browser adds by itself) keep the check. An invalid bearer
 * token never gets here: the Hono app answers 401 first.
 */
function useCSRFPreventionUnlessBearer(): Plugin {
  const csrf = useCSRFPrevention({ requestHeaders: ["x-graphql-yoga-csrf"] });
  return {
    onRequestParse(payload) {
      if (BEARER.test(payload.request.headers.get("authorization") ?? "")) return;
      return csrf.onRequestParse?.(payload);
    },
  };
}

function isGraphQLErrorLike(value: unknown): value is { originalError?: unknown } {
  return value instanceof Error && value.name === "GraphQLError";
}

/**
 * Yoga's "POST body sent invalid JSON." names the JSON parser's own message in
 * `extensions.originalError`. That text depends on which body reader parsed the request (the
 * fast path's and Hono's differ) and echoes the client's body: only its name is kept (yoga
 * answers 400 rather than 200 because it is there), so a malformed body gets one answer on
 * every path.
 */
function withoutParserDetail(error: GraphQLError): GraphQLError {
  const detail = error.extensions?.originalError as
    | { name?: unknown; message?: unknown }
    | undefined;
  if (!detail || typeof detail !== "object" || detail.message === undefined) return error;
  // Its own class: graphql's CJS and ESM builds may both be loaded, and yoga reads the HTTP
  // status only from an instance of the one it imported.
  const Same = error.constructor as typeof GraphQLError;
  return new Same(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    extensions: { ...error.extensions, originalError: { name: detail.name } },
  });
}

/**
 * Logs each masked error's original with the request id and names the id in the answer.
 * maskError cannot: it sees only the error, and the request id is the server context's.
 * Every answer yoga gives, whatever phase failed, passes through result processing.
 */
function nameUnexpectedErrors(
  deps: Deps,
  unexpected: WeakMap<GraphQLError, unknown>,
): Plugin<Record<string, unknown>, ServerContext> {
  return {
    onResultProcess({ result, setResult, serverContext }) {
      // No subscriptions and no batching here: a result is one ExecutionResult.
      if (Array.isArray(result) || !("errors" in result) || !result.errors) return;
      const requestId = serverContext.requestId;
      let named = false;
      const errors = result.errors.map((error) => {
        // By identity: maskError's own errors (no class check: graphql's CJS and ESM builds differ).
        if (!unexpected.has(error)) return error;
        named = true;
        deps.logger.error({ err: unexpected.get(error), requestId }, "unexpected GraphQL error");
        return new GraphQLError(error.message, {
          nodes: error.nodes,
          path: error.path,
          extensions: { ...error.extensions, requestId },
        });
      });
      if (named) setResult({ ...result, errors });
    },
  };
}

export function createGraphQLServer(deps: Deps): YogaServerInstance<ServerContext, GraphQLContext> {
  // Masked errors and what was thrown (see nameUnexpectedErrors).
  const unexpected = new WeakMap<GraphQLError, unknown>();
  return createYoga<ServerContext, GraphQLContext>({
    schema,
    graphqlEndpoint: "/graphql",
    graphiql: deps.config.graphiql ? { title: "Keygate", endpoint: "/graphql" } : false,
    // Every asset from this gateway (./graphiql.ts), none from a CDN: works without internet.
    renderGraphiQL: renderGraphiQLPage,
    landingPage: false,
    // CORS is decided once for every route, by the Hono app (src/cors.ts): yoga's own default
    // would echo any Origin with credentials allowed.
    cors: false,
    logging: false,
    // One operation per request: batching would multiply every limit below.
    batching: false,
    // Body sizes are limited before yoga, once for every route: the Hono app refuses a declared
    // length over MAX_BODY_BYTES and buffers an undeclared one up to it (app.ts), and the fast
    // path takes only a declared length within LARGE_BODY_BYTES (fast-path.ts), which Node's
    // parser holds the body to. Yoga's own limit would pipe every body through a counting
    // TransformStream (a stream pipeline and an AbortController per request: a tenth of
    // verifyKey's CPU, npm run bench) to enforce a larger bound that can never be reached.
    maxRequestBodySize: false,
    plugins: [
      EnvelopArmorPlugin({
        maxDepth: { n: 12, ignoreIntrospection: true },
        costLimit: { maxCost: 5000, ignoreIntrospection: true },
        maxAliases: { n: 15 },
        maxDirectives: { n: 20 },
        maxTokens: { n: 2000 },
        // Suggestions ("did you mean ...") map the schema for an attacker; keep them for local work only.
        blockFieldSuggestion: { enabled: deps.config.env !== "development" },
      }),
      ...(deps.config.introspection ? [] : [useDisableIntrospection()]),
      useCSRFPreventionUnlessBearer(),
      nameUnexpectedErrors(deps, unexpected),
      {
        // Strict input, as on the REST routes: text PostgreSQL cannot store never reaches a resolver.
        // Variables are checked as sent (coercion only narrows them); string literals after parsing,
        // by a validation rule, so that every escape spelling of a character is covered.
        onParams({ params }) {
          const problem = params.variables
            ? findUnstorable(params.variables, "variables")
            : undefined;
          if (problem) {
            throw toGraphQLError(
              AppError.validation(problem.field, problem.message),
              {},
              { status: 400 },
            );
          }
        },
        onValidate({ addValidationRule }: { addValidationRule: (rule: ValidationRule) => void }) {
          addValidationRule(StorableTextRule);
        },
      },
    ],
    maskedErrors: {
      maskError(error) {
        const graphQLError = isGraphQLErrorLike(error) ? (error as GraphQLError) : undefined;
        // graphql-js and yoga may each wrap the thrown error once: find what was thrown.
        // (Checked by shape: graphql's CJS and ESM builds can both be loaded, each with its own class.)
        let original: unknown = error;
        while (isGraphQLErrorLike(original) && original.originalError)
          original = original.originalError;
        if (original instanceof AppError && original.status < 500)
          return toGraphQLError(original, graphQLError ?? {});
        // Pothos rejects malformed cursors and paging arguments this way: the client's mistake.
        if (original instanceof PothosValidationError)
          return toGraphQLError(
            new AppError("VALIDATION_FAILED", original.message),
            graphQLError ?? {},
          );
        // A GraphQL error all the way down (validation, variable coercion): its outer message names the field.
        if (isGraphQLErrorLike(original))
          return withoutParserDetail(graphQLError ?? (original as GraphQLError));
        // Logged and given the request id by nameUnexpectedErrors, which sees the server context.
        const masked = new GraphQLError("Unexpected error.", {
          nodes: graphQLError?.nodes,
          path: graphQLError?.path,
          extensions: { code: "INTERNAL" },
        });
        unexpected.set(masked, original);
        return masked;
      },
    },
    // The Hono app in front authenticates every request, once (src/app.ts): yoga never does.
    context: ({ request, actor, requestId, ip, responseSent }): GraphQLContext => ({
      deps,
      actor,
      requestId,
      ip,
      userAgent: request.headers.get("user-agent"),
      responseSent,
    }),
  });
}
