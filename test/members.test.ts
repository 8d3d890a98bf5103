// Members and tenant settings: change role and permissions, remove, the last owner, the
// viewer's effective permissions, rename and key prefix, suspension by a platform admin.
import { describe, expect, it } from "vitest";
import { useHarness, withTenant } from "./helpers/fixtures.ts";
import { gql, outboxLinks, postJson, seedUser } from "./helpers/harness.ts";

const h = useHarness();
const acme = withTenant(h, "Acme");
const other = withTenant(h, "Other");
const platform = withTenant(h, "Platform", { platformAdmin: true });

const updateMember =
  "mutation($input: UpdateMemberInput!) { updateMember(input: $input) { id role permissions grantedPermissions } }";
const removeMember = "mutation($id: ID!) { removeMember(id: $id) { id removedAt } }";
const generate =
  "mutation($input: GenerateApiKeyInput!) { generateApiKey(input: $input) { key apiKey { id } } }";
const code = (r: { errors?: { extensions?: Record<string, unknown> }[] }) =>
  r.errors?.[0]?.extensions?.code;

async function verify(key: string, permissions: string[] = []) {
  return (await (await postJson(h, "/v1/keys/verify", { key, permissions })).json()).code as string;
}

describe("members", () => {
  it("narrows and widens a member's keys with their permissions, on the next request", async () => {
    const member = await seedUser(h.deps, acme.tenant.id, "MEMBER", ["keys:write", "orders:read"]);
    const made = await gql(
      h,
      generate,
      { input: { name: "m", permissions: ["orders:read"] } },
      member.token,
    );
    const key = made.data!.generateApiKey.key as string;
    expect(await verify(key, ["orders:read"])).toBe("VALID");

    const narrowed = await gql(
      h,
      updateMember,
      { input: { id: member.user.id, permissions: ["keys:write"] } },
      acme.token,
    );
    expect(narrowed.data!.updateMember.grantedPermissions).toEqual(["keys:write"]);
    expect(await verify(key, ["orders:read"])).toBe("INSUFFICIENT_PERMISSIONS");
    await gql(
      h,
      updateMember,
      { input: { id: member.user.id, permissions: ["keys:write", "orders:read"] } },
      acme.token,
    );
    expect(await verify(key, ["orders:read"])).toBe("VALID");

    const audit = await h.deps.prisma.auditEvent.count({
      where: { targetId: member.user.id, action: "member.update" },
    });
    expect(audit).toBe(2);
  });

  it("keeps the last owner, and only owners touch owners", async () => {
    const demote = await gql(
      h,
      updateMember,
      { input: { id: acme.owner.id, role: "ADMIN" } },
      acme.token,
    );
    expect(code(demote)).toBe("CONFLICT");
    expect(code(await gql(h, removeMember, { id: acme.owner.id }, acme.token))).toBe("CONFLICT");

    const admin = await seedUser(h.deps, acme.tenant.id, "ADMIN");
    expect(
      code(
        await gql(h, updateMember, { input: { id: acme.owner.id, role: "MEMBER" } }, admin.token),
      ),
    ).toBe("FORBIDDEN");
    const member = await seedUser(h.deps, acme.tenant.id, "MEMBER");
    expect(
      code(
        await gql(h, updateMember, { input: { id: member.user.id, role: "OWNER" } }, admin.token),
      ),
    ).toBe("FORBIDDEN");
    expect(code(await gql(h, removeMember, { id: admin.user.id }, member.token))).toBe("FORBIDDEN");

    // With a second owner, the first may step down.
    const second = await gql(
      h,
      updateMember,
      { input: { id: member.user.id, role: "OWNER" } },
      acme.token,
    );
    expect(second.data!.updateMember.role).toBe("OWNER");
    const stepDown = await gql(
      h,
      updateMember,
      { input: { id: member.user.id, role: "MEMBER" } },
      acme.token,
    );
    expect(stepDown.errors).toBeUndefined();
  });

  it("removes a member: sessions end, user-bound keys are revoked and audited, no more sign-in", async () => {
    const member = await seedUser(h.deps, acme.tenant.id, "MEMBER", ["keys:write"]);
    const key = (await gql(h, generate, { input: { name: "doomed" } }, member.token)).data!
      .generateApiKey;
    expect(await verify(key.key)).toBe("VALID");

    const removed = await gql(h, removeMember, { id: member.user.id }, acme.token);
    expect(removed.data!.removeMember.removedAt).toBeTruthy();
    expect(await verify(key.key)).toBe("REVOKED");
    expect((await gql(h, "{ viewer { id } }", {}, member.token)).status).toBe(401);
    const revoked = await h.deps.prisma.auditEvent.findFirst({
      where: { targetId: key.apiKey.id, action: "key.revoke" },
    });
    expect(revoked?.metadata).toMatchObject({ reason: "member removed" });

    const before = (await outboxLinks(h.deps)).length;
    await gql(h, "mutation($e: EmailAddress!) { requestMagicLink(email: $e) { message } }", {
      e: member.user.email,
    });
    expect((await outboxLinks(h.deps)).length).toBe(before);
    // Removed is removed: a second removal, or a change, answers like an unknown member.
    expect(code(await gql(h, removeMember, { id: member.user.id }, acme.token))).toBe(
      "USER_NOT_FOUND",
    );
  });

  it("answers another tenant's member exactly like an unknown one", async () => {
    const member = await seedUser(h.deps, acme.tenant.id, "MEMBER");
    for (const id of [member.user.id, "00000000-0000-4000-8000-000000000000"]) {
      expect(code(await gql(h, removeMember, { id }, other.token))).toBe("USER_NOT_FOUND");
      expect(
        code(await gql(h, updateMember, { input: { id, permissions: [] } }, other.token)),
      ).toBe("USER_NOT_FOUND");
    }
    const still = await h.deps.prisma.user.findUniqueOrThrow({ where: { id: member.user.id } });
    expect(still.removedAt).toBeNull();
  });

  it("shows an owner's effective permissions", async () => {
    const viewer = await gql(
      h,
      "{ viewer { role permissions grantedPermissions } }",
      {},
      acme.token,
    );
    expect(viewer.data!.viewer).toEqual({
      role: "OWNER",
      permissions: ["*"],
      grantedPermissions: [],
    });
  });
});

describe("tenant settings", () => {
  const updateTenant =
    "mutation($input: UpdateTenantInput!) { updateTenant(input: $input) { name keyPrefix } }";
  const setState =
    "mutation($id: ID!, $state: TenantState!) { setTenantState(id: $id, state: $state) { state } }";

  it("renames and changes the prefix of new keys; members may not", async () => {
    const member = await seedUser(h.deps, other.tenant.id, "MEMBER", ["keys:write"]);
    expect(code(await gql(h, updateTenant, { input: { name: "Nope" } }, member.token))).toBe(
      "FORBIDDEN",
    );
    const updated = await gql(
      h,
      updateTenant,
      { input: { name: "Other Inc", keyPrefix: "oth" } },
      other.token,
    );
    expect(updated.data!.updateTenant).toEqual({ name: "Other Inc", keyPrefix: "oth" });
    const key = (await gql(h, generate, { input: { name: "prefixed" } }, other.token)).data!
      .generateApiKey.key as string;
    expect(key.startsWith("oth_")).toBe(true);
    expect(
      code(await gql(h, updateTenant, { input: { keyPrefix: "Bad Prefix" } }, other.token)),
    ).toBe("VALIDATION_FAILED");
  });

  it("suspends a tenant: its keys and sessions stop until it is resumed (platform admins only)", async () => {
    const key = (await gql(h, generate, { input: { name: "suspended" } }, other.token)).data!
      .generateApiKey.key as string;
    expect(await verify(key)).toBe("VALID");
    expect(
      code(await gql(h, setState, { id: other.tenant.id, state: "SUSPENDED" }, other.token)),
    ).toBe("FORBIDDEN");

    const suspended = await gql(
      h,
      setState,
      { id: other.tenant.id, state: "SUSPENDED" },
      platform.token,
    );
    expect(suspended.data!.setTenantState.state).toBe("SUSPENDED");
    expect(await verify(key)).not.toBe("VALID");
    expect((await gql(h, "{ viewer { id } }", {}, other.token)).status).toBe(401);

    expect(
      (await gql(h, setState, { id: other.tenant.id, state: "ACTIVE" }, platform.token)).errors,
    ).toBeUndefined();
    expect(await verify(key)).toBe("VALID");
    expect((await gql(h, "{ viewer { id } }", {}, other.token)).data!.viewer).toBeTruthy();

    const unknown = await gql(
      h,
      setState,
      { id: "00000000-0000-4000-8000-000000000000", state: "SUSPENDED" },
      platform.token,
    );
    expect(code(unknown)).toBe("TENANT_NOT_FOUND");
  });
});
