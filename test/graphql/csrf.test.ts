// CSRF prevention as default GraphQL clients meet it, through real HTTP: urql and Apollo send
// queries as GET with no extra header. With `Authorization: Bearer` (which a browser never adds on
// its own, and a cross-site page cannot add without a preflight) they work; without it, a GET or a
// form-encoded POST still needs yoga's CSRF header.
import { Client, fetchExchange, gql as urqlGql } from "@urql/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useHarness, withTenant } from "../helpers/fixtures.ts";
import { listen, type Listening } from "../helpers/listen.ts";

const h = useHarness();
const acme = withTenant(h, "CsrfAcme");
let server: Listening;

beforeAll(async () => {
  server = await listen(h);
});
afterAll(async () => {
  await server?.close();
});

const getQuery = (query: string, headers: Record<string, string> = {}) =>
  fetch(`${server.url}/graphql?query=${encodeURIComponent(query)}`, { headers });

describe("GET queries", () => {
  it("work with a bearer token and no CSRF header, as default clients send them", async () => {
    const response = await getQuery("{ viewer { email } }", {
      authorization: `Bearer ${acme.token}`,
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { viewer: { email: acme.owner.email } } });
  });

  it("work from a default urql client (GET, no extra header)", async () => {
    const methods: string[] = [];
    const client = new Client({
      url: `${server.url}/graphql`,
      exchanges: [fetchExchange],
      fetchOptions: { headers: { authorization: `Bearer ${acme.token}` } },
      // Only watches what urql sends; the request itself is urql's own.
      fetch: (input, init) => {
        methods.push(init?.method ?? "GET");
        return fetch(input, init);
      },
    });
    const result = await client
      .query(urqlGql("{ viewer { email } tenant { name } }"), {})
      .toPromise();
    expect(result.error).toBeUndefined();
    expect(result.data).toEqual({
      viewer: { email: acme.owner.email },
      tenant: { name: "CsrfAcme" },
    });
    expect(methods).toEqual(["GET"]);
  });

  it("still need the CSRF header without a bearer token", async () => {
    const response = await getQuery("{ viewer { email } }");
    expect(response.status).toBe(403);
    expect(JSON.stringify(await response.json())).toContain("Required CSRF header(s) not present");
    const withHeader = await getQuery("{ viewer { email } }", { "x-graphql-yoga-csrf": "1" });
    expect(withHeader.status).toBe(200);
    expect(await withHeader.json()).toEqual({ data: { viewer: null } });
  });

  it("are not let through by credentials a browser can attach on its own", async () => {
    const basic = await getQuery("{ viewer { email } }", {
      authorization: `Basic ${Buffer.from("user:pass").toString("base64")}`,
    });
    expect([401, 403]).toContain(basic.status);
    expect(JSON.stringify(await basic.json())).not.toContain('"viewer"');
    const cookie = await getQuery("{ viewer { email } }", { cookie: `token=${acme.token}` });
    expect(cookie.status).toBe(403);
  });

  it("answer 401 for an invalid bearer token, before any GraphQL work", async () => {
    const response = await getQuery("{ viewer { email } }", { authorization: "Bearer nope" });
    expect(response.status).toBe(401);
  });

  it("never carry a mutation, bearer token or not", async () => {
    const response = await getQuery(
      'mutation { createProject(input: { name: "via GET" }) { id } }',
      {
        authorization: `Bearer ${acme.token}`,
      },
    );
    expect(response.status).toBe(405);
    expect(await h.deps.prisma.project.count({ where: { name: "via GET" } })).toBe(0);
  });
});

describe("POST without a preflight (a cross-site form)", () => {
  it("needs the CSRF header without a bearer token", async () => {
    const response = await fetch(`${server.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `query=${encodeURIComponent('mutation { requestMagicLink(email: "a@example.test") { message } }')}`,
    });
    expect(response.status).toBe(403);
  });
});
