// Seeds 000 and 001: every documented Kotani request, with real credentials.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signRequest } from "../../src/access/signature.ts";
import {
  createHarness,
  hashOf,
  outboxLinks,
  seedTenant,
  seedUser,
  type Harness,
} from "../helpers/harness.ts";
import { checkResponses, matchesKotaniSeed, matchesServedDocument } from "../helpers/openapi.ts";

let h: Harness;
let acme: Awaited<ReturnType<typeof seedTenant>>;

beforeAll(async () => {
  h = checkResponses(await createHarness());
  acme = await seedTenant(h.deps, "Acme");
});
afterAll(() => h.close());

const get = (path: string, headers: Record<string, string> = {}) =>
  h.app.request(path, { headers });
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function signInViaLink(email: string) {
  const login = await h.app.request("/api/v3/auth/login", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email }),
  });
  expect(login.status).toBe(200);
  const link = (await outboxLinks(h.deps)).at(-1)!;
  const verified = await get(`/api/v3/auth/verify?hash=${encodeURIComponent(hashOf(link))}`, {
    accept: "application/json",
  });
  expect(verified.status).toBe(200);
  const body = await verified.json();
  matchesServedDocument("/api/v3/auth/verify", "GET", 200, body);
  return body.data as {
    user_id: string;
    session_id: string;
    token_id: string;
    token: string;
    refresh_token: string;
  };
}

describe("Kotani Pay: documented examples", () => {
  it("POST /api/v3/auth/login {email} answers the documented envelope", async () => {
    const response = await h.app.request("/api/v3/auth/login", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "you@yourcompany.com" }),
    });
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(body).toEqual({
      success: true,
      message: "login magic link sent to your email",
      data: {},
    });
    matchesServedDocument("/api/v3/auth/login", "POST", 200, body);
  });

  it("GET /api/v3/auth/verify?hash=... returns the documented tokens", async () => {
    const data = await signInViaLink(acme.owner.email);
    expect(data.user_id).toBe(acme.owner.id);
    expect(data.token.split(".")).toHaveLength(3);
  });

  it("GET /api/v3/auth/api-key gives owners an integrator-level key", async () => {
    const { token } = await signInViaLink(acme.owner.email);
    const response = await get("/api/v3/auth/api-key", bearer(token));
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(body).toMatchObject({ success: true, message: "Api-key generated successfully" });
    expect(Object.keys(body.data)).toEqual(["key"]);
    matchesServedDocument("/api/v3/auth/api-key", "GET", 200, body);
    const verify = await h.app.request("/v1/keys/verify", {
      method: "POST",
      body: JSON.stringify({ key: body.data.key }),
    });
    expect(await verify.json()).toMatchObject({ valid: true, ownerId: null, permissions: ["*"] });
  });

  it("gives members a user-bound key with no permissions", async () => {
    const member = await seedUser(h.deps, acme.tenant.id, "MEMBER", ["keys:write"]);
    const { token } = await signInViaLink(member.user.email);
    const body = await (await get("/api/v3/auth/api-key", bearer(token))).json();
    const verify = await h.app.request("/v1/keys/verify", {
      method: "POST",
      body: JSON.stringify({ key: body.data.key }),
    });
    expect(await verify.json()).toMatchObject({
      valid: true,
      ownerId: member.user.id,
      permissions: [],
    });
  });

  it("GET /api/v3/auth/api-key/secure returns key and secret, valid against seed 000", async () => {
    const { token } = await signInViaLink(acme.owner.email);
    const response = await get("/api/v3/auth/api-key/secure", bearer(token));
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(body.data.secret).toMatch(/^[0-9a-f]{64}$/);
    matchesKotaniSeed("/api/v3/auth/api-key/secure", "GET", 200, body);
    matchesServedDocument("/api/v3/auth/api-key/secure", "GET", 200, body);
  });

  it("GET /api/v3/health accepts a bearer JWT and a bearer API key: both formats are valid", async () => {
    const { token } = await signInViaLink(acme.owner.email);
    const withJwt = await get("/api/v3/health", bearer(token));
    expect(withJwt.status).toBe(200);
    const jwtBody = await withJwt.json();
    expect(jwtBody).toMatchObject({
      success: true,
      data: { auth: "jwt", tenant_id: acme.tenant.id },
    });
    matchesServedDocument("/api/v3/health", "GET", 200, jwtBody);

    const key = (await (await get("/api/v3/auth/api-key", bearer(token))).json()).data.key;
    const withKey = await get("/api/v3/health", bearer(key));
    expect(withKey.status).toBe(200);
    expect((await withKey.json()).data.auth).toBe("api_key");

    const secure = (await (await get("/api/v3/auth/api-key/secure", bearer(token))).json()).data;
    const signed = await get("/api/v3/health", {
      ...bearer(secure.key),
      "keygate-signature": signRequest(secure.secret, "GET", "/api/v3/health"),
    });
    expect(signed.status).toBe(200);
  });

  it("GET /api/v3/auth/refresh-token rotates the refresh token", async () => {
    const first = await signInViaLink(acme.owner.email);
    const response = await get("/api/v3/auth/refresh-token", bearer(first.refresh_token));
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(body.data.refresh_token).not.toBe(first.refresh_token);
    matchesServedDocument("/api/v3/auth/refresh-token", "GET", 200, body);
  });
});

describe("Kotani Pay: documented errors", () => {
  it("403 Unauthorized without or with a bad JWT, 404 Invalid Api Key for a bad key", async () => {
    for (const headers of [{}, bearer("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl")]) {
      const response = await get("/api/v3/auth/api-key", headers);
      expect(response.status).toBe(403);
      const body = await response.json();
      expect(body).toEqual({ success: false, message: "Unauthorized", error_code: 403, data: {} });
      matchesKotaniSeed("/api/v3/auth/api-key/secure", "GET", 403, body);
      matchesServedDocument("/api/v3/auth/api-key", "GET", 403, body);
    }
    const badKey = await get("/api/v3/health", bearer("kg_000000000000000000000000_000000"));
    expect(badKey.status).toBe(404);
    const body = await badKey.json();
    expect(body).toEqual({
      success: false,
      message: "Invalid Api Key",
      error_code: 404,
      data: {},
    });
    matchesKotaniSeed("/api/v3/auth/api-key/secure", "GET", 404, body);
  });

  it("400 Bad Request for bad JSON, wrong types and missing fields, each problem in data.errors", async () => {
    for (const [body, field] of [
      ["{", "body"],
      ["[]", "body"],
      ['{"email": 42}', "email"],
      ["{}", "email"],
      ['"text"', "body"],
    ] as const) {
      const response = await h.app.request("/api/v3/auth/login", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
      expect(response.status).toBe(400);
      const json = await response.json();
      expect(json).toMatchObject({ success: false, message: "Bad Request", error_code: 400 });
      expect(json.data.errors.map((e: { field: string }) => e.field)).toEqual([field]);
      expect(json.data.errors[0].message).toMatch(/\w/);
      matchesKotaniSeed("/api/v3/auth/api-key/secure", "GET", 400, json);
    }
  });
});

describe("Kotani Pay: the sign-in link in a browser", () => {
  const browser = { accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8" };
  const form = (hash: string, accept = browser.accept) =>
    h.app.request("/api/v3/auth/verify", {
      method: "POST",
      headers: { accept, "content-type": "application/x-www-form-urlencoded" },
      body: `hash=${hash}`,
    });

  it("answers pages (and HEAD) with the statuses the document declares", async () => {
    expect((await get("/api/v3/auth/verify", browser)).status).toBe(400);
    expect(
      (await get("/api/v3/auth/verify?hash=abc", browser)).headers.get("content-type"),
    ).toMatch(/text\/html/);
    expect((await h.app.request("/api/v3/auth/verify?hash=abc", { method: "HEAD" })).status).toBe(
      200,
    );
    const used = await form("x".repeat(40));
    expect(used.status).toBe(401);
    expect(used.headers.get("content-type")).toMatch(/text\/html/);
    const json = await form("x".repeat(40), "application/json");
    expect(json.status).toBe(403);
    expect(await json.json()).toEqual({
      success: false,
      message: "Unauthorized",
      error_code: 403,
      data: {},
    });
  });
});
