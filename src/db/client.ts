// One Prisma client over either driver adapter: embedded PGlite (default) or
// a PostgreSQL server (DATABASE_URL). Same schema, same migrations.
import path from "node:path";
import { mkdir } from "node:fs/promises";
import { PGlite } from "@electric-sql/pglite";
import { PrismaPGlite } from "pglite-prisma-adapter";
import { PrismaPg } from "@prisma/adapter-pg";
import type { SqlMigrationAwareDriverAdapterFactory } from "@prisma/driver-adapter-utils";
import { PrismaClient } from "../generated/prisma/client.ts";
import { applyMigrations } from "./migrate.ts";

export type Prisma = InstanceType<typeof PrismaClient>;

export type DatabaseOptions =
  | { kind: "postgres"; url: string }
  /** `dataDir` undefined: in memory. `loadDataDir`: start from a dumped image (tests). */
  | { kind: "pglite"; dataDir?: string; loadDataDir?: Blob | File };

export interface Database {
  kind: "postgres" | "pglite";
  prisma: Prisma;
  adapter: SqlMigrationAwareDriverAdapterFactory;
  pglite?: PGlite;
  migrate(log?: (line: string) => void): Promise<string[]>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  let adapter: SqlMigrationAwareDriverAdapterFactory;
  let pglite: PGlite | undefined;
  if (options.kind === "postgres") {
    adapter = new PrismaPg({ connectionString: options.url, max: 20 });
  } else {
    if (options.dataDir) await mkdir(path.dirname(path.resolve(options.dataDir)), { recursive: true });
    pglite = await PGlite.create(options.dataDir, options.loadDataDir ? { loadDataDir: options.loadDataDir } : {});
    adapter = new PrismaPGlite(pglite);
  }
  const prisma = new PrismaClient({ adapter }) as Prisma;
  let closed = false;
  return {
    kind: options.kind,
    prisma,
    adapter,
    pglite,
    migrate: (log) => applyMigrations(adapter, log),
    async ping() {
      await prisma.$queryRawUnsafe("SELECT 1");
    },
    async close() {
      if (closed) return;
      closed = true;
      await prisma.$disconnect();
      await pglite?.close();
    },
  };
}

export function databaseOptionsFromConfig(config: { databaseUrl?: string; dataDir: string }): DatabaseOptions {
  return config.databaseUrl
    ? { kind: "postgres", url: config.databaseUrl }
    : { kind: "pglite", dataDir: path.join(config.dataDir, "pgdata") };
}
