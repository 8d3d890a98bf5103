// npm run bench: loopback load, one run, targets measured back to back:
//   1. a bare node:http server answering constant JSON (the baseline),
//   2. POST /v1/keys/verify with a valid key,
//   3. GraphQL verifyKey with the same key, beside a minimal graphql-yoga server (bench/minimal-yoga.ts).
// Then on PostgreSQL (PG_ADMIN_URL, default postgresql://postgres@127.0.0.1:5432/postgres; skipped
// when unreachable) and Redis when reachable: the hot key, 100,000 distinct keys, a flood of
// well-formed unknown keys (database transactions per request from pg_stat_database), and the
// revocation delay across three gateway processes (bench/scale.ts).
// GET /healthz of the gateway is measured too: the floor set by HTTP, routing and logging.
// 50 connections, BENCH_SECONDS (default 10) each; the first six targets in BENCH_ROUNDS
// (default 3) interleaved rounds of BENCH_SECONDS each, the median round reported. Prints req/s, p50, p99 and the ratio to the baseline.
// Then the gateway again with USAGE_COUNTING=off (the embedded database admits one process, so
// the two servers run one after the other): both verification figures and their ratio, which
// is the cost of counting usage (the goal: counting keeps at least 90% of the throughput).
// First, on a quiet process: the strict-text check against JSON.parse (bench/input-cost.ts).
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import autocannon from "autocannon";
import { loadConfig } from "../src/config.ts";
import { projectRoot } from "../src/db/migrate.ts";
import { createLogger } from "../src/logger.ts";
import { closeDeps, openDeps } from "../src/server.ts";
import { createTenant } from "../src/modules/tenants/service.ts";
import { generateApiKey } from "../src/modules/keys/service.ts";
import { inputCostTable, measureInputCost } from "./input-cost.ts";
import { measureCacheEntryBytes } from "./cache-memory.ts";
import { launchGateway } from "./gateway-process.ts";
import { medianRound, runScaleBench } from "./scale.ts";

// Measured before any server starts, so that nothing else competes for the CPU.
const inputCost = measureInputCost();
const cacheEntryBytes = measureCacheEntryBytes();

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = 50;
const secrets = {
  JWT_SECRET: "bench-jwt-secret-0123456789abcdef0123456789",
  ENCRYPTION_KEY: Buffer.alloc(32, 3).toString("base64"),
};

function waitFor(child: ChildProcess, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    const onData = (d: Buffer) => {
      out += d;
      const m = pattern.exec(out);
      if (m && m[1] !== undefined) {
        // Keep draining the pipe (a full pipe would stall the child) without keeping the text.
        child.stdout!.off("data", onData);
        child.stdout!.resume();
        resolve(m[1]);
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", (d) => (out += d));
    child.on("exit", (code) => reject(new Error(`exited ${code}: ${out}`)));
  });
}

/** Resident set of a process, MiB (Linux /proc). */
function rssMiB(pid: number): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
    return kb ? Math.round(Number(kb) / 1024) : null;
  } catch {
    return null;
  }
}

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
type Row = Awaited<ReturnType<typeof load>>;

/** Each target once per round, ROUNDS rounds; per target the round with the median req/s. */
async function interleaved(targets: [string, autocannon.Options][]): Promise<Row[]> {
  const runs: Row[][] = targets.map(() => []);
  for (let round = 0; round < ROUNDS; round++)
    for (const [i, [title, opts]] of targets.entries()) runs[i]!.push(await load(title, opts));
  return runs.map((list) => {
    const median = medianRound(list);
    return { ...median, errors: list.reduce((n, r) => n + r.errors, 0) };
  });
}

async function load(title: string, opts: autocannon.Options) {
  const result = await autocannon({ connections, duration: seconds, ...opts });
  const errors = result.errors + result.non2xx;
  return {
    title,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors,
  };
}

const dataDir = await mkdtemp(path.join(os.tmpdir(), "keygate-bench-"));
const env = {
  ...process.env,
  ...secrets,
  DATA_DIR: dataDir,
  LOG_LEVEL: "warn",
  HOST: "127.0.0.1",
  PORT: "0",
  NODE_ENV: "production",
  PUBLIC_URL: "http://localhost:4000",
};

// Seed a tenant and a key while no server owns the database.
const config = await loadConfig(env);
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
const { key } = await generateApiKey(deps, actor, {
  name: "bench",
  permissions: ["transactions:read"],
});
await closeDeps(deps);

const baseline = spawn(
  process.execPath,
  [
    "-e",
    `
  const http = require("node:http");
  const body = JSON.stringify({ valid: true, code: "VALID" });
  const s = http.createServer((req, res) => { req.resume(); req.on("end", () => { res.writeHead(200, { "content-type": "application/json" }); res.end(body); }); });
  s.listen(0, "127.0.0.1", () => console.log("listening " + s.address().port));
`,
  ],
  { stdio: ["ignore", "pipe", "pipe"] },
);
const baselinePort = await waitFor(baseline, /listening (\d+)/);
const minimalYoga = (...args: string[]) =>
  spawn(
    process.execPath,
    ["--import", "tsx", path.join(projectRoot, "bench", "minimal-yoga.ts"), ...args],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
const yogaServer = minimalYoga();
const yogaPort = await waitFor(yogaServer, /listening (\d+)/);
// The same minimal server without yoga's body limit, as the gateway runs it: the stricter floor.
const bareYogaServer = minimalYoga("no-body-limit");
const bareYogaPort = await waitFor(bareYogaServer, /listening (\d+)/);

const verifyBody = JSON.stringify({ key, permissions: ["transactions:read"] });
const graphqlBody = JSON.stringify({
  query:
    'mutation($k: String!) { verifyKey(key: $k, permissions: ["transactions:read"]) { valid code } }',
  variables: { k: key },
});
const json = { "content-type": "application/json" };

let gateways = 0;
/** The gateway's lines the bench reads: the listening line and anything at warn or above. */
const GATEWAY_LINES = /keygate listening|"level":(40|50|60)|Error/;

async function startGateway(extraEnv: Record<string, string>) {
  const gateway = await launchGateway(
    { ...env, LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? "info", ...extraEnv },
    path.join(dataDir, `gateway-${++gateways}.log`),
    GATEWAY_LINES,
  );
  // Warm-up: JIT, connection pools, the key cache.
  await autocannon({
    url: `${gateway.url}/v1/keys/verify`,
    method: "POST",
    headers: json,
    body: verifyBody,
    connections: 10,
    duration: 2,
  });
  return gateway;
}

const gateway = await startGateway({ USAGE_COUNTING: "on" });
const gatewayUrl = gateway.url;

// Interleaved rounds (every target once per round, ROUNDS rounds), each figure the median round:
// on a shared machine a slow patch then hits every target alike instead of whichever ran in it.
const rows = (await interleaved([
  [
    "node:http constant JSON (baseline)",
    { url: `http://127.0.0.1:${baselinePort}/`, method: "POST", headers: json, body: verifyBody },
  ],
  ["GET /healthz (gateway floor)", { url: `${gatewayUrl}/healthz` }],
  [
    "POST /v1/keys/verify",
    { url: `${gatewayUrl}/v1/keys/verify`, method: "POST", headers: json, body: verifyBody },
  ],
  [
    "GraphQL verifyKey",
    { url: `${gatewayUrl}/graphql`, method: "POST", headers: json, body: graphqlBody },
  ],
  [
    "minimal graphql-yoga, { __typename }",
    {
      url: `http://127.0.0.1:${yogaPort}/graphql`,
      method: "POST",
      headers: json,
      body: JSON.stringify({ query: "{ __typename }" }),
    },
  ],
  [
    "minimal graphql-yoga, { __typename }, maxRequestBodySize: false",
    {
      url: `http://127.0.0.1:${bareYogaPort}/graphql`,
      method: "POST",
      headers: json,
      body: JSON.stringify({ query: "{ __typename }" }),
    },
  ],
])) as [Row, Row, Row, Row, Row, Row];
const pgliteRss = rssMiB(gateway.pid);
await gateway.stop();
yogaServer.kill();
bareYogaServer.kill();

// Counting off, then on again (A B B A): the two servers run one after the other, so drift of a
// shared machine would otherwise be charged to whichever ran second.
const verifyLoad = (url: string, title: string) =>
  load(title, { url: `${url}/v1/keys/verify`, method: "POST", headers: json, body: verifyBody });
const uncounted = await startGateway({ USAGE_COUNTING: "off" });
const off = [
  await verifyLoad(uncounted.url, "POST /v1/keys/verify, USAGE_COUNTING=off"),
  await load("GraphQL verifyKey, USAGE_COUNTING=off", {
    url: `${uncounted.url}/graphql`,
    method: "POST",
    headers: json,
    body: graphqlBody,
  }),
  await verifyLoad(uncounted.url, "POST /v1/keys/verify, USAGE_COUNTING=off, again"),
] as const;
await uncounted.stop();
const counted = await startGateway({ USAGE_COUNTING: "on" });
const onAgain = await verifyLoad(counted.url, "POST /v1/keys/verify, USAGE_COUNTING=on, again");
await counted.stop();

console.log(
  `\n${connections} connections, ${seconds} s each (the first six: median of ${ROUNDS} interleaved rounds), loopback, ${os.cpus().length} cores, database: ${deps.db.kind}\n`,
);
console.log("| target | req/s | p50 ms | p99 ms | non-2xx + errors | ratio to baseline |");
console.log("| --- | ---: | ---: | ---: | ---: | ---: |");
for (const r of [...rows, ...off, onAgain]) {
  console.log(
    `| ${r.title} | ${Math.round(r.rps)} | ${r.p50} | ${r.p99} | ${r.errors} | ${(r.rps / rows[0].rps).toFixed(3)} |`,
  );
}
const restOn = (rows[2].rps + onAgain.rps) / 2;
const restOff = (off[0].rps + off[2].rps) / 2;
console.log(
  "\nUsage counting: verification throughput with counting on / off (goal >= 0.90); REST: mean of two runs each (on, off, off, on)\n",
);
console.log("| target | on req/s | off req/s | on / off |");
console.log("| --- | ---: | ---: | ---: |");
for (const [title, on, offRps] of [
  ["POST /v1/keys/verify", restOn, restOff],
  ["GraphQL verifyKey", rows[3].rps, off[1].rps],
] as const) {
  console.log(
    `| ${title} | ${Math.round(on)} | ${Math.round(offRps)} | ${(on / offRps).toFixed(3)} |`,
  );
}
console.log(
  `\nGraphQL verifyKey / minimal yoga { __typename }: ${(rows[3].rps / rows[4].rps).toFixed(3)} (goal >= 0.85); / the same without yoga's body limit: ${(rows[3].rps / rows[5].rps).toFixed(3)}`,
);
console.log(`Gateway RSS after the loads, embedded database (PGlite): ${pgliteRss ?? "?"} MiB`);
console.log(
  `Key cache: ${cacheEntryBytes} bytes of heap per entry (100,000 entries measured, bench/cache-memory.ts)`,
);
console.log(
  `\nStrict-text check (src/storable-text.ts) against JSON.parse of the same body, median of 21 runs\n`,
);
console.log(inputCostTable(inputCost));
await rm(dataDir, { recursive: true, force: true });

// PostgreSQL part: hot key, 100k keys, unknown-key flood, revocation across three instances.
await runScaleBench({
  seconds,
  connections,
  secrets,
  baselineRps: rows[0].rps,
  baselineUrl: `http://127.0.0.1:${baselinePort}/`,
  load,
  rssMiB,
  rounds: ROUNDS,
});
baseline.kill();
process.exit(0);
