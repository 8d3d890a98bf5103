// The whole surface of the gateway, enumerated from the code: the Hono app's routes and the
// schema's Query and Mutation fields. Suites that guard every entry point (fuzz, isolation
// matrix) compare their hand-written lists with these, so that a new route or operation fails
// them until someone decides how it is covered.
import { Kind, parse, type OperationDefinitionNode } from "graphql";
import { schema } from "../../src/graphql/schema.ts";
import type { Harness } from "./harness.ts";

/**
 * Routes that are not part of the API, and why. Everything else `app.routes` lists must be
 * covered by the suites. An entry here that the app no longer has fails the check too.
 */
const NON_API_ROUTES: Record<string, string> = {
  // Middleware registered with app.use (request id and log line, CORS, body limits): not a route.
  "ALL /*": "middleware",
  // Probes for load balancers and orchestrators: no input, no tenant data.
  "GET /healthz": "liveness probe",
  "GET /readyz": "readiness probe",
  // The generated API description and its viewer: static documents.
  "GET /openapi.json": "API description",
  "GET /docs": "API reference page",
  "GET /docs/init.js": "API reference page script",
  "GET /docs/:asset": "API reference page assets",
  // GraphiQL's bundle, served by the gateway so that it works offline (404 when GraphiQL is off).
  "GET /graphiql/:asset": "GraphiQL page assets",
  // The dashboard's built files (index.html for every page of the single-page app).
  "GET /dashboard": "dashboard page",
  "GET /dashboard/*": "dashboard pages and assets",
};

/** "METHOD /path" of every route the app registers, once each. */
export function appRoutes(h: Pick<Harness, "app">): string[] {
  return [...new Set(h.app.routes.map((route) => `${route.method} ${route.path}`))].sort();
}

/** The app's routes minus NON_API_ROUTES; throws when an exclusion names a route the app lacks. */
export function apiRoutes(h: Pick<Harness, "app">): string[] {
  const all = appRoutes(h);
  const stale = Object.keys(NON_API_ROUTES).filter((route) => !all.includes(route));
  if (stale.length)
    throw new Error(`NON_API_ROUTES names routes the app does not have: ${stale.join(", ")}`);
  return all.filter((route) => !(route in NON_API_ROUTES));
}

/** "Query.field" and "Mutation.field" for every root field of the schema. */
export function schemaOperations(): string[] {
  const out: string[] = [];
  for (const type of [schema.getQueryType(), schema.getMutationType()]) {
    if (type) for (const name of Object.keys(type.getFields())) out.push(`${type.name}.${name}`);
  }
  return out.sort();
}

/** "Query.field(argument)" for every argument of every root field. */
export function schemaArguments(): string[] {
  const out: string[] = [];
  for (const type of [schema.getQueryType(), schema.getMutationType()]) {
    if (!type) continue;
    for (const field of Object.values(type.getFields()))
      for (const arg of field.args) out.push(`${type.name}.${field.name}(${arg.name})`);
  }
  return out.sort();
}

/** The root fields a document selects ("Query.project", "Mutation.revokeKey") and the arguments it passes them. */
export function rootFieldsOf(document: string): { fields: string[]; arguments: string[] } {
  const fields: string[] = [];
  const args: string[] = [];
  for (const definition of parse(document).definitions) {
    if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
    const root =
      (definition as OperationDefinitionNode).operation === "mutation" ? "Mutation" : "Query";
    for (const selection of definition.selectionSet.selections) {
      if (selection.kind !== Kind.FIELD) continue;
      fields.push(`${root}.${selection.name.value}`);
      for (const arg of selection.arguments ?? [])
        args.push(`${root}.${selection.name.value}(${arg.name.value})`);
    }
  }
  return { fields, arguments: args };
}
