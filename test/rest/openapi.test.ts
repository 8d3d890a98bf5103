import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "../helpers/harness.ts";

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h.close());

describe("OpenAPI document and docs page", () => {
  it("documents every REST route the app serves", async () => {
    const response = await h.app.request("/openapi.json");
    expect(response.status).toBe(200);
    const doc = await response.json();
    expect(doc.openapi).toBe("3.1.0");
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops as object).map((m) => `${m.toUpperCase()} ${path}`));
    const served = h.app.routes
      .filter((r) => !r.path.includes("*") && !r.path.startsWith("/docs") && !["/graphql", "/openapi.json"].includes(r.path) && r.method !== "ALL")
      .map((r) => `${r.method} ${r.path}`)
      .filter((r) => !r.startsWith("HEAD "));
    for (const route of served) expect(documented).toContain(route);
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
