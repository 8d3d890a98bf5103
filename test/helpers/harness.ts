// An app on a fresh database, with helpers to seed tenants and call GraphQL and REST.
import { readFile, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { inject } from "vitest";
import { createApp } from "../../src/app.ts";
import { assembleDeps, closeDeps } from "../../src/server.ts";
import { signAccessToken } from "../../src/access/access-token.ts";
import { loadConfig, type Config } from "../../src/config.ts";
import { openDatabase, type Database } from "../../src/db/client.ts";
import type { Deps } from "../../src/deps.ts";
import { createLogger } from "../../src/logger.ts";
import { createTenant, addUser } from "../../src/modules/tenants/service.ts";
import { system } from "../../src/access/actor.ts";
import { adminQuery, serverUrl, uniqueDatabaseName } from "./databases.ts";

export const testSecrets = {
  JWT_SECRET: "test-jwt-secret-0123456789abcdef0123456789abcdef",
  ENCRYPTION_KEY: Buffer.alloc(32, 7).toString("base64"),
};

export async function testConfig(overrides: Record<string, string> = {}): Promise<Config> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "keygate-data-"));
  return loadConfig({
    NODE_ENV: "test",
    DATA_DIR: dataDir,
    LOG_LEVEL: "info",
    ...testSecrets,
    ...overrides,
  });
}

async function freshDatabase(): Promise<{ db: Database; drop: () => Promise<void> }> {
  const databaseUrl = process.env.DATABASE_URL;
  const template = inject("postgresTemplate");
  if (databaseUrl && template) {
    const name = uniqueDatabaseName("keygate_t");
    // Two files copying the template at the same instant collide (55006): retry briefly.
    for (let attempt = 0; ; attempt++) {
      try {
        await adminQuery(databaseUrl, `CREATE DATABASE "${name}" TEMPLATE "${template}"`);
        break;
      } catch (error) {
        if ((error as { code?: string }).code !== "55006" || attempt >= 20) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 200));
      }
    }
    const db = await openDatabase({ kind: "postgres", url: serverUrl(databaseUrl, name) });
    return {
      db,
      drop: () => adminQuery(databaseUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
    };
  }
  const image = await readFile(inject("pgliteImage"));
  const db = await openDatabase({ kind: "pglite", loadDataDir: new Blob([image]) });
  return { db, drop: async () => {} };
}

export interface Harness {
  deps: Deps;
  app: ReturnType<typeof createApp>["app"];
  /** The app's yoga server, which the Node listener's GraphQL fast path calls directly. */
  yoga: ReturnType<typeof createApp>["yoga"];
  /** Every log line written during the test file, raw. */
  logs: string[];
  close(): Promise<void>;
}

export async function createHarness(
  configOverrides: Record<string, string> = {},
): Promise<Harness> {
  const config = await testConfig(configOverrides);
  const { db, drop } = await freshDatabase();
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const logger = createLogger({ level: config.logLevel, destination });
  const deps = assembleDeps(config, db, logger);
  const { app, yoga } = createApp(deps);
  return {
    deps,
    app,
    yoga,
    logs,
    async close() {
      await closeDeps(deps);
      await drop();
      await rm(config.dataDir, { recursive: true, force: true });
    },
  };
}

/** A session row and its access token, as a sign-in would produce. */
export async function signIn(deps: Deps, userId: string): Promise<string> {
  const user = await deps.prisma.user.findUniqueOrThrow({ where: { id: userId } });
  const session = await deps.prisma.session.create({
    data: { tenantId: user.tenantId, userId: user.id, expiresAt: new Date(Date.now() + 3600_000) },
  });
  const { token } = await signAccessToken(deps.config, {
    sub: user.id,
    tid: user.tenantId,
    sid: session.id,
    kind: "session",
  });
  return token;
}

let counter = 0;
export async function seedTenant(
  deps: Deps,
  name = "Acme",
  options: { platformAdmin?: boolean } = {},
) {
  counter += 1;
  const email = `owner${counter}-${Date.now()}@${name.toLowerCase().replace(/\W/g, "")}.test`;
  const { tenant, owner } = await createTenant(deps, system, {
    name,
    ownerEmail: email,
    platformAdmin: options.platformAdmin,
  });
  return { tenant, owner, token: await signIn(deps, owner.id) };
}

export async function seedUser(
  deps: Deps,
  tenantId: string,
  role: "OWNER" | "ADMIN" | "MEMBER",
  permissions: string[] = [],
) {
  counter += 1;
  const user = await addUser(deps, system, {
    email: `user${counter}-${Date.now()}@example.test`,
    role,
    permissions,
    tenantId,
  });
  return { user, token: await signIn(deps, user.id) };
}

export interface GraphQLResult<T = Record<string, any>> {
  status: number;
  data?: T | null;
  errors?: { message: string; path?: string[]; extensions?: Record<string, any> }[];
}

/** A GraphQL request through the Hono app, as production serves it (authentication included). */
export async function gql<T = Record<string, any>>(
  h: Pick<Harness, "app">,
  query: string,
  variables: Record<string, unknown> = {},
  token?: string,
): Promise<GraphQLResult<T>> {
  const response = await h.app.request("/graphql", {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as GraphQLResult<T>;
  return { ...body, status: response.status };
}

/** Waits for background mail, then returns the sign-in links found in the outbox, oldest first. */
export async function outboxLinks(deps: Deps): Promise<string[]> {
  await deps.background.idle();
  await deps.mailer.idle();
  const { readdir } = await import("node:fs/promises");
  const dir = deps.mailer.outboxDir!;
  const files = (await readdir(dir).catch(() => [] as string[])).sort();
  const links: string[] = [];
  for (const file of files) {
    const text = (await readFile(path.join(dir, file), "utf8"))
      .replace(/=\r?\n/g, "")
      .replace(/=3D/g, "=");
    // Sign-in links, and invitations (which open the dashboard's confirmation page).
    const match =
      /https?:\/\/\S+?\/(?:api\/v3\/auth\/verify|dashboard\/sign-in\/confirm)\?hash=([A-Za-z0-9_%-]+)/.exec(
        text,
      );
    if (match) links.push(match[0]);
  }
  return links;
}

export function hashOf(link: string): string {
  return decodeURIComponent(new URL(link).searchParams.get("hash")!);
}

/** Every row of every table as JSON text: what a database dump would reveal. */
export async function databaseDump(deps: Deps): Promise<string> {
  const tables = [
    "Tenant",
    "User",
    "Project",
    "ApiKey",
    "KeyPair",
    "MagicLink",
    "Session",
    "RefreshToken",
    "AuditEvent",
    "_prisma_migrations",
  ];
  const parts: string[] = [];
  for (const table of tables) {
    const rows = await deps.prisma.$queryRawUnsafe<{ dump: unknown }[]>(
      `SELECT coalesce(json_agg(t), '[]'::json)::text AS dump FROM "${table}" t`,
    );
    parts.push(String(rows[0]!.dump));
  }
  if (deps.db.pglite) {
    // The embedded database's files too: a plaintext secret would sit in its heap pages.
    const image = await deps.db.pglite.dumpDataDir("none");
    parts.push(Buffer.from(await image.arrayBuffer()).toString("latin1"));
  }
  return parts.join("\n");
}

export const generateMutation = `mutation($input: GenerateApiKeyInput!) {
  generateApiKey(input: $input) { key apiKey { id name kind format status permissions masked integratorLevel test expiresAt lifetime hasSecret owner { id } rateLimit { perMinute perHour perDay } } }
}`;
export const generateSecureMutation = `mutation($input: GenerateApiKeyInput!) {
  generateSecureApiKey(input: $input) { key secret apiKey { id kind hasSecret permissions } }
}`;
export const verifyMutation = `mutation($key: String!, $permissions: [String!]) {
  verifyKey(key: $key, permissions: $permissions) { valid code keyId tenantId ownerId permissions expiresAt ratelimit { limit remaining reset } }
}`;

export async function generateKeyFor(
  h: Pick<Harness, "app">,
  token: string,
  input: Record<string, unknown> = {},
) {
  const result = await gql(h, generateMutation, { input: { name: "test key", ...input } }, token);
  if (result.errors) throw new Error(JSON.stringify(result.errors));
  return result.data!.generateApiKey as { key: string; apiKey: Record<string, any> };
}

/** POST a JSON body (or raw text, for malformed-body tests) through the app, optionally with a bearer token. */
export async function postJson(
  h: Pick<Harness, "app">,
  path: string,
  body: unknown,
  token?: string,
): Promise<Response> {
  return h.app.request(path, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}
