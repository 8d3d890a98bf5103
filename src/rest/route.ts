// One declaration per REST route: method, path, request and response schemas and the handler,
// together. `mountRoutes` puts the declarations of one vendor on a Hono sub-app (with the vendor's
// error envelope); `operations` turns the same declarations into OpenAPI operations, so a route
// cannot be served without being documented, and its document lists every status it can answer.
import { Hono, type Context } from "hono";
import { z } from "zod";
import type { AppEnv } from "../app.ts";
import type { Deps } from "../deps.ts";
import { AppError, errorStatus } from "../errors.ts";

export type RestContext = Context<AppEnv>;
export type Method = "get" | "head" | "post" | "put";
type JsonSchema = Record<string, unknown>;

/** Named schemas: `#/components/schemas/<id>` in the document. */
const components = z.registry<{ id: string }>();

export function component<S extends z.ZodType>(id: string, schema: S): S {
  components.add(schema, { id });
  return schema;
}

export interface ResponseSpec {
  description: string;
  /** The JSON body. */
  json?: z.ZodType;
  /** The route answers an HTML page with this status (for browsers). */
  html?: boolean;
  /** Response headers this answer may carry (names in `responseHeaders`). */
  headers?: ResponseHeader[];
}

/**
 * Response headers the document declares, once, in `components.headers`. Every 429 carries
 * Retry-After and the RateLimit-* headers of the spent window (see `retryAfter` in envelope.ts).
 */
export const responseHeaders = {
  "Retry-After": {
    description: "Seconds to wait before trying again.",
    schema: { type: "integer", minimum: 0 },
  },
  "RateLimit-Limit": {
    description:
      "Requests allowed in the current window (IETF draft RateLimit header fields), when known.",
    schema: { type: "integer", minimum: 0 },
  },
  "RateLimit-Remaining": {
    description: "Requests left in the current window.",
    schema: { type: "integer", minimum: 0 },
  },
  "RateLimit-Reset": {
    description: "Seconds until the current window resets.",
    schema: { type: "integer", minimum: 0 },
  },
} as const;

export type ResponseHeader = keyof typeof responseHeaders;

/** The headers every 429 answer carries: `required` marks those always present. */
const limitedHeaders: { name: ResponseHeader; required: boolean }[] = [
  { name: "Retry-After", required: true },
  { name: "RateLimit-Limit", required: false },
  { name: "RateLimit-Remaining", required: true },
  { name: "RateLimit-Reset", required: true },
];

/**
 * Request headers that sign a request of a secure API key, declared once in
 * `components.parameters`: Keygate's own scheme, and Kotani's (x-timestamp, x-nonce, x-signature).
 */
export const signatureParameters = {
  KeygateSignature: {
    name: "Keygate-Signature",
    in: "header",
    required: false,
    description:
      'Secure API keys sign every request: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<METHOD>.<path and query>.<hex SHA-256 of body>")>`. Each signature is accepted once, within 300 s of `t`.',
    schema: { type: "string", pattern: "^t=\\d{1,12},v1=[0-9a-f]{64}$" },
  },
  KotaniTimestamp: {
    name: "x-timestamp",
    in: "header",
    required: false,
    description:
      "Kotani request signing (secure API keys, instead of Keygate-Signature): unix time in seconds (or milliseconds), within 300 s of the gateway's clock.",
    schema: { type: "string", pattern: "^\\d{1,13}$" },
  },
  KotaniNonce: {
    name: "x-nonce",
    in: "header",
    required: false,
    description:
      "Kotani request signing: a value used once per key (1 to 128 letters, digits, `-`, `_`, `.`, `:`).",
    schema: { type: "string", pattern: "^[A-Za-z0-9._:-]{1,128}$" },
  },
  KotaniSignature: {
    name: "x-signature",
    in: "header",
    required: false,
    description:
      "Kotani request signing: hex HMAC-SHA256 with the key's secret of `<x-timestamp>.<x-nonce>.<compact JSON body>`, or for a GET of `<x-timestamp>.<x-nonce>.<last path segment>`.",
    schema: { type: "string", pattern: "^[0-9a-fA-F]{64}$" },
  },
} as const;

/** Which signing headers a route accepts for secure API keys. */
export type SigningScheme = "keygate" | "kotani";

const signingParameters: Record<SigningScheme, (keyof typeof signatureParameters)[]> = {
  keygate: ["KeygateSignature"],
  kotani: ["KotaniTimestamp", "KotaniNonce", "KotaniSignature"],
};

export interface RouteSpec {
  /** Several methods share one handler (GET and HEAD of a link). */
  method: Method | Method[];
  path: string;
  /** Unique in the document; a route with several methods gets one per method (`<id>Head`). */
  operationId: string;
  summary: string;
  description?: string;
  /** Names of `components.securitySchemes`, any one of which is accepted; none: public. */
  security?: string[];
  /** The credential is optional: anonymous callers are served too (`{}` in `security`). */
  anonymous?: boolean;
  /** The request-signing headers a secure API key may send on this route. */
  signing?: SigningScheme[];
  request?: {
    /** Path parameters (`:name` in `path`). */
    params?: z.ZodObject;
    /** `application/json` body. */
    body?: z.ZodType;
    /** `application/x-www-form-urlencoded` body. */
    form?: z.ZodType;
    query?: z.ZodObject;
    headers?: z.ZodObject;
  };
  /** The answers of the handler itself; the envelope adds the errors. */
  responses: Record<number, ResponseSpec>;
  /** Errors answer a browser a page with the AppError's own status, besides the envelope's JSON. */
  htmlErrors?: boolean;
  handler: (c: RestContext, deps: Deps) => Response | Promise<Response>;
}

/** How a group of routes answers errors: the function, the body it answers, the statuses it can produce. */
export interface Envelope {
  answer: (c: RestContext, error: unknown) => Response;
  body: z.ZodType;
  statuses: Record<number, string>;
}

/** A vendor's routes: one tag in the document, one error envelope. */
export interface RouteGroup {
  tag: string;
  envelope: Envelope;
  routes: RouteSpec[];
}

export function defineRoute(spec: RouteSpec): RouteSpec {
  return spec;
}

export function routeGroup(tag: string, envelope: Envelope, routes: RouteSpec[]): RouteGroup {
  return { tag, envelope, routes };
}

const methodsOf = (route: RouteSpec): Method[] =>
  Array.isArray(route.method) ? route.method : [route.method];

/** The Hono sub-app serving a group: every route it has comes from a declaration. */
export function mountRoutes(deps: Deps, group: RouteGroup): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.onError((error, c) => {
    if (!(error instanceof AppError) || error.status >= 500)
      deps.logger.error({ err: error, requestId: c.get("requestId") }, "unexpected error");
    return group.envelope.answer(c, error);
  });
  // Outside production every answer of a handler is checked against its declaration (errors are
  // answered by the envelope, declared by construction); a mismatch is logged as an error. Extra
  // properties pass here (zod strips them); the REST tests refuse them against the document.
  const checking = deps.config.env !== "production";
  for (const route of group.routes) {
    app.on(
      methodsOf(route).map((m) => m.toUpperCase()),
      route.path,
      checking
        ? async (c) => {
            const response = await route.handler(c, deps);
            const problem = await undeclared(route, group, c.req.method, response);
            if (problem)
              deps.logger.error(
                {
                  requestId: c.get("requestId"),
                  route: `${c.req.method} ${route.path}`,
                  status: response.status,
                  problem,
                },
                "response not declared",
              );
            return response;
          }
        : (c) => route.handler(c, deps),
    );
  }
  return app;
}

/** What is wrong with a handler's answer, by the route's declaration; undefined when it is declared. */
async function undeclared(
  route: RouteSpec,
  group: RouteGroup,
  method: string,
  response: Response,
): Promise<string | undefined> {
  const declared = route.responses[response.status];
  const type = response.headers.get("content-type") ?? "";
  if (/text\/html/i.test(type)) {
    return declared?.html || (route.htmlErrors && response.status >= 400)
      ? undefined
      : "a page this status does not declare";
  }
  if (!declared)
    return response.status in group.envelope.statuses
      ? undefined
      : "a status the route does not declare";
  if (method === "HEAD" || !declared.json) return undefined;
  if (!/application\/json/i.test(type)) return `content type ${type || "none"}, not JSON`;
  const result = declared.json.safeParse(await response.clone().json());
  return result.success ? undefined : z.prettifyError(result.error);
}

// ---- OpenAPI generation ----

const refPrefix = "#/components/schemas/";

/** A zod schema as an OpenAPI 3.1 (JSON Schema 2020-12) schema; named schemas become `$ref`s. */
function jsonSchema(schema: z.ZodType, io: "input" | "output"): JsonSchema {
  const id = components.get(schema)?.id;
  if (id && io === "output") return { $ref: `${refPrefix}${id}` };
  const generated = z.toJSONSchema(schema, {
    io,
    unrepresentable: "any",
    metadata: io === "output" ? components : undefined,
  }) as JsonSchema;
  delete generated.$schema;
  delete generated.$defs;
  return JSON.parse(
    JSON.stringify(generated).replaceAll('"#/$defs/', `"${refPrefix}`),
  ) as JsonSchema;
}

/** Every named schema, for `components.schemas`. */
export function componentSchemas(): Record<string, JsonSchema> {
  const { schemas } = z.toJSONSchema(components, {
    io: "output",
    unrepresentable: "any",
    uri: (id) => `${refPrefix}${id}`,
  }) as {
    schemas: Record<string, JsonSchema>;
  };
  for (const schema of Object.values(schemas)) {
    delete schema.$schema;
    delete schema.$id;
  }
  return schemas;
}

const json = (schema: JsonSchema) => ({ "application/json": { schema } });
const page = { "text/html": { schema: { type: "string" } } };

function parameters(route: RouteSpec) {
  const list: JsonSchema[] = [];
  for (const [where, shape] of [
    ["path", route.request?.params],
    ["query", route.request?.query],
    ["header", route.request?.headers],
  ] as const) {
    if (!shape) continue;
    const schema = jsonSchema(shape, "input") as {
      properties?: Record<string, JsonSchema>;
      required?: string[];
    };
    for (const [name, property] of Object.entries(schema.properties ?? {})) {
      const { description, ...rest } = property as { description?: string };
      list.push({
        name,
        in: where,
        required: where === "path" || (schema.required?.includes(name) ?? false),
        schema: rest,
        ...(description ? { description } : {}),
      });
    }
  }
  for (const scheme of route.signing ?? [])
    for (const id of signingParameters[scheme])
      list.push({ $ref: `#/components/parameters/${id}` });
  return list;
}

/** A Hono path as OpenAPI writes it: `/keys/:id` → `/keys/{id}`. */
export const documentPath = (path: string) => path.replace(/:(\w+)/g, "{$1}");

/**
 * Answers every route may get before its handler runs: the gateway's body limit (413) and the
 * anonymous large-body budget (429), in Keygate's own envelope.
 */
export interface GatewayAnswers {
  body: z.ZodType;
  statuses: Record<number, string>;
}

/** The OpenAPI operations of a group, by path and method. */
export function operations(
  group: RouteGroup,
  gateway: GatewayAnswers,
): Record<string, Record<string, JsonSchema>> {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  const errorBody = jsonSchema(group.envelope.body, "output");
  const gatewayBody = jsonSchema(gateway.body, "output");
  for (const route of group.routes) {
    const responses: Record<string, JsonSchema> = {};
    for (const [status, description] of Object.entries(group.envelope.statuses)) {
      const sameEnvelope = group.envelope.body === gateway.body;
      const body =
        status in gateway.statuses && !sameEnvelope
          ? { anyOf: [errorBody, gatewayBody] }
          : errorBody;
      responses[status] = { description, content: json(body) };
    }
    for (const [status, description] of Object.entries(gateway.statuses)) {
      responses[status] ??= { description, content: json(gatewayBody) };
    }
    if (route.htmlErrors) {
      for (const status of new Set(Object.values(errorStatus))) {
        const response = (responses[status] ??= {
          description: "a page saying what failed",
          content: {},
        });
        Object.assign(response.content as object, page);
      }
    }
    for (const [status, answer] of Object.entries(route.responses)) {
      const content = { ...((responses[status]?.content as object | undefined) ?? {}) } as Record<
        string,
        unknown
      >;
      if (answer.json) Object.assign(content, json(jsonSchema(answer.json, "output")));
      if (answer.html) Object.assign(content, page);
      responses[status] = {
        description: answer.description,
        ...(answer.headers?.length
          ? {
              headers: Object.fromEntries(
                answer.headers.map((name) => [name, { $ref: `#/components/headers/${name}` }]),
              ),
            }
          : {}),
        ...(Object.keys(content).length ? { content } : {}),
      };
    }
    if (responses[429]) {
      responses[429].headers = Object.fromEntries(
        limitedHeaders.map(({ name, required }) => [
          name,
          required
            ? { ...responseHeaders[name], required: true }
            : { $ref: `#/components/headers/${name}` },
        ]),
      );
    }
    const security = (route.security ?? []).map((name) => ({ [name]: [] }));
    if (route.anonymous && security.length) security.unshift({});
    const operation: JsonSchema = {
      tags: [group.tag],
      summary: route.summary,
      ...(route.description ? { description: route.description } : {}),
      // Public operations say so (`security: []`): the document has no global requirement.
      security,
    };
    const params = parameters(route);
    if (params.length) operation.parameters = params;
    const { body, form } = route.request ?? {};
    if (body || form) {
      operation.requestBody = {
        required: true,
        content: {
          ...(body ? json(jsonSchema(body, "input")) : {}),
          ...(form
            ? { "application/x-www-form-urlencoded": { schema: jsonSchema(form, "input") } }
            : {}),
        },
      };
    }
    operation.responses = Object.fromEntries(
      Object.entries(responses).sort(([a], [b]) => Number(a) - Number(b)),
    );
    const path = documentPath(route.path);
    methodsOf(route).forEach((method, i) => {
      const suffix = i === 0 ? "" : `${method.charAt(0).toUpperCase()}${method.slice(1)}`;
      (paths[path] ??= {})[method] = { operationId: `${route.operationId}${suffix}`, ...operation };
    });
  }
  return paths;
}
