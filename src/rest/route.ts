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
export type Method = "get" | "head" | "post";
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
}

export interface RouteSpec {
  /** Several methods share one handler (GET and HEAD of a link). */
  method: Method | Method[];
  path: string;
  summary: string;
  description?: string;
  /** Names of `components.securitySchemes`, any one of which is accepted. */
  security?: string[];
  request?: {
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
        required: schema.required?.includes(name) ?? false,
        schema: rest,
        ...(description ? { description } : {}),
      });
    }
  }
  return list;
}

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
        ...(Object.keys(content).length ? { content } : {}),
      };
    }
    const operation: JsonSchema = {
      tags: [group.tag],
      summary: route.summary,
      ...(route.description ? { description: route.description } : {}),
      ...(route.security ? { security: route.security.map((name) => ({ [name]: [] })) } : {}),
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
    for (const method of methodsOf(route)) (paths[route.path] ??= {})[method] = operation;
  }
  return paths;
}
