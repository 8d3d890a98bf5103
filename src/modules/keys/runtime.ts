// Per-process state of key verification: a short-lived lookup cache (invalidated here on
// every change, so revocation is immediate on this instance and bounded by CACHE_TTL_MS on
// others) and last-used times written in batches, never once per request.
import type { Prisma } from "../../db/client.ts";
import type { Logger } from "../../logger.ts";

export const CACHE_TTL_MS = 5_000;
const FLUSH_EVERY_MS = 5_000;
const CACHE_MAX = 50_000;

export interface CachedKey {
  id: string;
  tenantId: string;
  ownerId: string | null;
  projectId: string | null;
  kind: "API_KEY" | "SECURE_API_KEY" | "PROJECT_KEY";
  name: string;
  permissions: string[];
  status: "ACTIVE" | "DISABLED" | "REVOKED" | "DELETED";
  expiresAt: Date | null;
  rateLimitPerMinute: number | null;
  rateLimitPerHour: number | null;
  rateLimitPerDay: number | null;
  secretCiphertext: string | null;
  secretKeyVersion: number | null;
}

export const cachedKeySelect = {
  id: true,
  tenantId: true,
  ownerId: true,
  projectId: true,
  kind: true,
  name: true,
  permissions: true,
  status: true,
  expiresAt: true,
  rateLimitPerMinute: true,
  rateLimitPerHour: true,
  rateLimitPerDay: true,
  secretCiphertext: true,
  secretKeyVersion: true,
} as const;

export class KeyRuntime {
  private readonly byHash = new Map<string, { key: CachedKey; at: number }>();
  private readonly lastUsed = new Map<string, Date>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly prisma: Prisma,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.flush(), FLUSH_EVERY_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  async lookup(hash: string): Promise<CachedKey | null> {
    const hit = this.byHash.get(hash);
    if (hit && Date.now() - hit.at < CACHE_TTL_MS) return hit.key;
    const key = (await this.prisma.apiKey.findUnique({ where: { hash }, select: cachedKeySelect })) as CachedKey | null;
    if (key) {
      if (this.byHash.size >= CACHE_MAX) this.byHash.clear();
      this.byHash.set(hash, { key, at: Date.now() });
    } else {
      this.byHash.delete(hash);
    }
    return key;
  }

  /** Drops every cached entry of these keys: called by every change of a key. */
  invalidate(...keyIds: string[]): void {
    const ids = new Set(keyIds);
    for (const [hash, entry] of this.byHash) if (ids.has(entry.key.id)) this.byHash.delete(hash);
  }

  touch(keyId: string): void {
    this.lastUsed.set(keyId, new Date());
  }

  /** One statement for every key used since the last flush. */
  async flush(): Promise<void> {
    if (this.lastUsed.size === 0) return;
    const batch = [...this.lastUsed.entries()];
    this.lastUsed.clear();
    const ids = batch.map(([id]) => id);
    const times = batch.map(([, at]) => at.toISOString());
    try {
      await this.prisma.$executeRawUnsafe(
        `UPDATE "ApiKey" AS k SET "lastUsedAt" = GREATEST(COALESCE(k."lastUsedAt", u.t), u.t)
         FROM unnest($1::uuid[], $2::timestamptz[]) AS u(id, t) WHERE k.id = u.id`,
        ids,
        times,
      );
    } catch (error) {
      this.logger.warn({ err: error, keys: ids.length }, "last-used flush failed");
    }
  }
}
