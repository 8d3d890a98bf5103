// Issue 10, item 8: a signed request is used once across every instance sharing the database,
// with no Redis. Two real gateway processes on one PostgreSQL database; the suite always uses
// the machine's PostgreSQL here, whichever database the rest of the run uses.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signRequest } from "../../src/access/signature.ts";
import { loadConfig } from "../../src/config.ts";
import { createLogger } from "../../src/logger.ts";
import { closeDeps, openDeps } from "../../src/server.ts";
import { adminQuery, serverUrl, uniqueDatabaseName } from "../helpers/databases.ts";
import { seedTenant, testSecrets } from "../helpers/harness.ts";
import { startServerProcess, type ServerProcess } from "../helpers/server-process.ts";

const postgres =
  process.env.DATABASE_URL ??
  process.env.PG_ADMIN_URL ??
  "postgresql://postgres@127.0.0.1:5432/postgres";
const database = uniqueDatabaseName("keygate_replay");
const databaseUrl = serverUrl(postgres, database);
const dirs: string[] = [];
const gateways: ServerProcess[] = [];
let ownerToken: string;

async function gateway(): Promise<ServerProcess> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "keygate-replay-"));
  dirs.push(dataDir);
  const env: Record<string, string> = {
    ...testSecrets,
    DATA_DIR: dataDir,
    DATABASE_URL: databaseUrl,
    ADMIN_EMAIL: "root@replay.test",
    PUBLIC_URL: "http://localhost:4000",
  };
  const process_ = await startServerProcess(env);
  gateways.push(process_);
  return process_;
}

beforeAll(async () => {
  await adminQuery(postgres, `CREATE DATABASE "${database}"`);
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "keygate-replay-seed-"));
  dirs.push(dataDir);
  const config = await loadConfig({
    ...testSecrets,
    NODE_ENV: "test",
    DATA_DIR: dataDir,
    DATABASE_URL: databaseUrl,
    PUBLIC_URL: "http://localhost:4000",
  });
  const deps = await openDeps(config, createLogger({ level: "warn" }));
  try {
    ownerToken = (await seedTenant(deps, "Replay")).token;
  } finally {
    await closeDeps(deps);
  }
}, 60_000);

afterAll(async () => {
  await Promise.all(gateways.map((g) => g.stop()));
  await adminQuery(postgres, `DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe("signed requests across instances", () => {
  it("refuses on instance B a signature already used on instance A", async () => {
    const [a, b] = await Promise.all([gateway(), gateway()]);
    const made = await fetch(`${a.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${ownerToken}` },
      body: JSON.stringify({
        query: `mutation { generateSecureApiKey(input: { name: "replayed" }) { key secret } }`,
      }),
    });
    const madeBody = (await made.json()) as any;
    expect(madeBody.errors).toBeUndefined();
    const { key, secret } = madeBody.data.generateSecureApiKey;

    // As a bearer credential on the Kotani health route.
    const header = signRequest(secret, "GET", "/api/v3/health");
    const call = (url: string) =>
      fetch(`${url}/api/v3/health`, {
        headers: { authorization: `Bearer ${key}`, "keygate-signature": header },
      });
    expect((await call(a.url)).status).toBe(200);
    expect((await call(b.url)).status).not.toBe(200);
    expect((await call(a.url)).status).not.toBe(200);

    // Through verification, as a service behind the gateway asks.
    const signature = {
      header: signRequest(secret, "POST", "/orders", "{}"),
      method: "POST",
      path: "/orders",
      bodySha256: "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
    };
    const verify = async (url: string) =>
      (
        (await (
          await fetch(`${url}/v1/keys/verify`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ key, signature }),
          })
        ).json()) as any
      ).code;
    expect(await verify(b.url)).toBe("VALID");
    expect(await verify(a.url)).toBe("INVALID_SIGNATURE");
  }, 90_000);
});
