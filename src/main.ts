// Listen and shut down gracefully; nothing else.
import { ConfigError, loadConfig } from "./config.ts";
import { DataDirLockedError } from "./db/data-dir-lock.ts";
import { createLogger } from "./logger.ts";
import { startServer, type RunningServer } from "./server.ts";

const bootLogger = createLogger({ level: process.env.LOG_LEVEL || "info" });

// Listening from the first line: a SIGTERM during the boot (opening and migrating the database
// takes seconds) must still close the database, not kill the process in the middle of a write.
let server: RunningServer | undefined;
let stopSignal: string | undefined;
const stop = (signal: string) => {
  if (stopSignal) {
    // A second signal: whoever sends it wants the process gone now.
    bootLogger.warn({ signal }, "second signal: exiting without waiting");
    process.exit(1);
  }
  stopSignal = signal;
  bootLogger.info({ signal }, "shutting down");
  if (server) close(server);
};
const close = (running: RunningServer) => {
  // A hard stop if something refuses to close; the database is closed before it fires in practice.
  setTimeout(() => process.exit(1), 5000).unref();
  return running.close().then(
    () => process.exit(0),
    (error) => {
      bootLogger.error({ err: error }, "shutdown failed");
      process.exit(1);
    },
  );
};
process.on("SIGINT", () => stop("SIGINT"));
process.on("SIGTERM", () => stop("SIGTERM"));

try {
  const config = await loadConfig(process.env, (message) => bootLogger.warn(message));
  const logger = createLogger({ level: config.logLevel });
  server = await startServer(config, logger);
  if (stopSignal) close(server);
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(78);
  }
  if (error instanceof DataDirLockedError) {
    console.error(error.message);
    process.exit(1);
  }
  bootLogger.fatal({ err: error }, "failed to start");
  process.exit(1);
}
