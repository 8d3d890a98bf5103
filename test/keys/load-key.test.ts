// The verification read (one joined statement, src/modules/keys/runtime.ts) against the same key
// read through Prisma's relations: every field and every owner and tenant state it folds in.
import { describe, expect, it } from "vitest";
import { loadKey } from "../../src/modules/keys/runtime.ts";
import { generateKeyFor, seedUser } from "../helpers/harness.ts";
import { useHarness, withTenant } from "../helpers/fixtures.ts";

const h = useHarness();
const acme = withTenant(h, "Acme");

async function both(id: string) {
  const { hash } = await h.deps.prisma.apiKey.findUniqueOrThrow({ where: { id } });
  const byHash = await loadKey(h.deps.prisma, { hash });
  const byId = await loadKey(h.deps.prisma, { id });
  expect(byHash).not.toBeNull();
  const { ipAllow: a, ...left } = byHash!;
  const { ipAllow: b, ...right } = byId!;
  expect(left).toEqual(right);
  expect(a === null).toBe(b === null);
  return byHash!;
}

describe("loadKey", () => {
  it("reads every field of an integrator key as Prisma stores it", async () => {
    const made = await generateKeyFor(h, acme.token, {
      name: "full",
      permissions: ["transactions:read", "refunds:*"],
      rateLimit: { perMinute: 7, perHour: 70, perDay: 700 },
      expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
    });
    const id = made.apiKey.id as string;
    await h.deps.prisma.apiKey.update({
      where: { id },
      data: {
        metadata: { plan: "gold", seats: 3 },
        ipAllowlist: ["10.0.0.0/8"],
        creditsRemaining: 5,
        creditsRefillAmount: 10,
        creditsRefillInterval: "DAY",
      },
    });
    const row = await h.deps.prisma.apiKey.findUniqueOrThrow({ where: { id } });
    const key = await both(id);
    expect(key).toMatchObject({
      id,
      tenantId: row.tenantId,
      ownerId: null,
      projectId: null,
      kind: "API_KEY",
      name: "full",
      permissions: ["transactions:read", "refunds:*"],
      status: "ACTIVE",
      expiresAt: row.expiresAt,
      rateLimitPerMinute: 7,
      rateLimitPerHour: 70,
      rateLimitPerDay: 700,
      secretCiphertext: null,
      secretKeyVersion: null,
      metadata: { plan: "gold", seats: 3 },
      ipAllowlist: ["10.0.0.0/8"],
      creditsRemaining: 5,
      creditsRefillAmount: 10,
      creditsRefillInterval: "DAY",
      ownerActive: true,
      tenantActive: true,
    });
    expect(key.expiresAt).toBeInstanceOf(Date);
    expect(key.ipAllow?.("10.1.2.3")).toBe(true);
    expect(key.ipAllow?.("192.168.0.1")).toBe(false);
  });

  it("narrows a user-bound key to its owner's permissions and follows the owner's state", async () => {
    const { user } = await seedUser(h.deps, acme.tenant.id, "MEMBER", ["transactions:read"]);
    const made = await generateKeyFor(h, acme.token, {
      name: "bound",
      ownerId: user.id,
      permissions: ["transactions:read"],
    });
    const id = made.apiKey.id as string;
    await h.deps.prisma.apiKey.update({
      where: { id },
      data: { permissions: ["transactions:read", "refunds:write"] },
    });
    expect(await both(id)).toMatchObject({
      ownerId: user.id,
      ownerActive: true,
      permissions: ["transactions:read"],
    });
    await h.deps.prisma.user.update({ where: { id: user.id }, data: { disabledAt: new Date() } });
    expect((await both(id)).ownerActive).toBe(false);
    await h.deps.prisma.user.update({
      where: { id: user.id },
      data: { disabledAt: null, joinedAt: null },
    });
    expect((await both(id)).ownerActive).toBe(false);
    await h.deps.prisma.user.update({
      where: { id: user.id },
      data: { joinedAt: new Date(), removedAt: new Date() },
    });
    expect((await both(id)).ownerActive).toBe(false);
  });

  it("reads the tenant's state and a secure key's secret", async () => {
    const made = await generateKeyFor(h, acme.token, { name: "secure-ish" });
    const id = made.apiKey.id as string;
    await h.deps.prisma.apiKey.update({
      where: { id },
      data: { kind: "SECURE_API_KEY", secretCiphertext: "v1:abc", secretKeyVersion: 1 },
    });
    expect(await both(id)).toMatchObject({
      kind: "SECURE_API_KEY",
      secretCiphertext: "v1:abc",
      secretKeyVersion: 1,
      tenantActive: true,
    });
    await h.deps.prisma.tenant.update({
      where: { id: acme.tenant.id },
      data: { suspendedAt: new Date() },
    });
    try {
      expect((await both(id)).tenantActive).toBe(false);
    } finally {
      await h.deps.prisma.tenant.update({
        where: { id: acme.tenant.id },
        data: { suspendedAt: null },
      });
    }
  });

  it("answers null for an unknown hash, an unknown id and an id that is no uuid", async () => {
    expect(await loadKey(h.deps.prisma, { hash: "0".repeat(64) })).toBeNull();
    expect(await loadKey(h.deps.prisma, { id: "00000000-0000-4000-8000-000000000000" })).toBeNull();
    expect(await loadKey(h.deps.prisma, { id: "not-a-uuid" })).toBeNull();
  });
});
