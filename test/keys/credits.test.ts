import { afterEach, describe, expect, it, vi } from "vitest";
import { generateKeyFor, gql } from "../helpers/harness.ts";
import { useHarness, withTenant } from "../helpers/fixtures.ts";

const h = useHarness();
const acme = withTenant(h, "Acme");

const setCredits = `mutation($input: UpdateKeyInput!) {
  updateKey(input: $input) { id credits { remaining refillAmount refillInterval refilledAt } }
}`;
const verifyCredits = `mutation($key: String!) { verifyKey(key: $key) { valid code credits { remaining } } }`;

async function verifyRest(key: string) {
  const response = await h.app.request("/v1/keys/verify", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ key }),
  });
  expect(response.status).toBe(200);
  return response.json() as Promise<{
    valid: boolean;
    code: string;
    credits: { remaining: number } | null;
  }>;
}

async function keyWithCredits(credits: Record<string, unknown>, input = {}) {
  const generated = await generateKeyFor(h, acme.token, input);
  const result = await gql(
    h,
    setCredits,
    { input: { id: generated.apiKey.id, credits } },
    acme.token,
  );
  expect(result.errors).toBeUndefined();
  return generated;
}

afterEach(() => {
  vi.useRealTimers();
});

describe("credits", () => {
  it("50 concurrent verifications of a key with 10 credits: exactly 10 VALID", async () => {
    const { key, apiKey } = await keyWithCredits({ remaining: 10 });
    const answers = await Promise.all(Array.from({ length: 50 }, () => verifyRest(key)));
    const valid = answers.filter((a) => a.code === "VALID");
    const exceeded = answers.filter((a) => a.code === "USAGE_EXCEEDED");
    expect(valid).toHaveLength(10);
    expect(exceeded).toHaveLength(40);
    expect(exceeded.every((a) => !a.valid && a.credits?.remaining === 0)).toBe(true);
    expect(valid.map((a) => a.credits?.remaining).sort((a, b) => a! - b!)).toEqual([
      0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
    ]);
    const row = await h.deps.prisma.apiKey.findUniqueOrThrow({ where: { id: apiKey.id } });
    expect(row.creditsRemaining).toBe(0);
  });

  it("counts down through GraphQL too, and a key without credits answers no credits", async () => {
    const { key } = await keyWithCredits({ remaining: 2 });
    const first = await gql(h, verifyCredits, { key });
    expect(first.data!.verifyKey).toEqual({
      valid: true,
      code: "VALID",
      credits: { remaining: 1 },
    });
    expect((await verifyRest(key)).credits).toEqual({ remaining: 0 });
    expect((await gql(h, verifyCredits, { key })).data!.verifyKey.code).toBe("USAGE_EXCEEDED");
    const { key: plain } = await generateKeyFor(h, acme.token);
    expect(await verifyRest(plain)).toMatchObject({ code: "VALID", credits: null });
  });

  it("a refused verification (permissions, rate limit) spends no credit", async () => {
    const { key, apiKey } = await keyWithCredits(
      { remaining: 3 },
      { permissions: ["a:read"], rateLimit: { perMinute: 1 } },
    );
    const insufficient = await gql(
      h,
      `mutation($key: String!) { verifyKey(key: $key, permissions: ["b:write"]) { code } }`,
      { key },
    );
    expect(insufficient.data!.verifyKey.code).toBe("INSUFFICIENT_PERMISSIONS");
    expect((await verifyRest(key)).code).toBe("VALID");
    expect((await verifyRest(key)).code).toBe("RATE_LIMITED");
    const row = await h.deps.prisma.apiKey.findUniqueOrThrow({ where: { id: apiKey.id } });
    expect(row.creditsRemaining).toBe(2);
  });

  it("refills to the refill amount once the interval has passed", async () => {
    const { key, apiKey } = await keyWithCredits({
      remaining: 1,
      refillAmount: 5,
      refillInterval: "DAY",
    });
    expect((await verifyRest(key)).credits).toEqual({ remaining: 0 });
    expect((await verifyRest(key)).code).toBe("USAGE_EXCEEDED");
    // A day later (fake time for the refill check only): five again, one spent.
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 24 * 3600_000 + 1000);
    const refilled = await verifyRest(key);
    vi.useRealTimers();
    expect(refilled).toMatchObject({ code: "VALID", credits: { remaining: 4 } });
    // Not again the same day.
    for (let i = 0; i < 4; i++) expect((await verifyRest(key)).code).toBe("VALID");
    expect((await verifyRest(key)).code).toBe("USAGE_EXCEEDED");

    // Monthly: a refill stamped long ago is due now.
    const monthly = await keyWithCredits({
      remaining: 0,
      refillAmount: 3,
      refillInterval: "MONTH",
    });
    expect((await verifyRest(monthly.key)).code).toBe("USAGE_EXCEEDED");
    await h.deps.prisma.apiKey.update({
      where: { id: monthly.apiKey.id },
      data: { creditsRefilledAt: new Date(Date.now() - 32 * 24 * 3600_000) },
    });
    expect(await verifyRest(monthly.key)).toMatchObject({
      code: "VALID",
      credits: { remaining: 2 },
    });
    const row = await h.deps.prisma.apiKey.findUniqueOrThrow({ where: { id: apiKey.id } });
    expect(row.creditsRefilledAt!.getTime()).toBeGreaterThan(Date.now());
  });

  it("credits are per key across instances: the database holds them", async () => {
    const { key, apiKey } = await keyWithCredits({ remaining: 2 });
    expect((await verifyRest(key)).code).toBe("VALID");
    // Another instance's cache knows nothing of this one: the count still holds.
    h.deps.keys.invalidate(apiKey.id);
    expect((await verifyRest(key)).credits).toEqual({ remaining: 0 });
    h.deps.keys.invalidate(apiKey.id);
    expect((await verifyRest(key)).code).toBe("USAGE_EXCEEDED");
  });
});
