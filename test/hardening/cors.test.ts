// CORS: one decision for every route. Allowed origins (CORS_ORIGINS plus PUBLIC_URL's own) get the
// echo, Vary: Origin and a 204 preflight; any other origin gets no CORS header; never credentials.
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/config.ts";
import { testConfig, type Harness } from "../helpers/harness.ts";
import { useHarness, withTenant } from "../helpers/fixtures.ts";

const allowed = "https://app.example.test";
const alsoAllowed = "http://localhost:5173";
const publicOrigin = "https://keygate.example.test";
const evil = "https://evil.example.test";

const h = useHarness({
  CORS_ORIGINS: `${allowed}, ${alsoAllowed}`,
  PUBLIC_URL: `${publicOrigin}/`,
});
const bare = useHarness();
const cors = withTenant(h, "Cors");

const corsHeaders = (response: Response) =>
  [...response.headers.keys()].filter((name) => name.startsWith("access-control-"));
const vary = (response: Response) =>
  (response.headers.get("vary") ?? "").toLowerCase().split(/\s*,\s*/);

const preflight = (
  app: Harness["app"],
  path: string,
  origin: string,
  requestHeaders = "authorization,content-type",
) =>
  app.request(path, {
    method: "OPTIONS",
    headers: {
      origin,
      "access-control-request-method": "POST",
      "access-control-request-headers": requestHeaders,
    },
  });

const graphqlPost = (app: Harness["app"], origin: string) =>
  app.request("/graphql", {
    method: "POST",
    headers: { origin, "content-type": "application/json", authorization: `Bearer ${cors.token}` },
    body: JSON.stringify({ query: "{ viewer { id } }" }),
  });

// One route of each transport and vendor family.
const routes = [
  "/graphql",
  "/v1/keys/verify",
  "/api/v3/auth/login",
  "/api/v1/apikey",
  "/api/v1/apikey/generate",
  "/api/adm/companyProjectKeys/generate",
  "/healthz",
];

describe("an allowed origin", () => {
  it.each(routes)(
    "preflight of %s: 204 with the echo, methods and headers, no credentials",
    async (path) => {
      const response = await preflight(
        h.app,
        path,
        allowed,
        "authorization,content-type,keygate-signature,x-request-id",
      );
      expect(response.status).toBe(204);
      expect(response.headers.get("access-control-allow-origin")).toBe(allowed);
      expect(response.headers.get("access-control-allow-methods")?.split(",")).toEqual(
        expect.arrayContaining(["GET", "POST"]),
      );
      const allowHeaders = response.headers
        .get("access-control-allow-headers")!
        .toLowerCase()
        .split(",");
      expect(allowHeaders).toEqual(
        expect.arrayContaining([
          "authorization",
          "content-type",
          "keygate-signature",
          "x-request-id",
          "x-refresh-token",
        ]),
      );
      expect(response.headers.get("access-control-allow-credentials")).toBeNull();
      expect(vary(response)).toContain("origin");
    },
  );

  it("GraphQL: the answer echoes the origin, varies on it and exposes the request id", async () => {
    const response = await graphqlPost(h.app, allowed);
    expect(response.status).toBe(200);
    expect(
      ((await response.json()) as { data: { viewer: { id: string } } }).data.viewer.id,
    ).toBeTruthy();
    expect(response.headers.get("access-control-allow-origin")).toBe(allowed);
    expect(response.headers.get("access-control-allow-credentials")).toBeNull();
    expect(response.headers.get("access-control-expose-headers")?.toLowerCase()).toMatch(
      /x-request-id/,
    );
    expect(vary(response)).toContain("origin");
    expect(response.headers.get("x-request-id")).toBeTruthy();
  });

  it("REST: the second listed origin too, on answers and on errors", async () => {
    const ok = await h.app.request("/v1/keys/verify", {
      method: "POST",
      headers: { origin: alsoAllowed, "content-type": "application/json" },
      body: JSON.stringify({ key: "nope" }),
    });
    expect(ok.headers.get("access-control-allow-origin")).toBe(alsoAllowed);
    const bad = await h.app.request("/v1/keys/verify", {
      method: "POST",
      headers: { origin: alsoAllowed, "content-type": "application/json" },
      body: "{",
    });
    expect(bad.status).toBe(400);
    expect(bad.headers.get("access-control-allow-origin")).toBe(alsoAllowed);
    const tooLarge = await h.app.request("/v1/keys/verify", {
      method: "POST",
      headers: {
        origin: alsoAllowed,
        "content-type": "application/json",
        "content-length": String(2 * 1024 * 1024),
      },
      body: "{}",
    });
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.headers.get("access-control-allow-origin")).toBe(alsoAllowed);
  });

  it("PUBLIC_URL's own origin is allowed without being listed", async () => {
    expect(
      (await preflight(h.app, "/graphql", publicOrigin)).headers.get("access-control-allow-origin"),
    ).toBe(publicOrigin);
    expect(
      (await preflight(bare.app, "/graphql", "http://localhost:4000")).headers.get(
        "access-control-allow-origin",
      ),
    ).toBe("http://localhost:4000");
  });
});

describe("any other origin", () => {
  it.each(routes)("preflight of %s: no CORS header at all", async (path) => {
    const response = await preflight(h.app, path, evil);
    expect(corsHeaders(response)).toEqual([]);
    expect(response.status).toBe(204);
  });

  it("GraphQL is no longer reflected (yoga's default echoed any origin with credentials)", async () => {
    for (const app of [h.app, bare.app]) {
      const response = await graphqlPost(app, evil);
      expect(corsHeaders(response)).toEqual([]);
      expect(vary(response)).toContain("origin");
    }
  });

  it("near misses are other origins: scheme, port, case, suffix, null", async () => {
    for (const origin of [
      "http://app.example.test",
      "https://app.example.test:8443",
      "https://APP.example.test",
      "https://app.example.test.evil.test",
      "null",
      "",
    ]) {
      expect(corsHeaders(await preflight(h.app, "/graphql", origin))).toEqual([]);
      expect(corsHeaders(await graphqlPost(h.app, origin))).toEqual([]);
    }
  });

  it("REST answers carry no CORS header either", async () => {
    const response = await h.app.request("/v1/keys/verify", {
      method: "POST",
      headers: { origin: evil, "content-type": "application/json" },
      body: JSON.stringify({ key: "nope" }),
    });
    expect(response.status).toBe(200);
    expect(corsHeaders(response)).toEqual([]);
  });

  it("requests without Origin (servers) are untouched", async () => {
    const response = await h.app.request("/healthz");
    expect(corsHeaders(response)).toEqual([]);
    expect(response.headers.get("vary")).toBeNull();
  });
});

describe("CORS_ORIGINS in the configuration", () => {
  it("takes exact origins, trims spaces and keeps PUBLIC_URL's", async () => {
    const config = await testConfig({
      CORS_ORIGINS: " https://a.test ,http://b.test:8080,",
      PUBLIC_URL: "https://gw.test/base",
    });
    expect(config.corsOrigins).toEqual(["https://gw.test", "https://a.test", "http://b.test:8080"]);
  });

  it.each([
    "*",
    "https://a.test/",
    "https://a.test/path",
    "a.test",
    "ftp://a.test",
    "https://*.a.test",
    "https://a.test,nope",
  ])("refuses %j naming CORS_ORIGINS", async (value) => {
    const error = await testConfig({ CORS_ORIGINS: value }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/CORS_ORIGINS/);
  });
});
