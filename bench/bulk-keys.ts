// Keys for the PostgreSQL benches, inserted straight into ApiKey in slices of 10,000: what the
// benches need of them is a row whose hash matches (generating 100,000 keys through the service
// would take minutes and measure nothing).
import type pg from "pg";
import { sha256Hex } from "../src/crypto/tokens.ts";

/** Inserts integrator keys of `tenantId` for these key strings; returns their ids. */
export async function insertBulkKeys(
  db: pg.Client,
  tenantId: string,
  keys: string[],
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < keys.length; i += 10_000) {
    const slice = keys.slice(i, i + 10_000);
    const { rows } = await db.query<{ id: string }>(
      `INSERT INTO "ApiKey" (id, "tenantId", name, hash, start, "end", jti, permissions, "updatedAt")
       SELECT gen_random_uuid(), $1::uuid, 'bulk', h, s, e, gen_random_uuid()::text,
              ARRAY['transactions:read'], now()
       FROM unnest($2::text[], $3::text[], $4::text[]) AS u(h, s, e)
       RETURNING id`,
      [
        tenantId,
        slice.map((k) => sha256Hex(k)),
        slice.map((k) => k.slice(0, 12)),
        slice.map((k) => k.slice(-4)),
      ],
    );
    ids.push(...rows.map((r) => r.id));
  }
  return ids;
}
