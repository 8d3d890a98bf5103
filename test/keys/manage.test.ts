import { describe, expect, it } from "vitest";
import {
  databaseDump,
  generateKeyFor,
  generateSecureMutation,
  gql,
  seedTenant,
  seedUser,
  verifyMutation,
} from "../helpers/harness.ts";
import { useHarness, withTenant } from "../helpers/fixtures.ts";

const h = useHarness();
const a = withTenant(h, "TenantA");
const b = withTenant(h, "TenantB");
const unknownId = "00000000-0000-4000-8000-000000000000";

const rotate =
  "mutation($id: ID!, $g: Int) { rotateKey(id: $id, gracePeriodSeconds: $g) { __typename key ... on RotateSecureApiKeyPayload { secret } apiKey { id name permissions rotatedFromId } previous { id status expiresAt } } }";

describe("rotateKey", () => {
  it("issues a successor with the same settings; the old key lives for the grace period", async () => {
    const old = await generateKeyFor(h, a.token, {
      name: "rotating",
      permissions: ["transactions:read"],
      rateLimit: { perHour: 10 },
    });
    const result = await gql(h, rotate, { id: old.apiKey.id, g: 3600 }, a.token);
    expect(result.errors).toBeUndefined();
    const r = result.data!.rotateKey;
    expect(r.key).not.toBe(old.key);
    // A plain key's successor has no secret to show: its payload type has no such field.
    expect(r.__typename).toBe("RotateApiKeyPayload");
    expect(r).not.toHaveProperty("secret");
    expect(r.apiKey).toMatchObject({
      name: "rotating",
      permissions: ["transactions:read"],
      rotatedFromId: old.apiKey.id,
    });
    expect(r.previous.status).toBe("ACTIVE");
    const graceEnd = new Date(r.previous.expiresAt).getTime();
    expect(Math.abs(graceEnd - (Date.now() + 3600_000))).toBeLessThan(60_000);
    expect((await gql(h, verifyMutation, { key: old.key })).data!.verifyKey.code).toBe("VALID");
    expect((await gql(h, verifyMutation, { key: r.key })).data!.verifyKey.code).toBe("VALID");
  });

  it("stops the old key at once with no grace, and gives secure keys a new secret", async () => {
    const created = await gql(h, generateSecureMutation, { input: { name: "secure" } }, a.token);
    const old = created.data!.generateSecureApiKey;
    const r = (await gql(h, rotate, { id: old.apiKey.id, g: 0 }, a.token)).data!.rotateKey;
    expect(r.previous.status).toBe("REVOKED");
    expect(r.__typename).toBe("RotateSecureApiKeyPayload");
    expect(r.secret).toMatch(/^[0-9a-f]{64}$/);
    expect(r.secret).not.toBe(old.secret);
    expect((await gql(h, verifyMutation, { key: old.key })).data!.verifyKey.code).toBe("REVOKED");
    const again = await gql(h, rotate, { id: old.apiKey.id, g: 0 }, a.token);
    expect(again.errors![0]!.extensions!.code).toBe("CONFLICT");
  });
});

describe("rotateKey under concurrency", () => {
  it("lets exactly one of two simultaneous rotations win, writing successor and old key together", async () => {
    const old = await generateKeyFor(h, a.token, { name: "contended" });
    const results = await Promise.all(
      [1, 2].map(() => gql(h, rotate, { id: old.apiKey.id, g: 600 }, a.token)),
    );
    const winners = results.filter((r) => !r.errors);
    expect(winners).toHaveLength(1);
    expect(results.find((r) => r.errors)!.errors![0]!.extensions!.code).toBe("CONFLICT");
    const successors = await h.deps.prisma.apiKey.findMany({
      where: { rotatedFromId: old.apiKey.id },
    });
    expect(successors.map((k) => k.id)).toEqual([winners[0]!.data!.rotateKey.apiKey.id]);
    const events = await h.deps.prisma.auditEvent.count({
      where: { targetId: old.apiKey.id, action: "key.rotate" },
    });
    expect(events).toBe(1);
  });
});

describe("listing", () => {
  it("filters by status, kind, project and owner, and shows members only their own keys", async () => {
    const t = await seedTenant(h.deps, "Lister");
    const project = (
      await gql(h, 'mutation { createProject(input: { name: "p" }) { id } }', {}, t.token)
    ).data!.createProject.id;
    const member = await seedUser(h.deps, t.tenant.id, "MEMBER", ["keys:read", "keys:write"]);
    await generateKeyFor(h, t.token, { name: "in-project", projectId: project });
    const disabled = await generateKeyFor(h, t.token, { name: "disabled", status: "DISABLED" });
    await generateKeyFor(h, member.token, { name: "members" });
    await gql(h, generateSecureMutation, { input: { name: "secure" } }, t.token);
    const names = async (args: string, token = t.token) =>
      (await gql(h, `{ apiKeys${args} { edges { node { name } } } }`, {}, token))
        .data!.apiKeys.edges.map((e: any) => e.node.name)
        .sort();
    expect(await names("")).toEqual(["disabled", "in-project", "members", "secure"]);
    expect(await names("(status: DISABLED)")).toEqual(["disabled"]);
    expect(await names("(kind: SECURE_API_KEY)")).toEqual(["secure"]);
    expect(await names(`(projectId: "${project}")`)).toEqual(["in-project"]);
    expect(await names(`(ownerId: "${member.user.id}")`)).toEqual(["members"]);
    expect(await names("", member.token)).toEqual(["members"]);
    const single = await gql(
      h,
      "query($id: ID!) { apiKey(id: $id) { name status } }",
      { id: disabled.apiKey.id },
      t.token,
    );
    expect(single.data!.apiKey).toEqual({ name: "disabled", status: "DISABLED" });
    expect(
      (
        await gql(
          h,
          "query($id: ID!) { apiKey(id: $id) { name } }",
          { id: disabled.apiKey.id },
          member.token,
        )
      ).data!.apiKey,
    ).toBeNull();
  });
});

describe("tenant isolation", () => {
  it("tenant B's admin can neither read, verify as owner, rotate, disable nor revoke tenant A's keys", async () => {
    const { key, apiKey } = await generateKeyFor(h, a.token, { name: "A's key" });
    expect(
      (await gql(h, "query($id: ID!) { apiKey(id: $id) { id } }", { id: apiKey.id }, b.token)).data!
        .apiKey,
    ).toBeNull();
    expect(
      (await gql(h, "{ apiKeys { edges { node { id } } } }", {}, b.token)).data!.apiKeys.edges.map(
        (e: any) => e.node.id,
      ),
    ).not.toContain(apiKey.id);

    const asB = (await gql(h, verifyMutation, { key }, b.token)).data!.verifyKey;
    const { generateKey } = await import("../../src/crypto/key-format.ts");
    const unknownKey = (await gql(h, verifyMutation, { key: generateKey("kg") }, b.token)).data!
      .verifyKey;
    expect(asB).toEqual(unknownKey);
    expect(asB.code).toBe("NOT_FOUND");
    const rest = await h.app.request("/v1/keys/verify", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${b.token}` },
      body: JSON.stringify({ key }),
    });
    expect((await rest.json()).code).toBe("NOT_FOUND");

    for (const mutation of [
      "mutation($id: ID!) { revokeKey(id: $id) { id } }",
      "mutation($id: ID!) { disableKey(id: $id) { id } }",
      "mutation($id: ID!) { enableKey(id: $id) { id } }",
      "mutation($id: ID!) { rotateKey(id: $id) { key } }",
    ]) {
      const foreign = await gql(h, mutation, { id: apiKey.id }, b.token);
      const unknown = await gql(h, mutation, { id: unknownId }, b.token);
      expect(foreign.errors![0]!.extensions).toEqual({ code: "KEY_NOT_FOUND" });
      expect(foreign.errors![0]!.message).toBe(unknown.errors![0]!.message);
    }
    expect((await gql(h, verifyMutation, { key }, a.token)).data!.verifyKey.code).toBe("VALID");
  });

  it("keeps A's bearer key out of B's data", async () => {
    const { key } = await generateKeyFor(h, a.token);
    const projectOfB = (
      await gql(h, 'mutation { createProject(input: { name: "b-only" }) { id } }', {}, b.token)
    ).data!.createProject.id;
    expect(
      (await gql(h, "query($id: ID!) { project(id: $id) { id } }", { id: projectOfB }, key)).data!
        .project,
    ).toBeNull();
  });
});

describe("audit and secret hygiene", () => {
  it("records every change", async () => {
    const { apiKey } = await generateKeyFor(h, a.token);
    await gql(h, "mutation($id: ID!) { disableKey(id: $id) { id } }", { id: apiKey.id }, a.token);
    await gql(h, "mutation($id: ID!) { enableKey(id: $id) { id } }", { id: apiKey.id }, a.token);
    await gql(
      h,
      'mutation($id: ID!) { revokeKey(id: $id, reason: "done") { id } }',
      { id: apiKey.id },
      a.token,
    );
    const actions = (
      await h.deps.prisma.auditEvent.findMany({
        where: { targetId: apiKey.id },
        orderBy: { createdAt: "asc" },
      })
    ).map((e) => e.action);
    expect(actions).toEqual(["key.create", "key.disable", "key.enable", "key.revoke"]);
  });

  it("leaves no plaintext key or secret in the database or the logs", async () => {
    const plain = await generateKeyFor(h, a.token);
    const jwt = await generateKeyFor(h, a.token, { format: "JWT" });
    const secure = (await gql(h, generateSecureMutation, { input: { name: "s" } }, a.token)).data!
      .generateSecureApiKey;
    await gql(h, verifyMutation, { key: plain.key });
    await h.app.request("/v1/keys/verify", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ key: jwt.key }),
    });
    await gql(
      h,
      "mutation($k: String!, $s: String!) { exchangeApiKey(apiKey: $k, apiSecret: $s) { accessToken } }",
      { k: secure.key, s: secure.secret },
    );
    await h.deps.keys.flush();
    const dump = await databaseDump(h.deps);
    const logs = h.logs.join("\n");
    expect(logs.length).toBeGreaterThan(0);
    for (const secret of [plain.key, jwt.key, secure.key, secure.secret]) {
      expect(dump.includes(secret)).toBe(false);
      expect(logs.includes(secret)).toBe(false);
    }
  });
});
