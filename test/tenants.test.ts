import { describe, expect, it } from "vitest";
import { gql, seedUser } from "./helpers/harness.ts";
import { useHarness, withTenant } from "./helpers/fixtures.ts";
import { ensureDefaultTenant } from "../src/modules/tenants/service.ts";

const h = useHarness();
const platform = withTenant(h, "Platform", { platformAdmin: true });
const acme = withTenant(h, "Acme");

describe("viewer and tenant", () => {
  it("returns the signed-in user and their tenant", async () => {
    const result = await gql(
      h,
      "{ viewer { email role isPlatformAdmin tenant { name } } tenant { id name keyPrefix number } }",
      {},
      acme.token,
    );
    expect(result.errors).toBeUndefined();
    expect(result.data!.viewer).toEqual({
      email: acme.owner.email,
      role: "OWNER",
      isPlatformAdmin: false,
      tenant: { name: "Acme" },
    });
    expect(result.data!.tenant).toMatchObject({
      id: acme.tenant.id,
      name: "Acme",
      keyPrefix: "kg",
    });
    expect(typeof result.data!.tenant.number).toBe("number");
  });

  it("asks anonymous callers to authenticate", async () => {
    const result = await gql(h, "{ tenant { id } }");
    expect(result.errors![0]!.extensions!.code).toBe("UNAUTHENTICATED");
  });
});

describe("tenants (platform admin)", () => {
  it("lists every tenant for a platform admin", async () => {
    const result = await gql(
      h,
      "{ tenants(first: 10) { totalCount edges { node { name } } } }",
      {},
      platform.token,
    );
    expect(result.errors).toBeUndefined();
    const names = result.data!.tenants.edges.map((e: any) => e.node.name);
    expect(names).toEqual(expect.arrayContaining(["Platform", "Acme"]));
    expect(result.data!.tenants.totalCount).toBe(await h.deps.prisma.tenant.count());
  });

  it("forbids tenant owners from listing or creating tenants", async () => {
    const list = await gql(h, "{ tenants { edges { node { name } } } }", {}, acme.token);
    expect(list.errors![0]!.extensions!.code).toBe("FORBIDDEN");
    const create = await gql(
      h,
      "mutation($input: CreateTenantInput!) { createTenant(input: $input) { tenant { id } } }",
      { input: { name: "Evil", ownerEmail: "evil@example.test" } },
      acme.token,
    );
    expect(create.errors![0]!.extensions!.code).toBe("FORBIDDEN");
  });

  it("creates a tenant with its owner", async () => {
    const result = await gql(
      h,
      "mutation($input: CreateTenantInput!) { createTenant(input: $input) { tenant { name keyPrefix } owner { email role } } }",
      { input: { name: "Globex", ownerEmail: "Boss@Globex.test", keyPrefix: "glx" } },
      platform.token,
    );
    expect(result.errors).toBeUndefined();
    expect(result.data!.createTenant).toEqual({
      tenant: { name: "Globex", keyPrefix: "glx" },
      owner: { email: "boss@globex.test", role: "OWNER" },
    });
  });

  it("names the bad field in validation errors", async () => {
    const badPrefix = await gql(
      h,
      "mutation($input: CreateTenantInput!) { createTenant(input: $input) { tenant { id } } }",
      { input: { name: "X", ownerEmail: "x@x.test", keyPrefix: "BAD PREFIX" } },
      platform.token,
    );
    expect(badPrefix.errors![0]!.extensions!.code).toBe("VALIDATION_FAILED");
    expect(badPrefix.errors![0]!.extensions!.fields[0].field).toMatch(/keyPrefix/);
    const badEmail = await gql(
      h,
      "mutation($input: CreateTenantInput!) { createTenant(input: $input) { tenant { id } } }",
      { input: { name: "X", ownerEmail: "not-an-email" } },
      platform.token,
    );
    expect(badEmail.status).toBe(400);
    expect(badEmail.errors![0]!.message).toMatch(/ownerEmail/);
  });
});

describe("addUser", () => {
  const addUser =
    "mutation($input: AddUserInput!) { addUser(input: $input) { email role permissions tenant { id } } }";

  it("lets an owner add members with permissions, into the owner's tenant", async () => {
    const result = await gql(
      h,
      addUser,
      {
        input: { email: "dev@acme.test", role: "MEMBER", permissions: ["keys:read", "projects:*"] },
      },
      acme.token,
    );
    expect(result.errors).toBeUndefined();
    expect(result.data!.addUser).toEqual({
      email: "dev@acme.test",
      role: "MEMBER",
      permissions: ["keys:read", "projects:*"],
      tenant: { id: acme.tenant.id },
    });
  });

  it("rejects duplicate emails and malformed permissions", async () => {
    const dup = await gql(h, addUser, { input: { email: acme.owner.email } }, acme.token);
    expect(dup.errors![0]!.extensions).toMatchObject({ code: "VALIDATION_FAILED" });
    const perm = await gql(
      h,
      addUser,
      { input: { email: "p@acme.test", permissions: ["not a permission"] } },
      acme.token,
    );
    expect(perm.errors![0]!.extensions!.fields[0].field).toBe("permissions.0");
  });

  it("does not let members add users, nor admins add owners", async () => {
    const member = await seedUser(h.deps, acme.tenant.id, "MEMBER", ["users:write"]);
    const byMember = await gql(h, addUser, { input: { email: "m2@acme.test" } }, member.token);
    expect(byMember.errors![0]!.extensions!.code).toBe("FORBIDDEN");
    const admin = await seedUser(h.deps, acme.tenant.id, "ADMIN");
    const ownerByAdmin = await gql(
      h,
      addUser,
      { input: { email: "o2@acme.test", role: "OWNER" } },
      admin.token,
    );
    expect(ownerByAdmin.errors![0]!.extensions!.code).toBe("FORBIDDEN");
    const memberByAdmin = await gql(h, addUser, { input: { email: "m3@acme.test" } }, admin.token);
    expect(memberByAdmin.errors).toBeUndefined();
  });

  it("hides the user list from members", async () => {
    const member = await seedUser(h.deps, acme.tenant.id, "MEMBER");
    const result = await gql(h, "{ tenant { users { email } } }", {}, member.token);
    expect(result.errors![0]!.extensions!.code).toBe("FORBIDDEN");
    const owner = await gql(h, "{ tenant { users { email } } }", {}, acme.token);
    expect(owner.data!.tenant.users.map((u: any) => u.email)).toContain(acme.owner.email);
  });

  it("answers two simultaneous addUser calls for one address with one success and one validation error", async () => {
    const add = () =>
      gql(h, 'mutation { addUser(input: { email: "twice@acme.test" }) { id } }', {}, acme.token);
    const results = await Promise.all([add(), add()]);
    expect(results.filter((r) => !r.errors)).toHaveLength(1);
    expect(results.find((r) => r.errors)!.errors![0]!.extensions!.code).toBe("VALIDATION_FAILED");
  });
});

describe("first start", () => {
  it("creates the Default tenant only on an empty database", async () => {
    const again = await ensureDefaultTenant(h.deps);
    expect(again.created).toBe(false);
  });
});
