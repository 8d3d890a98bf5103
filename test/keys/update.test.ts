import { describe, expect, it } from "vitest";
import { generateKeyFor, gql, seedUser } from "../helpers/harness.ts";
import { useHarness, withTenant } from "../helpers/fixtures.ts";

const h = useHarness();
const acme = withTenant(h, "Acme");
const globex = withTenant(h, "Globex");

const updateMutation = `mutation($input: UpdateKeyInput!) {
  updateKey(input: $input) { id name description permissions expiresAt metadata ipAllowlist
    rateLimit { perMinute perHour perDay } credits { remaining refillAmount refillInterval } }
}`;
const verifyWith = `mutation($key: String!, $permissions: [String!], $clientIp: String) {
  verifyKey(key: $key, permissions: $permissions, clientIp: $clientIp) { valid code metadata credits { remaining } }
}`;

async function verifyRest(body: Record<string, unknown>) {
  const response = await h.app.request("/v1/keys/verify", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(200);
  return { response, body: await response.json() };
}

async function update(input: Record<string, unknown>, token = acme.token) {
  return gql(h, updateMutation, { input }, token);
}

describe("updateKey", () => {
  it("a permission given to a zero-permission user-bound key holds on the very next request", async () => {
    const member = await seedUser(h.deps, acme.tenant.id, "MEMBER", [
      "keys:write",
      "transactions:read",
    ]);
    const { key, apiKey } = await generateKeyFor(h, member.token, { permissions: [] });
    const need = ["transactions:read"];
    expect((await verifyRest({ key, permissions: need })).body.code).toBe(
      "INSUFFICIENT_PERMISSIONS",
    );
    expect((await gql(h, verifyWith, { key, permissions: need })).data!.verifyKey.code).toBe(
      "INSUFFICIENT_PERMISSIONS",
    );
    const updated = await update({ id: apiKey.id, permissions: need }, member.token);
    expect(updated.errors).toBeUndefined();
    expect(updated.data!.updateKey.permissions).toEqual(need);
    expect((await verifyRest({ key, permissions: need })).body).toMatchObject({
      valid: true,
      code: "VALID",
    });
    expect((await gql(h, verifyWith, { key, permissions: need })).data!.verifyKey).toMatchObject({
      valid: true,
      code: "VALID",
    });
    const audit = await h.deps.prisma.auditEvent.findFirst({
      where: { action: "key.update", targetId: apiKey.id },
    });
    expect(audit?.metadata).toEqual({ fields: ["permissions"] });
  });

  it("a member cannot grant beyond their own permissions", async () => {
    const member = await seedUser(h.deps, acme.tenant.id, "MEMBER", ["keys:write", "a:read"]);
    const { apiKey } = await generateKeyFor(h, member.token, { permissions: ["a:read"] });
    const result = await update(
      { id: apiKey.id, permissions: ["a:read", "b:write"] },
      member.token,
    );
    expect(result.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const wildcard = await update({ id: apiKey.id, permissions: ["*"] }, member.token);
    expect(wildcard.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    // Nor can the owner of the tenant give a user-bound key more than its owner holds.
    const byOwner = await update({ id: apiKey.id, permissions: ["b:write"] });
    expect(byOwner.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
  });

  it("another tenant's key answers KEY_NOT_FOUND, and members see only their own keys", async () => {
    const { apiKey } = await generateKeyFor(h, acme.token);
    const foreign = await update({ id: apiKey.id, name: "mine now" }, globex.token);
    expect(foreign.errors?.[0]?.extensions?.code).toBe("KEY_NOT_FOUND");
    const member = await seedUser(h.deps, acme.tenant.id, "MEMBER", ["keys:write"]);
    const other = await update({ id: apiKey.id, name: "mine now" }, member.token);
    expect(other.errors?.[0]?.extensions?.code).toBe("KEY_NOT_FOUND");
    const unknown = await update({ id: "not-a-uuid", name: "x" });
    expect(unknown.errors?.[0]?.extensions?.code).toBe("KEY_NOT_FOUND");
    const row = await h.deps.prisma.apiKey.findUniqueOrThrow({ where: { id: apiKey.id } });
    expect(row.name).toBe("test key");
  });

  it("a revoked key is a conflict", async () => {
    const { apiKey } = await generateKeyFor(h, acme.token);
    await gql(h, `mutation($id: ID!) { revokeKey(id: $id) { id } }`, { id: apiKey.id }, acme.token);
    const result = await update({ id: apiKey.id, name: "again" });
    expect(result.errors?.[0]?.extensions?.code).toBe("CONFLICT");
  });

  it("sets and clears name, description, limits, expiry, metadata, allowlist and credits", async () => {
    const { apiKey } = await generateKeyFor(h, acme.token, { rateLimit: { perMinute: 5 } });
    const future = new Date(Date.now() + 3600_000).toISOString();
    const set = await update({
      id: apiKey.id,
      name: "renamed",
      description: "d",
      rateLimit: { perHour: 100 },
      expiresAt: future,
      metadata: { plan: "pro", nested: { a: [1, 2] } },
      ipAllowlist: ["10.0.0.0/8", "2001:db8::/32", "192.0.2.7"],
      credits: { remaining: 5, refillAmount: 10, refillInterval: "DAY" },
    });
    expect(set.errors).toBeUndefined();
    expect(set.data!.updateKey).toMatchObject({
      name: "renamed",
      description: "d",
      rateLimit: { perMinute: 5, perHour: 100, perDay: null },
      metadata: { plan: "pro", nested: { a: [1, 2] } },
      ipAllowlist: ["10.0.0.0/8", "2001:db8::/32", "192.0.2.7"],
      credits: { remaining: 5, refillAmount: 10, refillInterval: "DAY" },
    });
    const cleared = await update({
      id: apiKey.id,
      description: null,
      rateLimit: null,
      expiresAt: null,
      metadata: null,
      ipAllowlist: [],
      credits: null,
    });
    expect(cleared.errors).toBeUndefined();
    expect(cleared.data!.updateKey).toMatchObject({
      name: "renamed",
      description: null,
      expiresAt: null,
      rateLimit: { perMinute: null, perHour: null, perDay: null },
      metadata: null,
      ipAllowlist: [],
      credits: null,
    });
  });

  it("refuses bad input, naming the field", async () => {
    const { apiKey } = await generateKeyFor(h, acme.token);
    const cases: [Record<string, unknown>, string][] = [
      [{ expiresAt: new Date(Date.now() - 1000).toISOString() }, "expiresAt"],
      [{ metadata: [1, 2] }, "metadata"],
      [{ metadata: { big: "x".repeat(5000) } }, "metadata"],
      [{ metadata: { bad: "\u0000" } }, "metadata"],
      [{ ipAllowlist: ["10.0.0.0/33"] }, "ipAllowlist.0"],
      [{ ipAllowlist: ["not an ip"] }, "ipAllowlist.0"],
      [{ ipAllowlist: Array.from({ length: 101 }, (_, i) => `10.0.0.${i % 250}`) }, "ipAllowlist"],
      [{ credits: { remaining: 5, refillAmount: 10 } }, "credits.refillInterval"],
      [{ credits: { remaining: -1 } }, "credits.remaining"],
      [{ name: "" }, "name"],
      [{ permissions: ["nope"] }, "permissions.0"],
    ];
    for (const [input, field] of cases) {
      const result = await update({ id: apiKey.id, ...input });
      const error = result.errors?.[0];
      expect(error?.extensions?.code, JSON.stringify(input).slice(0, 80)).toMatch(
        /VALIDATION_FAILED|BAD_REQUEST/,
      );
      expect(JSON.stringify(error)).toContain(field);
    }
  });
});

describe("IP allowlists and metadata in verification", () => {
  it("answers IP_NOT_ALLOWED outside the list or without an address, and returns metadata", async () => {
    const { key, apiKey } = await generateKeyFor(h, acme.token, { rateLimit: { perMinute: 100 } });
    await update({
      id: apiKey.id,
      ipAllowlist: ["203.0.113.0/24", "2001:db8::/32"],
      metadata: { plan: "pro" },
    });
    expect((await verifyRest({ key })).body).toMatchObject({
      valid: false,
      code: "IP_NOT_ALLOWED",
    });
    expect((await verifyRest({ key, clientIp: "198.51.100.1" })).body.code).toBe("IP_NOT_ALLOWED");
    const inside = await verifyRest({ key, clientIp: "203.0.113.9" });
    expect(inside.body).toMatchObject({ valid: true, code: "VALID", metadata: { plan: "pro" } });
    expect(inside.body.ratelimit.remaining).toBe(99);
    expect((await verifyRest({ key, clientIp: "2001:db8::1" })).body.code).toBe("VALID");
    expect((await verifyRest({ key, clientIp: "::ffff:203.0.113.9" })).body.code).toBe("VALID");
    const graphql = await gql(h, verifyWith, { key, clientIp: "203.0.113.10" });
    expect(graphql.data!.verifyKey).toMatchObject({ code: "VALID", metadata: { plan: "pro" } });
    // Refusals charged nothing: four VALID above, and this one.
    expect((await verifyRest({ key, clientIp: "203.0.113.9" })).body.ratelimit.remaining).toBe(95);
    const bad = await h.app.request("/v1/keys/verify", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ key, clientIp: "nope" }),
    });
    expect(bad.status).toBe(400);
  });

  it("a suspended or deleted tenant's keys answer TENANT_SUSPENDED", async () => {
    const { key, apiKey } = await generateKeyFor(h, globex.token);
    expect((await verifyRest({ key })).body.code).toBe("VALID");
    await h.deps.prisma.tenant.update({
      where: { id: globex.tenant.id },
      data: { suspendedAt: new Date() },
    });
    h.deps.keys.invalidateTenant(globex.tenant.id);
    expect((await verifyRest({ key })).body).toMatchObject({
      valid: false,
      code: "TENANT_SUSPENDED",
      keyId: apiKey.id,
    });
    await h.deps.prisma.tenant.update({
      where: { id: globex.tenant.id },
      data: { suspendedAt: null },
    });
    h.deps.keys.invalidateTenant(globex.tenant.id);
    expect((await verifyRest({ key })).body.code).toBe("VALID");
  });
});

describe("rate-limit headers", () => {
  it("verify answers carry RateLimit-* when the key has limits, and Retry-After when spent", async () => {
    const { key } = await generateKeyFor(h, acme.token, { rateLimit: { perMinute: 2 } });
    const first = await verifyRest({ key });
    expect(first.response.headers.get("RateLimit-Limit")).toBe("2");
    expect(first.response.headers.get("RateLimit-Remaining")).toBe("1");
    expect(Number(first.response.headers.get("RateLimit-Reset"))).toBeGreaterThan(0);
    await verifyRest({ key });
    const spent = await verifyRest({ key });
    expect(spent.body.code).toBe("RATE_LIMITED");
    expect(spent.response.headers.get("RateLimit-Limit")).toBe("2");
    expect(spent.response.headers.get("RateLimit-Remaining")).toBe("0");
    expect(Number(spent.response.headers.get("Retry-After"))).toBeGreaterThan(0);
    const { key: unlimited } = await generateKeyFor(h, acme.token);
    const plain = await verifyRest({ key: unlimited });
    expect(plain.response.headers.get("RateLimit-Limit")).toBeNull();
  });

  it("a 429 of a bearer key carries Retry-After and the RateLimit-* headers", async () => {
    const { key } = await generateKeyFor(h, acme.token, { rateLimit: { perMinute: 1 } });
    const health = () =>
      h.app.request("/api/v3/health", { headers: { authorization: `Bearer ${key}` } });
    const graphql = () =>
      h.app.request("/graphql", {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
        body: JSON.stringify({ query: "{ __typename }" }),
      });
    expect((await health()).status).toBe(200);
    for (const limited of [await health(), await graphql()]) {
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get("Retry-After"))).toBeGreaterThan(0);
      expect(limited.headers.get("RateLimit-Limit")).toBe("1");
      expect(limited.headers.get("RateLimit-Remaining")).toBe("0");
      expect(limited.headers.get("RateLimit-Reset")).toBe(limited.headers.get("Retry-After"));
    }
  });
});
