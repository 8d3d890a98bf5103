// DATA_DIR holds key hashes, encrypted secrets, the WAL with all of them, mail with sign-in links:
// nothing in it may be readable by another user. PGlite made its files 0666 whatever the umask
// (968 of 1,043 files, in production too). Checked on the real process, while it writes and
// after it stops, on a fresh directory and on one an older version left world-readable.
import { chmod, lstat, readdir, readFile, writeFile, mkdir } from "node:fs/promises";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
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
const admin = "root@private.test";

beforeAll(async () => {
  environment = await processEnvironment("keygate-private");
  env = { ...environment.env, ...testSecrets, ADMIN_EMAIL: admin };
});
// A failed test must not leave its server holding the directory for the next one.
afterEach(async () => {
  await server?.stop();
  server = undefined;
});
afterAll(() => environment.cleanup());

/** Every entry under DATA_DIR (itself included) that group or others can use, with its mode. */
async function exposed(root: string): Promise<string[]> {
  const found: string[] = [];
  const entries = [
    root,
    ...(await readdir(root, { recursive: true })).map((name) => path.join(root, name)),
  ];
  for (const entry of entries) {
    const s = await lstat(entry).catch(() => undefined); // PostgreSQL removes temporary files meanwhile
    if (s && !s.isSymbolicLink() && s.mode & 0o077)
      found.push(`${path.relative(root, entry) || "."} ${(s.mode & 0o777).toString(8)}`);
  }
  return found;
}

async function countEntries(root: string): Promise<number> {
  return (await readdir(root, { recursive: true })).length;
}

async function signIn(url: string): Promise<string> {
  const outbox = path.join(environment.dataDir, "outbox");
  const seen = (await readdir(outbox).catch(() => [] as string[])).length;
  await fetch(`${url}/api/v3/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email: admin }),
  });
  for (let i = 0; i < 100; i++) {
    const files = (await readdir(outbox).catch(() => [] as string[])).sort();
    if (files.length > seen) {
      const text = (await readFile(path.join(outbox, files.at(-1)!), "utf8"))
        .replace(/=\r?\n/g, "")
        .replace(/=3D/g, "=");
      const hash = /\/api\/v3\/auth\/verify\?hash=([A-Za-z0-9_-]+)/.exec(text)?.[1];
      if (hash) {
        const verified = await fetch(`${url}/api/v3/auth/verify?hash=${hash}`, {
          headers: { accept: "application/json" },
        });
        return ((await verified.json()) as { data: { token: string } }).data.token;
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("no sign-in mail in the outbox");
}

async function generateKeys(url: string, token: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const response = await fetch(`${url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({
        query: `mutation($i: GenerateApiKeyInput!) { generateSecureApiKey(input: $i) { key } }`,
        variables: { i: { name: `key ${i}`, permissions: ["transactions:read"] } },
      }),
    });
    const body = (await response.json()) as {
      data?: { generateSecureApiKey: { key: string } };
      errors?: unknown;
    };
    expect(body.errors).toBeUndefined();
    expect(body.data?.generateSecureApiKey.key).toMatch(/^kg_/);
  }
}

describe("DATA_DIR is private to the service user", () => {
  it("0700 directories and 0600 files while the gateway writes and after it stops", async () => {
    server = await startServerProcess(env);
    await generateKeys(server.url, await signIn(server.url), 5);
    expect(await countEntries(environment.dataDir)).toBeGreaterThan(1);
    expect(await exposed(environment.dataDir)).toEqual([]);
    expect((await server.stop()).code).toBe(0);
    server = undefined;
    expect(await exposed(environment.dataDir)).toEqual([]);
  }, 120_000);

  it("makes a directory an older version left world-readable private at start", async () => {
    const leftover = path.join(environment.dataDir, "left-over");
    await mkdir(leftover, { recursive: true });
    await writeFile(path.join(leftover, "notes.txt"), "x");
    const loosen = async (dir: string): Promise<void> => {
      await chmod(dir, 0o777);
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) await loosen(full);
        else if (entry.isFile()) await chmod(full, 0o666);
      }
    };
    await loosen(environment.dataDir);
    expect((await exposed(environment.dataDir)).length).toBeGreaterThan(3);

    server = await startServerProcess(env);
    expect(await exposed(environment.dataDir)).toEqual([]);
    await generateKeys(server.url, await signIn(server.url), 2);
    expect(await exposed(environment.dataDir)).toEqual([]);
    expect((await server.stop()).code).toBe(0);
    server = undefined;
    expect(await exposed(environment.dataDir)).toEqual([]);
  }, 120_000);
});
