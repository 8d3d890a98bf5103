// Boots the gateway: config → database (migrated) → first tenant → HTTP server.
// main.ts and the end-to-end tests both use it.
import { mkdir } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { getRequestListener } from "@hono/node-server";
import { createApp } from "./app.ts";
import type { Config } from "./config.ts";
import {
  type Database,
  databaseOptionsFromConfig,
  openDatabase,
  type Prisma,
} from "./db/client.ts";
import type { LockRole } from "./db/data-dir-lock.ts";
import { makePrivate } from "./db/private-files.ts";
import { startControlSocket, type ControlSocket } from "./control-socket.ts";
import type { Deps } from "./deps.ts";
import type { Logger } from "./logger.ts";
import { ensureDefaultTenant } from "./modules/tenants/service.ts";
import { createMailer } from "./mail/mailer.ts";
import { Limiters } from "./rate-limit/limiters.ts";
import { KeyRuntime } from "./modules/keys/runtime.ts";
import { UsageRecorder } from "./modules/usage/recorder.ts";
import { Background } from "./background.ts";
import { startExpiryReminders } from "./modules/keys/expiry-reminders.ts";
import { Metrics, metricsAuthorized } from "./metrics.ts";
import { withFastVerify } from "./fast-verify.ts";
import { withFastGraphQL } from "./fast-graphql.ts";
import type { GraphQLContext } from "./graphql/context.ts";
import type { ServerContext } from "./graphql/yoga.ts";
import type { YogaServerInstance } from "graphql-yoga";

export interface RunningServer {
  deps: Deps;
  url: string;
  close(): Promise<void>;
}

/** `role`: who this process is, named to a second process that finds the embedded database taken. */
export async function openDeps(
  config: Config,
  logger: Logger,
  role: LockRole = "cli",
): Promise<Deps> {
  // The embedded database's lock comes first: a second process fails before writing anything.
  const db = await openDatabase(databaseOptionsFromConfig(config, role));
  try {
    // DATA_DIR holds the database, the outbox and development secrets: the service user's alone.
    await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
    await makePrivate(config.dataDir);
    const applied = await db.migrate((line) => logger.debug({ engine: line }, "schema engine"));
    if (applied.length) logger.info({ migrations: applied }, "applied migrations");
  } catch (error) {
    await db.close();
    throw error;
  }
  return assembleDeps(config, db, logger);
}

/** The services' dependencies over an open, migrated database (the tests build theirs with it too). */
export function assembleDeps(config: Config, db: Database, logger: Logger): Deps {
  const metrics = new Metrics();
  const pool = db.pool;
  metrics.poolStats = pool
    ? () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount })
    : () => ({ total: 1, idle: 1, waiting: 0 });
  const keys = new KeyRuntime(db.prisma, logger, {
    cacheSize: config.keyCacheSize,
    cacheTtlMs: config.keyCacheTtlSeconds * 1000,
    databaseUrl: db.kind === "postgres" ? config.databaseUrl : undefined,
    redisUrl: config.redisUrl,
    metrics,
    executeJson: db.executeJson,
  });
  return {
    config,
    db,
    prisma: announceNewKeys(db.prisma, keys),
    logger,
    mailer: createMailer(config, logger),
    limiters: Limiters.create(config.redisUrl),
    background: new Background(logger),
    keys,
    usage: new UsageRecorder(db.prisma, logger, {
      enabled: config.usageCounting,
      minuteRetentionDays: config.usageRetentionDays,
      metrics,
      executeJson: db.executeJson,
    }),
    metrics,
  };
}

/**
 * Every new key's hash joins the key filter (here and, through a notice sent before the insert,
 * on every other instance) before its row can commit: a filter never refuses a key that exists.
 * Hooked on the client, so the services that create keys need not know about the filter.
 */
function announceNewKeys(prisma: Prisma, keys: KeyRuntime): Prisma {
  return prisma.$extends({
    query: {
      apiKey: {
        async create({ args, query }) {
          const hash = (args.data as { hash?: unknown }).hash;
          if (typeof hash === "string") await keys.keyCreated(hash);
          return query(args);
        },
      },
    },
  }) as unknown as Prisma;
}

type Listener = (req: IncomingMessage, res: ServerResponse) => void;

/** GET /metrics: Prometheus text, for whoever holds METRICS_TOKEN (or everyone on METRICS_ADDRESS). */
async function serveMetrics(deps: Deps, res: ServerResponse): Promise<void> {
  const text = await deps.metrics.text();
  res.writeHead(200, { "content-type": deps.metrics.contentType });
  res.end(text);
}

/**
 * The gateway's node:http listener: GET /metrics (with METRICS_TOKEN) and the verification fast
 * path answered here, everything else by the Hono app.
 */
export function requestListener(
  deps: Deps,
  fetch: (request: Request, env: unknown) => unknown,
  yoga?: YogaServerInstance<ServerContext, GraphQLContext>,
): Listener {
  const hono = getRequestListener(fetch as never, { hostname: deps.config.host }) as Listener;
  const fast = withFastVerify(deps, yoga ? withFastGraphQL(deps, yoga, hono) : hono);
  const token = deps.config.metricsToken;
  if (!token) return fast;
  return (req, res) => {
    if (req.url !== "/metrics" || req.method !== "GET") return fast(req, res);
    if (!metricsAuthorized(req.headers.authorization, token)) {
      res.writeHead(401, { "content-type": "application/json", "www-authenticate": "Bearer" });
      res.end(
        JSON.stringify({
          error: { code: "UNAUTHENTICATED", message: "metrics: bearer token required" },
        }),
      );
      return;
    }
    serveMetrics(deps, res).catch(() => res.destroy());
  };
}

/** METRICS_ADDRESS: a listener of its own that answers GET /metrics and nothing else. */
export async function startMetricsListener(deps: Deps): Promise<Server | undefined> {
  const address = deps.config.metricsAddress;
  if (!address) return undefined;
  const server = createServer((req, res) => {
    if (req.method === "GET" && req.url === "/metrics") {
      serveMetrics(deps, res).catch(() => res.destroy());
      return;
    }
    res.writeHead(404, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: { code: "NOT_FOUND", message: "no such route" } }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(address.port, address.host, () => resolve());
  });
  const bound = server.address();
  deps.logger.info(
    {
      metrics: `http://${address.host}:${typeof bound === "object" && bound ? bound.port : address.port}/metrics`,
    },
    "metrics listening",
  );
  return server;
}

/** Finishes background work (mail, last-used times), then closes Redis and the database. */
export async function closeDeps(deps: Deps): Promise<void> {
  await deps.background.idle();
  await deps.mailer.idle();
  await deps.keys.stop();
  await deps.usage.stop();
  await deps.limiters.close();
  await deps.db.close();
}

export async function startServer(config: Config, logger: Logger): Promise<RunningServer> {
  const deps = await openDeps(config, logger, "server");
  const first = await ensureDefaultTenant(deps);
  if (first.created) {
    logger.info(
      { email: first.email },
      `created tenant "Default" owned by ${first.email} (platform admin). Sign in: POST ${config.publicUrl}/api/v3/auth/login {"email":"${first.email}"} and open the link from the mail (${config.smtpUrl ? "SMTP" : `${config.dataDir}/outbox`}).`,
    );
  }
  deps.keys.start();
  deps.usage.start();
  const reminders = startExpiryReminders(deps);
  // On the embedded database no other process may open it: the CLI's commands come in here.
  let control: ControlSocket | undefined;
  if (deps.db.kind === "pglite") {
    try {
      control = await startControlSocket(deps);
    } catch (error) {
      logger.warn(
        { err: error },
        "no control socket: CLI commands cannot run while this server holds the database",
      );
    }
  }
  const { app, yoga } = createApp(deps);
  const metricsServer = await startMetricsListener(deps);
  const server = createServer(requestListener(deps, app.fetch, yoga));
  await new Promise<void>((resolve) => server.listen(config.port, config.host, () => resolve()));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  const url = `http://${config.host}:${port}`;
  logger.info({ url, graphql: `${url}/graphql`, database: deps.db.kind }, "keygate listening");

  let closing: Promise<void> | undefined;
  return {
    deps,
    url,
    close() {
      closing ??= (async () => {
        await control?.close();
        await reminders.stop();
        await new Promise<void>((resolve) =>
          metricsServer ? metricsServer.close(() => resolve()) : resolve(),
        );
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          // Keep-alive sockets would hold close() open; idle ones go now, busy ones finish first.
          (server as { closeIdleConnections?: () => void }).closeIdleConnections?.();
          setTimeout(
            () => (server as { closeAllConnections?: () => void }).closeAllConnections?.(),
            1000,
          ).unref();
        });
        await closeDeps(deps);
      })();
      return closing;
    },
  };
}
