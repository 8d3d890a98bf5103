// A typed client generated from the served document, as an integrator would make one:
// openapi-typescript writes the types, openapi-fetch (default settings) calls every operation of
// the document over HTTP, and tsc checks the client against the generated types. The generated
// files live in a temporary directory, never in the repository.
import { execFile } from "node:child_process";
import { mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import openapiTS, { astToString } from "openapi-typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useHarness, withTenant } from "../helpers/fixtures.ts";
import { gql, hashOf, outboxLinks, seedUser } from "../helpers/harness.ts";
import { type Listening, listen } from "../helpers/listen.ts";

const run = promisify(execFile);

const h = useHarness();
const acme = withTenant(h, "Acme");
let server: Listening;
let dir: string;
beforeAll(async () => {
  server = await listen(h);
  dir = await mkdtemp(path.join(os.tmpdir(), "keygate-typed-client-"));
  await symlink(path.resolve("node_modules"), path.join(dir, "node_modules"), "dir");
});
afterAll(async () => {
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

// Every operation of the document, called the way the generated types allow, with openapi-fetch's
// defaults (no Accept header of its own, JSON bodies). Each call must succeed and its data be
// what the types say; `calls` lists what was called, to compare with the document.
const client = `import createClient from "openapi-fetch";
import type { paths } from "./schema";

export interface Context {
  baseUrl: string;
  email: string;
  ownerToken: string;
  hashes: [string, string];
  projectId: string;
}

export interface Call {
  method: string;
  path: string;
  status: number;
}

export async function callEveryRoute(ctx: Context): Promise<Call[]> {
  const api = createClient<paths>({ baseUrl: ctx.baseUrl });
  const calls: Call[] = [];
  const bearer = (token: string) => ({ Authorization: \`Bearer \${token}\` });
  function ok<T>(method: string, path: string, result: { data?: T; error?: unknown; response: Response }): T {
    calls.push({ method, path, status: result.response.status });
    if (result.error !== undefined || !result.response.ok)
      throw new Error(\`\${method} \${path}: \${result.response.status} \${JSON.stringify(result.error)}\`);
    return result.data as T;
  }
  // The sign-in link's routes also answer a page (to browsers): the types say so, JSON clients narrow.
  function json<T>(data: T | string): T {
    if (typeof data === "string") throw new Error("a page, not JSON");
    return data;
  }

  const live: "ok" = ok("GET", "/healthz", await api.GET("/healthz")).status;
  const ready: "ready" | "unavailable" = ok("GET", "/readyz", await api.GET("/readyz")).status;
  const health: "ok" | "error" = ok("GET", "/health", await api.GET("/health")).status;

  await ok("POST", "/api/v3/auth/login", await api.POST("/api/v3/auth/login", { body: { email: ctx.email } }));
  const session = json(
    ok(
      "GET",
      "/api/v3/auth/verify",
      await api.GET("/api/v3/auth/verify", { params: { query: { hash: ctx.hashes[0] } } }),
    ),
  ).data;
  ok("HEAD", "/api/v3/auth/verify", await api.HEAD("/api/v3/auth/verify", { params: { query: { hash: ctx.hashes[1] } } }));
  const second = json(
    ok(
      "POST",
      "/api/v3/auth/verify",
      await api.POST("/api/v3/auth/verify", { body: { hash: ctx.hashes[1] } }),
    ),
  ).data;
  const rotated = ok(
    "GET",
    "/api/v3/auth/refresh-token",
    await api.GET("/api/v3/auth/refresh-token", {
      params: { header: { refresh_token: session.refresh_token } },
    }),
  ).data;
  const refreshed: string = ok(
    "POST",
    "/api/v3/auth/refresh",
    await api.POST("/api/v3/auth/refresh", { body: { refresh_token: rotated.refresh_token } }),
  ).data.token;

  const key: string = ok(
    "GET",
    "/api/v3/auth/api-key",
    await api.GET("/api/v3/auth/api-key", { headers: bearer(second.token) }),
  ).data.key;
  const secure = ok(
    "GET",
    "/api/v3/auth/api-key/secure",
    await api.GET("/api/v3/auth/api-key/secure", { headers: bearer(second.token) }),
  ).data;
  const auth: "jwt" | "api_key" = ok(
    "GET",
    "/api/v3/health",
    await api.GET("/api/v3/health", { headers: bearer(refreshed) }),
  ).data.auth;

  const verified = ok("POST", "/v1/keys/verify", await api.POST("/v1/keys/verify", { body: { key } }));
  const valid: boolean = verified.valid;

  const yativo = ok(
    "POST",
    "/api/v1/apikey/generate",
    await api.POST("/api/v1/apikey/generate", {
      headers: bearer(ctx.ownerToken),
      body: { name: "Typed client", permissions: ["accounts:read"] },
    }),
  ).data;
  ok(
    "POST",
    "/api/apikey/generate",
    await api.POST("/api/apikey/generate", { headers: bearer(ctx.ownerToken), body: { name: "Typed client 2" } }),
  );
  const credentials = { api_key: yativo.api_key, api_secret: yativo.api_secret };
  const tokens: string[] = [
    ok("POST", "/auth/token", await api.POST("/auth/token", { body: credentials })).access_token,
    ok("POST", "/api/auth/token", await api.POST("/api/auth/token", { body: credentials })).access_token,
    ok("POST", "/api/v1/auth/token", await api.POST("/api/v1/auth/token", { body: credentials })).access_token,
  ];

  const dto = ok(
    "POST",
    "/api/v1/apikey",
    await api.POST("/api/v1/apikey", { headers: bearer(ctx.ownerToken), body: { label: "Typed" } }),
  );
  const status: "ACTIVE" | "DISABLED" | "DELETED" = ok(
    "PUT",
    "/api/v1/apikey/{id}",
    await api.PUT("/api/v1/apikey/{id}", {
      params: { path: { id: String(dto.id) } },
      headers: bearer(ctx.ownerToken),
      body: { status: "DISABLED", label: "Typed (off)" },
    }),
  ).status;

  for (const path of ["/api/adm/companyProjectKeys/generate", "/api/admin/companyProjectKeys/generate"] as const) {
    const created = ok("POST", path, await api.POST(path, {
      headers: bearer(ctx.ownerToken),
      body: { projectId: ctx.projectId, name: "Typed project key" },
    }));
    const id: string = created.id;
    if (!id) throw new Error("no id");
  }

  if (live !== "ok" || ready !== "ready" || health !== "ok" || auth !== "jwt" || !valid)
    throw new Error(\`unexpected answers: \${live} \${ready} \${health} \${auth} \${valid}\`);
  if (!secure.secret || tokens.some((t) => !t) || status !== "DISABLED")
    throw new Error("unexpected secure key, tokens or status");
  return calls;
}
`;

const tsconfig = {
  compilerOptions: {
    strict: true,
    noEmit: true,
    target: "ES2022",
    module: "ESNext",
    moduleResolution: "Bundler",
    lib: ["ES2022", "DOM"],
    types: [],
    noUncheckedIndexedAccess: true,
  },
  files: ["client.ts"],
};

describe("a client generated with openapi-typescript, called through openapi-fetch", () => {
  it("type-checks and calls every operation of the document with default settings", async () => {
    const document = await (await fetch(`${server.url}/openapi.json`)).json();
    await writeFile(path.join(dir, "schema.d.ts"), astToString(await openapiTS(document)));
    await writeFile(path.join(dir, "client.ts"), client);
    await writeFile(path.join(dir, "tsconfig.json"), JSON.stringify(tsconfig));
    const tsc = await run(
      process.execPath,
      [path.resolve("node_modules/typescript/bin/tsc"), "-p", dir],
      {
        cwd: dir,
      },
    ).catch((error: { stdout?: string; stderr?: string }) => error);
    expect(`${tsc.stdout ?? ""}${tsc.stderr ?? ""}`).toBe("");

    // What the client needs that no REST route gives: two sign-in links (two people: a new
    // link replaces a person's older one) and a project.
    const member = await seedUser(h.deps, acme.tenant.id, "ADMIN");
    const hashes: string[] = [];
    for (const email of [acme.owner.email, member.user.email]) {
      await fetch(`${server.url}/api/v3/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email }),
      });
      hashes.push(hashOf((await outboxLinks(h.deps)).at(-1)!));
    }
    const project = await gql(
      h,
      'mutation { createProject(input: { name: "Typed" }) { id } }',
      {},
      acme.token,
    );
    expect(project.errors).toBeUndefined();

    const { callEveryRoute } = await import(pathToFileURL(path.join(dir, "client.ts")).href);
    const calls: { method: string; path: string; status: number }[] = await callEveryRoute({
      baseUrl: server.url,
      // Not the owner: a new link would replace the two the client is about to use.
      email: "integrator@example.test",
      ownerToken: acme.token,
      hashes,
      projectId: project.data!.createProject.id,
    });
    expect(calls.filter((c) => c.status !== 200)).toEqual([]);
    const operations = Object.entries(document.paths as Record<string, object>).flatMap(
      ([route, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${route}`),
    );
    expect(calls.map((c) => `${c.method} ${c.path}`).sort()).toEqual(operations.sort());
  }, 180_000);

  it("would break on the verify link if a default client got the page: the types say JSON", async () => {
    // The generated client parses JSON by default; an HTML answer is what made it throw.
    const answer = await fetch(`${server.url}/api/v3/auth/verify?hash=unknown`);
    expect(answer.headers.get("content-type")).toMatch(/application\/json/);
    expect(await answer.json()).toMatchObject({ success: false, error_code: 403 });
  });
});
