// GraphQL Armor, introspection, CSRF, GET, batching, body size and error masking.
import { describe, expect, it } from "vitest";
import { gql, type Harness } from "../helpers/harness.ts";
import { useHarness, withTenant } from "../helpers/fixtures.ts";

const dev = useHarness({ NODE_ENV: "development" });
const prod = useHarness({ NODE_ENV: "production" });
const acme = withTenant(prod, "Acme");

const post = (h: Harness, body: unknown, headers: Record<string, string> = {}) =>
  h.app.request("/graphql", {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });

describe("GraphQL limits", () => {
  it("rejects queries that are too deep, too aliased or too long", async () => {
    const deep = `{ viewer { tenant { users { tenant { users { tenant { users { tenant { users { tenant { users { tenant { users { id } } } } } } } } } } } } }`;
    const aliases = `{ ${Array.from({ length: 30 }, (_, i) => `a${i}: viewer { id }`).join(" ")} }`;
    const tokens = `{ viewer { ${Array.from({ length: 2500 }, () => "id").join(" ")} } }`;
    const directives = `{ viewer ${Array.from({ length: 30 }, () => "@include(if: true)").join(" ")} { id } }`;
    for (const query of [deep, aliases, tokens, directives]) {
      const result = await gql(prod, query, {}, acme.token);
      expect(result.errors?.length).toBeGreaterThan(0);
      expect(result.data ?? null).toBeNull();
    }
    expect(
      (await gql(prod, "{ viewer { tenant { name } } }", {}, acme.token)).errors,
    ).toBeUndefined();
  });

  it("turns introspection and GraphiQL off in production, on in development", async () => {
    const introspection = "{ __schema { queryType { name } } }";
    expect((await gql(prod, introspection, {}, acme.token)).errors?.[0]!.message).toMatch(
      /introspection/i,
    );
    expect((await gql(dev, introspection)).data).toEqual({
      __schema: { queryType: { name: "Query" } },
    });
    const graphiql = (h: Harness) =>
      h.app.request("/graphql", { headers: { accept: "text/html" } });
    expect(await (await graphiql(dev)).text()).toMatch(/graphiql/i);
    expect(await (await graphiql(prod)).text()).not.toMatch(/graphiql/i);
  });

  it("gives no field suggestions outside development", async () => {
    const typo = "{ viewr { id } }";
    expect(JSON.stringify(await gql(prod, typo, {}, acme.token))).not.toMatch(/Did you mean/);
    expect(JSON.stringify(await gql(dev, typo))).toMatch(/Did you mean/);
  });

  it("refuses mutations over GET, and GETs without the CSRF header unless they carry a bearer", async () => {
    const mutation = encodeURIComponent('mutation { createProject(input: { name: "x" }) { id } }');
    // Anything a browser could send on its own (no Authorization: Bearer) needs the header.
    const anonymous = await prod.app.request(
      `/graphql?query=${encodeURIComponent("{ viewer { id } }")}`,
    );
    expect(anonymous.status).toBe(403);
    // A bearer token is set by a script the caller trusts: default clients GET without it.
    const bearer = await prod.app.request(
      `/graphql?query=${encodeURIComponent("{ viewer { id } }")}`,
      { headers: { authorization: `Bearer ${acme.token}`, accept: "application/json" } },
    );
    expect(bearer.status).toBe(200);
    const withHeader = await prod.app.request(
      `/graphql?query=${encodeURIComponent("{ viewer { id } }")}`,
      {
        headers: {
          authorization: `Bearer ${acme.token}`,
          "x-graphql-yoga-csrf": "1",
          accept: "application/json",
        },
      },
    );
    expect(withHeader.status).toBe(200);
    const viaGet = await prod.app.request(`/graphql?query=${mutation}`, {
      headers: {
        authorization: `Bearer ${acme.token}`,
        "x-graphql-yoga-csrf": "1",
        accept: "application/json",
      },
    });
    expect(viaGet.status).toBe(405);
  });

  it("does not batch", async () => {
    const response = await post(
      prod,
      [{ query: "{ viewer { id } }" }, { query: "{ viewer { id } }" }],
      { authorization: `Bearer ${acme.token}` },
    );
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
  });

  it("limits body size on every route", async () => {
    const huge = JSON.stringify({
      query: "{ viewer { id } }",
      variables: { pad: "x".repeat(1_100_000) },
    });
    expect((await post(prod, huge)).status).toBe(413);
    const rest = await prod.app.request("/v1/keys/verify", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ key: "x".repeat(1_100_000) }),
    });
    expect(rest.status).toBe(413);
  });

  it("masks unexpected errors and names the request id", async () => {
    const original = prod.deps.prisma.project.findMany;
    (prod.deps.prisma.project as any).findMany = () =>
      Promise.reject(new Error("connection reset by peer at db.internal:5432"));
    try {
      const response = await post(
        prod,
        { query: "{ projects { edges { node { id } } } }" },
        { authorization: `Bearer ${acme.token}`, "x-request-id": "req-mask-1" },
      );
      const body = await response.json();
      expect(body.errors[0]).toMatchObject({
        message: "Unexpected error.",
        extensions: { code: "INTERNAL", requestId: "req-mask-1" },
      });
      expect(JSON.stringify(body)).not.toMatch(/db\.internal|connection reset/);
      const logged = prod.logs
        .map((line) => JSON.parse(line))
        .find((line) => line.msg === "unexpected GraphQL error");
      expect(logged).toMatchObject({ requestId: "req-mask-1", level: 50 });
      expect(JSON.stringify(logged.err)).toMatch(/connection reset by peer/);
    } finally {
      (prod.deps.prisma.project as any).findMany = original;
    }
  });
});
