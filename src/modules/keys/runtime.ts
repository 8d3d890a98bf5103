// Per-process state of key verification: a bounded lookup cache (LRU), a short negative cache
// and a filter of every key's hash for unknown keys, and last-used times written in batches,
// never once per request. Every change is invalidated here and announced to the other instances
// sharing the database (notices.ts), so revocation is immediate on this instance and reaches
// the others as fast as a NOTIFY does. The NOTIFY is sent from the change's own transaction
// (transaction()), so it arrives if and only if the change commits; while the notice connection
// is down, the cache empties and entries live at most DISCONNECTED_TTL_MS.
import { LRUCache } from "lru-cache";
import { grants } from "../../access/permissions.ts";
import { effectivePermissions } from "../../access/actor.ts";
import { type JsonStatement, type Prisma, prismaJsonStatement } from "../../db/client.ts";
import type { Logger } from "../../logger.ts";
import { sweepSignatureUses } from "../../access/signature.ts";
import type { Metrics } from "../../metrics.ts";
import { ipAllowlist } from "./ip-allowlist.ts";
import { KeyFilter } from "./key-filter.ts";
import { ChangeNotices, type Notice, type NoticeHandler, type Transport } from "./notices.ts";

const FLUSH_EVERY_MS = 5_000;
/** A key's stored last-used time is at most this far behind its last use (plus one flush). */
export const LAST_USED_RESOLUTION_SECONDS = 60;
const SWEEP_EVERY_MS = 60_000;
/** How long an entry may live while notices cannot arrive (no listener connection). */
const DISCONNECTED_TTL_MS = 5_000;
/** Unknown hashes that passed the filter (its false positives) are remembered this long. */
const NEGATIVE_TTL_MS = 5_000;
const NEGATIVE_MAX = 20_000;

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
  /**
   * When this instance last queued the key's last-used time (epoch ms; 0: never). The one field
   * written after the entry is made: instance-local bookkeeping, never part of an answer.
   */
  lastUsedQueuedAt: number;
}

/**
 * One statement per cache miss: the key with its owner's and its tenant's state, joined. (The
 * same read through Prisma's relations costs three statements, which at 100,000 keys in rotation
 * is most of a verification's cost.) Column names are checked against the schema by
 * test/keys/load-key.test.ts.
 */
const LOAD_KEY = `SELECT k.id, k."tenantId", k."ownerId", k."projectId", k.kind::text AS kind, k.name,
    k.permissions, k.status::text AS status, k."expiresAt", k."rateLimitPerMinute",
    k."rateLimitPerHour", k."rateLimitPerDay", k."secretCiphertext", k."secretKeyVersion",
    k.metadata, k."ipAllowlist", k."creditsRemaining", k."creditsRefillAmount",
    k."creditsRefillInterval"::text AS "creditsRefillInterval",
    t."suspendedAt" AS "tenantSuspendedAt", t."deletedAt" AS "tenantDeletedAt",
    o.id AS "ownerRowId", o."disabledAt" AS "ownerDisabledAt", o."removedAt" AS "ownerRemovedAt",
    o."joinedAt" AS "ownerJoinedAt", o.role::text AS "ownerRole", o.permissions AS "ownerPermissions"
  FROM "ApiKey" k
  JOIN "Tenant" t ON t.id = k."tenantId"
  LEFT JOIN "User" o ON o.id = k."ownerId"
  WHERE `;

/** A change other instances must hear of (a new key is announced by keyCreated instead). */
export type Change = Exclude<Notice, { t: "new" }>;
/** Announces a change from inside its transaction: see KeyRuntime.transaction. */
export type Announce = (change: Change) => Promise<void>;
type Tx = Parameters<Parameters<Prisma["$transaction"]>[0]>[0];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface LoadedRow extends Omit<KeyRow, "owner" | "tenant"> {
  tenantSuspendedAt: Date | null;
  tenantDeletedAt: Date | null;
  ownerRowId: string | null;
  ownerDisabledAt: Date | null;
  ownerRemovedAt: Date | null;
  ownerJoinedAt: Date | null;
  ownerRole: "OWNER" | "ADMIN" | "MEMBER" | null;
  ownerPermissions: string[] | null;
}

function keyRowOf(r: LoadedRow): KeyRow {
  const {
    tenantSuspendedAt,
    tenantDeletedAt,
    ownerRowId,
    ownerDisabledAt,
    ownerRemovedAt,
    ownerJoinedAt,
    ownerRole,
    ownerPermissions,
    ...key
  } = r;
  return {
    ...key,
    tenant: { suspendedAt: tenantSuspendedAt, deletedAt: tenantDeletedAt },
    owner:
      ownerRowId && ownerRole
        ? {
            disabledAt: ownerDisabledAt,
            removedAt: ownerRemovedAt,
            joinedAt: ownerJoinedAt,
            role: ownerRole,
            permissions: ownerPermissions ?? [],
          }
        : null,
  };
}

type KeyRow = Omit<CachedKey, "ownerActive" | "tenantActive" | "ipAllow" | "metadata"> & {
  metadata: unknown;
  tenant: { suspendedAt: Date | null; deletedAt: Date | null };
  owner: {
    disabledAt: Date | null;
    removedAt: Date | null;
    joinedAt: Date | null;
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
    lastUsedQueuedAt: 0,
  };
  if (!key.ownerId) return { ...key, ownerActive: true };
  const ownerPermissions = owner ? effectivePermissions(owner) : [];
  return {
    ...key,
    // A key bound to an invitee who has not joined, or to a removed member, acts for no one.
    ownerActive: !!owner && !owner.disabledAt && !owner.removedAt && owner.joinedAt !== null,
    permissions: key.permissions.filter((p) => grants(ownerPermissions, p)),
  };
}

/** Reads one key for verification, by hash or by id. */
export async function loadKey(
  prisma: Prisma,
  where: { hash: string } | { id: string },
): Promise<CachedKey | null> {
  if ("id" in where && !UUID.test(where.id)) return null;
  const rows =
    "hash" in where
      ? await prisma.$queryRawUnsafe<LoadedRow[]>(`${LOAD_KEY}k.hash = $1`, where.hash)
      : await prisma.$queryRawUnsafe<LoadedRow[]>(`${LOAD_KEY}k.id = $1::uuid`, where.id);
  const row = rows[0];
  return row ? toCachedKey(keyRowOf(row)) : null;
}

export interface KeyRuntimeOptions {
  /** Entries of the lookup cache (KEY_CACHE_SIZE). */
  cacheSize?: number;
  /** Lifetime of an entry while changes reach this instance (KEY_CACHE_TTL_SECONDS). */
  cacheTtlMs?: number;
  /** Set: other instances share the database and hear of changes through notices. */
  databaseUrl?: string;
  redisUrl?: string;
  metrics?: Metrics;
  /** How the last-used flush's one statement runs (Database.executeJson); by default Prisma. */
  executeJson?: JsonStatement;
}

export class KeyRuntime implements NoticeHandler {
  private readonly byHash: LRUCache<string, CachedKey>;
  /** Key id → its cached hash, so a change of one key costs no scan of the cache. */
  private readonly hashById = new Map<string, string>();
  private readonly unknown: LRUCache<string, true>;
  /** Null until built (start()) and while notices may be missed: every lookup goes on. */
  private filter: KeyFilter | null = null;
  /** Hashes added while a rebuild reads the table: added to the new filter too. */
  private pendingFilter: string[] | null = null;
  private rebuilds = 0;
  /**
   * Counts changes (drops, new keys, emptied cache). A lookup that read the database while one
   * happened does not cache what it read: its row may predate the change (a revocation that
   * committed mid-read would otherwise stay cached as ACTIVE for the cache's whole TTL).
   */
  private changes = 0;
  /** Key id → when it was last used (epoch ms). */
  private readonly lastUsed = new Map<string, number>();
  private readonly sending = new Set<Promise<void>>();
  private timer?: NodeJS.Timeout;
  private sweeper?: NodeJS.Timeout;
  private started = false;
  private readonly ttlMs: number;
  private readonly executeJson: JsonStatement;
  readonly notices: ChangeNotices;
  private readonly metrics?: Metrics;
  /** Notices received, by transport; the tests wait on these. */
  readonly received = { postgres: 0, redis: 0 };
  /** How often the cache was emptied because the notice connection was lost. */
  emptiedOnDisconnect = 0;

  constructor(
    private readonly prisma: Prisma,
    private readonly logger: Logger,
    options: KeyRuntimeOptions = {},
  ) {
    this.ttlMs = options.cacheTtlMs ?? 300_000;
    this.metrics = options.metrics;
    this.executeJson = options.executeJson ?? prismaJsonStatement(prisma);
    this.byHash = new LRUCache<string, CachedKey>({
      max: options.cacheSize ?? 250_000,
      ttl: this.ttlMs,
      dispose: (key, hash) => {
        if (this.hashById.get(key.id) === hash) this.hashById.delete(key.id);
      },
    });
    this.unknown = new LRUCache<string, true>({ max: NEGATIVE_MAX, ttl: NEGATIVE_TTL_MS });
    this.notices = new ChangeNotices(prisma, logger, {
      databaseUrl: options.databaseUrl,
      redisUrl: options.redisUrl,
    });
    if (this.metrics) this.metrics.cacheSize = () => this.byHash.size;
  }

  /** A server's runtime: batches, sweeps, the key filter and (on PostgreSQL) the notice listeners. */
  start(): void {
    this.timer ??= setInterval(() => void this.flush(), FLUSH_EVERY_MS);
    this.timer.unref();
    this.sweeper ??= setInterval(() => void this.sweep(), SWEEP_EVERY_MS);
    this.sweeper.unref();
    if (this.started) return;
    this.started = true;
    // With notices the filter is built once every listener is subscribed (up()); alone on the
    // database every change passes through this process, so it is built now.
    if (this.notices.enabled) this.notices.listen(this);
    else void this.rebuildFilter();
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
    this.started = false;
    await Promise.allSettled(this.sending);
    await this.notices.stop();
    await this.flush();
  }

  /**
   * The key with this SHA-256, or null. An unknown hash costs no database query when the filter
   * is certain it is no key's, or when it was looked up a moment ago.
   */
  async lookup(hash: string): Promise<CachedKey | null> {
    return this.cached(hash) ?? this.load(hash);
  }

  /** The cached key with this SHA-256 (counted as a hit), or undefined: then load() it. */
  cached(hash: string): CachedKey | undefined {
    const hit = this.byHash.get(hash);
    if (hit) this.metrics?.cacheHit();
    return hit;
  }

  /** lookup() past the cache: the filter, the negative cache, then the database. */
  async load(hash: string): Promise<CachedKey | null> {
    if (this.filter && !this.filter.mayHave(hash)) {
      this.metrics?.filterRejections.inc();
      return null;
    }
    if (this.unknown.has(hash)) {
      this.metrics?.cacheHit();
      return null;
    }
    this.metrics?.cacheMisses.inc();
    const before = this.changes;
    const key = await loadKey(this.prisma, { hash });
    if (before !== this.changes) return key;
    if (key) {
      // While notices cannot arrive, an entry lives only as long as a missed change may last.
      this.byHash.set(hash, key, this.live ? undefined : { ttl: DISCONNECTED_TTL_MS });
      this.hashById.set(key.id, hash);
    } else {
      this.unknown.set(hash, true);
    }
    return key;
  }

  /** Changes reach this instance: alone on the database, or every notice listener subscribed. */
  private get live(): boolean {
    return !this.notices.enabled || this.notices.allConnected;
  }

  /**
   * Runs a change of keys, owners or tenants in one transaction on `prisma` (the services' client,
   * deps.prisma, whose apiKey.create announces new keys). `announce` queues the change's NOTIFY in
   * that transaction: PostgreSQL delivers it when the change commits and never when it rolls back,
   * so a process that dies (or a publish that fails) right after the commit cannot leave the
   * other instances serving a revoked key until their cache TTL. Once committed, this instance
   * drops what it cached and the notice goes out on Redis too. Both halves live here, so that no
   * service can do one and forget the other.
   */
  async transaction<T>(
    prisma: Prisma,
    change: (tx: Tx, announce: Announce) => Promise<T>,
  ): Promise<T> {
    const announced: Change[] = [];
    const result = await prisma.$transaction((tx) =>
      change(tx, async (notice) => {
        if (notice.ids.length === 0) return;
        await this.notices.publishIn(tx, notice);
        announced.push(notice);
      }),
    );
    for (const notice of announced) {
      this.drop(notice);
      this.announce(notice, { postgres: false });
    }
    return result;
  }

  /**
   * Drops every cached entry of these keys and tells the other instances, for a change written
   * outside transaction() (tests, a row changed by hand): its NOTIFY is sent after the fact.
   */
  invalidate(...keyIds: string[]): void {
    this.dropKeys(keyIds);
    this.announce({ t: "keys", ids: keyIds });
  }

  /** Drops every cached key bound to these users, as invalidate() does for keys. */
  invalidateOwners(...userIds: string[]): void {
    this.dropOwners(userIds);
    this.announce({ t: "owners", ids: userIds });
  }

  /** Drops every cached key of these tenants, as invalidate() does for keys. */
  invalidateTenant(...tenantIds: string[]): void {
    this.dropTenants(tenantIds);
    this.announce({ t: "tenants", ids: tenantIds });
  }

  /**
   * A key is about to be inserted: its hash joins the filter here and, before the row can commit,
   * on every other instance (server.ts calls this from the client's apiKey.create).
   */
  async keyCreated(hash: string): Promise<void> {
    this.changes += 1;
    this.addToFilter(hash);
    this.unknown.delete(hash);
    // Required: another instance's filter refuses a hash it never saw, so a key whose notice
    // PostgreSQL did not take must not be created (the insert hook fails, the insert never runs).
    await this.notices.publish({ t: "new", hashes: [hash] }, { postgres: true, required: true });
  }

  /** `postgres: false`: the change's transaction has sent the NOTIFY already. */
  private announce(notice: Change, transports = { postgres: true }): void {
    if (!this.notices.enabled || notice.ids.length === 0) return;
    // Not awaited by the caller (its change is committed), but by stop(): a CLI command that
    // revokes and exits must not close the database before its notice is out.
    const sending = this.notices
      .publish(notice, transports)
      .finally(() => this.sending.delete(sending));
    this.sending.add(sending);
  }

  private drop(change: Change): void {
    if (change.t === "keys") this.dropKeys(change.ids);
    else if (change.t === "owners") this.dropOwners(change.ids);
    else this.dropTenants(change.ids);
  }

  private dropKeys(keyIds: string[]): void {
    this.changes += 1;
    for (const id of keyIds) {
      const hash = this.hashById.get(id);
      if (hash !== undefined) this.byHash.delete(hash);
      this.hashById.delete(id);
    }
  }

  private dropOwners(userIds: string[]): void {
    this.changes += 1;
    const ids = new Set(userIds);
    for (const [hash, key] of this.byHash.entries())
      if (key.ownerId && ids.has(key.ownerId)) this.byHash.delete(hash);
  }

  private dropTenants(tenantIds: string[]): void {
    this.changes += 1;
    const ids = new Set(tenantIds);
    for (const [hash, key] of this.byHash.entries())
      if (ids.has(key.tenantId)) this.byHash.delete(hash);
  }

  private addToFilter(hash: string): void {
    this.filter?.add(hash);
    this.pendingFilter?.push(hash);
  }

  /** A notice from another instance. */
  notice(notice: Notice, transport: Transport): void {
    this.received[transport]++;
    this.metrics?.notices.inc({ transport });
    if (notice.t === "new") {
      for (const hash of notice.hashes) {
        this.addToFilter(hash);
        this.unknown.delete(hash);
      }
    } else {
      this.drop(notice);
    }
    this.logger.debug({ notice: notice.t, transport }, "change notice received");
  }

  /** A listener is lost: whatever changed from now on is unknown here until it is back. */
  down(transport: Transport): void {
    this.filter = null;
    this.emptyCache();
    this.emptiedOnDisconnect++;
    this.metrics?.noticeConnections.inc({ transport });
    this.logger.warn({ transport }, "change notices lost: key cache emptied, filter off");
  }

  /** A listener is back: what changed meanwhile was missed, so start over from the database. */
  up(transport: Transport): void {
    this.emptyCache();
    if (this.notices.allConnected) void this.rebuildFilter();
    this.logger.info({ transport }, "change notices connected");
  }

  private emptyCache(): void {
    this.changes += 1;
    this.byHash.clear();
    this.hashById.clear();
    this.unknown.clear();
  }

  /** Reads every key's hash into a new filter; lookups skip the filter until it is complete. */
  async rebuildFilter(): Promise<void> {
    const generation = ++this.rebuilds;
    this.pendingFilter = [];
    try {
      const rows =
        await this.prisma.$queryRawUnsafe<{ hash: string }[]>(`SELECT hash FROM "ApiKey"`);
      if (generation !== this.rebuilds) return;
      const filter = KeyFilter.of(
        rows.map((r) => r.hash),
        rows.length,
      );
      for (const hash of this.pendingFilter) filter.add(hash);
      this.pendingFilter = null;
      // A listener dropped while the table was read: the filter may already miss a key.
      if (!this.live) return;
      this.filter = filter;
      this.logger.info({ keys: rows.length, bytes: filter.bytes }, "key filter built");
    } catch (error) {
      if (generation === this.rebuilds) this.pendingFilter = null;
      this.logger.warn({ err: error }, "key filter not built: unknown keys go to the database");
    }
  }

  /** Whether the filter answers lookups (tests and /metrics). */
  get filterActive(): boolean {
    return this.filter !== null;
  }

  get cacheSize(): number {
    return this.byHash.size;
  }

  /**
   * Queues the key's last-used time, at most once per LAST_USED_RESOLUTION_SECONDS per cached
   * entry: the flush would not write a more recent one anyway (the stored time still trails the
   * last use by less than the resolution). A key in use then costs a comparison per request
   * rather than a map update, and a flush carries each key once a minute rather than every
   * five seconds: at 100,000 keys in rotation, a fraction of the rows PostgreSQL joined per flush.
   */
  touch(key: Pick<CachedKey, "id" | "lastUsedQueuedAt">): void {
    const now = Date.now();
    if (now - key.lastUsedQueuedAt < LAST_USED_RESOLUTION_SECONDS * 1000) return;
    key.lastUsedQueuedAt = now;
    this.lastUsed.set(key.id, now);
  }

  /** One statement for every key used since the last flush. */
  async flush(): Promise<void> {
    if (this.lastUsed.size === 0) return;
    const batch = [...this.lastUsed.entries()];
    this.lastUsed.clear();
    try {
      await this.executeJson(
        // Only rows a minute or more behind are written: last-used is shown to the minute, and
        // with 100,000 keys in rotation rewriting every used row each flush was most of the
        // database's work (each rewrite a dead row for vacuum). One JSON parameter rather than
        // two arrays: Prisma's driver adapter converts array parameters element by element.
        `UPDATE "ApiKey" AS k SET "lastUsedAt" = to_timestamp(u.t / 1000.0)
         FROM json_to_recordset($1::json) AS u(id uuid, t bigint)
         WHERE k.id = u.id AND (k."lastUsedAt" IS NULL OR k."lastUsedAt" <= to_timestamp(u.t / 1000.0) - interval '${LAST_USED_RESOLUTION_SECONDS} seconds')`,
        JSON.stringify(batch.map(([id, at]) => ({ id, t: at }))),
      );
    } catch (error) {
      this.logger.warn({ err: error, keys: batch.length }, "last-used flush failed");
    }
  }
}
