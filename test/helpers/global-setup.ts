// Builds the migrated database image once per test run.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { openDatabase } from "../../src/db/client.ts";
import { adminQuery, serverUrl, uniqueDatabaseName } from "./databases.ts";

declare module "vitest" {
  export interface ProvidedContext {
    pgliteImage: string;
    postgresTemplate: string;
  }
}

export default async function setup(project: TestProject) {
  const databaseUrl = process.env.DATABASE_URL;
  if (databaseUrl) {
    const template = uniqueDatabaseName("keygate_tpl");
    await adminQuery(databaseUrl, `CREATE DATABASE "${template}"`);
    const db = await openDatabase({ kind: "postgres", url: serverUrl(databaseUrl, template) });
    await db.migrate();
    await db.close();
    // CREATE DATABASE ... TEMPLATE refuses while anyone is connected to the template,
    // and the schema engine's connection may outlive close(): end them all.
    await adminQuery(
      databaseUrl,
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${template}' AND pid <> pg_backend_pid()`,
    );
    project.provide("postgresTemplate", template);
    project.provide("pgliteImage", "");
    return async () => {
      await adminQuery(databaseUrl, `DROP DATABASE IF EXISTS "${template}" WITH (FORCE)`);
    };
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), "keygate-test-"));
  const db = await openDatabase({ kind: "pglite" });
  await db.migrate();
  const image = await db.pglite!.dumpDataDir("gzip");
  await db.close();
  const file = path.join(dir, "migrated.tar.gz");
  await writeFile(file, Buffer.from(await image.arrayBuffer()));
  project.provide("pgliteImage", file);
  project.provide("postgresTemplate", "");
  return async () => {
    await rm(dir, { recursive: true, force: true });
  };
}
