import { describe, expect, it } from "vitest";
import { useHarness } from "./helpers/fixtures.ts";

const h = useHarness();

describe("HTTP basics", () => {
  it("answers /healthz and /readyz", async () => {
    const health = await h.app.request("/healthz");
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: "ok" });
    const ready = await h.app.request("/readyz");
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: "ready" });
  });

  it("answers unknown routes with a JSON 404 and a request id", async () => {
    const response = await h.app.request("/nope");
    expect(response.status).toBe(404);
    expect(response.headers.get("x-request-id")).toMatch(/[0-9a-f-]{36}/);
    expect(await response.json()).toEqual({
      error: { code: "NOT_FOUND", message: "no such route" },
    });
  });

  it("serves GraphQL through the app with one log line per request", async () => {
    const response = await h.app.request("/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": "req-123" },
      body: JSON.stringify({ query: "{ viewer { email } }" }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { viewer: null } });
    const line = h.logs.map((l) => JSON.parse(l)).find((l) => l.requestId === "req-123");
    expect(line).toMatchObject({ route: "/graphql", status: 200, method: "POST" });
  });

  it("rejects a bearer token nobody issued with 401", async () => {
    const response = await h.app.request("/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer not-a-token" },
      body: JSON.stringify({ query: "{ viewer { email } }" }),
    });
    expect(response.status).toBe(401);
    const body = await response.json();
    expect(body.errors[0].extensions.code).toBe("UNAUTHENTICATED");
  });
});
