// Seed 002: Yativo's documented request, with real credentials.
import { signRequest } from "../../src/access/signature.ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, gql, seedTenant, postJson, type Harness } from "../helpers/harness.ts";
import { checkResponses, matchesServedDocument } from "../helpers/openapi.ts";

let h: Harness;
let acme: Awaited<ReturnType<typeof seedTenant>>;

beforeAll(async () => {
  h = checkResponses(await createHarness());
  acme = await seedTenant(h.deps, "Acme");
});
afterAll(() => h.close());

const post = (path: string, body: unknown, token?: string) => postJson(h, path, body, token);

describe("Yativo", () => {
  it("POST /api/v1/apikey/generate: the documented example", async () => {
    const response = await post(
      "/api/v1/apikey/generate",
      {
        name: "Production Backend",
        permissions: ["transactions:read", "transactions:write", "accounts:read"],
      },
      acme.token,
    );
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(body).toMatchObject({
      success: true,
      message: "API key generated successfully",
      warning: "Save the API Secret securely. It will not be shown again!",
      data: {
        key_name: "Production Backend",
        name: "Production Backend",
        scopes: ["transactions:read", "transactions:write", "accounts:read"],
        permissions: ["transactions:read", "transactions:write", "accounts:read"],
        expires_at: null,
        rate_limit: { requests_per_minute: 60, requests_per_hour: 3000, requests_per_day: 50000 },
        token_expiry_minutes: 60,
      },
    });
    expect(body.data.api_secret).toMatch(/^[0-9a-f]{64}$/);
    expect(typeof body.data.key_id).toBe("string");
    expect(Number.isNaN(Date.parse(body.data.created_at))).toBe(false);
    matchesServedDocument("/api/v1/apikey/generate", "POST", 200, body);
  });

  it("grants every documented scope when permissions are omitted, and honours expires_at", async () => {
    const expires = new Date(Date.now() + 7 * 86400_000).toISOString();
    const body = await (
      await post("/api/v1/apikey/generate", { name: "All scopes", expires_at: expires }, acme.token)
    ).json();
    expect(body.data.scopes).toEqual([
      "transactions:read",
      "transactions:write",
      "accounts:read",
      "accounts:write",
      "webhooks:manage",
      "analytics:read",
    ]);
    expect(new Date(body.data.expires_at).getTime()).toBe(new Date(expires).getTime());
  });

  it("POST /auth/token trades key + secret for a bearer token usable on every route", async () => {
    const created = (
      await (
        await post(
          "/api/v1/apikey/generate",
          { name: "Token", permissions: ["accounts:read"] },
          acme.token,
        )
      ).json()
    ).data;
    const response = await post("/auth/token", {
      api_key: created.api_key,
      api_secret: created.api_secret,
    });
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(body).toMatchObject({
      success: true,
      token_type: "Bearer",
      expires_in: 3600,
      scopes: ["accounts:read"],
    });
    expect(Object.keys(body).sort()).toEqual(
      ["access_token", "expires_at", "expires_in", "scopes", "success", "token_type"].sort(),
    );
    matchesServedDocument("/auth/token", "POST", 200, body);
    const token = body.access_token;
    expect(
      (await h.app.request("/api/v3/health", { headers: { authorization: `Bearer ${token}` } }))
        .status,
    ).toBe(200);
    expect((await gql(h, "{ tenant { id } }", {}, token)).data!.tenant.id).toBe(acme.tenant.id);
    // A secure key verifies only with the signature of the request it came with.
    const verified = await post(
      "/v1/keys/verify",
      { key: created.api_key, permissions: ["accounts:read"] },
      token,
    );
    expect((await verified.json()).code).toBe("SIGNATURE_REQUIRED");
    const signature = {
      header: signRequest(created.api_secret, "GET", "/accounts"),
      method: "GET",
      path: "/accounts",
    };
    const signed = await post(
      "/v1/keys/verify",
      { key: created.api_key, permissions: ["accounts:read"], signature },
      token,
    );
    expect((await signed.json()).code).toBe("VALID");
  });

  it("validates input with field names, and refuses bad credentials", async () => {
    const scope = await post(
      "/api/v1/apikey/generate",
      { name: "x", permissions: ["everything"] },
      acme.token,
    );
    expect(scope.status).toBe(400);
    const scopeBody = await scope.json();
    expect(scopeBody).toMatchObject({ success: false, error: { code: "VALIDATION_FAILED" } });
    expect(Object.keys(scopeBody.errors)).toEqual(["permissions.0"]);
    matchesServedDocument("/api/v1/apikey/generate", "POST", 400, scopeBody);
    for (const bad of ["{", "[]", { name: 5 }, {}, { name: "x", expires_at: "tomorrow" }]) {
      expect((await post("/api/v1/apikey/generate", bad, acme.token)).status).toBe(400);
    }
    const anonymous = await post("/api/v1/apikey/generate", { name: "x" });
    expect(anonymous.status).toBe(401);
    matchesServedDocument("/api/v1/apikey/generate", "POST", 401, await anonymous.json());
    const wrong = await post("/auth/token", {
      api_key: "kg_000000000000000000000000_000000",
      api_secret: "x",
    });
    expect(wrong.status).toBe(401);
    expect((await post("/auth/token", { api_key: 1 })).status).toBe(400);
  });
});
