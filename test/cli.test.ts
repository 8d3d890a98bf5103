// The administration commands of the CLI on the real processes: on the embedded database the
// CLI opens itself, and through the control socket of a running server. Always embedded (as the
// control socket exists only there), also when the suite runs on PostgreSQL.
import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.ts";
import { projectRoot } from "../src/db/migrate.ts";
import { createLogger } from "../src/logger.ts";
import { createMailer } from "../src/mail/mailer.ts";
import { generateApiKey } from "../src/modules/keys/service.ts";
import { magicLinkMail } from "../src/modules/sign-in/magic-link-mail.ts";
import { closeDeps, openDeps } from "../src/server.ts";
import { testSecrets } from "./helpers/harness.ts";
import { startServerProcess, type ServerProcess } from "./helpers/server-process.ts";

let dataDir: string;
let env: Record<string, string>;
let server: ServerProcess | undefined;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), "keygate-cli-"));
  env = { DATA_DIR: dataDir, DATABASE_URL: "", ...testSecrets, ADMIN_EMAIL: "root@cli.test" };
});
afterEach(async () => {
  await server?.stop();
  server = undefined;
});
afterAll(() => rm(dataDir, { recursive: true, force: true }));

function cli(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", path.join(projectRoot, "src", "cli.ts"), ...args],
    { cwd: projectRoot, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  return new Promise((resolve) => child.on("exit", (code) => resolve({ code, stdout, stderr })));
}

const lines = (out: string) =>
  out
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));

describe("keygate CLI", () => {
  let tenantId = "";
  let keys: { id: string; key: string }[] = [];

  it("keys list, keys revoke, members list on the database the CLI opens", async () => {
    const created = await cli("tenant", "create", "--name", "Acme", "--owner-email", "o@acme.test");
    expect(created.code).toBe(0);
    const tenant = JSON.parse(created.stdout);
    tenantId = tenant.tenantId;
    const added = await cli("user", "add", "--tenant", tenantId, "--email", "m@acme.test");
    expect(added.code).toBe(0);

    // Two keys, made by the owner through the service while no process holds the database.
    const deps = await openDeps(await loadConfig({ ...env }), createLogger({ level: "silent" }));
    try {
      const owner = {
        kind: "user" as const,
        userId: tenant.ownerId,
        tenantId,
        email: "o@acme.test",
        role: "OWNER" as const,
        isPlatformAdmin: false,
        permissions: ["*"],
      };
      keys = [];
      for (const name of ["first", "second"]) {
        const { key, apiKey } = await generateApiKey(deps, owner, { name });
        keys.push({ id: apiKey.id, key });
      }
    } finally {
      await closeDeps(deps);
    }

    const listed = await cli("keys", "list", "--tenant", tenantId);
    expect(listed.code).toBe(0);
    const rows = lines(listed.stdout);
    expect(rows.map((r) => r.name)).toEqual(["second", "first"]);
    expect(rows[0]).toMatchObject({ id: keys[1]!.id, status: "ACTIVE", kind: "API_KEY" });
    expect(rows[0].masked).toMatch(/…/);
    // Masked only: neither the key nor its hash is printed.
    for (const { key } of keys) expect(listed.stdout).not.toContain(key.slice(8));
    expect(listed.stdout).not.toMatch(/"hash"|secret/i);

    const revoked = await cli(
      "keys",
      "revoke",
      "--tenant",
      tenantId,
      "--id",
      keys[0]!.id,
      "--reason",
      "leaked",
    );
    expect(revoked.stderr).toBe("");
    expect(JSON.parse(revoked.stdout)).toMatchObject({ id: keys[0]!.id, status: "REVOKED" });
    const again = await cli("keys", "revoke", "--tenant", tenantId, "--id", keys[0]!.id);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/revoked/);

    const onlyRevoked = await cli("keys", "list", "--tenant", tenantId, "--status", "revoked");
    expect(lines(onlyRevoked.stdout).map((r) => r.id)).toEqual([keys[0]!.id]);

    const members = await cli("members", "list", "--tenant", tenantId);
    expect(lines(members.stdout).map((m) => [m.email, m.role])).toEqual([
      ["o@acme.test", "OWNER"],
      ["m@acme.test", "MEMBER"],
    ]);

    // The revocation is audited as the system actor.
    const check = await openDeps(await loadConfig({ ...env }), createLogger({ level: "silent" }));
    try {
      const events = await check.prisma.auditEvent.findMany({
        where: { tenantId, action: "key.revoke" },
      });
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        actorType: "SYSTEM",
        targetId: keys[0]!.id,
        metadata: { reason: "leaked" },
      });
    } finally {
      await closeDeps(check);
    }
  }, 180_000);

  it("refuses a foreign or unknown key and a bad tenant id, naming the option", async () => {
    const other = await cli("tenant", "create", "--name", "Other", "--owner-email", "o@other.test");
    const otherId = JSON.parse(other.stdout).tenantId;
    const foreign = await cli("keys", "revoke", "--tenant", otherId, "--id", keys[1]!.id);
    expect(foreign.code).toBe(1);
    expect(foreign.stderr.trim()).toBe("key not found");
    const badTenant = await cli("keys", "list", "--tenant", "nope");
    expect(badTenant.code).toBe(1);
    expect(badTenant.stderr).toContain("--tenant");
    const missing = await cli("members", "list");
    expect(missing.stderr.trim()).toBe("--tenant is required");
  }, 120_000);

  it("runs them through a running server's control socket", async () => {
    server = await startServerProcess(env);
    const listed = await cli("keys", "list", "--tenant", tenantId, "--status", "ACTIVE");
    expect(listed.stderr).toBe("");
    expect(lines(listed.stdout).map((r) => r.id)).toEqual([keys[1]!.id]);
    const revoked = await cli("keys", "revoke", "--tenant", tenantId, "--id", keys[1]!.id);
    expect(JSON.parse(revoked.stdout)).toMatchObject({ status: "REVOKED" });
    // The running server refuses the key at once: the revocation went through its cache.
    const verify = await fetch(`${server.url}/v1/keys/verify`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ key: keys[1]!.key }),
    });
    expect(await verify.json()).toMatchObject({ valid: false, code: "REVOKED" });
    const members = await cli("members", "list", "--tenant", tenantId);
    expect(lines(members.stdout)).toHaveLength(2);
  }, 180_000);

  it("mail last prints the newest sign-in link, decoded from quoted-printable", async () => {
    const config = await loadConfig({ ...env });
    const mailer = createMailer(config, createLogger({ level: "silent" }));
    const link = (n: number) =>
      `http://localhost:4000/api/v3/auth/verify?hash=${"A".repeat(60)}${n}`;
    mailer.send(magicLinkMail("o@acme.test", link(1), 900));
    await mailer.idle();
    await new Promise((r) => setTimeout(r, 5));
    mailer.send(magicLinkMail("o@acme.test", link(2), 900));
    await mailer.idle();
    const outbox = path.join(dataDir, "outbox");
    const raw = await Promise.all(
      (await readdir(outbox)).map((f) => readFile(path.join(outbox, f), "utf8")),
    );
    // The file really is quoted-printable, so the command has something to decode.
    expect(raw.join("")).toMatch(/=3D|=\n/);
    const last = await cli("mail", "last");
    expect(last.stderr).toBe("");
    expect(last.stdout.trim()).toBe(link(2));
  }, 60_000);

  it("each command has --help", async () => {
    for (const command of [
      ["keys", "list"],
      ["keys", "revoke"],
      ["members", "list"],
      ["mail", "last"],
    ]) {
      const help = await cli(...command, "--help");
      expect(help.code).toBe(0);
      expect(help.stdout).toContain(`usage: keygate ${command.join(" ")}`);
    }
  }, 60_000);
});
