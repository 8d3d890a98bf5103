// The local control channel of a server on the embedded database. Only one process may open
// that database, so the CLI's `tenant create` and `user add` run inside the server instead: the
// CLI sends them here. A Unix socket in DATA_DIR (0700, the socket 0600): only the service user
// reaches it, and whoever does is trusted as the system actor, exactly like running the CLI.
//
// One request per connection, one JSON line each way:
//   → {"command":"tenant create","values":{"name":"Acme","owner-email":"o@acme.test"}}
//   ← {"ok":true,"output":"{...}"}  or  {"ok":false,"error":"--name is required"}
import { chmod, unlink } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import {
  isServerCommand,
  serverCommands,
  type CommandValues,
  type ServerCommand,
} from "./admin-commands.ts";
import type { Deps } from "./deps.ts";
import { AppError } from "./errors.ts";

const MAX_REQUEST_BYTES = 64 * 1024;
const IDLE_TIMEOUT_MS = 10_000;

export function controlSocketPath(dataDir: string): string {
  return path.join(dataDir, "keygate.sock");
}

interface Reply {
  ok: boolean;
  output?: string;
  error?: string;
}

function parseRequest(line: string): { command: ServerCommand; values: CommandValues } {
  let request: unknown;
  try {
    request = JSON.parse(line);
  } catch {
    throw new AppError("VALIDATION_FAILED", "the request is not JSON");
  }
  const { command, values } = (request ?? {}) as { command?: unknown; values?: unknown };
  if (typeof command !== "string" || !isServerCommand(command)) {
    throw new AppError(
      "VALIDATION_FAILED",
      `the server does not run this command: ${String(command)}`,
    );
  }
  if (typeof values !== "object" || values === null || Array.isArray(values))
    throw new AppError("VALIDATION_FAILED", "values must be an object");
  const clean: CommandValues = {};
  for (const [key, value] of Object.entries(values)) {
    if (typeof value === "string" || typeof value === "boolean") clean[key] = value;
  }
  return { command, values: clean };
}

export interface ControlSocket {
  path: string;
  close(): Promise<void>;
}

/** Serves the control channel at DATA_DIR/keygate.sock. The caller holds the data directory's lock. */
export async function startControlSocket(deps: Deps): Promise<ControlSocket> {
  const socketPath = controlSocketPath(deps.config.dataDir);
  // Ours to replace: we hold the data directory, so a socket file left here is a dead server's.
  await unlink(socketPath).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== "ENOENT") throw error;
  });
  const server = net.createServer((socket) => {
    socket.setTimeout(IDLE_TIMEOUT_MS, () => socket.destroy());
    let buffered = "";
    let handled = false;
    const reply = (answer: Reply) => socket.end(`${JSON.stringify(answer)}\n`);
    socket.setEncoding("utf8");
    socket.on("error", () => {});
    socket.on("data", (chunk: string) => {
      if (handled) return;
      buffered += chunk;
      const newline = buffered.indexOf("\n");
      if (newline < 0) {
        if (buffered.length > MAX_REQUEST_BYTES) {
          handled = true;
          reply({ ok: false, error: "request too large" });
        }
        return;
      }
      handled = true;
      void (async () => {
        try {
          const { command, values } = parseRequest(buffered.slice(0, newline));
          deps.logger.info({ command }, "control command");
          reply({ ok: true, output: await serverCommands[command](deps, values) });
        } catch (error) {
          if (error instanceof AppError) return reply({ ok: false, error: error.message });
          deps.logger.error({ err: error }, "control command failed");
          reply({ ok: false, error: "the command failed on the server: see its log" });
        }
      })();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(socketPath, () => {
      server.off("error", reject);
      resolve();
    });
  });
  // The directory is 0700 already; the socket's own mode is the second fence.
  await chmod(socketPath, 0o600);
  let closing: Promise<void> | undefined;
  return {
    path: socketPath,
    close() {
      closing ??= new Promise<void>((resolve) => server.close(() => resolve())).then(() =>
        unlink(socketPath).catch(() => {}),
      );
      return closing;
    },
  };
}

export class ControlSocketUnavailable extends Error {}

/** Sends one command to the server's control socket and returns its output line. */
export function sendControlCommand(
  socketPath: string,
  command: string,
  values: CommandValues,
  timeoutMs = 60_000,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection(socketPath);
    let answer = "";
    let connected = false;
    socket.setEncoding("utf8");
    socket.setTimeout(timeoutMs, () => {
      socket.destroy();
      reject(
        new ControlSocketUnavailable(`no answer from ${socketPath} within ${timeoutMs / 1000} s`),
      );
    });
    socket.on("connect", () => {
      connected = true;
      socket.write(`${JSON.stringify({ command, values })}\n`);
    });
    socket.on("data", (chunk: string) => (answer += chunk));
    socket.on("error", (error) => {
      if (!connected)
        reject(
          new ControlSocketUnavailable(
            `cannot reach ${socketPath}: ${(error as NodeJS.ErrnoException).code ?? error.message}`,
          ),
        );
      else reject(error);
    });
    socket.on("end", () => {
      let reply: Reply;
      try {
        reply = JSON.parse(answer) as Reply;
      } catch {
        return reject(
          new ControlSocketUnavailable(`the server closed ${socketPath} without an answer`),
        );
      }
      if (reply.ok && typeof reply.output === "string") resolve(reply.output);
      else
        reject(new AppError("VALIDATION_FAILED", reply.error ?? "the server refused the command"));
    });
  });
}
