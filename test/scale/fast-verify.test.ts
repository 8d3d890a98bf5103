// Issue 14: POST /v1/keys/verify answered from node:http before Hono gives exactly the answers of
// the Hono route: status, body and headers, for valid, refused, malformed and oversized requests,
// and counts usage the same. Two servers over one harness: the gateway's listener (fast path,
// then Hono) and Hono alone.
import { describe, expect, it, vi } from "vitest";
import { signRequest } from "../../src/access/signature.ts";
import { generateKey } from "../../src/crypto/key-format.ts";
import { requestListener, startMetricsListener } from "../../src/server.ts";
import { useFastAndHono } from "../helpers/fast-and-hono.ts";
import { useHarness, withTenant } from "../helpers/fixtures.ts";
import { gql } from "../helpers/harness.ts";

const h = useHarness({ METRICS_TOKEN: "fast-verify-metrics-token-0123" });
const acme = withTenant(h, "Acme");
const servers = useFastAndHono(h);

const COMPARED = [
  "content-type",
  "x-request-id",
  "ratelimit-limit",
  "ratelimit-remaining",
  "ratelimit-reset",
  "retry-after",
  "vary",
  "access-control-allow-origin",
];

async function call(url: string, body: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${url}/v1/keys/verify`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-request-id": "same-id", ...headers },
    body,
  });
  const text = await response.text();
  const picked: Record<string, string | null> = {};
  for (const name of COMPARED) picked[name] = response.headers.get(name);
  return { status: response.status, headers: picked, body: text };
}

/** The same request to both servers, one after the other: the answers must be identical. */
async function same(body: string, headers: Record<string, string> = {}) {
  const fast = await call(servers.fastUrl, body, headers);
  const hono = await call(servers.honoUrl, body, headers);
  expect(fast).toEqual(hono);
  return fast;
}

async function newKey(input: Record<string, unknown> = {}): Promise<{ key: string; id: string }> {
  const result = await gql(
    h,
    "mutation($i: GenerateApiKeyInput!) { generateApiKey(input: $i) { key apiKey { id } } }",
    { i: { name: "fast", ...input } },
    acme.token,
  );
  expect(result.errors).toBeUndefined();
  return { key: result.data!.generateApiKey.key, id: result.data!.generateApiKey.apiKey.id };
}

describe("the verification fast path", () => {
  it("answers valid and refused keys exactly as the Hono route, without reaching Hono", async () => {
    const { key } = await newKey({ permissions: ["transactions:read"] });
    const before = servers.honoCalls;
    const record = vi.spyOn(h.deps.usage, "record");
    const valid = await same(JSON.stringify({ key, permissions: ["transactions:read"] }));
    expect(JSON.parse(valid.body)).toMatchObject({ valid: true, code: "VALID" });
    expect(valid.headers["x-request-id"]).toBe("same-id");
    const refused = await same(JSON.stringify({ key, permissions: ["accounts:write"] }));
    expect(JSON.parse(refused.body).code).toBe("INSUFFICIENT_PERMISSIONS");
    const prefix = key.split("_")[0];
    const unknown = await same(JSON.stringify({ key: generateKey(prefix ?? "acme") }));
    expect(JSON.parse(unknown.body).code).toBe("NOT_FOUND");
    expect(JSON.parse((await same(JSON.stringify({ key: "nope" }))).body).code).toBe("MALFORMED");
    // Usage counted once per known key on either path: two per server.
    expect(record).toHaveBeenCalledTimes(4);
    record.mockRestore();
    expect(servers.honoCalls).toBe(before);
  });

  it("answers NOT_FOUND, revoked and IP allowlists the same", async () => {
    const { key, id } = await newKey({});
    await gql(
      h,
      "mutation($i: UpdateKeyInput!) { updateKey(input: $i) { id } }",
      { i: { id, ipAllowlist: ["10.0.0.0/8"] } },
      acme.token,
    );
    expect(JSON.parse((await same(JSON.stringify({ key }))).body).code).toBe("IP_NOT_ALLOWED");
    expect(JSON.parse((await same(JSON.stringify({ key, clientIp: "10.1.2.3" }))).body).code).toBe(
      "VALID",
    );
    await gql(h, "mutation($id: ID!) { revokeKey(id: $id) { __typename } }", { id }, acme.token);
    expect(JSON.parse((await same(JSON.stringify({ key }))).body).code).toBe("REVOKED");
  });

  it("a valid answer, kept per cache entry, follows every change to the key", async () => {
    const { key, id } = await newKey({ permissions: ["transactions:read"] });
    const body = JSON.stringify({ key });
    const first = JSON.parse((await same(body)).body);
    expect(first).toMatchObject({ code: "VALID", name: "fast", metadata: null, expiresAt: null });
    // Answered twice from the kept body: still the same as Hono's.
    expect(JSON.parse((await same(body)).body)).toEqual(first);
    const expiresAt = new Date(Date.now() + 86_400_000).toISOString();
    await gql(
      h,
      "mutation($i: UpdateKeyInput!) { updateKey(input: $i) { id } }",
      {
        i: {
          id,
          name: "renamed",
          metadata: { plan: "gold" },
          permissions: ["transactions:read", "accounts:read"],
          expiresAt,
        },
      },
      acme.token,
    );
    const changed = JSON.parse((await same(body)).body);
    expect(changed).toMatchObject({
      code: "VALID",
      name: "renamed",
      metadata: { plan: "gold" },
      permissions: ["transactions:read", "accounts:read"],
      expiresAt,
    });
  });

  it("sends the same RateLimit-* headers and Retry-After", async () => {
    // One key per server, same limit: each sequence must match step by step.
    const fastKey = await newKey({ rateLimit: { perMinute: 2 } });
    const honoKey = await newKey({ rateLimit: { perMinute: 2 } });
    for (let i = 0; i < 3; i++) {
      const fast = await call(servers.fastUrl, JSON.stringify({ key: fastKey.key }));
      const hono = await call(servers.honoUrl, JSON.stringify({ key: honoKey.key }));
      const strip = (body: string) => ({ ...JSON.parse(body), keyId: null });
      expect({ ...fast, body: strip(fast.body) }).toEqual({ ...hono, body: strip(hono.body) });
      expect(fast.headers["ratelimit-limit"]).toBe("2");
      if (i === 2) {
        expect(JSON.parse(fast.body).code).toBe("RATE_LIMITED");
        expect(fast.headers["retry-after"]).not.toBeNull();
      }
    }
  });

  it("refuses malformed bodies with the same 400s", async () => {
    const before = servers.honoCalls;
    for (const body of [
      "{",
      "[1,2]",
      '"key"',
      "null",
      "{}",
      '{"key": 5}',
      '{"key": "x", "permissions": "all"}',
      '{"key": "x", "clientIp": "not-an-ip"}',
      JSON.stringify({ key: "x".repeat(5000) }),
      JSON.stringify({ key: "bad\u0000text" }),
      "",
    ]) {
      const answer = await same(body);
      expect(answer.status).toBe(400);
      expect(["BAD_REQUEST", "VALIDATION_FAILED"]).toContain(JSON.parse(answer.body).error.code);
    }
    expect(servers.honoCalls).toBe(before);
  });

  it("leaves oversized, chunked, cross-origin and authenticated calls to Hono, with the same answers", async () => {
    const before = servers.honoCalls;
    const huge = JSON.stringify({ key: "x", pad: "y".repeat(1024 * 1024 + 10) });
    expect((await same(huge)).status).toBe(413);
    const large = JSON.stringify({ key: "x", pad: "y".repeat(70 * 1024) });
    // Past the small-body budget: Hono's large-body accounting answers it (here: a short key).
    expect(JSON.parse((await same(large)).body).code).toBe("MALFORMED");
    const { key } = await newKey({});
    const origin = await same(JSON.stringify({ key }), { origin: "https://elsewhere.example" });
    expect(origin.headers.vary).toBe("Origin");
    const asTenant = await same(JSON.stringify({ key }), {
      authorization: `Bearer ${acme.token}`,
    });
    expect(JSON.parse(asTenant.body).code).toBe("VALID");
    expect(servers.honoCalls - before).toBe(4);
  });

  it("verifies a secure key's signature the same way", async () => {
    const made = await gql(
      h,
      `mutation { generateSecureApiKey(input: { name: "fast-secure" }) { key secret } }`,
      {},
      acme.token,
    );
    const { key, secret } = made.data!.generateSecureApiKey;
    expect(JSON.parse((await same(JSON.stringify({ key }))).body).code).toBe("SIGNATURE_REQUIRED");
    // One signature per server: a signature is good once.
    for (const url of [servers.fastUrl, servers.honoUrl]) {
      const signature = {
        header: signRequest(secret, "POST", `/orders/${url.slice(-5)}`, "{}"),
        method: "POST",
        path: `/orders/${url.slice(-5)}`,
        bodySha256: "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
      };
      const first = await call(url, JSON.stringify({ key, signature }));
      const again = await call(url, JSON.stringify({ key, signature }));
      expect([JSON.parse(first.body).code, JSON.parse(again.body).code]).toEqual([
        "VALID",
        "INVALID_SIGNATURE",
      ]);
    }
  });
});

describe("GET /metrics", () => {
  it("answers Prometheus text to the bearer of METRICS_TOKEN only", async () => {
    expect((await fetch(`${servers.fastUrl}/metrics`)).status).toBe(401);
    const wrong = await fetch(`${servers.fastUrl}/metrics`, {
      headers: { authorization: "Bearer fast-verify-metrics-token-0124" },
    });
    expect(wrong.status).toBe(401);
    const ok = await fetch(`${servers.fastUrl}/metrics`, {
      headers: { authorization: "Bearer fast-verify-metrics-token-0123" },
    });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await ok.text();
    expect(text).toMatch(/^keygate_verifications_total\{code="VALID"\} [1-9]/m);
    expect(text).toMatch(/^keygate_verification_duration_seconds_bucket\{le="0\.005"\} \d+/m);
    expect(text).toMatch(/^keygate_key_cache_hits_total \d+/m);
    expect(text).toMatch(/^keygate_key_cache_misses_total [1-9]/m);
    expect(text).toMatch(/^keygate_key_filter_rejections_total \d+/m);
    expect(text).toMatch(
      /^keygate_rate_limit_decisions_total\{window="key-minute",decision="refused"\} [1-9]/m,
    );
    expect(text).toMatch(/^keygate_db_pool_connections\{state="total"\} \d+/m);
    expect(text).toMatch(/^# TYPE keygate_change_notices_received_total counter/m);
  });

  it("is not served without METRICS_TOKEN", async () => {
    const plain = await servers.serve(
      requestListener(
        { ...h.deps, config: { ...h.deps.config, metricsToken: undefined } },
        h.app.fetch,
      ),
    );
    const response = await fetch(`${plain}/metrics`);
    expect(response.status).toBe(404);
  });

  it("is served without a token on METRICS_ADDRESS, and nothing else is", async () => {
    const server = await startMetricsListener({
      ...h.deps,
      config: { ...h.deps.config, metricsAddress: { host: "127.0.0.1", port: 0 } },
    });
    if (!server) throw new Error("no metrics listener");
    servers.track(server);
    const address = server.address();
    const url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
    const response = await fetch(`${url}/metrics`);
    expect(response.status).toBe(200);
    expect(await response.text()).toMatch(/^keygate_verifications_total\{code="VALID"\} [1-9]/m);
    expect((await fetch(`${url}/v1/keys/verify`, { method: "POST", body: "{}" })).status).toBe(404);
    expect((await fetch(`${url}/graphql`)).status).toBe(404);
  });
});
