import { describe, expect, it } from "vitest";
import { generateKeyFor, gql, seedUser } from "../helpers/harness.ts";
import { useHarness, withTenant } from "../helpers/fixtures.ts";

const h = useHarness();
const a = withTenant(h, "TenantA");
const b = withTenant(h, "TenantB");

const query = `query($action: String, $actorId: ID, $targetId: ID, $from: DateTime, $to: DateTime, $first: Int, $after: String) {
  auditEvents(action: $action, actorId: $actorId, targetId: $targetId, from: $from, to: $to, first: $first, after: $after) {
    edges { node { action actorType actorId targetType targetId metadata createdAt } }
    pageInfo { hasNextPage endCursor }
  }
}`;

describe("auditEvents", () => {
  it("lists the tenant's events newest first, filtered by action, actor, target and time", async () => {
    const start = new Date().toISOString();
    const { apiKey } = await generateKeyFor(h, a.token, { name: "audited" });
    await gql(h, "mutation($id: ID!) { disableKey(id: $id) { id } }", { id: apiKey.id }, a.token);
    await gql(
      h,
      'mutation($id: ID!) { revokeKey(id: $id, reason: "test") { id } }',
      { id: apiKey.id },
      a.token,
    );

    const byTarget = await gql(h, query, { targetId: apiKey.id }, a.token);
    expect(byTarget.errors).toBeUndefined();
    expect(byTarget.data!.auditEvents.edges.map((e: any) => e.node.action)).toEqual([
      "key.revoke",
      "key.disable",
      "key.create",
    ]);
    expect(byTarget.data!.auditEvents.edges[0].node).toMatchObject({
      actorType: "USER",
      actorId: a.owner.id,
      targetType: "ApiKey",
      metadata: { reason: "test" },
    });

    const exact = await gql(h, query, { action: "key.revoke", from: start }, a.token);
    expect(exact.data!.auditEvents.edges.map((e: any) => e.node.targetId)).toEqual([apiKey.id]);
    const prefix = await gql(h, query, { action: "key.", targetId: apiKey.id }, a.token);
    expect(prefix.data!.auditEvents.edges).toHaveLength(3);
    const byActor = await gql(h, query, { actorId: a.owner.id, from: start }, a.token);
    expect(byActor.data!.auditEvents.edges.length).toBeGreaterThanOrEqual(3);
    const future = await gql(
      h,
      query,
      { from: new Date(Date.now() + 60_000).toISOString() },
      a.token,
    );
    expect(future.data!.auditEvents.edges).toEqual([]);
    const paged = await gql(h, query, { first: 1, targetId: apiKey.id }, a.token);
    expect(paged.data!.auditEvents.pageInfo.hasNextPage).toBe(true);
    const next = await gql(
      h,
      query,
      { first: 1, targetId: apiKey.id, after: paged.data!.auditEvents.pageInfo.endCursor },
      a.token,
    );
    expect(next.data!.auditEvents.edges[0].node.action).toBe("key.disable");
  });

  it("shows owners and admins their own tenant only; members and API keys get FORBIDDEN", async () => {
    const { apiKey } = await generateKeyFor(h, a.token, { name: "a-only" });
    const fromB = await gql(h, query, { targetId: apiKey.id }, b.token);
    expect(fromB.data!.auditEvents.edges).toEqual([]);
    const admin = await seedUser(h.deps, a.tenant.id, "ADMIN");
    expect(
      (await gql(h, query, { targetId: apiKey.id }, admin.token)).data!.auditEvents.edges,
    ).toHaveLength(1);
    const member = await seedUser(h.deps, a.tenant.id, "MEMBER", ["*"]);
    expect((await gql(h, query, {}, member.token)).errors![0]!.extensions!.code).toBe("FORBIDDEN");
    const key = await generateKeyFor(h, a.token);
    expect((await gql(h, query, {}, key.key)).errors![0]!.extensions!.code).toBe("FORBIDDEN");
    expect((await gql(h, query, {})).errors![0]!.extensions!.code).toBe("UNAUTHENTICATED");
  });
});
