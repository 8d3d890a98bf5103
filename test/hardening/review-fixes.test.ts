// Regressions for the findings of the security review.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, generateKeyFor, generateSecureMutation, gql, postJson, seedTenant, seedUser, type Harness } from "../helpers/harness.ts";

let h: Harness;
let acme: Awaited<ReturnType<typeof seedTenant>>;

beforeAll(async () => {
  h = await createHarness();
  acme = await seedTenant(h.deps, "Acme");
});
afterAll(() => h.close());

const newProject = async (token = acme.token) => (await gql(h, 'mutation { createProject(input: { name: "p" }) { id } }', {}, token)).data!.createProject.id as string;
const verify = async (key: string) => (await (await postJson(h, "/v1/keys/verify", { key })).json()).code;

describe("project.keys visibility", () => {
  it("shows members only the keys they own, and no key pairs", async () => {
    const project = await newProject();
    const member = await seedUser(h.deps, acme.tenant.id, "MEMBER", ["projects:read", "keys:read", "keys:write"]);
    await gql(h, "mutation($p: ID!) { generateProjectKey(input: { projectId: $p, name: \"admin's\" }) { id } }", { p: project }, acme.token);
    await gql(h, "mutation($p: ID!) { generateProjectKey(input: { projectId: $p, type: FILE_CONTENT_PGP }) { id } }", { p: project }, acme.token);
    await generateKeyFor(h, member.token, { name: "member's", projectId: project });
    const names = async (token: string) =>
      (await gql(h, "query($p: ID!) { project(id: $p) { keys { edges { node { name type } } } } }", { p: project }, token)).data!.project.keys.edges.map((e: any) => e.node.name).sort();
    expect(await names(member.token)).toEqual(["member's"]);
    expect((await names(acme.token)).length).toBe(3);
  });
});

describe("deleteProject", () => {
  it("revokes the project's keys on the very next request", async () => {
    const project = await newProject();
    const key = (await gql(h, "mutation($p: ID!) { generateProjectKey(input: { projectId: $p }) { keyValue } }", { p: project }, acme.token)).data!.generateProjectKey.keyValue;
    expect(await verify(key)).toBe("VALID");
    await gql(h, "mutation($id: ID!) { deleteProject(id: $id) { id } }", { id: project }, acme.token);
    expect(await verify(key)).toBe("REVOKED");
  });

  it("needs an administrator when the project holds live credentials", async () => {
    const project = await newProject();
    await gql(h, "mutation($p: ID!) { generateProjectKey(input: { projectId: $p }) { id } }", { p: project }, acme.token);
    const member = await seedUser(h.deps, acme.tenant.id, "MEMBER", ["projects:*"]);
    const denied = await gql(h, "mutation($id: ID!) { deleteProject(id: $id) { id } }", { id: project }, member.token);
    expect(denied.errors![0].extensions!.code).toBe("FORBIDDEN");
    expect((await gql(h, "query($id: ID!) { project(id: $id) { id } }", { id: project }, acme.token)).data!.project).not.toBeNull();
    const empty = await newProject(member.token);
    expect((await gql(h, "mutation($id: ID!) { deleteProject(id: $id) { id } }", { id: empty }, member.token)).errors).toBeUndefined();
  });
});

describe("concurrent duplicates", () => {
  it("answers two simultaneous addUser calls for one address with one success and one validation error", async () => {
    const add = () => gql(h, "mutation { addUser(input: { email: \"twice@acme.test\" }) { id } }", {}, acme.token);
    const results = await Promise.all([add(), add()]);
    expect(results.filter((r) => !r.errors)).toHaveLength(1);
    expect(results.find((r) => r.errors)!.errors![0].extensions!.code).toBe("VALIDATION_FAILED");
  });
});

describe("token exchange lockout", () => {
  it("limits wrong secrets without locking the owner out", async () => {
    const secure = (await gql(h, generateSecureMutation, { input: { name: "s" } }, acme.token)).data!.generateSecureApiKey;
    const exchange = (s: string) => gql(h, "mutation($k: String!, $s: String!) { exchangeApiKey(apiKey: $k, apiSecret: $s) { accessToken } }", { k: secure.key, s });
    const codes = [];
    for (let i = 0; i < 12; i++) codes.push((await exchange("0".repeat(64))).errors![0].extensions!.code);
    expect(codes.slice(0, 10).every((c) => c === "UNAUTHENTICATED")).toBe(true);
    expect(codes.slice(10)).toEqual(["RATE_LIMITED", "RATE_LIMITED"]);
    expect((await exchange(secure.secret)).errors).toBeUndefined();
  });
});
