// Per-process state of key verification: a short-lived lookup cache (invalidated here on
// every change, so revocation is immediate on this instance and bounded by CACHE_TTL_MS on
// others) and last-used times written in batches, never once per request.
import { grants } from "../../access/permissions.ts";
import { effectivePermissions } from "../../access/actor.ts";
import type { Prisma } from "../../db/client.ts";
import type { Logger } from "../../logger.ts";
import { sweepSignatureUses } from "../../access/signature.ts";
import { ipAllowlist } from "./ip-allowlist.ts";

const CACHE_TTL_MS = 5_000;
const FLUSH_EVERY_MS = 5_000;
const CACHE_MAX = 50_000;
const SWEEP_EVERY_MS = 60_000;

export interface CachedKey {
  id: string;
  tenantId: string;
  ownerId: string | null;
  projectId: string | null;
  kind: "API_KEY" | "SECURE_API_KEY" | "PROJECT_KEY";
  name: string;
  /** Effective permissions: a user-bound key never holds more than its owner does now. */
  permissions: string[];
  /** False when the key is bound to a user who is disabled: the key is unusable. */
  ownerActive: boolean;
  status: "ACTIVE" | "DISABLED" | "REVOKED" | "DELETED";
  expiresAt: Date | null;
  rateLimitPerMinute: number | null;
  rateLimitPerHour: number | null;
  rateLimitPerDay: number | null;
  secretCiphertext: string | null;
  secretKeyVersion: number | null;
  /** A JSON object returned by verification, or null. */
  metadata: Record<string, unknown> | null;
  /** CIDRs the key may be used from; empty: anywhere. */
  ipAllowlist: string[];
  /** `ipAllowlist` compiled once per cache entry; null when the list is empty. */
  ipAllow: ((ip: string) => boolean) | null;
  /** Remaining uses when the key has credits; null: unlimited. Spent in the database, never here. */
  creditsRemaining: number | null;
  creditsRefillAmount: number | null;
  creditsRefillInterval: "DAY" | "MONTH" | null;
  /** False when the key's tenant is suspended or deleted: every key of it is unusable. */
  tenantActive: boolean;
}

const cachedKeySelect = {
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
  metadata: true,
  ipAllowlist: true,
  creditsRemaining: true,
  creditsRefillAmount: true,
  creditsRefillInterval: true,
  owner: { select: { disabledAt: true, role: true, permissions: true } },
  tenant: { select: { suspendedAt: true, deletedAt: true } },
} as const;

type KeyRow = Omit<CachedKey, "ownerActive" | "tenantActive" | "ipAllow" | "metadata"> & {
  metadata: unknown;
  tenant: { suspendedAt: Date | null; deletedAt: Date | null };
  owner: {
    disabledAt: Date | null;
    role: "OWNER" | "ADMIN" | "MEMBER";
    permissions: string[];
  } | null;
};

/** A key row as verification sees it: its owner's and its tenant's state folded in. */
function toCachedKey(row: KeyRow): CachedKey {
  const { owner, tenant, metadata, ...rest } = row;
  const key = {
    ...rest,
    metadata:
      metadata && typeof metadata === "object" && !Array.isArray(metadata)
        ? (metadata as Record<string, unknown>)
        : null,
    ipAllow: rest.ipAllowlist.length ? ipAllowlist(rest.ipAllowlist) : null,
    tenantActive: !tenant.suspendedAt && !tenant.deletedAt,
  };
  if (!key.ownerId) return { ...key, ownerActive: true };
  const ownerPermissions = owner ? effectivePermissions(owner) : [];
  return {
    ...key,
    ownerActive: !!owner && !owner.disabledAt,
    permissions: key.permissions.filter((p) => grants(ownerPermissions, p)),
  };
}

/** Reads one key for verification, by hash or by id. */
export async function loadKey(
  prisma: Prisma,
  where: { hash: string } | { id: string },
): Promise<CachedKey | null> {
  const row = await prisma.apiKey.findUnique({ where, select: cachedKeySelect });
  return row ? toCachedKey(row as KeyRow) : null;
}

export class KeyRuntime {
  private readonly byHash = new Map<string, { key: CachedKey; at: number }>();
  private readonly lastUsed = new Map<string, Date>();
  private timer?: NodeJS.Timeout;
  private sweeper?: NodeJS.Timeout;

  constructor(
    private readonly prisma: Prisma,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.flush(), FLUSH_EVERY_MS);
    this.timer.unref();
    this.sweeper ??= setInterval(() => void this.sweep(), SWEEP_EVERY_MS);
    this.sweeper.unref();
  }

  /** Forgets one-use signature records past their window; they would be refused for age anyway. */
  async sweep(): Promise<void> {
    try {
      await sweepSignatureUses({ prisma: this.prisma });
    } catch (error) {
      this.logger.warn({ err: error }, "signature sweep failed");
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.sweeper) clearInterval(this.sweeper);
    this.timer = this.sweeper = undefined;
    await this.flush();
  }

  async lookup(hash: string): Promise<CachedKey | null> {
    const hit = this.byHash.get(hash);
    if (hit && Date.now() - hit.at < CACHE_TTL_MS) return hit.key;
    const key = await loadKey(this.prisma, { hash });
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

  /** Drops every cached key bound to these users: called by every change of a user. */
  invalidateOwners(...userIds: string[]): void {
    const ids = new Set(userIds);
    for (const [hash, entry] of this.byHash)
      if (entry.key.ownerId && ids.has(entry.key.ownerId)) this.byHash.delete(hash);
  }

  /** Drops every cached key of these tenants: called when a tenant is suspended, restored or deleted. */
  invalidateTenant(...tenantIds: string[]): void {
    const ids = new Set(tenantIds);
    for (const [hash, entry] of this.byHash)
      if (ids.has(entry.key.tenantId)) this.byHash.delete(hash);
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
