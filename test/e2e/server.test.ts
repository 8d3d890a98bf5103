// The real server process: start, answer, stop on SIGTERM, keep its data across restarts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signAccessToken } from "../../src/access/access-token.ts";
import { loadConfig } from "../../src/config.ts";
import { databaseOptionsFromConfig, openDatabase } from "../../src/db/client.ts";
import { testSecrets } from "../helpers/harness.ts";
import {
  processEnvironment,
  startServerProcess,
  type ProcessEnvironment,
} from "../helpers/server-process.ts";

let dataDir: string;
let env: Record<string, string>;
let environment: ProcessEnvironment;

beforeAll(async () => {
  environment = await processEnvironment("keygate-e2e");
  dataDir = environment.dataDir;
  env = {
    ...environment.env,
    ...testSecrets,
    ADMIN_EMAIL: "root@e2e.test",
    PUBLIC_URL: "http://localhost:4000",
  };
});
afterAll(() => environment.cleanup());

async function graphql(
  url: string,
  query: string,
  token?: string,
  variables: Record<string, unknown> = {},
) {
  const response = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as { data?: any; errors?: any[] };
}

/** While the server is stopped, open its database and make a session for the admin. */
async function adminToken(): Promise<string> {
  const config = await loadConfig({ ...process.env, ...env });
  const db = await openDatabase(databaseOptionsFromConfig(config));
  try {
    const admin = await db.prisma.user.findFirstOrThrow({ where: { email: "root@e2e.test" } });
    const session = await db.prisma.session.create({
      data: {
        tenantId: admin.tenantId,
        userId: admin.id,
        expiresAt: new Date(Date.now() + 3600_000),
      },
    });
    return (
      await signAccessToken(config, {
        sub: admin.id,
        tid: admin.tenantId,
        sid: session.id,
        kind: "session",
      })
    ).token;
  } finally {
    await db.close();
  }
}

describe("gateway process", () => {
  it("starts on a fresh database, serves, stops within 2 s and keeps its data", async () => {
    const first = await startServerProcess(env);
    expect(first.output()).toMatch(/created tenant \\"Default\\" owned by root@e2e.test/);
    expect(await (await fetch(`${first.url}/readyz`)).json()).toMatchObject({ status: "ready" });
    expect(await graphql(first.url, "{ viewer { email } }")).toEqual({ data: { viewer: null } });
    const stopped = await first.stop("SIGTERM");
    expect(stopped.code).toBe(0);
    expect(stopped.ms).toBeLessThan(2000);

    const token = await adminToken();
    const second = await startServerProcess(env);
    expect(second.output()).not.toMatch(/created tenant/);
    const viewer = await graphql(
      second.url,
      "{ viewer { email isPlatformAdmin tenant { name } } }",
      token,
    );
    expect(viewer.data.viewer).toEqual({
      email: "root@e2e.test",
      isPlatformAdmin: true,
      tenant: { name: "Default" },
    });
    const created = await graphql(
      second.url,
      'mutation { createProject(input: { name: "kept" }) { id } }',
      token,
    );
    expect(created.errors).toBeUndefined();
    expect((await second.stop("SIGINT")).code).toBe(0);

    const third = await startServerProcess(env);
    const projects = await graphql(third.url, "{ projects { edges { node { name } } } }", token);
    expect(projects.data.projects.edges).toEqual([{ node: { name: "kept" } }]);
    expect((await third.stop()).code).toBe(0);
  }, 120_000);

  it("refuses to start in production without secrets, naming them", async () => {
    const error = await startServerProcess({
      DATA_DIR: dataDir,
      NODE_ENV: "production",
      JWT_SECRET: "",
      ENCRYPTION_KEY: "",
    }).catch((e) => e);
    expect(String(error)).toMatch(/JWT_SECRET: required when NODE_ENV=production/);
  });
});
