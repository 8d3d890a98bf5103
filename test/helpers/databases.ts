// Test databases: one migrated image built once per run, a fresh copy per test file.
// PGlite: a dumped data directory loaded into memory. PostgreSQL: CREATE DATABASE ... TEMPLATE.
import { randomBytes } from "node:crypto";
import pg from "pg";

export function serverUrl(databaseUrl: string, database: string): string {
  const url = new URL(databaseUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

export async function adminQuery(databaseUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl(databaseUrl, "postgres") });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export function uniqueDatabaseName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`;
}
