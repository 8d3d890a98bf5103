// What a process manager does: start `npm start`, later signal the process it started. npm
// forwards SIGINT and SIGTERM to its script's shell only; the script used to run the tsx CLI
// (itself running main.ts in a child) under `sh -c`, so SIGTERM killed the shell and left the
// gateway orphaned and answering, and SIGINT did nothing. The script now execs the gateway.
import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { projectRoot } from "../../src/db/migrate.ts";
import { testSecrets } from "../helpers/harness.ts";
import { processEnvironment, type ProcessEnvironment } from "../helpers/server-process.ts";

let environment: ProcessEnvironment;
let started: number[] = [];

beforeEach(async () => {
  environment = await processEnvironment("keygate-signals");
});
afterEach(async () => {
  // Whatever a failed run left behind, and only that: the processes this test started.
  for (const pid of started) if (isRunning(pid)) process.kill(pid, "SIGKILL");
  started = [];
  await environment.cleanup();
});

function isRunning(pid: number): boolean {
  try {
    // A zombie has exited; it only waits for its parent to collect it.
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

/** The running processes below `root`, read from /proc (Linux). */
function descendants(root: number): { pid: number; cmdline: string }[] {
  const parents = new Map<number, number>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      parents.set(Number(name), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // gone meanwhile
    }
  }
  const found: { pid: number; cmdline: string }[] = [];
  const visit = (parent: number) => {
    for (const [pid, ppid] of parents) {
      if (ppid !== parent) continue;
      let cmdline = "";
      try {
        cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
      } catch {
        // gone meanwhile
      }
      found.push({ pid, cmdline });
      visit(pid);
    }
  };
  visit(root);
  return found;
}

async function npmStart(): Promise<{
  npm: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<number | null>;
}> {
  const npm = spawn("npm", ["start"], {
    cwd: projectRoot,
    env: {
      ...process.env,
      HOST: "127.0.0.1",
      PORT: "0",
      LOG_LEVEL: "info",
      ...environment.env,
      ...testSecrets,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  started.push(npm.pid!);
  let out = "";
  npm.stdout!.on("data", (d) => (out += d));
  npm.stderr!.on("data", (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => npm.on("exit", (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm start did not serve:\n${out}`)), 60_000);
    npm.stdout!.on("data", () => {
      const match = /"msg":"keygate listening"/.test(out) && /"url":"(http:\/\/[^"]+)"/.exec(out);
      if (match && match[1] !== undefined) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`npm start exited with ${code}:\n${out}`));
    });
  });
  return { npm, url, output: () => out, exited };
}

describe("npm start under a process manager", () => {
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    it(`${signal} to the npm process stops the gateway: the port closes, no process is left`, async () => {
      const { npm, url, output, exited } = await npmStart();
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      const below = descendants(npm.pid!);
      started.push(...below.map((p) => p.pid));
      expect(below.some((p) => p.cmdline.includes("src/main.ts"))).toBe(true);

      npm.kill(signal);
      const code = await Promise.race([
        exited,
        new Promise<"still running">((r) => setTimeout(() => r("still running"), 15_000)),
      ]);
      expect(code).toBe(0);
      expect(output()).toContain(`"signal":"${signal}","msg":"shutting down"`);
      await expect(fetch(`${url}/healthz`)).rejects.toThrow();
      // Helpers (tsx's esbuild service) notice their parent's exit a moment later.
      for (let i = 0; i < 40 && below.some((p) => isRunning(p.pid)); i++)
        await new Promise((r) => setTimeout(r, 50));
      expect(below.filter((p) => isRunning(p.pid))).toEqual([]);
    }, 90_000);
  }
});
