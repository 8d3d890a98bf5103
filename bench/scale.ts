// The PostgreSQL half of `npm run bench` (issue 14): one gateway on a fresh database with 100,000
// extra keys, then three gateways on it (with Redis when reachable):
//   - POST /v1/keys/verify with one hot key, and with 100,000 distinct keys in rotation;
//   - a flood of well-formed unknown keys (valid checksums), with database transactions per
//     request read from pg_stat_database (every statement outside a transaction is one);
//   - revocation delay: revoke on A, then the time until both B and C answer non-VALID (p50, p99,
//     max over 30 keys), measured from A's answer to the revocation.
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import autocannon from "autocannon";
import pg from "pg";
import { loadConfig } from "../src/config.ts";
import { generateKey } from "../src/crypto/key-format.ts";
import { createLogger } from "../src/logger.ts";
import { generateApiKey } from "../src/modules/keys/service.ts";
import { createTenant } from "../src/modules/tenants/service.ts";
import { closeDeps, openDeps } from "../src/server.ts";
import { insertBulkKeys } from "./bulk-keys.ts";
import { type Gateway, launchGateway } from "./gateway-process.ts";

interface Row {
  title: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

export interface ScaleOptions {
  seconds: number;
  connections: number;
  secrets: Record<string, string>;
  baselineRps: number;
  baselineUrl: string;
  load: (title: string, opts: autocannon.Options) => Promise<Row>;
  rssMiB: (pid: number) => number | null;
  /** Interleaved rounds of the three loads; each figure is the median round. */
  rounds: number;
}

const DISTINCT_KEYS = 100_000;
const progress = (step: string) => process.stderr.write(`bench: ${step}\n`);
const REVOKED_KEYS = 30;
const json = { "content-type": "application/json" };

function reachable(url: string, defaultPort: number): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect(Number(u.port || defaultPort), u.hostname);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
    setTimeout(() => {
      socket.destroy();
      resolve(false);
    }, 1000).unref();
  });
}

let started = 0;

/** Only the lines the bench waits for are kept, not every request's log line. */
const startGateway = (env: Record<string, string | undefined>): Promise<Gateway> =>
  launchGateway(
    env,
    path.join(env.DATA_DIR ?? os.tmpdir(), `gateway-${++started}.log`),
    /keygate listening|change notices|key filter|"level":(40|50|60)|Error/,
  );

async function until(check: () => boolean, what: string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * CPU time from a /proc/<pid>/stat line, µs (clock ticks of 10 ms): utime and stime, and with
 * `children` also cutime and cstime, the time of its children that have ended.
 */
function statMicros(line: string, children = false): number {
  // Fields 14 to 17 of the line: 12 to 15 after "pid (comm) ".
  const fields = line.split(") ")[1]?.split(" ") ?? [];
  const used = Number(fields[11]) + Number(fields[12]);
  return (children ? used + Number(fields[13]) + Number(fields[14]) : used) * 10_000;
}

/** CPU time (user + system) a process has used, µs. */
function cpuMicros(pid: number): number {
  return statMicros(readFileSync(`/proc/${pid}/stat`, "utf8"));
}

/**
 * CPU time of every PostgreSQL server process on this machine, µs; undefined when there is none
 * (a remote server). The database's share of a load, since it runs on the same cores.
 */
function postgresCpuMicros(): number | undefined {
  let total = 0;
  let found = false;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const line = readFileSync(`/proc/${entry}/stat`, "utf8");
      if (!line.includes(" (postgres) ")) continue;
      // With its ended children: backends ending during the load would otherwise take their time
      // with them (the postmaster reaps them into its cutime and cstime).
      total += statMicros(line, true);
      found = true;
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return found ? total : undefined;
}

/** Of one target's interleaved rounds, the round with the median req/s. */
export function medianRound<T extends { rps: number }>(rounds: T[]): T {
  const sorted = [...rounds].sort((x, y) => x.rps - y.rps);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

export async function runScaleBench(o: ScaleOptions): Promise<void> {
  const admin =
    process.env.PG_ADMIN_URL ??
    process.env.DATABASE_URL ??
    "postgresql://postgres@127.0.0.1:5432/postgres";
  if (!(await reachable(admin, 5432))) {
    console.log(`\nPostgreSQL part skipped: ${new URL(admin).host} unreachable (set PG_ADMIN_URL)`);
    return;
  }
  const redisUrl = process.env.BENCH_REDIS_URL ?? "redis://127.0.0.1:6379";
  const withRedis = await reachable(redisUrl, 6379);
  const database = `keygate_bench_${Date.now().toString(36)}`;
  const adminUrl = new URL(admin);
  adminUrl.pathname = "/postgres";
  const databaseUrl = new URL(admin);
  databaseUrl.pathname = `/${database}`;
  const adminClient = new pg.Client({ connectionString: adminUrl.toString() });
  // A connection the server ends (someone dropped the database) fails its next query instead.
  adminClient.on("error", () => {});
  await adminClient.connect();
  await adminClient.query(`CREATE DATABASE "${database}"`);
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "keygate-bench-pg-"));
  const gateways: Gateway[] = [];
  try {
    const env: Record<string, string | undefined> = {
      ...process.env,
      ...o.secrets,
      DATA_DIR: dataDir,
      DATABASE_URL: databaseUrl.toString(),
      REDIS_URL: withRedis ? redisUrl : undefined,
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? "info",
      HOST: "127.0.0.1",
      PORT: "0",
      NODE_ENV: "production",
      PUBLIC_URL: "http://localhost:4000",
      METRICS_TOKEN: "bench-metrics-token",
    };

    progress("PostgreSQL: seeding");
    // Seed while no gateway runs: a tenant, a hot key, an admin key that revokes, the keys to revoke.
    const config = await loadConfig({ ...env, LOG_LEVEL: "warn" } as Record<string, string>);
    const deps = await openDeps(config, createLogger({ level: "warn" }));
    const { tenant, owner } = await createTenant(
      deps,
      { kind: "system" },
      { name: "Bench", ownerEmail: `bench-${Date.now()}@bench.test` },
    );
    const actor = {
      kind: "user" as const,
      userId: owner.id,
      tenantId: tenant.id,
      email: owner.email,
      role: "OWNER" as const,
      isPlatformAdmin: false,
      permissions: ["*"],
    };
    const hot = await generateApiKey(deps, actor, {
      name: "hot",
      permissions: ["transactions:read"],
    });
    const adminKey = await generateApiKey(deps, actor, { name: "revoker", permissions: ["*"] });
    const revocable: { key: string; id: string }[] = [];
    for (let i = 0; i < REVOKED_KEYS; i++) {
      const made = await generateApiKey(deps, actor, { name: `revocable ${i}` });
      revocable.push({ key: made.key, id: made.apiKey.id });
    }
    await closeDeps(deps);

    progress("PostgreSQL: inserting 100,000 keys");
    // 100,000 more keys of the same tenant, inserted in bulk (their hashes are what counts).
    const prefix = hot.key.slice(0, hot.key.indexOf("_"));
    const distinct = Array.from({ length: DISTINCT_KEYS }, () => generateKey(prefix));
    const db = new pg.Client({ connectionString: databaseUrl.toString() });
    db.on("error", () => {});
    await db.connect();
    await insertBulkKeys(db, tenant.id, distinct);
    const unknown = Array.from({ length: DISTINCT_KEYS }, () => generateKey(prefix));
    const transactions = async () => {
      await db.query("SELECT pg_stat_clear_snapshot()");
      const { rows } = await db.query<{ n: string }>(
        "SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = $1",
        [database],
      );
      return Number(rows[0]?.n ?? 0);
    };

    progress("PostgreSQL: starting gateway A");
    const a = await startGateway(env);
    gateways.push(a);
    await until(() => /key filter built/.test(a.output()), "A's key filter");

    const rotating = (bodies: string[]) => {
      let i = 0;
      return [
        {
          method: "POST" as const,
          path: "/v1/keys/verify",
          headers: json,
          setupRequest: (req: autocannon.Request) => ({
            ...req,
            body: bodies[i++ % bodies.length] ?? "",
          }),
        },
      ];
    };
    const body = (key: string) => JSON.stringify({ key, permissions: ["transactions:read"] });
    // A's counters from GET /metrics: where each window's lookups were answered.
    const counters = async () => {
      const text = await (
        await fetch(`${a.url}/metrics`, {
          headers: { authorization: "Bearer bench-metrics-token" },
        })
      ).text();
      const value = (name: string) =>
        Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1] ?? 0);
      return {
        misses: value("keygate_key_cache_misses_total"),
        rejections: value("keygate_key_filter_rejections_total"),
      };
    };
    // Each measured window: req/s, latency, database transactions and cache misses per request.
    const measured = async (title: string, bodies: string[]) => {
      const countedBefore = await counters();
      const cpuBefore = cpuMicros(a.pid);
      const dbCpuBefore = postgresCpuMicros();
      const before = await transactions();
      const result = await autocannon({
        url: a.url,
        connections: o.connections,
        duration: o.seconds,
        requests: rotating(bodies),
      });
      // The statistics of a backend reach pg_stat_database within a second of going idle.
      await new Promise((r) => setTimeout(r, 1500));
      const cpuUsed = cpuMicros(a.pid) - cpuBefore;
      const dbCpuAfter = postgresCpuMicros();
      const used = (await transactions()) - before - 2;
      const countedAfter = await counters();
      const total = Math.max(1, result.requests.total);
      return {
        cpuPerRequest: cpuUsed / total,
        dbCpuPerRequest:
          dbCpuBefore === undefined || dbCpuAfter === undefined
            ? undefined
            : (dbCpuAfter - dbCpuBefore) / total,
        misses: (countedAfter.misses - countedBefore.misses) / total,
        rejections: (countedAfter.rejections - countedBefore.rejections) / total,
        title,
        rps: result.requests.average,
        p50: result.latency.p50,
        p99: result.latency.p99,
        errors: result.errors + result.non2xx,
        perRequest: used / Math.max(1, result.requests.total),
      };
    };

    progress("PostgreSQL: hot key, 100,000 keys, unknown keys");
    // Warm-up: JIT, pools, the hot key; then every one of the 100,000 keys once.
    await autocannon({
      url: a.url,
      connections: 10,
      duration: 2,
      requests: rotating([body(hot.key)]),
    });
    const distinctBodies = distinct.map(body);
    await autocannon({
      url: a.url,
      connections: o.connections,
      amount: distinctBodies.length,
      requests: rotating(distinctBodies),
    });
    // Interleaved rounds, each figure the median round (as in bench/run.ts): single runs of
    // 10 s varied by a third on this kind of shared machine.
    const targets: [string, string[]][] = [
      ["POST /v1/keys/verify, hot key", [body(hot.key)]],
      [`POST /v1/keys/verify, ${DISTINCT_KEYS.toLocaleString("en")} distinct keys`, distinctBodies],
      ["POST /v1/keys/verify, unknown well-formed keys (flood)", unknown.map(body)],
    ];
    const runs = targets.map(() => [] as Awaited<ReturnType<typeof measured>>[]);
    for (let round = 0; round < o.rounds; round++)
      for (const [i, [title, bodies]] of targets.entries())
        runs[i]!.push(await measured(title, bodies));
    const [hotRow, manyRow, floodRow] = runs.map((list) => {
      return medianRound(list);
    }) as [(typeof runs)[0][0], (typeof runs)[0][0], (typeof runs)[0][0]];
    const pgRss = o.rssMiB(a.pid);

    progress("PostgreSQL: revocation across three gateways");
    // Revocation across three instances.
    // One after the other: each start takes the migration lock, which a loaded machine may hold long.
    const b = await startGateway(env);
    gateways.push(b);
    const c = await startGateway(env);
    gateways.push(c);
    for (const g of [a, b, c])
      await until(() => /key filter built/.test(g.output()), "every gateway's key filter");
    const verify = async (url: string, key: string) =>
      (
        (await (
          await fetch(`${url}/v1/keys/verify`, {
            method: "POST",
            headers: json,
            body: JSON.stringify({ key }),
          })
        ).json()) as { code: string }
      ).code;
    const delays: number[] = [];
    let staleAnswers = 0;
    for (const { key, id } of revocable) {
      for (const g of [b, c])
        if ((await verify(g.url, key)) !== "VALID") throw new Error("not VALID");
      let acked = 0;
      const refusedAt = async (g: Gateway) => {
        for (;;) {
          const code = await verify(g.url, key);
          const at = performance.now();
          if (code !== "VALID") return at;
          if (acked) staleAnswers++;
        }
      };
      const polls = Promise.all([refusedAt(b), refusedAt(c)]);
      const response = await fetch(`${a.url}/graphql`, {
        method: "POST",
        headers: { ...json, authorization: `Bearer ${adminKey.key}` },
        body: JSON.stringify({
          query: "mutation($id: ID!) { revokeKey(id: $id) { __typename } }",
          variables: { id },
        }),
      });
      const answer = (await response.json()) as { errors?: unknown };
      acked = performance.now();
      if (answer.errors) throw new Error(`revokeKey failed: ${JSON.stringify(answer.errors)}`);
      const [atB, atC] = await polls;
      delays.push(Math.max(0, Math.max(atB, atC) - acked));
    }
    delays.sort((x, y) => x - y);

    console.log(
      `\nPostgreSQL ${withRedis ? "and Redis" : "(no Redis)"}, ${o.connections} connections, ${o.seconds} s each, median of ${o.rounds} interleaved rounds; ratios to the same run's bare node:http\n`,
    );
    console.log(
      "| target | req/s | p50 ms | p99 ms | non-2xx + errors | db transactions / request | cache misses / request | filter rejections / request | gateway CPU µs / request | PostgreSQL CPU µs / request | ratio to baseline |",
    );
    console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (const r of [hotRow, manyRow, floodRow])
      console.log(
        `| ${r.title} | ${Math.round(r.rps)} | ${r.p50} | ${r.p99} | ${r.errors} | ${r.perRequest.toFixed(4)} | ${r.misses.toFixed(4)} | ${r.rejections.toFixed(4)} | ${r.cpuPerRequest.toFixed(1)} | ${r.dbCpuPerRequest?.toFixed(1) ?? "n/a"} | ${(r.rps / o.baselineRps).toFixed(3)} |`,
      );
    console.log(
      `\n100,000 distinct keys / hot key: ${(manyRow.rps / hotRow.rps).toFixed(3)} (goal >= 0.8); unknown-key flood: ${floodRow.perRequest.toFixed(4)} db transactions per request (goal < 0.01)`,
    );
    // Each round's pair, not only the medians: the spread says how far one run can be trusted.
    const pairs = runs[0]!.map((hotRound, i) => (runs[1]![i]!.rps / hotRound.rps).toFixed(3));
    console.log(`100,000 distinct keys / hot key, round by round: ${pairs.join(", ")}`);
    console.log(`Gateway RSS after the loads, PostgreSQL: ${pgRss ?? "?"} MiB`);
    console.log(
      `\nRevocation across three gateways (revoke on A; until B and C both answer non-VALID, from A's answer), ${delays.length} keys: p50 ${percentile(delays, 50).toFixed(1)} ms, p99 ${percentile(delays, 99).toFixed(1)} ms, max ${(delays[delays.length - 1] ?? 0).toFixed(1)} ms; VALID answers after A's answer: ${staleAnswers}`,
    );
    for (const [name, g] of [
      ["A", a],
      ["B", b],
      ["C", c],
    ] as const) {
      const warnings = g
        .output()
        .split("\n")
        .filter((l) => /"level":(40|50|60)/.test(l));
      if (warnings.length)
        console.log(`\nGateway ${name} logged ${warnings.length} warnings, first: ${warnings[0]}`);
    }
    await db.end();
  } finally {
    await Promise.all(gateways.map((g) => g.stop()));
    await adminClient.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`).catch(() => {});
    await adminClient.end().catch(() => {});
    await rm(dataDir, { recursive: true, force: true });
  }
}
