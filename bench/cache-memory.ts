// Memory per key-cache entry, measured: N entries as the key runtime holds them (an LRU entry
// with a TTL, the id index, a CachedKey with one permission, no metadata, no allowlist), heap
// used after a full GC, divided by N.
import { createHash, randomUUID } from "node:crypto";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { LRUCache } from "lru-cache";
import type { CachedKey } from "../src/modules/keys/runtime.ts";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

function heap(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

export function measureCacheEntryBytes(n = 100_000): number {
  const tenantId = randomUUID();
  const before = heap();
  const cache = new LRUCache<string, CachedKey>({ max: n, ttl: 60_000 });
  const byId = new Map<string, string>();
  for (let i = 0; i < n; i++) {
    const id = randomUUID();
    const hash = createHash("sha256").update(id).digest("hex");
    cache.set(hash, {
      id,
      tenantId,
      ownerId: null,
      projectId: null,
      kind: "API_KEY",
      name: `key ${i}`,
      permissions: ["transactions:read"],
      ownerActive: true,
      status: "ACTIVE",
      expiresAt: null,
      rateLimitPerMinute: null,
      rateLimitPerHour: null,
      rateLimitPerDay: null,
      secretCiphertext: null,
      secretKeyVersion: null,
      metadata: null,
      ipAllowlist: [],
      ipAllow: null,
      creditsRemaining: null,
      creditsRefillAmount: null,
      creditsRefillInterval: null,
      tenantActive: true,
      lastUsedQueuedAt: 0,
    });
    byId.set(id, hash);
  }
  const after = heap();
  if (cache.size !== n || byId.size !== n) throw new Error("cache lost entries");
  return Math.round((after - before) / n);
}
