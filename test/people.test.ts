// One person, several tenants: memberships, sign-in into a chosen tenant, switching, and
// invitations by email. Through GraphQL, and through the Kotani REST routes where they apply.
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createTenant } from "../src/modules/tenants/service.ts";
import { system } from "../src/access/actor.ts";
import { generateMutation, gql, hashOf, outboxLinks, seedUser, signIn } from "./helpers/harness.ts";
import { useHarness, withTenant } from "./helpers/fixtures.ts";

const h = useHarness();
const acme = withTenant(h, "Acme");
const globex = withTenant(h, "Globex");

const addUser = `mutation($input: AddUserInput!) { addUser(input: $input) { id email role status } }`;
const invite = `mutation($input: InviteMemberInput!) { inviteMember(input: $input) { id email role status invitedAt joinedAt } }`;
const requestLink = `mutation($email: EmailAddress!, $tenantId: ID) { requestMagicLink(email: $email, tenantId: $tenantId) { message } }`;
const verify = `mutation($hash: String!) { verify(hash: $hash) { userId sessionId accessToken refreshToken } }`;
const whoAmI = `{ viewer { id email tenant { id name } } memberships { userId role current tenant { id name } } }`;

let counter = 0;
const newAddress = (what: string) => `${what}-${++counter}-${Date.now()}@people.test`;

/** Asks for a sign-in link and returns the new link, or null when none was mailed. */
async function linkFor(email: string, tenantId?: string): Promise<string | null> {
  const before = (await outboxLinks(h.deps)).length;
  const asked = await gql(h, requestLink, { email, tenantId });
  expect(asked.errors).toBeUndefined();
  const links = await outboxLinks(h.deps);
  return links.length > before ? links[links.length - 1]! : null;
}

async function signInAs(email: string, tenantId?: string) {
  const link = await linkFor(email, tenantId);
  expect(link).not.toBeNull();
  const result = await gql(h, verify, { hash: hashOf(link!) });
  expect(result.errors).toBeUndefined();
  return result.data!.verify as { userId: string; accessToken: string; refreshToken: string };
}

describe("one person in several tenants", () => {
  it("adding another tenant's member answers exactly like adding a new address", async () => {
    const existing = await seedUser(h.deps, acme.tenant.id, "MEMBER");
    const fresh = newAddress("fresh");
    const a = await gql(h, addUser, { input: { email: existing.user.email } }, globex.token);
    const b = await gql(h, addUser, { input: { email: fresh } }, globex.token);
    expect(a.errors).toBeUndefined();
    expect(b.errors).toBeUndefined();
    const strip = (r: typeof a) => ({ ...r.data!.addUser, id: "-", email: "-" });
    expect(strip(a)).toEqual(strip(b));
    expect(a.data!.addUser).toMatchObject({ role: "MEMBER", status: "ACTIVE" });
    // Two memberships of one person: each tenant sees only its own.
    const rows = await h.deps.prisma.user.findMany({ where: { email: existing.user.email } });
    expect(new Set(rows.map((r) => r.tenantId))).toEqual(
      new Set([acme.tenant.id, globex.tenant.id]),
    );
    expect(new Set(rows.map((r) => r.personId)).size).toBe(1);
  });

  it("refuses a second membership in the same tenant, naming the field", async () => {
    const email = newAddress("twice");
    expect((await gql(h, addUser, { input: { email } }, acme.token)).errors).toBeUndefined();
    const again = await gql(h, addUser, { input: { email } }, acme.token);
    expect(again.errors![0]!.extensions).toMatchObject({ code: "VALIDATION_FAILED" });
    expect(again.errors![0]!.message).toMatch(/email/);
  });

  it("a platform admin creates a tenant owned by someone who already has one", async () => {
    const root = await seedUser(h.deps, acme.tenant.id, "OWNER");
    await h.deps.prisma.user.update({
      where: { id: root.user.id },
      data: { isPlatformAdmin: true },
    });
    const created = await gql(
      h,
      `mutation($input: CreateTenantInput!) { createTenant(input: $input) { tenant { id } owner { email role } } }`,
      { input: { name: "Initech", ownerEmail: globex.owner.email } },
      root.token,
    );
    expect(created.errors).toBeUndefined();
    expect(created.data!.createTenant.owner).toEqual({ email: globex.owner.email, role: "OWNER" });
  });

  it("signs in to the tenant used last, to a chosen one, and switches between them", async () => {
    const email = newAddress("both");
    const inAcme = await gql(h, addUser, { input: { email, role: "ADMIN" } }, acme.token);
    const inGlobex = await gql(h, addUser, { input: { email } }, globex.token);
    const acmeUser = inAcme.data!.addUser.id as string;
    const globexUser = inGlobex.data!.addUser.id as string;

    const chosen = await signInAs(email, globex.tenant.id);
    expect(chosen.userId).toBe(globexUser);
    const seen = await gql(h, whoAmI, {}, chosen.accessToken);
    expect(seen.data!.viewer.tenant.id).toBe(globex.tenant.id);
    expect(seen.data!.memberships.map((m: { userId: string }) => m.userId).sort()).toEqual(
      [acmeUser, globexUser].sort(),
    );
    expect(seen.data!.memberships.find((m: { current: boolean }) => m.current).userId).toBe(
      globexUser,
    );

    // Without a choice: the membership used last (Globex, just now).
    const again = await signInAs(email);
    expect(again.userId).toBe(globexUser);

    const switched = await gql(
      h,
      `mutation($t: ID!) { switchTenant(tenantId: $t) { userId accessToken refreshToken } }`,
      { t: acme.tenant.id },
      again.accessToken,
    );
    expect(switched.errors).toBeUndefined();
    expect(switched.data!.switchTenant.userId).toBe(acmeUser);
    const inAcmeNow = await gql(h, whoAmI, {}, switched.data!.switchTenant.accessToken);
    expect(inAcmeNow.data!.viewer).toMatchObject({ id: acmeUser, tenant: { id: acme.tenant.id } });
    // The session that switched is over: its token no longer works.
    const old = await gql(h, "{ viewer { id } }", {}, again.accessToken);
    expect(old.status).toBe(401);
    // The new session acts with the Acme membership's role (ADMIN), not Globex's (MEMBER).
    const role = await gql(h, "{ viewer { role } }", {}, switched.data!.switchTenant.accessToken);
    expect(role.data!.viewer.role).toBe("ADMIN");
  });

  it("an admin of one tenant does not see the people of another tenant it is a member of", async () => {
    // An attack that worked: { memberships { tenant { users { email } } } } as ADMIN of Acme
    // and MEMBER of Globex listed Globex's people.
    const email = newAddress("admin-here-member-there");
    await gql(h, addUser, { input: { email, role: "ADMIN" } }, acme.token);
    await gql(h, addUser, { input: { email } }, globex.token);
    const s = await signInAs(email, acme.tenant.id);
    const seen = await gql(
      h,
      "{ memberships { tenant { id users { email } } } }",
      {},
      s.accessToken,
    );
    expect(seen.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const own = await gql(h, "{ tenant { users { email } } }", {}, s.accessToken);
    expect(own.errors).toBeUndefined();
    expect(own.data!.tenant.users.map((u: { email: string }) => u.email)).toContain(email);
    const viaGlobex = await gql(
      h,
      `query($id: ID!) { node(id: $id) { ... on Tenant { users { email } } } }`,
      { id: globex.tenant.id },
      s.accessToken,
    );
    expect(viaGlobex.data!.node).toBeNull();
  });

  it("switching to a tenant the person is not in answers like an unknown tenant", async () => {
    const email = newAddress("single");
    await gql(h, addUser, { input: { email } }, acme.token);
    const s = await signInAs(email);
    const m = `mutation($t: ID!) { switchTenant(tenantId: $t) { userId } }`;
    const foreign = await gql(h, m, { t: globex.tenant.id }, s.accessToken);
    const unknown = await gql(h, m, { t: randomUUID() }, s.accessToken);
    expect(foreign.errors![0]!.extensions!.code).toBe("TENANT_NOT_FOUND");
    expect(foreign.errors![0]).toEqual(unknown.errors![0]);
    // And a sign-in link asked for a foreign tenant is simply not mailed (the answer is the same).
    expect(await linkFor(email, globex.tenant.id)).toBeNull();
  });

  it("a person with one tenant keeps using the Kotani REST sign-in unchanged", async () => {
    const email = newAddress("kotani");
    await gql(h, addUser, { input: { email } }, acme.token);
    const before = (await outboxLinks(h.deps)).length;
    const login = await h.app.request("/api/v3/auth/login", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email }),
    });
    expect(login.status).toBe(200);
    const links = await outboxLinks(h.deps);
    expect(links.length).toBe(before + 1);
    const verified = await h.app.request(
      `/api/v3/auth/verify?hash=${encodeURIComponent(hashOf(links.at(-1)!))}`,
      { headers: { accept: "application/json" } },
    );
    expect(verified.status).toBe(200);
    const body = (await verified.json()) as { data: { token: string } };
    const viewer = await gql(h, "{ viewer { email tenant { id } } }", {}, body.data.token);
    expect(viewer.data!.viewer).toEqual({ email, tenant: { id: acme.tenant.id } });
  });
});

describe("invitations", () => {
  it("an invitation holds nothing until its link is opened; the link joins and signs in once", async () => {
    const email = newAddress("invitee");
    const before = (await outboxLinks(h.deps)).length;
    const invited = await gql(
      h,
      invite,
      { input: { email, permissions: ["keys:read"] } },
      acme.token,
    );
    expect(invited.errors).toBeUndefined();
    expect(invited.data!.inviteMember).toMatchObject({ status: "INVITED", joinedAt: null });
    const links = await outboxLinks(h.deps);
    expect(links.length).toBe(before + 1);
    const invitation = links.at(-1)!;
    // Invitees land in the dashboard, which accepts on a click; the token is a link token.
    expect(
      invitation.startsWith(`${h.deps.config.publicUrl}/dashboard/sign-in/confirm?hash=`),
    ).toBe(true);

    // A pending invitee cannot sign in to the tenant with an ordinary link.
    expect(await linkFor(email)).toBeNull();

    const joined = await gql(h, verify, { hash: hashOf(invitation) });
    expect(joined.errors).toBeUndefined();
    expect(joined.data!.verify.userId).toBe(invited.data!.inviteMember.id);
    const me = await gql(
      h,
      "{ viewer { status joinedAt permissions tenant { id } } }",
      {},
      joined.data!.verify.accessToken,
    );
    expect(me.data!.viewer).toMatchObject({
      status: "ACTIVE",
      permissions: ["keys:read"],
      tenant: { id: acme.tenant.id },
    });
    expect(me.data!.viewer.joinedAt).not.toBeNull();
    const again = await gql(h, verify, { hash: hashOf(invitation) });
    expect(again.errors![0]!.extensions!.code).toBe("INVALID_TOKEN");
    const audit = await h.deps.prisma.auditEvent.findMany({
      where: { tenantId: acme.tenant.id, targetId: invited.data!.inviteMember.id },
      orderBy: { createdAt: "asc" },
    });
    expect(audit.map((e) => e.action)).toEqual(["member.invite", "member.join"]);
    const signIn = await h.deps.prisma.auditEvent.findFirst({
      where: { action: "auth.sign_in", targetId: joined.data!.verify.sessionId },
    });
    expect(signIn?.actorId).toBe(invited.data!.inviteMember.id);
    // Now an ordinary sign-in works, and inviting the member again is refused.
    expect(await linkFor(email)).not.toBeNull();
    const twice = await gql(h, invite, { input: { email } }, acme.token);
    expect(twice.errors![0]!.extensions!.code).toBe("VALIDATION_FAILED");
  });

  it("the invitation link works through the Kotani verify route as well", async () => {
    const email = newAddress("rest-invitee");
    await gql(h, invite, { input: { email } }, globex.token);
    const link = (await outboxLinks(h.deps)).at(-1)!;
    const res = await h.app.request(
      `/api/v3/auth/verify?hash=${encodeURIComponent(hashOf(link))}`,
      { headers: { accept: "application/json" } },
    );
    expect(res.status).toBe(200);
    const member = await h.deps.prisma.user.findFirstOrThrow({
      where: { email, tenantId: globex.tenant.id },
    });
    expect(member.joinedAt).not.toBeNull();
  });

  it("renewing an invitation retires the old link; removing the invitee withdraws it", async () => {
    const email = newAddress("renewed");
    await gql(h, invite, { input: { email } }, acme.token);
    const first = (await outboxLinks(h.deps)).at(-1)!;
    const renewed = await gql(h, invite, { input: { email, role: "ADMIN" } }, acme.token);
    expect(renewed.data!.inviteMember).toMatchObject({ role: "ADMIN", status: "INVITED" });
    const second = (await outboxLinks(h.deps)).at(-1)!;
    expect(second).not.toBe(first);
    expect((await gql(h, verify, { hash: hashOf(first) })).errors![0]!.extensions!.code).toBe(
      "INVALID_TOKEN",
    );
    const removed = await gql(
      h,
      "mutation($id: ID!) { removeMember(id: $id) { status } }",
      { id: renewed.data!.inviteMember.id },
      acme.token,
    );
    expect(removed.data!.removeMember.status).toBe("REMOVED");
    expect((await gql(h, verify, { hash: hashOf(second) })).errors![0]!.extensions!.code).toBe(
      "INVALID_TOKEN",
    );
  });

  it("an invitee who has not joined owns no key", async () => {
    const email = newAddress("keyless-invitee");
    const invited = await gql(
      h,
      invite,
      { input: { email, permissions: ["keys:read"] } },
      acme.token,
    );
    const key = await gql(
      h,
      generateMutation,
      { input: { name: "for an invitee", ownerId: invited.data!.inviteMember.id } },
      acme.token,
    );
    expect(key.errors![0]!.extensions!.code).toBe("USER_NOT_FOUND");
  });

  it("a pending owner invitation does not count as the tenant's owner", async () => {
    const { tenant, owner } = await createTenant(h.deps, system, {
      name: "Solo",
      ownerEmail: newAddress("solo-owner"),
    });
    const token = await signIn(h.deps, owner.id);
    const pending = await gql(
      h,
      invite,
      { input: { email: newAddress("future-owner"), role: "OWNER" } },
      token,
    );
    expect(pending.data!.inviteMember.status).toBe("INVITED");
    const demote = await gql(
      h,
      `mutation($i: UpdateMemberInput!) { updateMember(input: $i) { role } }`,
      { i: { id: owner.id, role: "ADMIN" } },
      token,
    );
    expect(demote.errors![0]!.extensions!.code).toBe("CONFLICT");
    const still = await h.deps.prisma.user.findUniqueOrThrow({ where: { id: owner.id } });
    expect([still.role, still.tenantId]).toEqual(["OWNER", tenant.id]);
  });

  it("only owners and admins invite, and only owners invite owners", async () => {
    const admin = await seedUser(h.deps, acme.tenant.id, "ADMIN");
    const member = await seedUser(h.deps, acme.tenant.id, "MEMBER", ["users:write"]);
    const asAdmin = await gql(
      h,
      invite,
      { input: { email: newAddress("o"), role: "OWNER" } },
      admin.token,
    );
    expect(asAdmin.errors![0]!.extensions!.code).toBe("FORBIDDEN");
    const asMember = await gql(h, invite, { input: { email: newAddress("m") } }, member.token);
    expect(asMember.errors![0]!.extensions!.code).toBe("FORBIDDEN");
    const bad = await gql(
      h,
      invite,
      { input: { email: newAddress("p"), permissions: ["nope"] } },
      acme.token,
    );
    expect(bad.errors![0]!.message).toMatch(/permissions/);
  });

  it("inviting another tenant's member reveals nothing and leaves their membership alone", async () => {
    const other = await seedUser(h.deps, globex.tenant.id, "ADMIN");
    const fresh = newAddress("fresh-invitee");
    const a = await gql(h, invite, { input: { email: other.user.email } }, acme.token);
    const b = await gql(h, invite, { input: { email: fresh } }, acme.token);
    const strip = (r: typeof a) => ({
      ...r.data!.inviteMember,
      id: "-",
      email: "-",
      invitedAt: "-",
    });
    expect(strip(a)).toEqual(strip(b));
    const inGlobex = await h.deps.prisma.user.findUniqueOrThrow({ where: { id: other.user.id } });
    expect(inGlobex).toMatchObject({ role: "ADMIN", removedAt: null });
    expect(inGlobex.joinedAt).not.toBeNull();
  });
});

describe("node(id:) for people and tenants", () => {
  const node = `query($id: ID!) { node(id: $id) { __typename id ... on User { email } ... on Tenant { name } } }`;

  it("answers a user and a tenant under the rules of tenant.users and tenant", async () => {
    const member = await seedUser(h.deps, acme.tenant.id, "MEMBER");
    const other = await seedUser(h.deps, acme.tenant.id, "MEMBER");
    const asOwner = await gql(h, node, { id: member.user.id }, acme.token);
    expect(asOwner.data!.node).toEqual({
      __typename: "User",
      id: member.user.id,
      email: member.user.email,
    });
    const self = await gql(h, node, { id: member.user.id }, member.token);
    expect(self.data!.node.__typename).toBe("User");
    // A member sees itself, not the others (tenant.users is for owners and admins).
    expect((await gql(h, node, { id: other.user.id }, member.token)).data!.node).toBeNull();
    const tenant = await gql(h, node, { id: acme.tenant.id }, member.token);
    expect(tenant.data!.node).toEqual({ __typename: "Tenant", id: acme.tenant.id, name: "Acme" });
  });

  it("another tenant's user or tenant answers null, like an unknown id", async () => {
    for (const id of [acme.owner.id, acme.tenant.id, randomUUID()]) {
      const answer = await gql(h, node, { id }, globex.token);
      expect(answer.errors).toBeUndefined();
      expect(answer.data!.node).toBeNull();
    }
  });
});
