// Boots the gateway: config → database (migrated) → first tenant → HTTP server.
// main.ts and the end-to-end tests both use it.
import { serve, type ServerType } from "@hono/node-server";
import { createApp } from "./app.ts";
import type { Config } from "./config.ts";
import { databaseOptionsFromConfig, openDatabase } from "./db/client.ts";
import type { Deps } from "./deps.ts";
import type { Logger } from "./logger.ts";
import { ensureDefaultTenant } from "./modules/tenants/service.ts";
import { createMailer } from "./mail/mailer.ts";
import { Limiters } from "./rate-limit/limiters.ts";
import { KeyRuntime } from "./modules/keys/runtime.ts";
import { Background } from "./background.ts";

export interface RunningServer {
  deps: Deps;
  url: string;
  close(): Promise<void>;
}

export async function openDeps(config: Config, logger: Logger): Promise<Deps> {
  const db = await openDatabase(databaseOptionsFromConfig(config));
  try {
    const applied = await db.migrate((line) => logger.debug({ engine: line }, "schema engine"));
    if (applied.length) logger.info({ migrations: applied }, "applied migrations");
  } catch (error) {
    await db.close();
    throw error;
  }
  return { config, db, prisma: db.prisma, logger, mailer: createMailer(config, logger), limiters: Limiters.create(config.redisUrl), background: new Background(logger), keys: new KeyRuntime(db.prisma, logger) };
}

/** Finishes background work (mail, last-used times), then closes Redis and the database. */
export async function closeDeps(deps: Deps): Promise<void> {
  await deps.background.idle();
  await deps.mailer.idle();
  await deps.keys.stop();
  await deps.limiters.close();
  await deps.db.close();
}

export async function startServer(config: Config, logger: Logger): Promise<RunningServer> {
  const deps = await openDeps(config, logger);
  const first = await ensureDefaultTenant(deps);
  if (first.created) {
    logger.info(
      { email: first.email },
      `created tenant "Default" owned by ${first.email} (platform admin). Sign in: POST ${config.publicUrl}/api/v3/auth/login {"email":"${first.email}"} and open the link from the mail (${config.smtpUrl ? "SMTP" : `${config.dataDir}/outbox`}).`,
    );
  }
  deps.keys.start();
  const { app } = createApp(deps);
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, () => resolve(s));
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
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          // Keep-alive sockets would hold close() open; idle ones go now, busy ones finish first.
          (server as { closeIdleConnections?: () => void }).closeIdleConnections?.();
          setTimeout(() => (server as { closeAllConnections?: () => void }).closeAllConnections?.(), 1000).unref();
        });
        await closeDeps(deps);
      })();
      return closing;
    },
  };
}
