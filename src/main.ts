// Listen and shut down gracefully; nothing else.
import { ConfigError, loadConfig } from "./config.ts";
import { createLogger } from "./logger.ts";
import { startServer } from "./server.ts";

const bootLogger = createLogger({ level: process.env.LOG_LEVEL || "info" });
try {
  const config = await loadConfig(process.env, (message) => bootLogger.warn(message));
  const logger = createLogger({ level: config.logLevel });
  const server = await startServer(config, logger);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    // A hard stop if something refuses to close; the database is closed before it fires in practice.
    setTimeout(() => process.exit(1), 5000).unref();
    server.close().then(
      () => process.exit(0),
      (error) => {
        logger.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(78);
  }
  bootLogger.fatal({ err: error }, "failed to start");
  process.exit(1);
}
