import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../src/crypto/tokens.ts";
import { generateKey, wellFormedKey } from "../../src/crypto/key-format.ts";
import { schema } from "../../src/graphql/schema.ts";
import {
  generateKeyFor,
  generateMutation,
  gql,
  seedUser,
  verifyMutation,
} from "../helpers/harness.ts";
import { useHarness, withTenant } from "../helpers/fixtures.ts";

const h = useHarness();
const acme = withTenant(h, "Acme");

describe("generateApiKey", () => {
  it("issues an integrator-level key with wildcard permissions, checksummed, stored only hashed", async () => {
    const { key, apiKey } = await generateKeyFor(h, acme.token, { name: "Main integration" });
    expect(key).toMatch(/^kg_[0-9A-Za-z]{24}_[0-9A-Za-z]{6}$/);
    expect(wellFormedKey(key)).toBe(true);
    expect(apiKey).toMatchObject({
      name: "Main integration",
      kind: "API_KEY",
      format: "OPAQUE",
      status: "ACTIVE",
      permissions: ["*"],
      integratorLevel: true,
      owner: null,
      hasSecret: false,
    });
    expect(apiKey.masked).toBe(`${key.slice(0, 7)}…${key.slice(-4)}`);
    const row = await h.deps.prisma.apiKey.findUniqueOrThrow({ where: { id: apiKey.id } });
    expect(row.hash).toBe(sha256Hex(key));
    expect(
      JSON.stringify(row, (_k, v) => (typeof v === "bigint" ? v.toString() : v)),
    ).not.toContain(key.slice(3, 27));
  });

  it("binds a key to a user with only the scopes given", async () => {
    const member = await seedUser(h.deps, acme.tenant.id, "MEMBER", ["transactions:*"]);
    const bound = await generateKeyFor(h, acme.token, {
      ownerId: member.user.id,
      permissions: ["transactions:read"],
    });
    expect(bound.apiKey).toMatchObject({
      permissions: ["transactions:read"],
      integratorLevel: false,
      owner: { id: member.user.id },
    });
    const none = await generateKeyFor(h, acme.token, { ownerId: member.user.id });
    expect(none.apiKey.permissions).toEqual([]);
    const beyond = await gql(
      h,
      generateMutation,
      { input: { name: "x", ownerId: member.user.id, permissions: ["accounts:write"] } },
      acme.token,
    );
    expect(beyond.errors![0]!.extensions!.code).toBe("FORBIDDEN");
  });

  it("lets a member create keys only for itself, within its own permissions", async () => {
    const member = await seedUser(h.deps, acme.tenant.id, "MEMBER", [
      "keys:write",
      "keys:read",
      "accounts:read",
    ]);
    const own = await generateKeyFor(h, member.token, { permissions: ["accounts:read"] });
    expect(own.apiKey).toMatchObject({
      integratorLevel: false,
      owner: { id: member.user.id },
      permissions: ["accounts:read"],
    });
    const beyond = await gql(
      h,
      generateMutation,
      { input: { name: "x", permissions: ["accounts:write"] } },
      member.token,
    );
    expect(beyond.errors![0]!.extensions!.code).toBe("FORBIDDEN");
    const other = await seedUser(h.deps, acme.tenant.id, "MEMBER", ["accounts:read"]);
    const forOther = await gql(
      h,
      generateMutation,
      { input: { name: "x", ownerId: other.user.id } },
      member.token,
    );
    expect(forOther.errors![0]!.extensions!.code).toBe("FORBIDDEN");
    const noWrite = await seedUser(h.deps, acme.tenant.id, "MEMBER", ["accounts:read"]);
    const denied = await gql(h, generateMutation, { input: { name: "x" } }, noWrite.token);
    expect(denied.errors![0]!.extensions!.code).toBe("FORBIDDEN");
  });

  it("issues JWT keys whose jti is the key id and whose exp follows the lifetime", async () => {
    const { key, apiKey } = await generateKeyFor(h, acme.token, { format: "JWT", lifetime: 3600 });
    const claims = decodeJwt(key);
    expect(claims.jti).toBe(apiKey.id);
    expect(claims.exp! - claims.iat!).toBe(3600);
    expect(apiKey.lifetime).toBe(3600);
    const valid = await gql(h, verifyMutation, { key });
    expect(valid.data!.verifyKey).toMatchObject({ valid: true, code: "VALID", keyId: apiKey.id });
    await gql(
      h,
      'mutation($id: ID!) { revokeKey(id: $id, reason: "test") { status } }',
      { id: apiKey.id },
      acme.token,
    );
    expect((await gql(h, verifyMutation, { key })).data!.verifyKey).toMatchObject({
      valid: false,
      code: "REVOKED",
    });
  });

  it("issues test keys with the tenant's _test prefix and honours expiry, status and limits", async () => {
    const { key, apiKey } = await generateKeyFor(h, acme.token, {
      test: true,
      status: "DISABLED",
      expiresAt: new Date(Date.now() + 86400_000).toISOString(),
      rateLimit: { perMinute: 60, perHour: 3000, perDay: 50000 },
    });
    expect(key).toMatch(/^kg_test_/);
    expect(apiKey).toMatchObject({
      test: true,
      status: "DISABLED",
      rateLimit: { perMinute: 60, perHour: 3000, perDay: 50000 },
    });
  });

  it("names the bad field of invalid input", async () => {
    const both = await gql(
      h,
      generateMutation,
      {
        input: { name: "x", lifetime: 60, expiresAt: new Date(Date.now() + 60_000).toISOString() },
      },
      acme.token,
    );
    expect(both.errors![0]!.extensions).toMatchObject({
      code: "VALIDATION_FAILED",
      fields: [{ field: "lifetime" }],
    });
    const past = await gql(
      h,
      generateMutation,
      { input: { name: "x", expiresAt: new Date(Date.now() - 60_000).toISOString() } },
      acme.token,
    );
    expect(past.errors![0]!.extensions!.fields[0].field).toBe("expiresAt");
    const perm = await gql(
      h,
      generateMutation,
      { input: { name: "x", permissions: ["no spaces allowed"] } },
      acme.token,
    );
    expect(perm.errors![0]!.extensions!.fields[0].field).toBe("permissions.0");
    const project = await gql(
      h,
      generateMutation,
      { input: { name: "x", projectId: "00000000-0000-4000-8000-000000000000" } },
      acme.token,
    );
    expect(project.errors![0]!.extensions!.code).toBe("PROJECT_NOT_FOUND");
    const empty = await gql(h, generateMutation, { input: { name: "  " } }, acme.token);
    expect(empty.errors![0]!.message).toMatch(/name/);
  });

  it("has no field that could return a key, hash, secret or ciphertext", () => {
    const fields = Object.keys((schema.getType("ApiKey") as any).getFields());
    for (const forbidden of ["key", "hash", "secret", "secretCiphertext", "apiKey", "keyValue"])
      expect(fields).not.toContain(forbidden);
  });

  it("lists keys masked only", async () => {
    const { key } = await generateKeyFor(h, acme.token, { name: "listed" });
    const list = await gql(
      h,
      "{ apiKeys(first: 50) { edges { node { name masked } } } }",
      {},
      acme.token,
    );
    expect(JSON.stringify(list)).not.toContain(key);
    expect(list.data!.apiKeys.edges.map((e: any) => e.node.masked)).toContain(
      `${key.slice(0, 7)}…${key.slice(-4)}`,
    );
  });
});

describe("the key format", () => {
  it("is well formed with its own checksum only: any one character changed is refused", () => {
    const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    for (const prefix of ["kg", "acme_test", "a1"]) {
      for (let n = 0; n < 50; n++) {
        const key = generateKey(prefix);
        expect(wellFormedKey(key)).toBe(true);
        // CRC32 detects every change of one character: in the prefix, the body or the checksum.
        const at = Math.floor(Math.random() * key.length);
        if (key[at] === "_") continue;
        const other = ALPHABET[(ALPHABET.indexOf(key[at] as string) + 1 + n) % 62] as string;
        const changed = key.slice(0, at) + other + key.slice(at + 1);
        if (changed !== key && /^[a-z]/.test(changed)) expect(wellFormedKey(changed)).toBe(false);
      }
    }
    // The largest checksum a 6-digit base62 number can hold is past 2^32: no wrap-around match.
    expect(wellFormedKey(`kg_${"A".repeat(24)}_zzzzzz`)).toBe(false);
    for (const bad of ["", "kg", "kg_short_abcdef", `KG_${"A".repeat(24)}_000000`, "x".repeat(65)])
      expect(wellFormedKey(bad)).toBe(false);
  });
});
