// A typed frontend's view of the API: @graphql-codegen/client-preset generates typed documents
// from the committed schema.graphql for the README's operations (test/fixtures/graphql-operations),
// tsc accepts them together with a client written against them, and that client runs them against
// the real server through urql with its default settings (queries as GET, no extra headers).
//
// The generated code goes to a temporary directory and is never committed.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { generate } from "@graphql-codegen/cli";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { projectRoot } from "../../src/db/migrate.ts";
import { useHarness, withTenant } from "../helpers/fixtures.ts";
import { listen, type Listening } from "../helpers/listen.ts";

const run = promisify(execFile);

/** How generated clients type Keygate's scalars (README: "Typed clients"). */
const SCALARS = {
  ID: "string",
  DateTime: "string",
  EmailAddress: "string",
  JSON: "unknown",
  Int64: "number",
};

// The client a frontend would write: typed by the generated documents. The type assertions make
// tsc fail when a scalar or a payload is typed otherwise than documented.
const CLIENT = `
import { cacheExchange, Client, fetchExchange } from "@urql/core";
import {
  ApiKeysDocument,
  type ApiKeysQuery,
  CreateProjectDocument,
  GenerateApiKeyDocument,
  GenerateProjectKeyDocument,
  type GenerateProjectKeyMutation,
  NodeDocument,
  ProjectKeysDocument,
  RotateKeyDocument,
  type RotateKeyMutation,
  UsageDocument,
  VerifyKeyDocument,
  ViewerDocument,
  type ViewerQuery,
} from "./gql/graphql";

type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(): T | undefined {
  return undefined;
}
type ApiKeyNode = ApiKeysQuery["apiKeys"]["edges"][number]["node"];
assertType<Equals<ApiKeyNode["number"], number>>();
assertType<Equals<ApiKeyNode["id"], string>>();
assertType<Equals<ApiKeyNode["createdAt"], string>>();
assertType<Equals<ApiKeysQuery["apiKeys"]["totalCount"], number>>();
assertType<Equals<NonNullable<ViewerQuery["tenant"]>["number"], number>>();

type Generated = GenerateProjectKeyMutation["generateProjectKey"];
/** A frontend reads keyValue only where it exists: after narrowing on __typename. */
export function secretOf(g: Generated): string {
  // @ts-expect-error keyValue is not a field of every kind of generated key
  void g.keyValue;
  return g.__typename === "GenerateProjectApiKeyPayload" ? g.keyValue : g.encryptedPrivateKey;
}
export function secretOfRotation(r: RotateKeyMutation["rotateKey"]): string | null {
  // @ts-expect-error only a secure key's successor has a secret
  void r.secret;
  return r.__typename === "RotateSecureApiKeyPayload" ? r.secret : null;
}

export async function runReadmeOperations(url: string, token: string) {
  const methods: string[] = [];
  const client = new Client({
    url,
    exchanges: [cacheExchange, fetchExchange],
    fetchOptions: { headers: { authorization: "Bearer " + token } },
    // Records what urql sends; the requests themselves are urql's own.
    fetch: (input, init) => {
      methods.push(init?.method ?? "GET");
      return fetch(input, init);
    },
  });
  const must = <T>(result: { data?: T; error?: unknown }): T => {
    if (result.error || !result.data) throw new Error(String(result.error ?? "no data"));
    return result.data;
  };
  const viewer = must(await client.query(ViewerDocument, {}).toPromise());
  const project = must(
    await client.mutation(CreateProjectDocument, { name: "Payments" }).toPromise(),
  ).createProject;
  const generated = must(
    await client
      .mutation(GenerateApiKeyDocument, {
        i: { name: "Production backend", permissions: ["transactions:read"], projectId: project.id },
      })
      .toPromise(),
  ).generateApiKey;
  const keys = must(
    await client.query(ApiKeysDocument, { first: 1, projectId: project.id }).toPromise(),
  ).apiKeys;
  const node = must(await client.query(NodeDocument, { id: generated.apiKey.id }).toPromise()).node;
  const projectKey = must(
    await client.mutation(GenerateProjectKeyDocument, { i: { projectId: project.id } }).toPromise(),
  ).generateProjectKey;
  const projectKeys = must(
    await client.query(ProjectKeysDocument, { id: project.id }).toPromise(),
  ).project;
  const verified = must(
    await client.mutation(VerifyKeyDocument, { key: generated.key }).toPromise(),
  ).verifyKey;
  const rotated = must(
    await client.mutation(RotateKeyDocument, { id: generated.apiKey.id, grace: 60 }).toPromise(),
  ).rotateKey;
  const now = Date.now();
  const usage = must(
    await client
      .query(UsageDocument, {
        id: generated.apiKey.id,
        from: new Date(now - 3600_000).toISOString(),
        to: new Date(now + 3600_000).toISOString(),
      })
      .toPromise(),
  );
  return {
    methods,
    viewer,
    project,
    generated,
    keys,
    node,
    projectKey,
    projectKeySecret: secretOf(projectKey),
    projectKeys,
    verified,
    rotated,
    rotatedSecret: secretOfRotation(rotated),
    usage,
  };
}
`;

const h = useHarness();
const acme = withTenant(h, "Codegen");
let server: Listening;
let outDir = "";

beforeAll(async () => {
  server = await listen(h);
  outDir = await mkdtemp(path.join(tmpdir(), "keygate-codegen-"));
  // The generated code and the client resolve @urql/core and friends from this project.
  await symlink(path.join(projectRoot, "node_modules"), path.join(outDir, "node_modules"), "dir");
});

afterAll(async () => {
  await server?.close();
  if (outDir) await rm(outDir, { recursive: true, force: true });
});

describe("a client generated from schema.graphql", () => {
  it("generates typed documents for the README's operations, which tsc accepts", async () => {
    await generate(
      {
        schema: path.join(projectRoot, "schema.graphql"),
        documents: path.join(projectRoot, "test/fixtures/graphql-operations/*.graphql"),
        generates: {
          [`${path.join(outDir, "gql")}/`]: {
            preset: "client",
            presetConfig: { fragmentMasking: false },
            // strictScalars: generation fails for a scalar without a TypeScript type here.
            config: { scalars: SCALARS, strictScalars: true, useTypeImports: true },
          },
        },
        silent: true,
      },
      true,
    );
    const types = await readFile(path.join(outDir, "gql", "graphql.ts"), "utf8");
    // How each scalar is typed is checked by tsc, through the assertions in CLIENT.
    expect(types).toContain("export const GenerateProjectKeyDocument");

    await writeFile(path.join(outDir, "client.ts"), CLIENT);
    await writeFile(
      path.join(outDir, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ES2022",
          lib: ["ES2023", "DOM"],
          module: "ESNext",
          moduleResolution: "Bundler",
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          isolatedModules: true,
          noUncheckedIndexedAccess: true,
          types: [],
        },
        include: ["client.ts", "gql/**/*.ts"],
      }),
    );
    const tsc = path.join(projectRoot, "node_modules", "typescript", "bin", "tsc");
    const checked = await run(process.execPath, [tsc, "-p", path.join(outDir, "tsconfig.json")], {
      cwd: outDir,
    }).catch((error: { stdout?: string; stderr?: string }) => error);
    expect(`${checked.stdout ?? ""}${checked.stderr ?? ""}`).toBe("");
  });

  it("runs them against the server through urql with default settings", async () => {
    const client = await import(pathToFileURL(path.join(outDir, "client.ts")).href);
    const r = await client.runReadmeOperations(`${server.url}/graphql`, acme.token);
    // Queries went as GET (urql's default), mutations as POST, none refused for CSRF.
    expect(r.methods).toEqual([
      "GET",
      "POST",
      "POST",
      "GET",
      "GET",
      "POST",
      "GET",
      "POST",
      "POST",
      "GET",
    ]);
    expect(r.viewer.tenant).toMatchObject({
      id: acme.tenant.id,
      name: "Codegen",
      number: Number(acme.tenant.number),
    });
    expect(r.generated.key).toMatch(/^kg_/);
    expect(typeof r.generated.apiKey.number).toBe("number");
    expect(r.keys.totalCount).toBe(1);
    expect(r.keys.edges[0].node.id).toBe(r.generated.apiKey.id);
    expect(r.node).toMatchObject({ __typename: "ApiKey", id: r.generated.apiKey.id });
    expect(r.projectKey.__typename).toBe("GenerateProjectApiKeyPayload");
    expect(r.projectKeySecret).toBe(r.projectKey.keyValue);
    expect(r.projectKeys.keys.totalCount).toBe(2);
    expect(r.verified).toMatchObject({ valid: true, code: "VALID" });
    expect(r.rotated.__typename).toBe("RotateApiKeyPayload");
    expect(r.rotatedSecret).toBeNull();
    expect(r.usage.usageSummary.granularity).toBeDefined();
  });
});
