// Text PostgreSQL cannot store, spelled in a GraphQL string literal in any escape form, is a
// validation error naming the field: never INTERNAL, never a database error in the log.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useHarness, withTenant } from "../helpers/fixtures.ts";
import {
  processEnvironment,
  startServerProcess,
  type ProcessEnvironment,
  type ServerProcess,
} from "../helpers/server-process.ts";

const h = useHarness();
const literals = withTenant(h, "Literals");

async function graphql(
  query: string,
  variables: Record<string, unknown> = {},
  authorization = `Bearer ${literals.token}`,
) {
  const response = await h.app.request("/graphql", {
    method: "POST",
    headers: { "content-type": "application/json", authorization },
    body: JSON.stringify({ query, variables }),
  });
  return {
    status: response.status,
    body: (await response.json()) as {
      data?: unknown;
      errors?: { message: string; extensions?: Record<string, any> }[];
    },
  };
}

const errorLines = () =>
  h.logs.filter((line) => (JSON.parse(line) as { level: number }).level >= 50);
const projectCount = () => h.deps.prisma.project.count({ where: { tenantId: literals.tenant.id } });

// The query text as the client writes it (a backslash is a GraphQL escape, not a JSON one).
const spellings: [string, string][] = [
  ["braced \\u{0}", String.raw`"a\u{0}b"`],
  ["braced \\u{00000}", String.raw`"a\u{00000}b"`],
  ["fixed \\u0000", String.raw`"a\u0000b"`],
  ["a raw NUL character", `"a\u0000b"`],
  ["a raw NUL character in a block string", `"""a\u0000b"""`],
];

describe("string literals in GraphQL documents", () => {
  it.each(spellings)(
    "createProject(name: %s) is VALIDATION_FAILED naming input.name, logs nothing and writes nothing",
    async (_title, literal) => {
      const before = await projectCount();
      const logged = errorLines().length;
      const { status, body } = await graphql(
        `mutation { createProject(input: { name: ${literal} }) { id } }`,
      );
      expect(body.errors).toHaveLength(1);
      expect(body.errors![0]!.extensions?.code).toBe("VALIDATION_FAILED");
      expect(body.errors![0]!.extensions?.fields).toEqual([
        { field: "input.name", message: expect.stringMatching(/NUL/) },
      ]);
      expect(body.errors![0]!.message).toMatch(/^input\.name: /);
      expect(body.data ?? null).toBeNull();
      expect(status).toBe(400);
      expect(errorLines().length).toBe(logged);
      expect(await projectCount()).toBe(before);
    },
  );

  it("names nested input fields and the second literal of an operation", async () => {
    const { body } = await graphql(
      String.raw`mutation { createProject(input: { name: "fine", description: "x\u{0}" }) { id } }`,
    );
    expect(body.errors![0]!.extensions?.fields).toEqual([
      { field: "input.description", message: expect.any(String) },
    ]);
  });

  it("checks variable defaults too", async () => {
    const { body } = await graphql(
      String.raw`mutation($n: String! = "a\u{0}") { createProject(input: { name: $n }) { id } }`,
    );
    expect(body.errors![0]!.extensions?.code).toBe("VALIDATION_FAILED");
    expect(body.errors![0]!.extensions?.fields[0].field).toBe("$n");
  });

  it("surrogate escapes are syntax errors, not INTERNAL", async () => {
    for (const literal of [String.raw`"\u{D800}"`, String.raw`"\uDC00"`, String.raw`"\u{DFFF}x"`]) {
      const { status, body } = await graphql(
        `mutation { createProject(input: { name: ${literal} }) { id } }`,
      );
      expect(body.errors![0]!.extensions?.code).not.toBe("INTERNAL");
      expect(status).toBeLessThan(500);
    }
    expect(errorLines()).toEqual([]);
  });

  it("well-formed text in every escape form still works", async () => {
    const { body } = await graphql(
      String.raw`mutation { createProject(input: { name: "smile \u{1F600} \uD83D\uDE00 é", description: """block é""" }) { name description } }`,
    );
    expect(body.errors).toBeUndefined();
    expect(body.data).toEqual({ createProject: { name: "smile 😀 😀 é", description: "block é" } });
  });

  it("variables keep their check: the path names the variable", async () => {
    const before = await projectCount();
    const { status, body } = await graphql(
      "mutation($input: CreateProjectInput!) { createProject(input: $input) { id } }",
      { input: { name: "ok", description: "a\ud800" } },
    );
    expect(status).toBe(400);
    expect(body.errors![0]!.extensions?.code).toBe("VALIDATION_FAILED");
    expect(body.errors![0]!.extensions?.fields).toEqual([
      { field: "variables.input.description", message: expect.stringMatching(/surrogate/) },
    ]);
    expect(await projectCount()).toBe(before);
  });

  it("the literal is refused before authentication decides anything (anonymous caller)", async () => {
    const { body } = await graphql(
      String.raw`mutation { createProject(input: { name: "a\u{0}" }) { id } }`,
      {},
      "",
    );
    expect(body.errors![0]!.extensions?.code).toBe("VALIDATION_FAILED");
  });
});

describe("over HTTP, on the real server", () => {
  let env: ProcessEnvironment;
  let server: ServerProcess;
  beforeAll(async () => {
    env = await processEnvironment("keygate-graphql-text");
    server = await startServerProcess({
      ...env.env,
      JWT_SECRET: "x".repeat(40),
      ENCRYPTION_KEY: Buffer.alloc(32, 9).toString("base64"),
    });
  });
  afterAll(async () => {
    await server?.stop();
    await env?.cleanup();
  });

  it("a braced NUL escape is a 400 VALIDATION_FAILED and the server logs no error", async () => {
    const response = await fetch(`${server.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        query: String.raw`mutation { createProject(input: { name: "a\u{0}b" }) { id } }`,
      }),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { errors: { extensions: Record<string, any> }[] };
    expect(body.errors[0]!.extensions.code).toBe("VALIDATION_FAILED");
    expect(body.errors[0]!.extensions.fields[0].field).toBe("input.name");
    expect(server.output()).not.toMatch(/"level":50/);
  });
});
