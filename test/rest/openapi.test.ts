import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createApp } from "../../src/app.ts";
import { keygateEnvelope } from "../../src/rest/envelope.ts";
import { defineRoute, documentPath, mountRoutes, routeGroup } from "../../src/rest/route.ts";
import { createHarness, type Harness } from "../helpers/harness.ts";
import {
  checkResponse,
  checked,
  checkResponses,
  matchesServedDocument,
  undocumentedPaths,
} from "../helpers/openapi.ts";

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h.close());

type Doc = { paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };

/** Every `METHOD /path` the Hono app routes, but GraphQL, the document, the docs page and preflights. */
function servedRoutes(app: Pick<Harness["app"], "routes">): string[] {
  const routes = app.routes
    .filter(
      (r) =>
        r.method !== "ALL" &&
        r.method !== "OPTIONS" &&
        !r.path.includes("*") &&
        !undocumentedPaths(r.path),
    )
    .map((r) => `${r.method} ${documentPath(r.path)}`);
  return [...new Set(routes)].sort();
}

function documentedRoutes(doc: Doc): string[] {
  return Object.entries(doc.paths)
    .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
    .sort();
}

async function servedDocument(app: Pick<Harness["app"], "request"> = h.app): Promise<Doc> {
  const response = await app.request("/openapi.json");
  expect(response.status).toBe(200);
  return response.json();
}

describe("OpenAPI document and docs page", () => {
  it("documents exactly the REST routes the app serves, each with its method", async () => {
    const doc = await servedDocument();
    expect((doc as unknown as { openapi: string }).openapi).toBe("3.1.0");
    const served = servedRoutes(h.app);
    expect(served.length).toBeGreaterThanOrEqual(15);
    expect(documentedRoutes(doc)).toEqual(served);
  });

  it("fails for a route added to the app without a declaration", async () => {
    const { app } = createApp(h.deps);
    app.get("/api/v3/undeclared", (c) => c.json({ ok: true }));
    const doc = await servedDocument(app);
    expect(servedRoutes(app)).toContain("GET /api/v3/undeclared");
    expect(documentedRoutes(doc)).not.toContain("GET /api/v3/undeclared");
  });

  it("declares for every operation its success and every error its envelope can answer, in JSON", async () => {
    const doc = await servedDocument();
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const statuses = Object.keys(operation.responses);
        expect(statuses, `${method} ${path}`).toEqual(
          expect.arrayContaining(["200", "400", "413", "429", "500"]),
        );
      }
    }
  });

  it("refuses a response whose status, shape or content type the document does not declare", async () => {
    const doc = (await servedDocument()) as never;
    const json = (body: unknown, status = 200) =>
      new Response(JSON.stringify(body), {
        status,
        headers: { "content-type": "application/json" },
      });
    const ok = { success: true, message: "Api-key generated successfully", data: { key: "kg_x" } };
    await checkResponse(doc, matchesServedDocument, "GET", "/api/v3/auth/api-key", json(ok));
    await expect(
      checkResponse(doc, matchesServedDocument, "GET", "/api/v3/auth/api-key", json(ok, 201)),
    ).rejects.toThrow(/documents no 201/);
    await expect(
      checkResponse(
        doc,
        matchesServedDocument,
        "GET",
        "/api/v3/auth/api-key",
        json({ ...ok, data: { key: 1 } }),
      ),
    ).rejects.toThrow(/must be string/);
    await expect(
      checkResponse(
        doc,
        matchesServedDocument,
        "GET",
        "/api/v3/auth/api-key",
        json({ ...ok, extra: true }),
      ),
    ).rejects.toThrow(/additional/);
    await expect(
      checkResponse(doc, matchesServedDocument, "POST", "/api/v3/auth/api-key", json(ok)),
    ).rejects.toThrow(/not in the document/);
    await expect(
      checkResponse(doc, matchesServedDocument, "GET", "/api/v3/nowhere", json(ok)),
    ).rejects.toThrow(/not in the document/);
    const page = new Response("<p>hi</p>", { headers: { "content-type": "text/html" } });
    await expect(
      checkResponse(doc, matchesServedDocument, "GET", "/api/v3/auth/api-key", page),
    ).rejects.toThrow(/page/);
    await checkResponse(doc, matchesServedDocument, "GET", "/api/v3/auth/verify", page);
  });

  it("checks the responses of a harness's requests against the served document", async () => {
    const checkedApp = checkResponses(h).app;
    const before = checked.responses;
    expect((await checkedApp.request("/healthz")).status).toBe(200);
    expect(
      (await checkedApp.request("/v1/keys/verify", { method: "POST", body: "{" })).status,
    ).toBe(400);
    // An unknown link: a JSON client gets Kotani's 403, a browser the page.
    expect((await checkedApp.request("/api/v3/auth/verify?hash=x")).status).toBe(403);
    expect(checked.responses).toBe(before + 3);
    // Big bodies are refused by the gateway before any route: declared too.
    const big = await checkedApp.request("/api/v3/auth/login", {
      method: "POST",
      headers: { "content-length": String(2 * 1024 * 1024) },
      body: "{}",
    });
    expect(big.status).toBe(413);
    expect(checked.responses).toBe(before + 4);
  });

  it("logs, outside production, a handler's answer that its declaration does not have", async () => {
    const declared = { 200: { description: "ok", json: z.object({ ok: z.boolean() }) } };
    const app = mountRoutes(
      h.deps,
      routeGroup("Drift", keygateEnvelope, [
        defineRoute({
          method: "get",
          path: "/drift/shape",
          operationId: "driftShape",
          summary: "wrong type",
          responses: declared,
          handler: (c) => c.json({ ok: "yes" }),
        }),
        defineRoute({
          method: "get",
          path: "/drift/status",
          operationId: "driftStatus",
          summary: "undeclared status",
          responses: declared,
          handler: (c) => c.json({ ok: true }, 202),
        }),
        defineRoute({
          method: "get",
          path: "/drift/page",
          operationId: "driftPage",
          summary: "undeclared page",
          responses: declared,
          handler: (c) => c.html("<p>hi</p>"),
        }),
        defineRoute({
          method: "get",
          path: "/drift/none",
          operationId: "driftNone",
          summary: "as declared",
          responses: declared,
          handler: (c) => c.json({ ok: true }),
        }),
      ]),
    );
    const mark = h.logs.length;
    for (const path of ["/drift/shape", "/drift/status", "/drift/page", "/drift/none"])
      await app.request(path);
    const logged = h.logs
      .slice(mark)
      .filter((line) => line.includes("response not declared"))
      .map((line) => JSON.parse(line).route);
    expect(logged).toEqual(["GET /drift/shape", "GET /drift/status", "GET /drift/page"]);
  });

  it("renders the docs page from local assets only", async () => {
    const page = await (await h.app.request("/docs")).text();
    expect(page).not.toMatch(/https?:\/\//);
    for (const asset of ["/docs/swagger-ui.css", "/docs/swagger-ui-bundle.js", "/docs/init.js"]) {
      expect(page).toContain(asset);
      const response = await h.app.request(asset);
      expect(response.status).toBe(200);
      expect((await response.arrayBuffer()).byteLength).toBeGreaterThan(30);
    }
    expect((await h.app.request("/docs/../../package.json")).status).toBe(404);
  });
});
