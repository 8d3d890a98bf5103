// Runs the real gateway (`src/main.ts`) as a child process for end-to-end tests.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { projectRoot } from "../../src/db/migrate.ts";
import { adminQuery, serverUrl, uniqueDatabaseName } from "./databases.ts";

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  output: () => string;
  /** Sends the signal and resolves with the exit code and how long the exit took. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; ms: number }>;
}

export async function startServerProcess(env: Record<string, string>): Promise<ServerProcess> {
  // `node --import tsx`, not the tsx CLI: the CLI runs main.ts in a grandchild that a SIGKILL would miss.
  const child = spawn(
    process.execPath,
    ["--import", "tsx", path.join(projectRoot, "src", "main.ts")],
    {
      cwd: projectRoot,
      env: { ...process.env, HOST: "127.0.0.1", PORT: "0", LOG_LEVEL: "info", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 45_000);
    const check = () => {
      const match = /"msg":"keygate listening"/.test(out) && /"url":"(http:\/\/[^"]+)"/.exec(out);
      if (match && match[1] !== undefined) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout!.on("data", check);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${out}`));
    });
  });
  return {
    url,
    child,
    output: () => out,
    stop(signal = "SIGTERM") {
      return new Promise((resolve) => {
        if (child.exitCode !== null) return resolve({ code: child.exitCode, ms: 0 });
        const started = Date.now();
        child.once("exit", (code) => resolve({ code, ms: Date.now() - started }));
        child.kill(signal);
      });
    },
  };
}

export interface ProcessEnvironment {
  dataDir: string;
  /** DATA_DIR, and DATABASE_URL of a fresh database when the suite runs on PostgreSQL. */
  env: Record<string, string>;
  cleanup(): Promise<void>;
}

/** A fresh DATA_DIR and, on PostgreSQL, a fresh database for one server process. */
export async function processEnvironment(prefix: string): Promise<ProcessEnvironment> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), `${prefix}-`));
  const env: Record<string, string> = { DATA_DIR: dataDir };
  let dropDatabase = async () => {};
  const server = process.env.DATABASE_URL;
  if (server) {
    const name = uniqueDatabaseName(prefix.replace(/\W/g, "_"));
    await adminQuery(server, `CREATE DATABASE "${name}"`);
    env.DATABASE_URL = serverUrl(server, name);
    dropDatabase = () => adminQuery(server, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  }
  return {
    dataDir,
    env,
    async cleanup() {
      await dropDatabase();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
