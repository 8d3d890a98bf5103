// One Prisma client over either driver adapter: embedded PGlite (default) or
// a PostgreSQL server (DATABASE_URL). Same schema, same migrations.
import path from "node:path";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { PGlite } from "@electric-sql/pglite";
import { PrismaPGlite } from "pglite-prisma-adapter";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import type { SqlMigrationAwareDriverAdapterFactory } from "@prisma/driver-adapter-utils";
import { PrismaClient } from "../generated/prisma/client.ts";
import { applyMigrations } from "./migrate.ts";
import { lockDataDir, type DataDirLock, type LockRole } from "./data-dir-lock.ts";
import { makePrivate, PrivateNodeFS } from "./private-files.ts";

export type Prisma = InstanceType<typeof PrismaClient>;

/**
 * PGlite's start parameters plus two PostgreSQL settings sized for one embedded backend, not for a
 * server: PostgreSQL touches all of shared_buffers when it starts, and a WASM heap never gives a
 * page back, so each megabyte here stays resident for the life of the process. The default 128 MB
 * of shared_buffers held about 120 MiB of the gateway's RSS; 16 MB holds 2048 pages, and a page
 * that does not fit is one read from the OS page cache (NODEFS). maintenance_work_mem (default
 * 64 MB) bounds what a CREATE INDEX in a migration takes before it sorts on disk, so it cannot
 * leave 64 MiB resident behind it. Durability is not touched: WAL and commits are as before.
 */
const startParams = [
  ...PGlite.defaultStartParams,
  "-c",
  "shared_buffers=16MB",
  "-c",
  "maintenance_work_mem=16MB",
];

export type DatabaseOptions =
  | { kind: "postgres"; url: string }
  /**
   * `dataDir` undefined: in memory. `loadDataDir`: start from a dumped image (tests).
   * A data directory is locked for this process (DataDirLockedError if another holds it);
   * `role` says who holds it in the other process's message.
   */
  | { kind: "pglite"; dataDir?: string; loadDataDir?: Blob | File; role?: LockRole };

/**
 * Runs one statement whose only parameter, $1, is JSON text; answers the rows it changed.
 */
export type JsonStatement = (sql: string, json: string) => Promise<number>;

/** The same through Prisma: for services given a client only (tests' stand-ins). */
export const prismaJsonStatement =
  (prisma: Pick<Prisma, "$executeRawUnsafe">): JsonStatement =>
  (sql, json) =>
    prisma.$executeRawUnsafe(sql, json);

export interface Database {
  kind: "postgres" | "pglite";
  prisma: Prisma;
  adapter: SqlMigrationAwareDriverAdapterFactory;
  pglite?: PGlite;
  /** PostgreSQL: the pool Prisma queries through (its use is a metric). */
  pool?: pg.Pool;
  /**
   * A JsonStatement straight on the driver (the pool, or PGlite, which queues it behind any open
   * transaction): for the flushes' batches of several MB. Prisma's raw queries serialise their
   * parameters to JSON and parse them back, two more passes over the whole batch, which were a
   * third of a flush's CPU at 33,000 keys (`npx tsx bench/flush-cost.ts`).
   */
  executeJson: JsonStatement;
  migrate(log?: (line: string) => void): Promise<string[]>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  let adapter: SqlMigrationAwareDriverAdapterFactory;
  let pglite: PGlite | undefined;
  let lock: DataDirLock | undefined;
  let pgliteDir: string | undefined;
  let sweep: NodeJS.Timeout | undefined;
  let pool: pg.Pool | undefined;
  if (options.kind === "postgres") {
    pool = new pg.Pool({ connectionString: options.url, max: 20 });
    // An idle connection the server drops must not crash the process; the next query reconnects.
    pool.on("error", () => {});
    adapter = new PrismaPg(pool);
  } else {
    const loadDataDir = options.loadDataDir ? { loadDataDir: options.loadDataDir } : {};
    if (options.dataDir) {
      const dataDir = path.resolve(options.dataDir);
      await mkdir(path.dirname(dataDir), { recursive: true, mode: 0o700 });
      // Before PGlite touches a file: a second process must fail here, having written nothing.
      lock = lockDataDir(dataDir, options.role ?? "cli");
      try {
        await mkdir(dataDir, { mode: 0o700 }).catch((error: NodeJS.ErrnoException) => {
          if (error.code !== "EEXIST") throw error;
        });
        await makePrivate(dataDir);
        // On an empty directory PGlite runs initdb through two more WASM instances (about 330 MiB)
        // that the instance it returns keeps reachable: a throwaway first instance creates the
        // database and takes them along when it is closed.
        const fresh = !existsSync(path.join(dataDir, "PG_VERSION"));
        if (fresh) {
          const first = { fs: new PrivateNodeFS(dataDir), startParams, ...loadDataDir };
          await (await PGlite.create(first)).close();
        }
        const fs = new PrivateNodeFS(dataDir);
        pglite = await PGlite.create({ fs, startParams, ...(fresh ? {} : loadDataDir) });
        // Without the hook (another PGlite build) new files are private within a minute instead.
        if (!fs.hooked)
          sweep = setInterval(() => void makePrivate(dataDir).catch(() => {}), 60_000).unref();
        pgliteDir = dataDir;
      } catch (error) {
        lock.release();
        throw error;
      }
    } else {
      pglite = await PGlite.create(undefined, { startParams, ...loadDataDir });
    }
    adapter = new PrismaPGlite(pglite);
  }
  const prisma = new PrismaClient({ adapter }) as Prisma;
  let closed = false;
  return {
    kind: options.kind,
    prisma,
    adapter,
    pglite,
    pool,
    executeJson: pool
      ? async (sql, json) => (await pool.query(sql, [json])).rowCount ?? 0
      : async (sql, json) => (await (pglite as PGlite).query(sql, [json])).affectedRows ?? 0,
    migrate: (log) => applyMigrations(adapter, log),
    async ping() {
      await prisma.$queryRawUnsafe("SELECT 1");
    },
    async close() {
      if (closed) return;
      closed = true;
      await prisma.$disconnect();
      await pool?.end().catch(() => {});
      try {
        await pglite?.close();
        if (sweep) clearInterval(sweep);
        if (pgliteDir) await makePrivate(pgliteDir);
      } finally {
        lock?.release();
      }
    },
  };
}

export function databaseOptionsFromConfig(
  config: { databaseUrl?: string; dataDir: string },
  role: LockRole = "cli",
): DatabaseOptions {
  return config.databaseUrl
    ? { kind: "postgres", url: config.databaseUrl }
    : { kind: "pglite", dataDir: path.join(config.dataDir, "pgdata"), role };
}
