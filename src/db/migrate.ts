// Migrations through Prisma's WASM schema engine: the native engine cannot be
// downloaded on our machines, and the WASM one records `_prisma_migrations`
// exactly as `prisma migrate deploy` does.
import { readFile, readdir } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { bindMigrationAwareSqlAdapterFactory } from "@prisma/driver-adapter-utils";
import type { SqlMigrationAwareDriverAdapterFactory } from "@prisma/driver-adapter-utils";
import { PGlite } from "@electric-sql/pglite";
import { PrismaPGlite } from "pglite-prisma-adapter";

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const schemaPath = path.join(projectRoot, "prisma", "schema.prisma");
export const migrationsDir = path.join(projectRoot, "prisma", "migrations");

const noFilters = { externalTables: [], externalEnums: [] };

type Bg = typeof import("@prisma/schema-engine-wasm/schema_engine_bg");
let enginePromise: Promise<Bg> | undefined;

/** Instantiates the wasm-bindgen module by hand: it is built for bundlers, not Node. */
function loadEngine(): Promise<Bg> {
  enginePromise ??= (async () => {
    const require = createRequire(import.meta.url);
    const dir = path.dirname(require.resolve("@prisma/schema-engine-wasm"));
    const bg = (await import("@prisma/schema-engine-wasm/schema_engine_bg")) as Bg;
    const bytes = await readFile(path.join(dir, "schema_engine_bg.wasm"));
    const { instance } = await WebAssembly.instantiate(bytes, {
      "./schema_engine_bg.js": bg as never,
    });
    bg.__wbg_set_wasm(instance.exports);
    (instance.exports as { __wbindgen_start?: () => void }).__wbindgen_start?.();
    return bg;
  })();
  return enginePromise;
}

async function readMigrationsList() {
  let dirs: string[] = [];
  try {
    dirs = (await readdir(migrationsDir, { withFileTypes: true }))
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
  } catch {
    dirs = [];
  }
  const lockPath = path.join(migrationsDir, "migration_lock.toml");
  const lockContent = await readFile(lockPath, "utf8").catch(() => 'provider = "postgresql"\n');
  const migrationDirectories = await Promise.all(
    dirs.map(async (name) => ({
      path: name,
      migrationFile: {
        path: "migration.sql",
        content: {
          tag: "ok" as const,
          value: await readFile(path.join(migrationsDir, name, "migration.sql"), "utf8"),
        },
      },
    })),
  );
  return {
    baseDir: migrationsDir,
    lockfile: { path: "migration_lock.toml", content: lockContent },
    shadowDbInitScript: "",
    migrationDirectories,
  };
}

/**
 * The engine opens its own connections through the factory and never closes them; with
 * PostgreSQL that is a pg pool that would keep a CLI process alive. They are tracked here
 * and disposed after the engine is freed.
 */
async function openEngine(
  adapter: SqlMigrationAwareDriverAdapterFactory,
  log: (line: string) => void,
) {
  const bg = await loadEngine();
  const datamodel = await readFile(schemaPath, "utf8");
  const opened: { dispose(): Promise<void> }[] = [];
  const tracked: SqlMigrationAwareDriverAdapterFactory = {
    provider: adapter.provider,
    adapterName: adapter.adapterName,
    connect: async () => {
      const connection = await adapter.connect();
      opened.push(connection);
      return connection;
    },
    connectToShadowDb: async () => {
      const connection = await adapter.connectToShadowDb();
      opened.push(connection);
      return connection;
    },
  };
  const engine = await bg.SchemaEngine.new(
    { datamodels: [["schema.prisma", datamodel]] } as never,
    (message: string) => log(message),
    bindMigrationAwareSqlAdapterFactory(tracked),
  );
  return {
    engine,
    async close() {
      engine.free();
      await Promise.all(opened.map((c) => c.dispose().catch(() => {})));
    },
  };
}

/**
 * Prisma's migration lock is one advisory lock for the whole PostgreSQL server, every database
 * alike, given up after 10 s: instances starting together (or other databases migrating on the
 * same server) wait their turn instead of failing to start.
 */
const MIGRATION_LOCK_ATTEMPTS = 6;

/** Applies every pending migration; a no-op when the database is current. */
export async function applyMigrations(
  adapter: SqlMigrationAwareDriverAdapterFactory,
  log: (line: string) => void = () => {},
): Promise<string[]> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await applyMigrationsOnce(adapter, log);
    } catch (error) {
      const lockTimedOut = (error as { code?: string }).code === "P1002";
      if (!lockTimedOut || attempt >= MIGRATION_LOCK_ATTEMPTS) throw error;
      log(`migration lock held by another process: waiting (attempt ${attempt + 1})`);
    }
  }
}

async function applyMigrationsOnce(
  adapter: SqlMigrationAwareDriverAdapterFactory,
  log: (line: string) => void,
): Promise<string[]> {
  const { engine, close } = await openEngine(adapter, log);
  try {
    const result = await engine.applyMigrations({
      migrationsList: await readMigrationsList(),
      filters: noFilters,
    } as never);
    return result.appliedMigrationNames;
  } finally {
    await close();
  }
}

/**
 * The SQL that takes the database built by `prisma/migrations` to `schema.prisma`.
 * Empty when they agree. Runs on a throwaway in-memory PGlite as shadow database.
 */
export async function diffMigrationsToSchema(): Promise<string> {
  const scratch = new PGlite();
  try {
    const { engine, close } = await openEngine(new PrismaPGlite(scratch), () => {});
    try {
      const datamodel = await readFile(schemaPath, "utf8");
      const list = await readMigrationsList();
      const result = await engine.diff({
        from: list.migrationDirectories.length ? { tag: "migrations", ...list } : { tag: "empty" },
        to: { tag: "schemaDatamodel", files: [{ path: schemaPath, content: datamodel }] },
        script: true,
        exitCode: true,
        filters: noFilters,
      } as never);
      const script = (result as { stdout?: string | null }).stdout ?? "";
      return result.exitCode === 0 ? "" : script;
    } finally {
      await close();
    }
  } finally {
    await scratch.close();
  }
}
