// The gateway's CPU for one flush of usage counts and last-used times with N distinct keys pending
// (FLUSH_KEYS, default 33,000: what 5 seconds of verification bring with 100,000 keys in
// rotation), on a fresh PostgreSQL database (PG_ADMIN_URL, default
// postgresql://postgres@127.0.0.1:5432/postgres). `npx tsx bench/flush-cost.ts`; three rounds.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { loadConfig } from "../src/config.ts";
import { generateKey } from "../src/crypto/key-format.ts";
import { createLogger } from "../src/logger.ts";
import { createTenant } from "../src/modules/tenants/service.ts";
import { closeDeps, openDeps } from "../src/server.ts";
import { insertBulkKeys } from "./bulk-keys.ts";

const n = Number(process.env.FLUSH_KEYS ?? 33_000);
const adminUrl = new URL(
  process.env.PG_ADMIN_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres",
);
const database = `keygate_flush_${Date.now().toString(36)}`;
const admin = new pg.Client({ connectionString: adminUrl.toString() });
await admin.connect();
await admin.query(`CREATE DATABASE "${database}"`);
const databaseUrl = new URL(adminUrl);
databaseUrl.pathname = `/${database}`;
const dataDir = await mkdtemp(path.join(os.tmpdir(), "keygate-flush-"));
try {
  const config = await loadConfig({
    ...process.env,
    DATABASE_URL: databaseUrl.toString(),
    DATA_DIR: dataDir,
    JWT_SECRET: "bench-jwt-secret-0123456789abcdef0123456789",
    ENCRYPTION_KEY: Buffer.alloc(32, 3).toString("base64"),
    NODE_ENV: "production",
    PUBLIC_URL: "http://localhost:4000",
  });
  const deps = await openDeps(config, createLogger({ level: "warn" }));
  const { tenant } = await createTenant(
    deps,
    { kind: "system" },
    { name: "Flush", ownerEmail: "flush@bench.test" },
  );
  const db = new pg.Client({ connectionString: databaseUrl.toString() });
  await db.connect();
  const ids = await insertBulkKeys(
    db,
    tenant.id,
    Array.from({ length: n }, () => generateKey("kg")),
  );
  await db.end();
  const cpuMs = async (work: () => Promise<void>) => {
    const before = process.cpuUsage();
    const started = performance.now();
    await work();
    const used = process.cpuUsage(before);
    return `${Math.round((used.user + used.system) / 1000)} ms CPU, ${Math.round(performance.now() - started)} ms wall`;
  };
  for (let round = 1; round <= 3; round++) {
    for (const id of ids) deps.usage.record(id, tenant.id, "VALID");
    const usage = await cpuMs(() => deps.usage.flush());
    // Every key's stored last-used time a few minutes old, so that this flush rewrites every row
    // (a key's row is rewritten at most once a minute; this is that minute, for all of them).
    await deps.prisma.$executeRawUnsafe(
      `UPDATE "ApiKey" SET "lastUsedAt" = now() - interval '5 minutes' WHERE "tenantId" = $1::uuid`,
      tenant.id,
    );
    for (const id of ids) deps.keys.touch({ id, lastUsedQueuedAt: 0 });
    const lastUsed = await cpuMs(() => deps.keys.flush());
    console.log(`round ${round}, ${n} keys: usage flush ${usage}; last-used flush ${lastUsed}`);
  }
  await closeDeps(deps);
} finally {
  await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
  await admin.end();
  await rm(dataDir, { recursive: true, force: true });
}
