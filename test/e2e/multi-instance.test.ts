// Issue 14: two real gateway processes on one PostgreSQL database and one Redis. A change made
// through A reaches B as a notice (B's /metrics counts it) and B refuses the key from then on; a
// lost notice connection empties B's cache; rate limits, signature one-use records and credits
// are shared. Like signature-replay.test.ts, it always uses the machine's PostgreSQL.
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signRequest } from "../../src/access/signature.ts";
import { loadConfig } from "../../src/config.ts";
import { createLogger } from "../../src/logger.ts";
import { LISTENER_APPLICATION } from "../../src/modules/keys/notices.ts";
import { closeDeps, openDeps } from "../../src/server.ts";
import { adminQuery, serverUrl, uniqueDatabaseName } from "../helpers/databases.ts";
import { seedTenant, testSecrets } from "../helpers/harness.ts";
import { startServerProcess, type ServerProcess } from "../helpers/server-process.ts";

const postgres =
  process.env.DATABASE_URL ??
  process.env.PG_ADMIN_URL ??
  "postgresql://postgres@127.0.0.1:5432/postgres";
const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const METRICS_TOKEN = "multi-instance-metrics-token-0123";
const database = uniqueDatabaseName("keygate_multi");
const databaseUrl = serverUrl(postgres, database);
const dirs: string[] = [];
let a: ServerProcess;
let b: ServerProcess;
let ownerToken: string;

async function redisReachable(): Promise<boolean> {
  const url = new URL(REDIS_URL);
  return new Promise((resolve) => {
    const socket = net.connect(Number(url.port || 6379), url.hostname);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
const withRedis = await redisReachable();

async function gateway(): Promise<ServerProcess> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "keygate-multi-"));
  dirs.push(dataDir);
  return startServerProcess({
    ...testSecrets,
    DATA_DIR: dataDir,
    DATABASE_URL: databaseUrl,
    ...(withRedis ? { REDIS_URL } : {}),
    METRICS_TOKEN,
    ADMIN_EMAIL: "root@multi.test",
    PUBLIC_URL: "http://localhost:4000",
  });
}

async function gql(url: string, query: string, variables: Record<string, unknown> = {}) {
  const response = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${ownerToken}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: any; errors?: unknown[] };
  expect(body.errors).toBeUndefined();
  return body.data;
}

async function newKey(url: string, input: Record<string, unknown> = {}) {
  const data = await gql(
    url,
    "mutation($i: GenerateApiKeyInput!) { generateApiKey(input: $i) { key apiKey { id } } }",
    { i: { name: "multi", ...input } },
  );
  return { key: data.generateApiKey.key as string, id: data.generateApiKey.apiKey.id as string };
}

async function verify(url: string, body: Record<string, unknown>) {
  const response = await fetch(`${url}/v1/keys/verify`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return (await response.json()) as { code: string; valid: boolean };
}

/** One sample of B's Prometheus text, e.g. `keygate_change_notices_received_total{transport="postgres"}`. */
async function metric(url: string, series: string): Promise<number> {
  const response = await fetch(`${url}/metrics`, {
    headers: { authorization: `Bearer ${METRICS_TOKEN}` },
  });
  expect(response.status).toBe(200);
  const text = await response.text();
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

/** Waits for an event (a counter passing a value), not for a time. */
async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`never happened: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const NOTICES = 'keygate_change_notices_received_total{transport="postgres"}';
const DISCONNECTS = 'keygate_change_notice_disconnects_total{transport="postgres"}';

beforeAll(async () => {
  await adminQuery(postgres, `CREATE DATABASE "${database}"`);
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "keygate-multi-seed-"));
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
    ownerToken = (await seedTenant(deps, "Multi")).token;
  } finally {
    await closeDeps(deps);
  }
  [a, b] = await Promise.all([gateway(), gateway()]);
  // Both listeners subscribed (the log line each writes once LISTEN is in place).
  await until(
    async () => [a, b].every((g) => /listening on PostgreSQL/.test(g.output())),
    "both gateways listening for notices",
  );
}, 120_000);

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await adminQuery(postgres, `DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe("two gateways on one database", () => {
  it("a key revoked through A is refused by B once B has the notice", async () => {
    const { key, id } = await newKey(a.url);
    // B answers VALID and now holds the key in its cache (60 s TTL by default).
    expect((await verify(b.url, { key })).code).toBe("VALID");
    expect((await verify(b.url, { key })).code).toBe("VALID");
    const before = await metric(b.url, NOTICES);
    await gql(a.url, "mutation($id: ID!) { revokeKey(id: $id) { __typename } }", { id });
    await until(async () => (await metric(b.url, NOTICES)) > before, "B receives the notice");
    expect((await verify(b.url, { key })).code).toBe("REVOKED");
  }, 60_000);

  it("a key made on A is found on B at once (its hash reached B's key filter first)", async () => {
    for (let i = 0; i < 3; i++) {
      const { key } = await newKey(a.url);
      expect((await verify(b.url, { key })).code).toBe("VALID");
    }
  }, 60_000);

  it("disabling and permission changes reach B too", async () => {
    const { key, id } = await newKey(a.url, { permissions: ["transactions:read"] });
    const asked = { key, permissions: ["transactions:read"] };
    expect((await verify(b.url, asked)).code).toBe("VALID");
    let before = await metric(b.url, NOTICES);
    await gql(a.url, "mutation($i: UpdateKeyInput!) { updateKey(input: $i) { id } }", {
      i: { id, permissions: ["accounts:read"] },
    });
    await until(async () => (await metric(b.url, NOTICES)) > before, "B receives the update");
    expect((await verify(b.url, asked)).code).toBe("INSUFFICIENT_PERMISSIONS");
    before = await metric(b.url, NOTICES);
    await gql(a.url, "mutation($id: ID!) { disableKey(id: $id) { __typename } }", { id });
    await until(async () => (await metric(b.url, NOTICES)) > before, "B receives the disabling");
    expect((await verify(b.url, { key })).code).toBe("DISABLED");
  }, 60_000);

  it("share a key's rate limit", async () => {
    const { key } = await newKey(a.url, { rateLimit: { perMinute: 3 } });
    const codes = [];
    for (const url of [a.url, b.url, a.url, b.url]) codes.push((await verify(url, { key })).code);
    if (withRedis) expect(codes).toEqual(["VALID", "VALID", "VALID", "RATE_LIMITED"]);
    else expect(codes.filter((c) => c === "VALID").length).toBe(4);
  }, 60_000);

  it("share a signed request's one use", async () => {
    const data = await gql(
      a.url,
      `mutation { generateSecureApiKey(input: { name: "multi-secure" }) { key secret } }`,
    );
    const { key, secret } = data.generateSecureApiKey;
    const signature = {
      header: signRequest(secret, "POST", "/orders", "{}"),
      method: "POST",
      path: "/orders",
      bodySha256: "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
    };
    expect((await verify(a.url, { key, signature })).code).toBe("VALID");
    expect((await verify(b.url, { key, signature })).code).toBe("INVALID_SIGNATURE");
  }, 60_000);

  it("share a key's credits", async () => {
    const { key, id } = await newKey(a.url);
    await gql(a.url, "mutation($i: UpdateKeyInput!) { updateKey(input: $i) { id } }", {
      i: { id, credits: { remaining: 3 } },
    });
    const codes = [];
    for (const url of [b.url, a.url, b.url, a.url]) codes.push((await verify(url, { key })).code);
    expect(codes).toEqual(["VALID", "VALID", "VALID", "USAGE_EXCEEDED"]);
  }, 60_000);

  it("a dropped listener connection empties the cache", async () => {
    const { key, id } = await newKey(a.url);
    expect((await verify(b.url, { key })).code).toBe("VALID");
    // A change no notice announces (straight into the table): B's cache still says VALID.
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      await client.query(`UPDATE "ApiKey" SET status = 'REVOKED' WHERE id = $1`, [id]);
      expect((await verify(b.url, { key })).code).toBe("VALID");
      const before = await metric(b.url, DISCONNECTS);
      const { rows } = await client.query(
        `SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity
         WHERE application_name = $1 AND datname = $2`,
        [LISTENER_APPLICATION, database],
      );
      expect(rows.length).toBe(2);
      await until(async () => (await metric(b.url, DISCONNECTS)) > before, "B sees the loss");
    } finally {
      await client.end();
    }
    // Logs are written asynchronously: the line may follow the metric by a moment.
    await until(async () => /key cache emptied/.test(b.output()), "B logs the emptied cache");
    expect((await verify(b.url, { key })).code).toBe("REVOKED");
    // And it listens again: a later change still arrives as a notice.
    await until(
      async () => (b.output().match(/listening on PostgreSQL/g) ?? []).length >= 2,
      "B listens again",
    );
    const other = await newKey(a.url);
    expect((await verify(b.url, { key: other.key })).code).toBe("VALID");
    const before = await metric(b.url, NOTICES);
    await gql(a.url, "mutation($id: ID!) { revokeKey(id: $id) { __typename } }", {
      id: other.id,
    });
    await until(async () => (await metric(b.url, NOTICES)) > before, "B receives the notice");
    expect((await verify(b.url, { key: other.key })).code).toBe("REVOKED");
  }, 90_000);
});
