// Rate limits shared through Redis (REDIS_URL): two gateway instances count together.
import { randomUUID } from "node:crypto";
import net from "node:net";
import { describe, expect, it } from "vitest";
import { Limiters } from "../../src/rate-limit/limiters.ts";
import { gql, seedTenant, type Harness } from "../helpers/harness.ts";
import { useHarness } from "../helpers/fixtures.ts";

const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

async function redisReachable(): Promise<boolean> {
  const url = new URL(REDIS_URL);
  return new Promise((resolve) => {
    const socket = net.connect(Number(url.port || 6379), url.hostname);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
    setTimeout(() => {
      socket.destroy();
      resolve(false);
    }, 1000).unref();
  });
}

// CI machines run Redis at 127.0.0.1:6379; elsewhere the file reports itself skipped.
const reachable = await redisReachable();

describe.skipIf(!reachable)("Redis-backed rate limits", () => {
  const one = useHarness({ REDIS_URL });
  const two = useHarness({ REDIS_URL });

  it("shares counters between instances", async () => {
    const a = Limiters.create(REDIS_URL);
    const b = Limiters.create(REDIS_URL);
    try {
      const key = `shared-${randomUUID()}`;
      const policy = { points: 3, durationSeconds: 60 };
      expect((await a.consumeCustom("test", policy, key)).remaining).toBe(2);
      expect((await b.consumeCustom("test", policy, key)).remaining).toBe(1);
      expect((await a.consumeCustom("test", policy, key)).remaining).toBe(0);
      await expect(b.consumeCustom("test", policy, key)).rejects.toMatchObject({
        code: "RATE_LIMITED",
        retryAfter: expect.any(Number),
      });
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("limits magic-link requests per email across two gateways", async () => {
    const email = `redis-${randomUUID()}@limits.test`;
    const request = "mutation($e: EmailAddress!) { requestMagicLink(email: $e) { message } }";
    const codes: (string | undefined)[] = [];
    for (let i = 0; i < 6; i++)
      codes.push(
        (await gql(i % 2 ? two : one, request, { e: email })).errors?.[0]!.extensions?.code,
      );
    expect(codes.slice(0, 5).every((c) => c === undefined)).toBe(true);
    expect(codes[5]).toBe("RATE_LIMITED");
  });

  it("applies a key's own per-minute limit across instances", async () => {
    const tenant = await seedTenant(one.deps, "RedisTenant");
    const created = await gql(
      one,
      'mutation { generateApiKey(input: { name: "limited", rateLimit: { perMinute: 2 } }) { key } }',
      {},
      tenant.token,
    );
    const key = created.data!.generateApiKey.key;
    const verify = (h: Harness) =>
      Promise.resolve(
        h.app.request("/v1/keys/verify", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ key }),
        }),
      ).then((r) => r.json());
    // The second instance has no rows of the first one's database: verify on the first, count on both.
    expect((await verify(one)).code).toBe("VALID");
    expect((await verify(one)).code).toBe("VALID");
    expect((await verify(one)).code).toBe("RATE_LIMITED");
  });
});
