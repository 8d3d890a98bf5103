// One process owns an embedded data directory. Before the lock, `tenant create` next to a running
// server printed an id, and the tenant was gone after the restart: two PGlite instances had
// written the same files. Now the CLI's commands go through the server, the others fail at once
// naming the server's PID, and a second server refuses to start; all on the real processes.
// Always the embedded database, also when the suite runs on PostgreSQL: that is what is locked.
import { spawn } from "node:child_process";
import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.ts";
import { databaseOptionsFromConfig, openDatabase } from "../../src/db/client.ts";
import { projectRoot } from "../../src/db/migrate.ts";
import { testSecrets } from "../helpers/harness.ts";
import {
  processEnvironment,
  startServerProcess,
  type ProcessEnvironment,
  type ServerProcess,
} from "../helpers/server-process.ts";

let environment: ProcessEnvironment;
let env: Record<string, string>;
let server: ServerProcess | undefined;

beforeAll(async () => {
  environment = await processEnvironment("keygate-lock");
  env = {
    DATA_DIR: environment.dataDir,
    DATABASE_URL: "",
    ...testSecrets,
    ADMIN_EMAIL: "root@lock.test",
  };
});
// A failed test must not leave its server holding the directory for the next one.
afterEach(async () => {
  await server?.stop();
  server = undefined;
});
afterAll(() => environment.cleanup());

function cli(
  ...args: string[]
): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  const child = spawn(
    process.execPath,
    ["--import", "tsx", path.join(projectRoot, "src", "cli.ts"), ...args],
    {
      cwd: projectRoot,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  return new Promise((resolve) =>
    child.on("exit", (code) => resolve({ code, stdout, stderr, ms: Date.now() - started })),
  );
}

/** Every file of the database with its size and modification time: what a writer would change. */
async function snapshot(dir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const name of await readdir(dir, { recursive: true })) {
    const s = await stat(path.join(dir, name));
    if (s.isFile()) files.set(name, `${s.size}:${s.mtimeMs}`);
  }
  return files;
}

describe("embedded data directory", () => {
  it("runs tenant create and user add through the running server; refuses the rest naming its PID; keeps the data", async () => {
    server = await startServerProcess(env);
    const pid = server.child.pid!;
    const pgdata = path.join(environment.dataDir, "pgdata");

    const created = await cli("tenant", "create", "--name", "Acme", "--owner-email", "o@acme.test");
    expect(created.stderr).toBe("");
    expect(created.code).toBe(0);
    const tenant = JSON.parse(created.stdout) as { tenantId: string; ownerEmail: string };
    expect(tenant.ownerEmail).toBe("o@acme.test");
    // The server saw it: it finds the tenant for `user add` and refuses a second membership.
    const added = await cli(
      "user",
      "add",
      "--tenant",
      tenant.tenantId,
      "--email",
      "dev@acme.test",
      "--permissions",
      "keys:read",
    );
    expect(added.code).toBe(0);
    expect(JSON.parse(added.stdout)).toMatchObject({ email: "dev@acme.test", role: "MEMBER" });
    const again = await cli("user", "add", "--tenant", tenant.tenantId, "--email", "o@acme.test");
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already a member of this tenant/);
    const invalid = await cli("tenant", "create", "--owner-email", "x@acme.test");
    expect(invalid.code).toBe(1);
    expect(invalid.stderr.trim()).toBe("--name is required");

    const before = await snapshot(pgdata);
    for (const command of [["migrate"], ["secrets", "reencrypt"]]) {
      const refused = await cli(...command);
      expect(refused.code).toBe(1);
      expect(refused.stdout).toBe("");
      expect(refused.stderr).toContain(`keygate server (PID ${pid})`);
      expect(refused.stderr).toMatch(/stop the server first/);
    }
    // Nothing under pgdata changed: no database was opened (no timing asserted: the suite shares the machine).
    expect(await snapshot(pgdata)).toEqual(before);

    const second = await startServerProcess(env).catch((error: Error) => error);
    expect(second).toBeInstanceOf(Error);
    expect(String(second)).toMatch(/exited with 1/);
    expect(String(second)).toContain(`in use by a keygate server (PID ${pid}`);
    expect(await snapshot(pgdata)).toEqual(before);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);

    expect((await server.stop("SIGTERM")).code).toBe(0);
    server = undefined;
    expect((await readdir(environment.dataDir)).sort()).toEqual(["pgdata"]);

    // Stopped: the CLI opens the database itself, and finds what went through the server.
    const offline = await cli(
      "user",
      "add",
      "--tenant",
      tenant.tenantId,
      "--email",
      "ops@acme.test",
      "--role",
      "ADMIN",
    );
    expect(offline.code).toBe(0);
    const config = await loadConfig({ ...process.env, ...env });
    const db = await openDatabase(databaseOptionsFromConfig(config));
    try {
      const users = await db.prisma.user.findMany({
        where: { tenantId: tenant.tenantId },
        orderBy: { email: "asc" },
      });
      expect(users.map((u) => [u.email, u.role])).toEqual([
        ["dev@acme.test", "MEMBER"],
        ["o@acme.test", "OWNER"],
        ["ops@acme.test", "ADMIN"],
      ]);
    } finally {
      await db.close();
    }
  }, 180_000);

  it("takes over the lock of a process that died, and refuses a live one held by the CLI", async () => {
    const { lockDataDir, DataDirLockedError, lockFileOf } = await import(
      "../../src/db/data-dir-lock.ts"
    );
    const { writeFile } = await import("node:fs/promises");
    const pgdata = path.join(environment.dataDir, "pgdata");
    // A dead PID: a child that has exited.
    const dead = spawn(process.execPath, ["-e", ""]);
    await new Promise((resolve) => dead.on("exit", resolve));
    await writeFile(
      lockFileOf(pgdata),
      JSON.stringify({
        pid: dead.pid,
        startedAt: "then",
        role: "server",
        host: (await import("node:os")).hostname(),
      }),
    );
    const lock = lockDataDir(pgdata, "cli");
    try {
      const refused = await cli("migrate");
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(`another keygate command (PID ${process.pid})`);
      expect(() => lockDataDir(pgdata, "server")).toThrow(DataDirLockedError);
    } finally {
      lock.release();
    }
    expect((await readdir(environment.dataDir)).sort()).toEqual(["pgdata"]);
  }, 60_000);
});
