// Validates responses against the served OpenAPI document and against the OpenAPI
// fragments inside the vendor seeds (test/fixtures/seeds, copied from shared/seeds).
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Ajv, { type ValidateFunction } from "ajv";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { parse } from "yaml";
import { openApiDocument } from "../../src/rest/openapi.ts";
import type { Harness } from "./harness.ts";

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "fixtures", "seeds");

type Doc = { paths: Record<string, Record<string, any>>; components?: Record<string, unknown> };
type Check = (route: string, method: string, status: number, body: unknown) => true;

/** The document's path for a request path: itself, or the template it matches (`/keys/{id}`). */
function documentedPath(doc: Doc, route: string): string {
  if (doc.paths[route]) return route;
  const segments = route.split("/");
  return (
    Object.keys(doc.paths).find((template) => {
      const parts = template.split("/");
      return (
        parts.length === segments.length &&
        parts.every((part, i) => /^\{\w+\}$/.test(part) || part === segments[i])
      );
    }) ?? route
  );
}

function documentedResponse(doc: Doc, route: string, method: string, status: number) {
  const operation = doc.paths[documentedPath(doc, route)]?.[method.toLowerCase()];
  if (!operation) throw new Error(`${method} ${route} is not in the document`);
  const response = operation.responses?.[String(status)];
  if (!response) throw new Error(`${method} ${route} documents no ${status} response`);
  return response as { content?: Record<string, { schema?: unknown }> };
}

function responseSchema(doc: Doc, route: string, method: string, status: number) {
  const schema = documentedResponse(doc, route, method, status).content?.["application/json"]
    ?.schema;
  if (!schema) throw new Error(`${method} ${route} ${status} has no JSON schema`);
  return schema;
}

function useFormats(ajv: Ajv) {
  addFormats.default ? addFormats.default(ajv) : (addFormats as unknown as (a: Ajv) => void)(ajv);
  // OpenAPI's numeric formats say nothing JSON Schema checks.
  for (const format of ["int32", "int64", "float", "double"]) ajv.addFormat(format, true);
}

function validator(ajv: Ajv, doc: Doc): Check {
  ajv.addSchema({ $id: "doc", components: doc.components ?? {} });
  const compiled = new Map<string, ValidateFunction>();
  return (route, method, status, body) => {
    const key = `${method.toUpperCase()} ${route} ${status}`;
    let validate = compiled.get(key);
    if (!validate) {
      const schema = JSON.parse(
        JSON.stringify(responseSchema(doc, route, method, status)).replaceAll(
          '"#/components/',
          '"doc#/components/',
        ),
      );
      delete schema.$schema;
      validate = ajv.compile(schema);
      compiled.set(key, validate);
    }
    if (!validate(body))
      throw new Error(
        `${method} ${route} ${status}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body)}`,
      );
    return true;
  };
}

const servedAjv = () => {
  const ajv = new (Ajv2020 as unknown as typeof Ajv)({ strict: false, allErrors: true });
  useFormats(ajv);
  return ajv;
};

/** Throws unless the body matches the served document's schema for that response. */
export const matchesServedDocument = validator(servedAjv(), openApiDocument() as Doc);

/**
 * Paths the document does not describe: GraphQL, its GraphiQL assets, the document itself, and the
 * dashboard (a separate app served by the gateway, with its own session routes).
 */
export const undocumentedPaths = (route: string) =>
  route === "/graphql" ||
  route.startsWith("/graphiql/") ||
  route === "/openapi.json" ||
  route === "/docs" ||
  route.startsWith("/docs/") ||
  route === "/dashboard" ||
  route.startsWith("/dashboard/");

/** How many responses `checkResponses` has validated in this test file. */
export const checked = { responses: 0 };

/**
 * Throws unless the response is one the document declares: its path and method, its status, and
 * for JSON its body's shape (for HTML, that the status may answer a page).
 */
export async function checkResponse(
  doc: Doc,
  check: Check,
  method: string,
  route: string,
  response: Response,
): Promise<void> {
  if (undocumentedPaths(route)) return;
  const declared = documentedResponse(doc, route, method, response.status);
  const type = response.headers.get("content-type") ?? "";
  if (method.toUpperCase() === "HEAD") return;
  if (/application\/json/i.test(type))
    check(route, method, response.status, await response.clone().json());
  else if (/text\/html/i.test(type)) {
    if (!declared.content?.["text/html"])
      throw new Error(
        `${method} ${route} ${response.status} answers a page its document does not declare`,
      );
  } else
    throw new Error(
      `${method} ${route} ${response.status} answers ${type || "no content type"}, not declared`,
    );
  checked.responses += 1;
}

/**
 * The harness with every `app.request` checked against the document the app serves
 * (`GET /openapi.json`): a route, status or body shape it does not declare fails the test.
 */
export function checkResponses(h: Harness): Harness {
  const { app } = h;
  let served: Promise<{ doc: Doc; check: Check }> | undefined;
  const load = async () => {
    const doc = (await (await app.request("/openapi.json")).json()) as Doc;
    return { doc, check: validator(servedAjv(), doc) };
  };
  const document = () => (served ??= load());
  const request: typeof app.request = async (input, init, ...rest) => {
    const response = await app.request(input, init, ...rest);
    const url = new URL(input instanceof Request ? input.url : String(input), "http://localhost");
    const method = init?.method ?? (input instanceof Request ? input.method : "GET");
    const { doc, check } = await document();
    await checkResponse(doc, check, method, url.pathname, response);
    return response;
  };
  return {
    ...h,
    app: new Proxy(app, {
      get: (target, key) => {
        if (key === "request") return request;
        const value = Reflect.get(target, key, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    }),
  };
}

function seedDocument(file: string): Doc {
  const text = readFileSync(path.join(fixtures, file), "utf8");
  const yaml = /````yaml[^\n]*\n([\s\S]*?)````/.exec(text)![1]!;
  return parse(yaml) as Doc;
}

function seedValidator(file: string) {
  const ajv = new Ajv({ strict: false, allErrors: true });
  useFormats(ajv);
  return validator(ajv, seedDocument(file));
}

/** Seed 000: Kotani's GET /api/v3/auth/api-key/secure. */
export const matchesKotaniSeed = seedValidator("000_1b628252e3b113ab.txt");
/** Seed 003: Extractor's POST /api/v1/apikey. */
export const matchesExtractorSeed = seedValidator("003_e107cb782f3810d8.txt");
