// Seed 003: Extractor's POST /api/v1/apikey, validated against the seed's own OpenAPI fragment.
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, seedTenant, type Harness } from "../helpers/harness.ts";
import { checkResponses, matchesExtractorSeed, matchesServedDocument } from "../helpers/openapi.ts";

let h: Harness;
let acme: Awaited<ReturnType<typeof seedTenant>>;
let platform: Awaited<ReturnType<typeof seedTenant>>;

beforeAll(async () => {
  h = checkResponses(await createHarness());
  acme = await seedTenant(h.deps, "Acme");
  platform = await seedTenant(h.deps, "Platform", { platformAdmin: true });
});
afterAll(() => h.close());

const create = (body: unknown, token = acme.token) =>
  h.app.request("/api/v1/apikey", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });

describe("Extractor", () => {
  it("returns an ApiKeyDto with int64 ids, epoch-millisecond times and a JWT whose jti is returned", async () => {
    const before = Date.now();
    const response = await create({ label: "CI pipeline", lifetime: 3600 });
    expect(response.status).toBe(200);
    const dto = await response.json();
    matchesExtractorSeed("/api/v1/apikey", "POST", 200, dto);
    matchesServedDocument("/api/v1/apikey", "POST", 200, dto);
    expect(Number.isInteger(dto.id)).toBe(true);
    expect(dto.tenantId).toBe(Number(acme.tenant.number));
    expect(dto).toMatchObject({ status: "ACTIVE", label: "CI pipeline", lifetime: 3600 });
    expect(dto.createdAt).toBeGreaterThanOrEqual(before - 1000);
    expect(dto.expiresAt - dto.createdAt).toBe(3600_000);
    const claims = decodeJwt(dto.apiKey);
    expect(claims.jti).toBe(dto.jti);
    const verified = await h.app.request("/v1/keys/verify", {
      method: "POST",
      body: JSON.stringify({ key: dto.apiKey }),
    });
    expect(await verified.json()).toMatchObject({ valid: true, keyId: dto.jti });
  });

  it("accepts status DISABLED and DELETED, and a key without lifetime", async () => {
    const disabled = await (await create({ label: "off", status: "DISABLED" })).json();
    expect(disabled.status).toBe("DISABLED");
    expect(disabled.lifetime).toBeUndefined();
    matchesExtractorSeed("/api/v1/apikey", "POST", 200, disabled);
    const deleted = await (await create({ label: "gone", status: "DELETED" })).json();
    expect(deleted.status).toBe("DELETED");
    const verified = await h.app.request("/v1/keys/verify", {
      method: "POST",
      body: JSON.stringify({ key: deleted.apiKey }),
    });
    expect((await verified.json()).valid).toBe(false);
  });

  it("takes tenantId only from a platform admin or when it is the caller's own", async () => {
    const own = await create({ label: "own", tenantId: Number(acme.tenant.number) });
    expect(own.status).toBe(200);
    const foreign = await create({ label: "foreign", tenantId: Number(platform.tenant.number) });
    expect(foreign.status).toBe(403);
    const error = await foreign.json();
    expect(error).toMatchObject({ status: 403, error: "Forbidden" });
    matchesServedDocument("/api/v1/apikey", "POST", 403, error);
    const byAdmin = await create(
      { label: "for acme", tenantId: Number(acme.tenant.number) },
      platform.token,
    );
    expect(byAdmin.status).toBe(200);
    const dto = await byAdmin.json();
    expect(dto.tenantId).toBe(Number(acme.tenant.number));
    expect(
      (await h.deps.prisma.apiKey.findFirstOrThrow({ where: { jti: dto.jti } })).tenantId,
    ).toBe(acme.tenant.id);
  });

  it("answers bad input with 400: blank label, wrong types, bad status, bad JSON", async () => {
    for (const body of [
      { label: "   " },
      {},
      { label: 5 },
      { label: "x", status: "PAUSED" },
      { label: "x", lifetime: "1h" },
      { label: "x", tenantId: 1.5 },
      "{",
      "[]",
    ]) {
      const response = await create(body);
      expect(response.status).toBe(400);
      matchesServedDocument("/api/v1/apikey", "POST", 400, await response.json());
    }
    const anonymous = await h.app.request("/api/v1/apikey", {
      method: "POST",
      body: JSON.stringify({ label: "x" }),
    });
    expect(anonymous.status).toBe(401);
  });
});
