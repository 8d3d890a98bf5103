// A lookup that reads the database while a change of that key lands must not cache what it
// read: the row may predate the change, and the cache now lives until its TTL (60 s by default).
import { describe, expect, it } from "vitest";
import { generateKeyFor } from "../helpers/harness.ts";
import { useHarness, withTenant } from "../helpers/fixtures.ts";

const h = useHarness();
const acme = withTenant(h, "Acme");

describe("key cache and concurrent changes", () => {
  it("does not cache a row read while the key was being changed", async () => {
    const generated = await generateKeyFor(h, acme.token, { name: "raced" });
    const { id, hash } = await h.deps.prisma.apiKey.findUniqueOrThrow({
      where: { id: generated.apiKey.id },
    });
    h.deps.keys.invalidate(id);
    // The read starts, then the change's invalidation arrives before it returns.
    const reading = h.deps.keys.lookup(hash);
    h.deps.keys.invalidate(id);
    expect((await reading)?.status).toBe("ACTIVE");
    // The change itself (written here without the runtime, as a notice lost in transit would
    // leave it): the next lookup reads it, because the raced read was not cached.
    await h.deps.prisma.apiKey.update({ where: { id }, data: { status: "REVOKED" } });
    expect((await h.deps.keys.lookup(hash))?.status).toBe("REVOKED");
  });

  it("caches a row read with no change under way", async () => {
    const generated = await generateKeyFor(h, acme.token, { name: "calm" });
    const { id, hash } = await h.deps.prisma.apiKey.findUniqueOrThrow({
      where: { id: generated.apiKey.id },
    });
    h.deps.keys.invalidate(id);
    expect((await h.deps.keys.lookup(hash))?.status).toBe("ACTIVE");
    await h.deps.prisma.apiKey.update({ where: { id }, data: { status: "REVOKED" } });
    // Served from the cache: proof that the first test's answer comes from the guard.
    expect((await h.deps.keys.lookup(hash))?.status).toBe("ACTIVE");
  });
});
