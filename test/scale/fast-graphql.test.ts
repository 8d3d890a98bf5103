// Issue 14: an anonymous POST /graphql handed from node:http straight to yoga (src/fast-graphql.ts)
// answers exactly as the Hono route does: status, body and headers, for valid and refused
// verifications, GraphQL errors, CSRF refusals and malformed bodies. Requests that need Hono's
// middleware (a bearer, an Origin, GET, chunked bodies) still reach it. Two servers over one
// harness: the gateway's listener (fast paths, then Hono) and Hono alone.
import { request as httpRequest } from "node:http";
import { describe, expect, it, vi } from "vitest";
import { useFastAndHono } from "../helpers/fast-and-hono.ts";
import { useHarness, withTenant } from "../helpers/fixtures.ts";
import { gql } from "../helpers/harness.ts";

const h = useHarness({ CORS_ORIGINS: "https://console.example" });
const acme = withTenant(h, "Acme");
const servers = useFastAndHono(h, { graphql: true });

const COMPARED = ["content-type", "x-request-id", "vary", "access-control-allow-origin"];

async function call(
  url: string,
  body: string,
  headers: Record<string, string> = {},
  method = "POST",
  path = "/graphql",
) {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { "content-type": "application/json", "x-request-id": "same-id", ...headers },
    body: method === "GET" ? undefined : body,
  });
  const text = await response.text();
  const picked: Record<string, string | null> = {};
  for (const name of COMPARED) picked[name] = response.headers.get(name);
  return { status: response.status, headers: picked, body: text };
}

/** The same request to both servers: the answers must be identical. */
async function same(
  body: string,
  headers: Record<string, string> = {},
  method = "POST",
  path?: string,
) {
  const fast = await call(servers.fastUrl, body, headers, method, path);
  const hono = await call(servers.honoUrl, body, headers, method, path);
  expect(fast).toEqual(hono);
  return fast;
}

const verify = (key: string, permissions: string[] = []) =>
  JSON.stringify({
    query:
      "mutation($k: String!, $p: [String!]) { verifyKey(key: $k, permissions: $p) { valid code keyId permissions } }",
    variables: { k: key, p: permissions },
  });

async function newKey(): Promise<string> {
  const result = await gql(
    h,
    "mutation($i: GenerateApiKeyInput!) { generateApiKey(input: $i) { key } }",
    { i: { name: "fast graphql", permissions: ["transactions:read"] } },
    acme.token,
  );
  expect(result.errors).toBeUndefined();
  return result.data!.generateApiKey.key;
}

describe("the GraphQL fast path", () => {
  it("answers anonymous verifications exactly as the Hono route, without reaching Hono", async () => {
    const key = await newKey();
    const record = vi.spyOn(h.deps.usage, "record");
    const before = servers.honoCalls;
    const valid = await same(verify(key, ["transactions:read"]));
    expect(JSON.parse(valid.body).data.verifyKey).toMatchObject({ valid: true, code: "VALID" });
    expect(valid.headers["x-request-id"]).toBe("same-id");
    const refused = await same(verify(key, ["accounts:write"]));
    expect(JSON.parse(refused.body).data.verifyKey.code).toBe("INSUFFICIENT_PERMISSIONS");
    expect(JSON.parse((await same(verify("nope"))).body).data.verifyKey.code).toBe("MALFORMED");
    expect(record).toHaveBeenCalledTimes(4);
    record.mockRestore();
    expect(servers.honoCalls).toBe(before);
  });

  it("answers errors the same: validation, authentication, CSRF, malformed and unstorable input", async () => {
    const before = servers.honoCalls;
    const unknownField = await same(JSON.stringify({ query: "{ nope }" }));
    expect(unknownField.status).toBe(200);
    expect(JSON.parse(unknownField.body).errors[0].extensions.code).toBe(
      "GRAPHQL_VALIDATION_FAILED",
    );
    const unauthenticated = await same(
      JSON.stringify({ query: 'mutation { revokeKey(id: "x") { __typename } }' }),
    );
    expect(JSON.parse(unauthenticated.body).errors[0].extensions.code).toBe("UNAUTHENTICATED");
    const csrf = await same(JSON.stringify({ query: "{ __typename }" }), {
      "content-type": "text/plain",
    });
    expect(csrf.status).toBe(403);
    const malformed = await same("{not json");
    expect(malformed.status).toBe(400);
    // The JSON parser's own message differs between the two body readers: only its name is told.
    expect(JSON.parse(malformed.body).errors[0].extensions.originalError).toEqual({
      name: "SyntaxError",
    });
    const nul = await same(verify("kg\u0000x"));
    expect(JSON.parse(nul.body).errors[0].extensions.code).toBe("VALIDATION_FAILED");
    expect(servers.honoCalls).toBe(before);
  });

  it("a request id the client may not choose is replaced on both paths", async () => {
    const fast = await call(servers.fastUrl, verify("nope"), { "x-request-id": "bad id!" });
    expect(fast.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("leaves bearer, cross-origin, GET and chunked requests to Hono, with the same answers", async () => {
    const before = servers.honoCalls;
    const mine = await same(JSON.stringify({ query: "{ tenant { id } }" }), {
      authorization: `Bearer ${acme.token}`,
    });
    expect(JSON.parse(mine.body).data.tenant.id).toBeTruthy();
    const cors = await same(verify("nope"), { origin: "https://console.example" });
    expect(cors.headers["access-control-allow-origin"]).toBe("https://console.example");
    await same("", { "x-graphql-yoga-csrf": "1" }, "GET", "/graphql?query=%7B__typename%7D");
    expect(servers.honoCalls).toBe(before + 3);
    // A chunked body (no Content-Length) goes to Hono, which counts it against the body limits.
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${servers.fastUrl}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", "transfer-encoding": "chunked" },
      });
      req.on("response", (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      req.end(verify("nope"));
    });
    expect(status).toBe(200);
    expect(servers.honoCalls).toBe(before + 4);
  });

  it("refuses a body over the limit before yoga, declared or chunked (yoga's own limit is off)", async () => {
    const huge = JSON.stringify({
      query: "mutation($k: String!) { verifyKey(key: $k) { valid } }",
      variables: { k: "x".repeat(1_100_000) },
    });
    const chunked = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(`${servers.fastUrl}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", "transfer-encoding": "chunked" },
      });
      req.on("response", (res) => {
        let body = "";
        res.on("data", (d) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      });
      // The server may answer and close before the whole body is sent.
      req.on("error", (error) => (String(error).includes("EPIPE") ? undefined : reject(error)));
      for (let i = 0; i < huge.length; i += 64 * 1024) req.write(huge.slice(i, i + 64 * 1024));
      req.end();
    });
    expect(chunked.status).toBe(413);
    expect(JSON.parse(chunked.body).error.code).toBe("PAYLOAD_TOO_LARGE");
    const declared = await call(servers.fastUrl, huge);
    expect(declared.status).toBe(413);
    expect(JSON.parse(declared.body).error.code).toBe("PAYLOAD_TOO_LARGE");
  });
});
