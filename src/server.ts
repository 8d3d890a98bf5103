// Boots the gateway: config → database (migrated) → first tenant → HTTP server.
// main.ts and the end-to-end tests both use it.
import { mkdir } from "node:fs/promises";
import { serve, type ServerType } from "@hono/node-server";
import { createApp } from "./app.ts";
import type { Config } from "./config.ts";
import { type Database, databaseOptionsFromConfig, openDatabase } from "./db/client.ts";
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
  return {
    config,
    db,
    prisma: db.prisma,
    logger,
    mailer: createMailer(config, logger),
    limiters: Limiters.create(config.redisUrl),
    background: new Background(logger),
    keys: new KeyRuntime(db.prisma, logger),
    usage: new UsageRecorder(db.prisma, logger, {
      enabled: config.usageCounting,
      minuteRetentionDays: config.usageRetentionDays,
    }),
  };
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
  const { app } = createApp(deps);
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, () =>
      resolve(s),
    );
  });
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
