import { describe, expect, it } from "vitest";
import { gql, postJson, seedTenant, seedUser } from "./helpers/harness.ts";
import { useHarness, withTenant } from "./helpers/fixtures.ts";

const h = useHarness();
const a = withTenant(h, "TenantA");
const b = withTenant(h, "TenantB");

const create =
  "mutation($input: CreateProjectInput!) { createProject(input: $input) { id name description } }";
const update =
  "mutation($input: UpdateProjectInput!) { updateProject(input: $input) { id name description } }";
const remove = "mutation($id: ID!) { deleteProject(id: $id) { id deletedAt } }";
const one = "query($id: ID!) { project(id: $id) { id name } }";
const list =
  "query($first: Int, $after: String) { projects(first: $first, after: $after) { edges { cursor node { name } } pageInfo { hasNextPage endCursor } } }";

describe("projects", () => {
  it("creates, reads, updates and deletes a project", async () => {
    const created = await gql(
      h,
      create,
      { input: { name: "Payments", description: "card flows" } },
      a.token,
    );
    expect(created.errors).toBeUndefined();
    const id = created.data!.createProject.id;
    expect((await gql(h, one, { id }, a.token)).data!.project).toEqual({ id, name: "Payments" });
    const updated = await gql(h, update, { input: { id, name: "Payments v2" } }, a.token);
    expect(updated.data!.updateProject).toEqual({
      id,
      name: "Payments v2",
      description: "card flows",
    });
    const deleted = await gql(h, remove, { id }, a.token);
    expect(deleted.data!.deleteProject.deletedAt).toBeTruthy();
    expect((await gql(h, one, { id }, a.token)).data!.project).toBeNull();
    const events = await h.deps.prisma.auditEvent.findMany({
      where: { targetId: id },
      orderBy: { createdAt: "asc" },
    });
    expect(events.map((e) => e.action)).toEqual([
      "project.create",
      "project.update",
      "project.delete",
    ]);
  });

  it("pages through projects with Relay cursors", async () => {
    const tenant = await seedTenant(h.deps, "Pager");
    for (const name of ["p1", "p2", "p3"]) await gql(h, create, { input: { name } }, tenant.token);
    const first = await gql(h, list, { first: 2 }, tenant.token);
    expect(first.data!.projects.edges.map((e: any) => e.node.name)).toEqual(["p1", "p2"]);
    expect(first.data!.projects.pageInfo.hasNextPage).toBe(true);
    const second = await gql(
      h,
      list,
      { first: 2, after: first.data!.projects.pageInfo.endCursor },
      tenant.token,
    );
    expect(second.data!.projects.edges.map((e: any) => e.node.name)).toEqual(["p3"]);
    expect(second.data!.projects.pageInfo.hasNextPage).toBe(false);
  });

  it("answers another tenant's project exactly like an unknown one", async () => {
    const created = await gql(h, create, { input: { name: "Secret" } }, a.token);
    const id = created.data!.createProject.id;
    const unknown = "00000000-0000-4000-8000-000000000000";
    for (const target of [id, unknown]) {
      expect((await gql(h, one, { id: target }, b.token)).data!.project).toBeNull();
    }
    const foreignUpdate = await gql(h, update, { input: { id, name: "pwned" } }, b.token);
    const unknownUpdate = await gql(h, update, { input: { id: unknown, name: "pwned" } }, b.token);
    expect(foreignUpdate.errors![0]!.extensions).toEqual(unknownUpdate.errors![0]!.extensions);
    expect(foreignUpdate.errors![0]!.message).toBe(unknownUpdate.errors![0]!.message);
    const foreignDelete = await gql(h, remove, { id }, b.token);
    const unknownDelete = await gql(h, remove, { id: unknown }, b.token);
    expect(foreignDelete.errors![0]!.extensions).toEqual(unknownDelete.errors![0]!.extensions);
    expect(
      (await gql(h, list, {}, b.token)).data!.projects.edges.map((e: any) => e.node.name),
    ).not.toContain("Secret");
    expect((await gql(h, one, { id }, a.token)).data!.project.name).toBe("Secret");
  });

  it("validates names and ids, naming the field", async () => {
    const empty = await gql(h, create, { input: { name: "   " } }, a.token);
    expect(empty.errors![0]!.extensions!.code).toBe("VALIDATION_FAILED");
    expect(empty.errors![0]!.message).toMatch(/name/);
    const badId = await gql(h, update, { input: { id: "not-a-uuid", name: "x" } }, a.token);
    expect(badId.errors![0]!.extensions!.fields[0].field).toBe("id");
  });

  it("needs projects permissions for members", async () => {
    const reader = await seedUser(h.deps, a.tenant.id, "MEMBER", ["projects:read"]);
    expect((await gql(h, list, {}, reader.token)).errors).toBeUndefined();
    const denied = await gql(h, create, { input: { name: "nope" } }, reader.token);
    expect(denied.errors![0]!.extensions!.code).toBe("FORBIDDEN");
    const writer = await seedUser(h.deps, a.tenant.id, "MEMBER", ["projects:*"]);
    expect((await gql(h, create, { input: { name: "ok" } }, writer.token)).errors).toBeUndefined();
  });
});

describe("deleteProject", () => {
  const newProject = async (token = a.token) =>
    (await gql(h, 'mutation { createProject(input: { name: "p" }) { id } }', {}, token)).data!
      .createProject.id as string;
  const verify = async (key: string) =>
    (await (await postJson(h, "/v1/keys/verify", { key })).json()).code;

  it("revokes the project's keys on the very next request", async () => {
    const project = await newProject();
    const key = (
      await gql(
        h,
        "mutation($p: ID!) { generateProjectKey(input: { projectId: $p }) { ... on GenerateProjectApiKeyPayload { keyValue } } }",
        { p: project },
        a.token,
      )
    ).data!.generateProjectKey.keyValue;
    expect(await verify(key)).toBe("VALID");
    await gql(h, "mutation($id: ID!) { deleteProject(id: $id) { id } }", { id: project }, a.token);
    expect(await verify(key)).toBe("REVOKED");
  });

  it("needs an administrator when the project holds live credentials", async () => {
    const project = await newProject();
    await gql(
      h,
      "mutation($p: ID!) { generateProjectKey(input: { projectId: $p }) { id } }",
      { p: project },
      a.token,
    );
    const member = await seedUser(h.deps, a.tenant.id, "MEMBER", ["projects:*"]);
    const denied = await gql(
      h,
      "mutation($id: ID!) { deleteProject(id: $id) { id } }",
      { id: project },
      member.token,
    );
    expect(denied.errors![0]!.extensions!.code).toBe("FORBIDDEN");
    expect(
      (await gql(h, "query($id: ID!) { project(id: $id) { id } }", { id: project }, a.token)).data!
        .project,
    ).not.toBeNull();
    const empty = await newProject(member.token);
    expect(
      (
        await gql(
          h,
          "mutation($id: ID!) { deleteProject(id: $id) { id } }",
          { id: empty },
          member.token,
        )
      ).errors,
    ).toBeUndefined();
  });
});
