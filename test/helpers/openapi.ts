// Validates responses against the served OpenAPI document and against the OpenAPI
// fragments inside the vendor seeds (test/fixtures/seeds, copied from shared/seeds).
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Ajv from "ajv";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { parse } from "yaml";
import { openApiDocument } from "../../src/rest/openapi.ts";

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "fixtures", "seeds");

type Doc = { paths: Record<string, Record<string, any>>; components?: Record<string, unknown> };

function responseSchema(doc: Doc, route: string, method: string, status: number) {
  const response = doc.paths[route]?.[method.toLowerCase()]?.responses?.[String(status)];
  if (!response) throw new Error(`${method} ${route} documents no ${status} response`);
  const schema = response.content?.["application/json"]?.schema;
  if (!schema) throw new Error(`${method} ${route} ${status} has no JSON schema`);
  return schema;
}

function validator(ajv: Ajv, doc: Doc) {
  ajv.addSchema({ $id: "doc", components: doc.components ?? {} });
  return (route: string, method: string, status: number, body: unknown) => {
    const schema = JSON.parse(JSON.stringify(responseSchema(doc, route, method, status)).replaceAll('"#/components/', '"doc#/components/'));
    delete schema.$schema;
    const validate = ajv.compile(schema);
    if (!validate(body)) throw new Error(`${method} ${route} ${status}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body)}`);
    return true;
  };
}

const served = new (Ajv2020 as unknown as typeof Ajv)({ strict: false, allErrors: true });
addFormats.default ? addFormats.default(served) : (addFormats as unknown as (a: Ajv) => void)(served);
/** Throws unless the body matches the served document's schema for that response. */
export const matchesServedDocument = validator(served, openApiDocument() as Doc);

function seedDocument(file: string): Doc {
  const text = readFileSync(path.join(fixtures, file), "utf8");
  const yaml = /````yaml[^\n]*\n([\s\S]*?)````/.exec(text)![1];
  return parse(yaml) as Doc;
}

function seedValidator(file: string) {
  const ajv = new Ajv({ strict: false, allErrors: true });
  return validator(ajv, seedDocument(file));
}

/** Seed 000: Kotani's GET /api/v3/auth/api-key/secure. */
export const matchesKotaniSeed = seedValidator("000_1b628252e3b113ab.txt");
/** Seed 003: Extractor's POST /api/v1/apikey. */
export const matchesExtractorSeed = seedValidator("003_e107cb782f3810d8.txt");
