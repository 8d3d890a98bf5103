// Issue 14: the key filter never refuses an existing key (property test), refuses nearly every
// other hash, and in the runtime a flood of well-formed unknown keys costs no database query.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { generateKey } from "../../src/crypto/key-format.ts";
import { sha256Hex } from "../../src/crypto/tokens.ts";
import { KeyFilter } from "../../src/modules/keys/key-filter.ts";
import { verifyKey } from "../../src/modules/keys/verify.ts";
import { generateApiKey } from "../../src/modules/keys/generate.ts";
import { useHarness, withTenant } from "../helpers/fixtures.ts";

const hashes = fc.array(
  fc.string({ minLength: 0, maxLength: 40 }).map((s) => sha256Hex(s)),
  { maxLength: 3000 },
);

describe("KeyFilter", () => {
  it("never rejects a hash it was given (generated hashes, growing past its capacity)", () => {
    fc.assert(
      fc.property(hashes, fc.integer({ min: 0, max: 200 }), (list, expected) => {
        // Small expected counts make the filter add layers while the list goes in.
        const filter = new KeyFilter(expected);
        for (const hash of list) filter.add(hash);
        return list.every((hash) => filter.mayHave(hash));
      }),
      { numRuns: 60 },
    );
  });

  it("never rejects a real key's hash, built at once or one by one", () => {
    fc.assert(
      fc.property(
        fc.array(fc.stringMatching(/^[a-z][a-z0-9]{1,11}$/), { minLength: 1, maxLength: 500 }),
        (prefixes) => {
          const keyHashes = prefixes.map((p) => sha256Hex(generateKey(p)));
          const built = KeyFilter.of(keyHashes, keyHashes.length);
          return keyHashes.every((h) => built.mayHave(h));
        },
      ),
      { numRuns: 40 },
    );
  });

  it("keeps every hash through layer growth (10,000 keys into a filter sized for none)", () => {
    const filter = new KeyFilter(0);
    const list = Array.from({ length: 10_000 }, () => sha256Hex(generateKey("acme")));
    for (const hash of list) filter.add(hash);
    expect(list.every((hash) => filter.mayHave(hash))).toBe(true);
    expect(filter.size).toBe(10_000);
  });

  it("refuses almost every other hash (false positives well under 1%)", () => {
    const list = Array.from({ length: 20_000 }, () => sha256Hex(generateKey("acme")));
    const filter = KeyFilter.of(list, list.length);
    let positives = 0;
    for (let i = 0; i < 20_000; i++)
      if (filter.mayHave(sha256Hex(generateKey("acme")))) positives++;
    expect(positives / 20_000).toBeLessThan(0.01);
  });
});

describe("KeyRuntime with its filter", () => {
  const h = useHarness();
  const acme = withTenant(h, "Acme");

  it("answers unknown keys without a database query and finds every key, old or new", async () => {
    const actor = {
      kind: "user" as const,
      userId: acme.owner.id,
      tenantId: acme.tenant.id,
      email: acme.owner.email,
      role: "OWNER" as const,
      isPlatformAdmin: false,
      permissions: ["*"],
    };
    const before = await generateApiKey(h.deps, actor, { name: "before start" });
    h.deps.keys.start();
    const deadline = Date.now() + 10_000;
    while (!h.deps.keys.filterActive && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 10));
    expect(h.deps.keys.filterActive).toBe(true);

    // A key made after the filter was built joined it through the client hook (inside the
    // service's transaction), before anyone could present it.
    const after = await generateApiKey(h.deps, actor, { name: "after start" });
    expect((await verifyKey(h.deps, before.key)).code).toBe("VALID");
    expect((await verifyKey(h.deps, after.key)).code).toBe("VALID");

    const misses = async () => (await h.deps.metrics.cacheMisses.get()).values[0]?.value ?? 0;
    const rejections = async () =>
      (await h.deps.metrics.filterRejections.get()).values[0]?.value ?? 0;
    const missesBefore = await misses();
    const rejectionsBefore = await rejections();
    const prefix = before.key.split("_")[0] ?? "acme";
    for (let i = 0; i < 1000; i++) {
      // Well-formed, valid checksum, never issued.
      expect((await verifyKey(h.deps, generateKey(prefix))).code).toBe("NOT_FOUND");
    }
    // At 0.05% false positives, a few may reach the database; 1000 would without the filter.
    expect((await misses()) - missesBefore).toBeLessThan(10);
    expect((await rejections()) - rejectionsBefore).toBeGreaterThan(990);
    await h.deps.keys.stop();
  });
});
