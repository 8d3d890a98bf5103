// What an anonymous caller can make the gateway spend before authentication: the strict-text
// check is a single allocation-free walk (its cost against JSON.parse is in `npm run bench`), and
// large anonymous bodies are rationed per client IP (429 with Retry-After).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { policies } from "../../src/rate-limit/limiters.ts";
import { LARGE_BODY_BYTES } from "../../src/body-budget.ts";
import { assertStorableText, findUnstorable } from "../../src/storable-text.ts";
import { gql, postJson } from "../helpers/harness.ts";
import { useHarness, withTenant } from "../helpers/fixtures.ts";
import {
  processEnvironment,
  startServerProcess,
  type ProcessEnvironment,
  type ServerProcess,
} from "../helpers/server-process.ts";

const budget = policies.largeAnonymousBodyIp.points;
const largeBody = (key = "kg_nope") =>
  JSON.stringify({ key, pad: "a".repeat(LARGE_BODY_BYTES + 10) });
const nested = (levels: number) => "[".repeat(levels) + "]".repeat(levels);

describe("the strict-text check", () => {
  it("names the field of a NUL, a lone surrogate, a bad key and too deep nesting", () => {
    expect(findUnstorable({ a: [1, "x", { b: "y\u0000" }] }, "body")).toEqual({
      field: "body.a.2.b",
      message: expect.stringMatching(/NUL/),
    });
    expect(findUnstorable({ a: ["ok", "\udc00x"] }, "variables")).toEqual({
      field: "variables.a.1",
      message: expect.stringMatching(/surrogate/),
    });
    expect(findUnstorable({ a: { "k\ud800": 1 } }, "body")).toEqual({
      field: "body.a",
      message: expect.stringMatching(/surrogate/),
    });
    expect(findUnstorable({ a: JSON.parse(nested(32)) }, "body")?.message).toMatch(
      /nested deeper than 32/,
    );
    expect(findUnstorable({ a: JSON.parse(nested(30)) }, "body")).toBeUndefined();
    expect(
      findUnstorable({ e: "😀 é \ud83d\ude00", n: [1, null, true, 2.5], o: {} }, "body"),
    ).toBeUndefined();
    expect(() => assertStorableText({ a: "\u0000" }, "body")).toThrow(/body\.a: contains a NUL/);
  });

  it("large arrays of numbers, strings and deep objects pass when clean and fail when one value is bad", () => {
    const numbers = Array.from({ length: 200_000 }, (_, i) => i);
    const strings = Array.from({ length: 100_000 }, (_, i) => `s${i}`);
    expect(findUnstorable({ numbers, strings }, "body")).toBeUndefined();
    strings[99_999] = "bad\u0000";
    expect(findUnstorable({ numbers, strings }, "body")?.field).toBe("body.strings.99999");
  });
});

describe("REST and GraphQL keep their 400s", () => {
  const h = useHarness();

  it("REST: NUL, surrogate and depth are 400 naming the path", async () => {
    const nul = await postJson(h, "/v1/keys/verify", { key: "x", meta: { name: "a\u0000" } });
    expect(nul.status).toBe(400);
    expect(JSON.stringify(await nul.json())).toMatch(/body\.meta\.name/);
    const deep = await postJson(h, "/v1/keys/verify", `{"key":"x","d":${nested(40)}}`);
    expect(deep.status).toBe(400);
    expect(JSON.stringify(await deep.json())).toMatch(/nested deeper than 32/);
  });

  it("GraphQL variables: too deep is a 400 VALIDATION_FAILED", async () => {
    const result = await gql(h, "query($v: JSON) { viewer { id } }", { v: JSON.parse(nested(40)) });
    expect(result.status).toBe(400);
    expect(result.errors![0]!.extensions?.code).toBe("VALIDATION_FAILED");
    expect(result.errors![0]!.message).toMatch(/^variables\.v/);
  });
});

describe("large anonymous bodies are rationed per client", () => {
  const h = useHarness();
  const budgetTenant = withTenant(h, "Budget");

  it(`${budget} large anonymous bodies a minute, then 429 with Retry-After; small and authenticated bodies go on`, async () => {
    for (let i = 0; i < budget; i++)
      expect((await postJson(h, "/v1/keys/verify", largeBody())).status).toBe(200);
    const refused = await postJson(h, "/v1/keys/verify", largeBody());
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("RATE_LIMITED");
    // The same for GraphQL and the vendor routes: the budget is the client's, not the route's.
    const graphql = await h.app.request("/graphql", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        query: "{ viewer { id } }",
        variables: { pad: "a".repeat(LARGE_BODY_BYTES) },
      }),
    });
    expect(graphql.status).toBe(429);
    expect(
      (
        await postJson(
          h,
          "/api/v3/auth/login",
          JSON.stringify({ email: "a@b.test", pad: "a".repeat(LARGE_BODY_BYTES) }),
        )
      ).status,
    ).toBe(429);
    // A made-up credential is no credential.
    expect((await postJson(h, "/v1/keys/verify", largeBody(), "made-up-token")).status).toBe(429);

    expect((await postJson(h, "/v1/keys/verify", { key: "kg_nope" })).status).toBe(200);
    const authenticated = await gql(
      h,
      "{ viewer { id } }",
      { pad: "a".repeat(LARGE_BODY_BYTES) },
      budgetTenant.token,
    );
    expect(authenticated.errors).toBeUndefined();
    const viaApp = await h.app.request("/graphql", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${budgetTenant.token}`,
      },
      body: JSON.stringify({
        query: "{ viewer { id } }",
        variables: { pad: "a".repeat(LARGE_BODY_BYTES) },
      }),
    });
    expect(viaApp.status).toBe(200);
  });
});

describe("over HTTP, on the real server", () => {
  let env: ProcessEnvironment;
  let server: ServerProcess;
  beforeAll(async () => {
    env = await processEnvironment("keygate-input-cost");
    server = await startServerProcess({
      ...env.env,
      JWT_SECRET: "y".repeat(40),
      ENCRYPTION_KEY: Buffer.alloc(32, 5).toString("base64"),
    });
  });
  afterAll(async () => {
    await server?.stop();
    await env?.cleanup();
  });

  const verify = (body: BodyInit, headers: Record<string, string> = {}) =>
    fetch(`${server.url}/v1/keys/verify`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body,
      duplex: "half",
    } as RequestInit);

  it("declared and chunked lengths both count; the limit answers 429 with Retry-After", async () => {
    const chunked = () =>
      new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(largeBody()));
          controller.close();
        },
      });
    // One chunked body among the declared ones: both spend the same budget.
    expect((await verify(chunked())).status).toBe(200);
    for (let i = 1; i < budget; i++) expect((await verify(largeBody())).status).toBe(200);
    const refused = await verify(largeBody());
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await verify(chunked())).status).toBe(429);
    expect((await verify(JSON.stringify({ key: "kg_nope" }))).status).toBe(200);
    expect(server.output()).not.toMatch(/"level":50/);
  });
});
