// Crash-safety check (`npm run test:crash`): the real gateway process is killed with SIGKILL at
// random points while it issues keys, revokes them and rotates a session's refresh token. After
// the last kill every acknowledged change must still hold, and no row may be half-written.
//
// Runs on embedded PGlite (a fresh temporary DATA_DIR) or, when DATABASE_URL is set, on a fresh
// database of that PostgreSQL server (created through its `postgres` database, dropped at the end).
//
// The server runs as `node --import tsx src/main.ts`, not through the tsx CLI: the CLI runs the
// script in a grandchild process and cannot pass SIGKILL on, so killing it would orphan the server.
import { randomBytes, randomInt } from "node:crypto";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import pg from "pg";
import { signAccessToken } from "../src/access/access-token.ts";
import { system } from "../src/access/actor.ts";
import { signRequest } from "../src/access/signature.ts";
import { loadConfig, type Config } from "../src/config.ts";
import { sha256Hex } from "../src/crypto/tokens.ts";
import { projectRoot } from "../src/db/migrate.ts";
import type { Deps } from "../src/deps.ts";
import { createLogger } from "../src/logger.ts";
import { openSession } from "../src/modules/sign-in/sessions.ts";
import { createTenant } from "../src/modules/tenants/service.ts";
import { openDeps } from "../src/server.ts";

const CYCLES = 5; // kills
const WORKERS = 8; // concurrent clients, one of them rotating the refresh token
const RUN_MS = { min: 300, max: 1500 }; // how long each cycle drives load before the kill
const DEADLINE_MS = 110_000; // the whole run, one database
const REQUEST_TIMEOUT_MS = 20_000;
const OWNER_EMAIL = "owner@crash.test";
const SECRETS = {
  JWT_SECRET: "crash-test-jwt-secret-0123456789abcdef0123456789abcdef",
  ENCRYPTION_KEY: Buffer.alloc(32, 9).toString("base64"),
};

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------
// Cleanup: child processes, the open database, the temporary database and directory.

const children = new Set<ChildProcess>();
const cleanups: (() => Promise<void>)[] = [];
let cleaning: Promise<void> | undefined;

function killChildren() {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
}

function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    killChildren();
    for (const step of cleanups.reverse()) {
      try {
        await step();
      } catch (error) {
        console.error(`crash test: cleanup step failed: ${(error as Error).message}`);
      }
    }
  })();
  return cleaning;
}

process.on("exit", killChildren);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => void cleanup().finally(() => process.exit(130)));
}

// ---------------------------------------------------------------------------------------------
// Violations: everything the run found wrong, printed at the end.

const violations: string[] = [];
function violation(message: string) {
  if (violations.length < 200) violations.push(message);
  else if (violations.length === 200) violations.push("... (more violations not shown)");
}

// ---------------------------------------------------------------------------------------------
// The server process.

interface ServerProcess {
  url: string;
  child: ChildProcess;
  exited: Promise<string>;
  /** Set before this script kills the process: an exit after that is expected. */
  killing: boolean;
  tail(): string;
}

const serverErrors: string[] = [];

async function startServer(env: NodeJS.ProcessEnv, label: string): Promise<ServerProcess> {
  const loader = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
  const child = spawn(
    process.execPath,
    ["--import", loader, path.join(projectRoot, "src", "main.ts")],
    {
      cwd: projectRoot,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  children.add(child);
  let tail = "";
  let pending = "";
  let url: string | undefined;
  const keep = (text: string) => {
    tail = (tail + text).slice(-20_000);
  };
  const server: ServerProcess = {
    url: "",
    child,
    killing: false,
    tail: () => tail,
    exited: new Promise((resolve) =>
      child.once("exit", (code, signal) => {
        children.delete(child);
        resolve(signal ?? `code ${code}`);
      }),
    ),
  };
  child.stdout!.on("data", (chunk: Buffer) => {
    const text = String(chunk);
    keep(text);
    pending += text;
    const lines = pending.split("\n");
    pending = lines.pop()!;
    for (const line of lines) {
      let entry: { level?: number; msg?: string; url?: string };
      try {
        entry = JSON.parse(line);
      } catch {
        continue;
      }
      if (entry.msg === "keygate listening" && entry.url) url = entry.url;
      if ((entry.level ?? 0) >= 50) serverErrors.push(`${label}: ${line.slice(0, 2000)}`);
    }
  });
  child.stderr!.on("data", (chunk: Buffer) => keep(String(chunk)));

  const started = Date.now();
  while (!url) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `${label}: the server exited during start (${child.signalCode ?? child.exitCode}):\n${tail}`,
      );
    }
    if (Date.now() - started > 45_000) {
      child.kill("SIGKILL");
      throw new Error(`${label}: the server did not announce its URL within 45 s:\n${tail}`);
    }
    await sleep(25);
  }
  server.url = url;
  void server.exited.then((how) => {
    if (!server.killing)
      violation(`${label}: the server exited on its own (${how}):\n${tail.slice(-4000)}`);
  });
  return server;
}

async function kill(server: ServerProcess, signal: NodeJS.Signals = "SIGKILL") {
  server.killing = true;
  server.child.kill(signal);
  const timer = setTimeout(() => server.child.kill("SIGKILL"), 10_000);
  const how = await server.exited;
  clearTimeout(timer);
  return how;
}

// ---------------------------------------------------------------------------------------------
// HTTP.

interface GraphQLAnswer {
  data?: Record<string, any> | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

async function graphql(
  url: string,
  query: string,
  variables: Record<string, unknown>,
  token?: string,
): Promise<GraphQLAnswer> {
  const response = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  return (await response.json()) as GraphQLAnswer;
}

const errorText = (answer: GraphQLAnswer) =>
  (answer.errors ?? []).map((e) => `${e.extensions?.code ?? "?"}: ${e.message}`).join("; ") ||
  "no data";
const errorCodes = (answer: GraphQLAnswer) => (answer.errors ?? []).map((e) => e.extensions?.code);

const GENERATE = `mutation($input: GenerateApiKeyInput!) { generateApiKey(input: $input) { key apiKey { id } } }`;
const GENERATE_SECURE = `mutation($input: GenerateApiKeyInput!) { generateSecureApiKey(input: $input) { key secret apiKey { id } } }`;
const REVOKE = `mutation($id: ID!, $reason: String) { revokeKey(id: $id, reason: $reason) { id status } }`;
const REFRESH = `mutation($refreshToken: String!) { refreshSession(refreshToken: $refreshToken) { accessToken refreshToken sessionId } }`;

// ---------------------------------------------------------------------------------------------
// What the clients were told (acknowledged) and what they could not learn (lost at a kill).

interface AckedKey {
  id: string;
  key: string;
  kind: "API_KEY" | "SECURE_API_KEY";
  /** A secure key verifies only with a request signature made with it. */
  secret?: string;
}

const acked = new Map<string, AckedKey>();
const revocable: string[] = []; // acknowledged, not revoked, no revocation in flight or in doubt
const revoked = new Set<string>(); // acknowledged revocations
const revokeInDoubt = new Set<string>(); // a revocation was in flight at a kill: REVOKED or VALID
const stats = {
  kills: 0,
  rotations: 0,
  retriedRotations: 0,
  lostGenerates: 0,
  lostRevocations: 0,
  lostRotations: 0,
  rateLimitedRotations: 0,
};

const session = {
  id: "",
  /** The newest refresh token whose rotation answer reached the client. */
  refreshToken: "",
  accessToken: "",
  /** A rotation of `refreshToken` was in flight at a kill: its answer is lost. */
  lostAnswerAt: 0,
  dead: false,
};

interface Cycle {
  label: string;
  url: string;
  token: string;
  server: ServerProcess;
  stop: boolean;
}

/** A request failed: expected once this script kills the server, a finding before that. */
function failed(cycle: Cycle, what: string, error: unknown): boolean {
  if (cycle.server.killing) return true;
  violation(`${cycle.label}: ${what} failed while the server was up: ${(error as Error).message}`);
  return false;
}

async function generate(cycle: Cycle, n: number) {
  const roll = Math.random();
  const secure = roll < 0.2;
  const input: Record<string, unknown> = { name: `crash ${n}` };
  if (!secure && roll < 0.4) input.format = "JWT";
  let answer: GraphQLAnswer;
  try {
    answer = await graphql(cycle.url, secure ? GENERATE_SECURE : GENERATE, { input }, cycle.token);
  } catch (error) {
    if (failed(cycle, "generateApiKey", error)) stats.lostGenerates += 1;
    return;
  }
  const payload = answer.data?.[secure ? "generateSecureApiKey" : "generateApiKey"];
  if (!payload?.key || !payload.apiKey?.id || (secure && !payload.secret)) {
    violation(`${cycle.label}: generateApiKey answered without a key: ${errorText(answer)}`);
    return;
  }
  acked.set(payload.apiKey.id, {
    id: payload.apiKey.id,
    key: payload.key,
    kind: secure ? "SECURE_API_KEY" : "API_KEY",
    secret: payload.secret,
  });
  revocable.push(payload.apiKey.id);
}

async function revoke(cycle: Cycle) {
  const index = randomInt(revocable.length);
  const id = revocable[index];
  const last = revocable.pop();
  if (id === undefined || last === undefined) return;
  if (index < revocable.length) revocable[index] = last;
  let answer: GraphQLAnswer;
  try {
    answer = await graphql(cycle.url, REVOKE, { id, reason: "crash test" }, cycle.token);
  } catch (error) {
    if (failed(cycle, `revokeKey(${id})`, error)) {
      stats.lostRevocations += 1;
      revokeInDoubt.add(id);
    }
    return;
  }
  if (answer.data?.revokeKey?.status !== "REVOKED") {
    violation(
      `${cycle.label}: revokeKey(${id}) of an active key did not revoke it: ${errorText(answer)}`,
    );
    return;
  }
  revoked.add(id);
}

/** One rotation of the newest acknowledged refresh token. Returns whether it was acknowledged. */
async function rotate(cycle: Cycle, what: string): Promise<boolean> {
  let answer: GraphQLAnswer;
  try {
    answer = await graphql(cycle.url, REFRESH, { refreshToken: session.refreshToken });
  } catch (error) {
    if (failed(cycle, what, error)) {
      stats.lostRotations += 1;
      session.lostAnswerAt ||= Date.now();
    }
    return false;
  }
  const payload = answer.data?.refreshSession;
  if (payload?.refreshToken && payload.accessToken) {
    session.refreshToken = payload.refreshToken;
    session.accessToken = payload.accessToken;
    if (payload.sessionId !== session.id)
      violation(`${cycle.label}: ${what} answered another session (${payload.sessionId})`);
    if (session.lostAnswerAt) stats.retriedRotations += 1;
    session.lostAnswerAt = 0;
    stats.rotations += 1;
    return true;
  }
  if (errorCodes(answer).every((code) => code === "RATE_LIMITED") && answer.errors?.length) {
    stats.rateLimitedRotations += 1;
    return false;
  }
  const lost = session.lostAnswerAt
    ? ` (a retry ${((Date.now() - session.lostAnswerAt) / 1000).toFixed(1)} s after the answer was lost)`
    : "";
  violation(
    `${cycle.label}: ${what} refused the newest acknowledged refresh token${lost}: ${errorText(answer)}: the session did not survive`,
  );
  session.dead = true;
  return false;
}

async function worker(cycle: Cycle, index: number, counter: { n: number }) {
  if (index === 0) {
    while (!cycle.stop && !session.dead) {
      await rotate(cycle, "refreshSession");
      await sleep(randomInt(5, 40));
    }
    return;
  }
  while (!cycle.stop) {
    if (revocable.length > 0 && Math.random() < 0.3) await revoke(cycle);
    else await generate(cycle, ++counter.n);
  }
}

async function verifyKey(
  url: string,
  key: string,
  secret?: string,
): Promise<{ valid: boolean; code: string }> {
  const signature = secret
    ? { header: signRequest(secret, "GET", "/crash-check"), method: "GET", path: "/crash-check" }
    : undefined;
  const response = await fetch(`${url}/v1/keys/verify`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ key, signature }),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const body = (await response.json()) as { valid: boolean; code: string };
  if (response.status !== 200)
    throw new Error(`POST /v1/keys/verify answered ${response.status}: ${JSON.stringify(body)}`);
  return body;
}

async function pool<T>(items: T[], concurrency: number, each: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await each(items[next++] as T);
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Database setup, seeding and the final look at the rows.

function databaseUrlFor(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

async function adminQuery(serverUrl: string, sql: string) {
  const client = new pg.Client({ connectionString: databaseUrlFor(serverUrl, "postgres") });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function withDeps<T>(config: Config, use: (deps: Deps) => Promise<T>): Promise<T> {
  const deps = await openDeps(config, createLogger({ level: "warn" }));
  try {
    return await use(deps);
  } finally {
    await deps.keys.stop();
    await deps.db.close();
  }
}

async function seed(config: Config) {
  return withDeps(config, async (deps) => {
    const { owner } = await createTenant(deps, system, {
      name: "Crash",
      ownerEmail: OWNER_EMAIL,
      platformAdmin: true,
    });
    // The key workers' session (as a sign-in makes), apart from the session whose refresh token rotates.
    const work = await deps.prisma.session.create({
      data: {
        tenantId: owner.tenantId,
        userId: owner.id,
        expiresAt: new Date(Date.now() + 24 * 3600_000),
      },
    });
    const { token } = await signAccessToken(config, {
      sub: owner.id,
      tid: owner.tenantId,
      sid: work.id,
      kind: "session",
    });
    const rotating = await deps.prisma.$transaction((tx) => openSession(deps, tx, owner, {}));
    return { owner, token, rotating };
  });
}

async function checkRows(config: Config) {
  return withDeps(config, async (deps) => {
    const prisma = deps.prisma;
    const keys = await prisma.apiKey.findMany({
      select: {
        id: true,
        kind: true,
        status: true,
        hash: true,
        start: true,
        end: true,
        jti: true,
        secretCiphertext: true,
        secretKeyVersion: true,
        revokedAt: true,
      },
    });
    const byId = new Map(keys.map((k) => [k.id, k]));
    for (const k of keys) {
      for (const field of ["hash", "start", "end", "jti"] as const) {
        if (!k[field]) violation(`row: ApiKey ${k.id} has an empty ${field}`);
      }
      if (k.kind === "SECURE_API_KEY" && (!k.secretCiphertext || k.secretKeyVersion === null)) {
        violation(
          `row: secure ApiKey ${k.id} lacks its secret (secretCiphertext ${k.secretCiphertext ? "set" : "missing"}, secretKeyVersion ${k.secretKeyVersion})`,
        );
      }
      if (k.kind === "API_KEY" && (k.secretCiphertext || k.secretKeyVersion !== null))
        violation(`row: plain ApiKey ${k.id} carries a secret`);
      if (k.status === "REVOKED" && !k.revokedAt)
        violation(`row: ApiKey ${k.id} is REVOKED without revokedAt`);
    }

    const audits = await prisma.auditEvent.findMany({
      where: { action: { in: ["key.create", "key.revoke"] } },
      select: { action: true, targetId: true },
    });
    const creates = new Map<string, number>();
    const revokes = new Map<string, number>();
    for (const a of audits) {
      const counts = a.action === "key.create" ? creates : revokes;
      counts.set(a.targetId ?? "", (counts.get(a.targetId ?? "") ?? 0) + 1);
    }
    for (const k of keys) {
      const n = creates.get(k.id) ?? 0;
      if (n !== 1)
        violation(`row: ApiKey ${k.id} has ${n} "key.create" audit events, not exactly 1`);
    }
    for (const [target, n] of creates)
      if (!byId.has(target))
        violation(
          `row: ${n} "key.create" audit event(s) for ApiKey ${target}, which does not exist`,
        );
    for (const [target, n] of revokes) {
      const k = byId.get(target);
      if (k?.status !== "REVOKED")
        violation(
          `row: "key.revoke" audit event for ApiKey ${target}, whose status is ${k?.status ?? "missing"}`,
        );
      if (n > 1) violation(`row: ApiKey ${target} has ${n} "key.revoke" audit events`);
    }
    for (const k of keys)
      if (k.status === "REVOKED" && !revokes.has(k.id))
        violation(`row: ApiKey ${k.id} is REVOKED without a "key.revoke" audit event`);

    // What the clients were told.
    for (const a of acked.values()) {
      const k = byId.get(a.id);
      if (!k) {
        violation(`row: acknowledged ApiKey ${a.id} is not in the database`);
        continue;
      }
      if (k.hash !== sha256Hex(a.key))
        violation(`row: acknowledged ApiKey ${a.id} is stored with another key's hash`);
      if (k.kind !== a.kind)
        violation(`row: acknowledged ApiKey ${a.id} is stored as ${k.kind}, made as ${a.kind}`);
      if (revoked.has(a.id) && k.status !== "REVOKED")
        violation(`row: acknowledged revocation of ApiKey ${a.id} is lost (status ${k.status})`);
      if (!revoked.has(a.id) && !revokeInDoubt.has(a.id) && k.status !== "ACTIVE")
        violation(`row: ApiKey ${a.id} never revoked is ${k.status}`);
    }

    const sessions = new Map((await prisma.session.findMany()).map((s) => [s.id, s]));
    const tokens = await prisma.refreshToken.findMany({
      select: { id: true, sessionId: true, usedAt: true, replacedBy: true },
    });
    const tokenById = new Map(tokens.map((t) => [t.id, t]));
    for (const t of tokens) {
      if (!sessions.has(t.sessionId))
        violation(
          `row: RefreshToken ${t.id} belongs to session ${t.sessionId}, which does not exist`,
        );
      if (t.replacedBy) {
        const successor = tokenById.get(t.replacedBy);
        if (!successor)
          violation(
            `row: RefreshToken ${t.id} was replaced by ${t.replacedBy}, which does not exist`,
          );
        else if (successor.sessionId !== t.sessionId)
          violation(`row: RefreshToken ${t.id} was replaced by a token of another session`);
        if (!t.usedAt) violation(`row: RefreshToken ${t.id} has a successor but no usedAt`);
      }
    }
    const rotating = sessions.get(session.id);
    if (!rotating) violation(`row: the rotating session ${session.id} is gone`);
    else if (rotating.revokedAt)
      violation(`row: the rotating session was revoked (${rotating.revokeReason})`);
    const refreshAudits = await prisma.auditEvent.count({
      where: { action: "session.refresh", targetId: session.id },
    });
    if (refreshAudits < stats.rotations)
      violation(
        `row: ${stats.rotations} acknowledged rotations but only ${refreshAudits} "session.refresh" audit events`,
      );
    const reuse = await prisma.auditEvent.count({ where: { action: "session.reuse_detected" } });
    if (reuse > 0) violation(`row: ${reuse} "session.reuse_detected" audit event(s)`);
    return { keyRows: keys.length, revokedRows: keys.filter((k) => k.status === "REVOKED").length };
  });
}

// ---------------------------------------------------------------------------------------------
// The run.

async function main() {
  const adminUrl = process.env.DATABASE_URL;
  const kind = adminUrl ? "postgres" : "pglite";
  const started = Date.now();

  const dataDir = await mkdtemp(path.join(os.tmpdir(), "keygate-crash-"));
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: "production",
    HOST: "127.0.0.1",
    PORT: "0",
    LOG_LEVEL: "info",
    DATA_DIR: dataDir,
    PUBLIC_URL: "http://localhost:4000",
    ADMIN_EMAIL: OWNER_EMAIL,
    ...SECRETS,
  };
  delete env.DATABASE_URL;
  delete env.REDIS_URL;
  delete env.SMTP_URL;
  if (adminUrl) {
    const name = `keygate_crash_${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`;
    await adminQuery(adminUrl, `CREATE DATABASE "${name}"`);
    cleanups.push(() => adminQuery(adminUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    env.DATABASE_URL = databaseUrlFor(adminUrl, name);
  }
  const config = await loadConfig(env);

  // 1. Seed while no server runs.
  const seeded = await seed(config);
  session.id = seeded.rotating.sessionId;
  session.refreshToken = seeded.rotating.refreshToken;
  session.accessToken = seeded.rotating.accessToken;

  // 2. Load, kill, restart.
  const counter = { n: 0 };
  for (let i = 1; i <= CYCLES; i++) {
    const label = `cycle ${i}`;
    const server = await startServer(env, label);
    const cycle: Cycle = { label, url: server.url, token: seeded.token, server, stop: false };
    // A rotation whose answer was lost at the last kill: the client retries with the same token first.
    if (session.lostAnswerAt && !session.dead)
      await rotate(cycle, "refreshSession retry after a lost answer");
    const workers = Array.from({ length: WORKERS }, (_, w) => worker(cycle, w, counter));
    await sleep(randomInt(RUN_MS.min, RUN_MS.max + 1));
    cycle.stop = true;
    await kill(server);
    stats.kills += 1;
    await Promise.all(workers);
  }

  // 3. Restart once more and check what the clients were told.
  const final = await startServer(env, "final");
  const cycle: Cycle = {
    label: "final",
    url: final.url,
    token: seeded.token,
    server: final,
    stop: false,
  };
  if (!session.dead && session.lostAnswerAt)
    await rotate(cycle, "refreshSession retry after a lost answer");
  if (!session.dead && (await rotate(cycle, "refreshSession after the last restart"))) {
    const viewer = await graphql(final.url, "{ viewer { email } }", {}, session.accessToken);
    if (viewer.data?.viewer?.email !== OWNER_EMAIL)
      violation(`final: the rotated access token does not sign in: ${JSON.stringify(viewer)}`);
  }
  await pool([...acked.values()], WORKERS, async (a) => {
    let result: { valid: boolean; code: string };
    try {
      result = await verifyKey(final.url, a.key, a.secret);
    } catch (error) {
      violation(`final: verifying ApiKey ${a.id} failed: ${(error as Error).message}`);
      return;
    }
    if (revoked.has(a.id)) {
      if (result.code !== "REVOKED")
        violation(`final: ApiKey ${a.id}, acknowledged as revoked, verifies ${result.code}`);
    } else if (revokeInDoubt.has(a.id)) {
      if (result.code !== "REVOKED" && result.code !== "VALID")
        violation(`final: ApiKey ${a.id} (revocation lost at a kill) verifies ${result.code}`);
    } else if (!result.valid || result.code !== "VALID") {
      violation(
        `final: acknowledged ApiKey ${a.id} (${a.kind}) verifies ${result.code}, not VALID`,
      );
    }
  });
  const stopped = await kill(final, "SIGTERM");
  if (stopped !== "code 0")
    violation(`final: the server did not stop cleanly on SIGTERM (${stopped})`);

  // 4. The rows themselves.
  const rows = await checkRows(config);
  for (const line of serverErrors) violation(`server logged an error: ${line}`);

  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(
    `crash test (${kind}) details: ${rows.keyRows} key rows (${rows.keyRows - acked.size} committed but unacknowledged), ${rows.revokedRows} revoked rows; ` +
      `lost at kills: ${stats.lostGenerates} generations, ${stats.lostRevocations} revocations, ${stats.lostRotations} rotations ` +
      `(${stats.retriedRotations} retried successfully); ${stats.rateLimitedRotations} rotations rate-limited; ${seconds} s`,
  );
  const summary = `crash test (${kind}): ${stats.kills} kills, ${acked.size} keys acknowledged, ${revoked.size} revocations, ${stats.rotations} refresh rotations`;
  if (violations.length) {
    console.error(`${summary}: ${violations.length} violation(s):`);
    for (const v of violations) console.error(`  - ${v}`);
    return 1;
  }
  if (acked.size === 0 || stats.rotations === 0) {
    console.error(`${summary}: the load did not get through; nothing was tested`);
    return 1;
  }
  console.log(`${summary}: all held`);
  return 0;
}

const deadline = setTimeout(() => {
  console.error(`crash test: gave up after ${DEADLINE_MS / 1000} s`);
  void cleanup().finally(() => process.exit(1));
}, DEADLINE_MS);

let status = 1;
try {
  status = await main();
} catch (error) {
  console.error(`crash test failed: ${(error as Error).stack ?? error}`);
  if (violations.length) for (const v of violations) console.error(`  - ${v}`);
  status = 1;
} finally {
  clearTimeout(deadline);
  await cleanup();
}
process.exit(status);
