// Change notices between gateway instances that share one PostgreSQL database: every change the
// key runtime invalidates locally is announced, and every instance drops what it cached of it.
// PostgreSQL LISTEN/NOTIFY on a dedicated connection (DATABASE_URL; a change's NOTIFY is sent
// from its own transaction, publishIn), and Redis pub/sub when REDIS_URL is set as well. A lost
// listener connection is reported to the runtime (which empties its cache and stops trusting its
// key filter) and retried until it is back.
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import pg from "pg";
import type { Prisma } from "../../db/client.ts";
import type { Logger } from "../../logger.ts";

export const PG_CHANNEL = "keygate_changes";
export const REDIS_CHANNEL = "keygate:changes";
/** application_name of the LISTEN connections, as pg_stat_activity shows them. */
export const LISTENER_APPLICATION = "keygate-notices";

export type Notice =
  | { t: "keys"; ids: string[] }
  | { t: "owners"; ids: string[] }
  | { t: "tenants"; ids: string[] }
  /** Hashes of keys about to be inserted: added to every instance's key filter. */
  | { t: "new"; hashes: string[] };

export type Transport = "postgres" | "redis";

export interface NoticeHandler {
  notice(notice: Notice, transport: Transport): void;
  /** The listener is gone: notices may be missed from now on. */
  down(transport: Transport): void;
  /** The listener is (again) subscribed: notices arrive from now on. */
  up(transport: Transport): void;
}

/** NOTIFY payloads are limited to 8000 bytes: ids go out in slices well below it. */
const IDS_PER_NOTICE = 100;
const RETRY_MIN_MS = 200;
const RETRY_MAX_MS = 5_000;
const HEARTBEAT_MS = 5_000;
const NOTIFY = `SELECT pg_notify('${PG_CHANNEL}', $1)`;

function slices(notice: Notice): Notice[] {
  const list = notice.t === "new" ? notice.hashes : notice.ids;
  if (list.length <= IDS_PER_NOTICE) return [notice];
  const out: Notice[] = [];
  for (let i = 0; i < list.length; i += IDS_PER_NOTICE) {
    const part = list.slice(i, i + IDS_PER_NOTICE);
    out.push(notice.t === "new" ? { t: "new", hashes: part } : { t: notice.t, ids: part });
  }
  return out;
}

function parse(payload: string | undefined, self: string): Notice | null {
  if (!payload) return null;
  try {
    const value = JSON.parse(payload) as { o?: string; n?: Notice };
    if (value.o === self || !value.n) return null;
    const n = value.n;
    const list = n.t === "new" ? n.hashes : n.ids;
    if (!["keys", "owners", "tenants", "new"].includes(n.t) || !Array.isArray(list)) return null;
    if (!list.every((v) => typeof v === "string")) return null;
    return n;
  } catch {
    return null;
  }
}

interface Listener {
  readonly transport: Transport;
  readonly connected: boolean;
  stop(): Promise<void>;
}

/** LISTEN on its own connection (never one of Prisma's pool), with reconnects and a heartbeat. */
class PgListener implements Listener {
  readonly transport = "postgres" as const;
  connected = false;
  private client?: pg.Client;
  private stopped = false;
  private retryMs = RETRY_MIN_MS;
  private heartbeat?: NodeJS.Timeout;
  private retry?: NodeJS.Timeout;

  constructor(
    private readonly url: string,
    private readonly self: string,
    private readonly handler: NoticeHandler,
    private readonly logger: Logger,
  ) {
    void this.connect();
  }

  /** The backend pid of the LISTEN connection (tests terminate it). */
  pid?: number;

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client({
      connectionString: this.url,
      keepAlive: true,
      application_name: LISTENER_APPLICATION,
    });
    this.client = client;
    let lost = false;
    const onLost = (error?: unknown) => {
      if (lost) return;
      lost = true;
      if (this.heartbeat) clearInterval(this.heartbeat);
      client.removeAllListeners("notification");
      client.end().catch(() => {});
      if (this.connected) {
        this.connected = false;
        this.logger.warn({ err: error }, "change notices: PostgreSQL listener lost");
        this.handler.down("postgres");
      }
      this.scheduleRetry();
    };
    client.on("error", onLost);
    client.on("end", () => onLost());
    client.on("notification", (message) => {
      if (message.channel !== PG_CHANNEL) return;
      const notice = parse(message.payload, this.self);
      if (notice) this.handler.notice(notice, "postgres");
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${PG_CHANNEL}`);
      const { rows } = await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
      this.pid = rows[0]?.pid;
    } catch (error) {
      if (!lost) {
        this.logger.warn({ err: error }, "change notices: PostgreSQL listener cannot connect");
        onLost(error);
      }
      return;
    }
    if (this.stopped) {
      await client.end().catch(() => {});
      return;
    }
    this.retryMs = RETRY_MIN_MS;
    this.connected = true;
    // A half-open connection sends no error: a query that does not come back is the sign.
    this.heartbeat = setInterval(() => {
      const timer = setTimeout(() => onLost(new Error("heartbeat timed out")), HEARTBEAT_MS);
      client.query("SELECT 1").then(
        () => clearTimeout(timer),
        (error) => {
          clearTimeout(timer);
          onLost(error);
        },
      );
    }, HEARTBEAT_MS).unref();
    this.logger.info({ pid: this.pid }, "change notices: listening on PostgreSQL");
    this.handler.up("postgres");
  }

  private scheduleRetry(): void {
    if (this.stopped || this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      void this.connect();
    }, this.retryMs);
    this.retry.unref();
    this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (this.retry) clearTimeout(this.retry);
    const client = this.client;
    this.client = undefined;
    this.connected = false;
    if (client) {
      client.removeAllListeners("end");
      client.removeAllListeners("error");
      client.on("error", () => {});
      await client.end().catch(() => {});
    }
  }
}

/** SUBSCRIBE on its own Redis connection; ioredis reconnects and resubscribes by itself. */
class RedisListener implements Listener {
  readonly transport = "redis" as const;
  connected = false;
  private readonly redis: Redis;

  constructor(url: string, self: string, handler: NoticeHandler, logger: Logger) {
    this.redis = new Redis(url, { connectTimeout: 2000, maxRetriesPerRequest: null });
    this.redis.on("error", () => {
      // Reported by "close"; ioredis keeps reconnecting.
    });
    this.redis.on("message", (channel: string, payload: string) => {
      if (channel !== REDIS_CHANNEL) return;
      const notice = parse(payload, self);
      if (notice) handler.notice(notice, "redis");
    });
    this.redis.on("close", () => {
      if (!this.connected) return;
      this.connected = false;
      logger.warn("change notices: Redis subscriber lost");
      handler.down("redis");
    });
    // ioredis emits "ready" after a reconnect once its subscriptions are restored.
    this.redis.on("ready", () => {
      if (this.connected) return;
      void this.redis.subscribe(REDIS_CHANNEL).then(
        () => {
          this.connected = true;
          handler.up("redis");
        },
        (error) => logger.warn({ err: error }, "change notices: Redis subscribe failed"),
      );
    });
  }

  async stop(): Promise<void> {
    this.connected = false;
    this.redis.removeAllListeners("close");
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

export interface NoticeOptions {
  databaseUrl?: string;
  redisUrl?: string;
}

/**
 * Publishing works in every process that changes keys (the CLI too); listening only in a server
 * (`listen`). Without DATABASE_URL (the embedded database admits one process) nothing is sent.
 */
export class ChangeNotices {
  /** Who sent a notice: an instance ignores its own. */
  readonly self = randomUUID();
  private listeners: Listener[] = [];
  private publisher?: Redis;

  constructor(
    private readonly prisma: Prisma,
    private readonly logger: Logger,
    private readonly options: NoticeOptions,
  ) {}

  get enabled(): boolean {
    return Boolean(this.options.databaseUrl);
  }

  /** How many listeners this instance runs once started. */
  get transports(): Transport[] {
    if (!this.options.databaseUrl) return [];
    return this.options.redisUrl ? ["postgres", "redis"] : ["postgres"];
  }

  listen(handler: NoticeHandler): void {
    if (!this.options.databaseUrl || this.listeners.length) return;
    this.listeners.push(new PgListener(this.options.databaseUrl, this.self, handler, this.logger));
    if (this.options.redisUrl)
      this.listeners.push(
        new RedisListener(this.options.redisUrl, this.self, handler, this.logger),
      );
  }

  /** Every started listener is subscribed: no notice can be missed right now. */
  get allConnected(): boolean {
    return this.listeners.length > 0 && this.listeners.every((l) => l.connected);
  }

  /** The PostgreSQL backend pid of the LISTEN connection, when connected. */
  get listenerPid(): number | undefined {
    return this.listeners.find((l): l is PgListener => l instanceof PgListener)?.pid;
  }

  /** The notice as NOTIFY / PUBLISH payloads, sliced to stay below NOTIFY's 8000 bytes. */
  private payloads(notice: Notice): string[] {
    return slices(notice).map((part) => JSON.stringify({ o: this.self, n: part }));
  }

  /**
   * Queues the notice with NOTIFY on the connection of the transaction that makes the change:
   * PostgreSQL delivers it when that transaction commits, and never if it rolls back. Unlike
   * publish(), it throws: a failed statement aborts the transaction anyway, so the change fails
   * with its notice rather than commit without it.
   */
  async publishIn(tx: Pick<Prisma, "$executeRawUnsafe">, notice: Notice): Promise<void> {
    if (!this.enabled) return;
    // One statement at a time: a transaction's connection runs them in order anyway.
    for (const payload of this.payloads(notice)) await tx.$executeRawUnsafe(NOTIFY, payload);
  }

  /**
   * Sends the notice on every configured transport, or on Redis only when PostgreSQL already has
   * it from the change's transaction (publishIn). Never throws: a notice that cannot be sent
   * leaves the other instances to their cache TTL, which is logged.
   */
  async publish(
    notice: Notice,
    transports: { postgres: boolean; required?: boolean } = { postgres: true },
  ): Promise<void> {
    if (!this.enabled) return;
    const pgSends: Promise<unknown>[] = [];
    const redisSends: Promise<unknown>[] = [];
    for (const payload of this.payloads(notice)) {
      if (transports.postgres) pgSends.push(this.prisma.$executeRawUnsafe(NOTIFY, payload));
      if (this.options.redisUrl) {
        this.publisher ??= this.redisPublisher(this.options.redisUrl);
        redisSends.push(this.publisher.publish(REDIS_CHANNEL, payload));
      }
    }
    const [pg, redis] = await Promise.all([
      Promise.allSettled(pgSends),
      Promise.allSettled(redisSends),
    ]);
    const pgFailed = pg.find((r): r is PromiseRejectedResult => r.status === "rejected");
    const failed =
      pgFailed ?? redis.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed)
      this.logger.warn(
        { err: failed.reason, notice: notice.t },
        "change notice not sent: other instances rely on their cache TTL",
      );
    // Every instance listens on PostgreSQL; Redis only doubles it. A required notice that
    // PostgreSQL did not take fails its caller.
    if (transports.required && pgFailed) throw pgFailed.reason;
  }

  private redisPublisher(url: string): Redis {
    const redis = new Redis(url, { connectTimeout: 2000, maxRetriesPerRequest: 1 });
    redis.on("error", () => {});
    return redis;
  }

  async stop(): Promise<void> {
    const listeners = this.listeners;
    this.listeners = [];
    await Promise.all(listeners.map((l) => l.stop()));
    if (this.publisher) {
      const publisher = this.publisher;
      this.publisher = undefined;
      await publisher.quit().catch(() => publisher.disconnect());
    }
  }
}
