import { describe, expect, it, vi } from "vitest";
import { generateKeyFor, gql, verifyMutation } from "../helpers/harness.ts";
import { useHarness, withTenant } from "../helpers/fixtures.ts";
import { verifyKey } from "../../src/modules/keys/verify.ts";

const h = useHarness();
const acme = withTenant(h, "Acme");

async function verifyRest(key: string, permissions?: string[], token?: string) {
  const response = await h.app.request("/v1/keys/verify", {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ key, permissions }),
  });
  expect(response.status).toBe(200);
  return response.json();
}

function flip(key: string, at: number): string {
  const c = key[at];
  return key.slice(0, at) + (c === "a" ? "b" : "a") + key.slice(at + 1);
}

describe("verifyKey codes", () => {
  it("VALID, with the key's facts", async () => {
    const { key, apiKey } = await generateKeyFor(h, acme.token, {
      permissions: ["transactions:read"],
      rateLimit: { perMinute: 100 },
    });
    const body = await verifyRest(key, ["transactions:read"]);
    expect(body).toMatchObject({
      valid: true,
      code: "VALID",
      keyId: apiKey.id,
      tenantId: acme.tenant.id,
      ownerId: null,
      permissions: ["transactions:read"],
      expiresAt: null,
    });
    expect(body.ratelimit).toEqual({ limit: 100, remaining: 99, reset: expect.any(Number) });
    const viaGraphql = await gql(h, verifyMutation, { key, permissions: ["transactions:read"] });
    expect(viaGraphql.data!.verifyKey).toMatchObject({
      valid: true,
      code: "VALID",
      keyId: apiKey.id,
    });
  });

  it("MALFORMED for one flipped character, without touching the database", async () => {
    const { key } = await generateKeyFor(h, acme.token);
    const lookup = vi.spyOn(h.deps.keys, "lookup");
    for (const at of [5, 20, key.length - 2]) {
      expect(await verifyRest(flip(key, at))).toMatchObject({
        valid: false,
        code: "MALFORMED",
        keyId: null,
      });
    }
    expect((await verifyRest("not a key at all")).code).toBe("MALFORMED");
    expect(lookup).not.toHaveBeenCalled();
    lookup.mockRestore();
  });

  it("NOT_FOUND for a well-formed key nobody issued", async () => {
    const { generateKey } = await import("../../src/crypto/key-format.ts");
    expect(await verifyRest(generateKey("kg"))).toMatchObject({
      valid: false,
      code: "NOT_FOUND",
      keyId: null,
    });
  });

  it("EXPIRED, REVOKED and DISABLED", async () => {
    const expiring = await generateKeyFor(h, acme.token, { lifetime: 60 });
    await h.deps.prisma.apiKey.update({
      where: { id: expiring.apiKey.id },
      data: { expiresAt: new Date(Date.now() - 1000) },
    });
    h.deps.keys.invalidate(expiring.apiKey.id);
    expect((await verifyRest(expiring.key)).code).toBe("EXPIRED");

    const revoked = await generateKeyFor(h, acme.token);
    expect((await verifyRest(revoked.key)).code).toBe("VALID");
    await gql(
      h,
      'mutation($id: ID!) { revokeKey(id: $id, reason: "leaked") { status } }',
      { id: revoked.apiKey.id },
      acme.token,
    );
    expect((await verifyRest(revoked.key)).code).toBe("REVOKED");

    const disabled = await generateKeyFor(h, acme.token);
    await gql(
      h,
      "mutation($id: ID!) { disableKey(id: $id) { status } }",
      { id: disabled.apiKey.id },
      acme.token,
    );
    expect((await verifyRest(disabled.key)).code).toBe("DISABLED");
    await gql(
      h,
      "mutation($id: ID!) { enableKey(id: $id) { status } }",
      { id: disabled.apiKey.id },
      acme.token,
    );
    expect((await verifyRest(disabled.key)).code).toBe("VALID");
  });

  it("RATE_LIMITED past the key's per-minute limit", async () => {
    const { key } = await generateKeyFor(h, acme.token, {
      rateLimit: { perMinute: 2, perDay: 1000 },
    });
    expect((await verifyRest(key)).ratelimit.remaining).toBe(1);
    expect((await verifyRest(key)).ratelimit.remaining).toBe(0);
    const limited = await verifyRest(key);
    expect(limited).toMatchObject({ valid: false, code: "RATE_LIMITED" });
    expect(limited.ratelimit.reset).toBeGreaterThan(0);
  });

  it("INSUFFICIENT_PERMISSIONS, with wildcards honoured", async () => {
    const { key } = await generateKeyFor(h, acme.token, {
      permissions: ["transactions:*", "accounts:read"],
    });
    expect((await verifyRest(key, ["transactions:write", "accounts:read"])).code).toBe("VALID");
    expect((await verifyRest(key, ["accounts:write"])).code).toBe("INSUFFICIENT_PERMISSIONS");
    const star = await generateKeyFor(h, acme.token);
    expect((await verifyRest(star.key, ["anything:at-all"])).code).toBe("VALID");
  });

  it("answers bad bodies with 400 naming the field", async () => {
    const missing = await h.app.request("/v1/keys/verify", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(missing.status).toBe(400);
    expect((await missing.json()).error.fields[0].field).toBe("key");
    const broken = await h.app.request("/v1/keys/verify", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{not json",
    });
    expect(broken.status).toBe(400);
  });

  it("answers without a promise only when nothing needs I/O, with the same answers either way", async () => {
    const plain = await generateKeyFor(h, acme.token, { permissions: ["transactions:read"] });
    const limited = await generateKeyFor(h, acme.token, {
      permissions: ["transactions:read"],
      rateLimit: { perMinute: 100 },
    });
    const options = { permissions: ["transactions:read"] };
    h.deps.keys.invalidate(plain.apiKey.id);
    // Not cached yet: read from the database, asynchronously; then cached, synchronously.
    const first = verifyKey(h.deps, plain.key, options);
    expect(first).toBeInstanceOf(Promise);
    expect(await first).toMatchObject({ valid: true, code: "VALID" });
    const second = verifyKey(h.deps, plain.key, options);
    expect(second).not.toBeInstanceOf(Promise);
    expect(second).toMatchObject({ valid: true, code: "VALID", ratelimit: null, credits: null });
    expect(verifyKey(h.deps, plain.key, { permissions: ["accounts:write"] })).toMatchObject({
      code: "INSUFFICIENT_PERMISSIONS",
    });
    expect(verifyKey(h.deps, flip(plain.key, 6), options)).toMatchObject({ code: "MALFORMED" });
    // Rate limits are spent in the limiter's store: always asynchronous, even when cached.
    await verifyKey(h.deps, limited.key, options);
    const spent = verifyKey(h.deps, limited.key, options);
    expect(spent).toBeInstanceOf(Promise);
    expect(await spent).toMatchObject({ code: "VALID", ratelimit: { limit: 100, remaining: 98 } });
  });

  it("writes last-used times in batches, not per verification", async () => {
    const { key, apiKey } = await generateKeyFor(h, acme.token);
    await verifyRest(key);
    expect(
      (await h.deps.prisma.apiKey.findUniqueOrThrow({ where: { id: apiKey.id } })).lastUsedAt,
    ).toBeNull();
    await h.deps.keys.flush();
    expect(
      (await h.deps.prisma.apiKey.findUniqueOrThrow({ where: { id: apiKey.id } })).lastUsedAt,
    ).toBeInstanceOf(Date);
  });

  it("rewrites a last-used time only when it is a minute or more behind", async () => {
    const { key, apiKey } = await generateKeyFor(h, acme.token);
    const lastUsed = async () =>
      (await h.deps.prisma.apiKey.findUniqueOrThrow({ where: { id: apiKey.id } })).lastUsedAt;
    await verifyRest(key);
    await h.deps.keys.flush();
    const first = (await lastUsed())!;
    // Within the minute: queued by neither this instance (its cached entry knows) nor written
    // when another instance, which has no such entry, queues it (the flush's own condition).
    await verifyRest(key);
    h.deps.keys.touch({ id: apiKey.id, lastUsedQueuedAt: 0 });
    await h.deps.keys.flush();
    expect(await lastUsed()).toEqual(first);
    vi.useFakeTimers({ now: first.getTime() + 61_000, toFake: ["Date"] });
    try {
      await verifyRest(key);
      await h.deps.keys.flush();
    } finally {
      vi.useRealTimers();
    }
    expect((await lastUsed())!.getTime()).toBeGreaterThanOrEqual(first.getTime() + 61_000);
  });
});

describe("API keys as bearer credentials", () => {
  it("accepts a valid key with its permissions, and answers revoked, expired, disabled and unknown keys with one 401", async () => {
    const { key } = await generateKeyFor(h, acme.token, { permissions: ["projects:read"] });
    const ok = await gql(h, "{ tenant { id } projects { edges { node { id } } } }", {}, key);
    expect(ok.errors).toBeUndefined();
    expect(ok.data!.tenant.id).toBe(acme.tenant.id);
    const denied = await gql(h, 'mutation { createProject(input: { name: "x" }) { id } }', {}, key);
    expect(denied.errors![0]!.extensions!.code).toBe("FORBIDDEN");

    const revoked = await generateKeyFor(h, acme.token);
    await gql(
      h,
      "mutation($id: ID!) { revokeKey(id: $id) { status } }",
      { id: revoked.apiKey.id },
      acme.token,
    );
    const expired = await generateKeyFor(h, acme.token, { lifetime: 60 });
    await h.deps.prisma.apiKey.update({
      where: { id: expired.apiKey.id },
      data: { expiresAt: new Date(Date.now() - 1) },
    });
    const disabled = await generateKeyFor(h, acme.token, { status: "DISABLED" });
    const { generateKey } = await import("../../src/crypto/key-format.ts");
    const answers = [];
    for (const bad of [revoked.key, expired.key, disabled.key, generateKey("kg")]) {
      const response = await h.app.request("/graphql", {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${bad}` },
        body: JSON.stringify({ query: "{ tenant { id } }" }),
      });
      answers.push({ status: response.status, body: await response.text() });
    }
    expect(answers[0]!.status).toBe(401);
    for (const answer of answers) expect(answer).toEqual(answers[0]);
  });

  it("fails on the very next request after revocation", async () => {
    const { key, apiKey } = await generateKeyFor(h, acme.token);
    const call = () =>
      h.app.request("/graphql", {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
        body: JSON.stringify({ query: "{ tenant { id } }" }),
      });
    expect((await call()).status).toBe(200);
    await gql(
      h,
      "mutation($id: ID!) { revokeKey(id: $id) { status } }",
      { id: apiKey.id },
      acme.token,
    );
    expect((await call()).status).toBe(401);
  });

  it("answers 429 with Retry-After when a bearer key's limit is spent", async () => {
    const { key } = await generateKeyFor(h, acme.token, { rateLimit: { perMinute: 1 } });
    const call = () =>
      h.app.request("/graphql", {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
        body: JSON.stringify({ query: "{ tenant { id } }" }),
      });
    expect((await call()).status).toBe(200);
    const limited = await call();
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
  });
});
