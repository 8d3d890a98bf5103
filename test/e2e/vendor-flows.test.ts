// Whole vendor flows against the running server process.
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signRequest } from "../../src/access/signature.ts";
import { sha256Hex } from "../../src/crypto/tokens.ts";
import { testSecrets } from "../helpers/harness.ts";
import {
  processEnvironment,
  startServerProcess,
  type ProcessEnvironment,
  type ServerProcess,
} from "../helpers/server-process.ts";

let gateway: ServerProcess;
let dataDir: string;
let environment: ProcessEnvironment;
const admin = "owner@flows.test";

beforeAll(async () => {
  environment = await processEnvironment("keygate-flows");
  dataDir = environment.dataDir;
  gateway = await startServerProcess({
    ...environment.env,
    ...testSecrets,
    ADMIN_EMAIL: admin,
    PUBLIC_URL: "http://localhost:4000",
  });
}, 60_000);

afterAll(async () => {
  await gateway?.stop();
  await environment.cleanup();
});

async function call(
  pathname: string,
  init: { method?: string; headers?: Record<string, string>; body?: unknown } = {},
) {
  const body = init.body === undefined ? undefined : JSON.stringify(init.body);
  const response = await fetch(`${gateway.url}${pathname}`, {
    method: init.method ?? (body ? "POST" : "GET"),
    headers: { ...(body ? { "content-type": "application/json" } : {}), ...init.headers },
    body,
  });
  return { status: response.status, body: (await response.json()) as any };
}

const outbox = () => path.join(dataDir, "outbox");
const mailCount = async () => (await readdir(outbox()).catch(() => [] as string[])).length;

/** The sign-in link of the mail after the first `seen`, waiting for the background mail. */
async function linkFromOutbox(seen: number): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const files = (await readdir(outbox()).catch(() => [] as string[])).sort();
    if (files.length > seen) {
      const text = (await readFile(path.join(outbox(), files.at(-1)!), "utf8"))
        .replace(/=\r?\n/g, "")
        .replace(/=3D/g, "=");
      const match = /\/api\/v3\/auth\/verify\?hash=([A-Za-z0-9_-]+)/.exec(text);
      if (match && match[1] !== undefined) return match[1];
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("no mail in the outbox");
}

describe("vendor flows end to end", () => {
  it("Kotani: login -> outbox -> verify -> api-key/secure -> health with the key -> refresh", async () => {
    const seen = await mailCount();
    const login = await call("/api/v3/auth/login", { body: { email: admin } });
    expect(login).toEqual({
      status: 200,
      body: { success: true, message: "login magic link sent to your email", data: {} },
    });
    const hash = await linkFromOutbox(seen);
    const verified = await call(`/api/v3/auth/verify?hash=${hash}`, {
      headers: { accept: "application/json" },
    });
    expect(verified.status).toBe(200);
    const { token, refresh_token } = verified.body.data;

    const secure = await call("/api/v3/auth/api-key/secure", {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(secure.status).toBe(200);
    const { key, secret } = secure.body.data;
    const health = await call("/api/v3/health", {
      headers: {
        authorization: `Bearer ${key}`,
        "keygate-signature": signRequest(secret, "GET", "/api/v3/health"),
      },
    });
    expect(health).toMatchObject({
      status: 200,
      body: { success: true, data: { auth: "api_key" } },
    });
    const unsigned = await call("/api/v3/health", { headers: { authorization: `Bearer ${key}` } });
    expect(unsigned.status).toBe(404);

    const refreshed = await call(
      `/api/v3/auth/refresh-token?refresh_token=${encodeURIComponent(refresh_token)}`,
    );
    expect(refreshed.status).toBe(200);
    const again = await call("/api/v3/health", {
      headers: { authorization: `Bearer ${refreshed.body.data.token}` },
    });
    expect(again.body.data.auth).toBe("jwt");
    // The logs of the whole flow hold none of the secrets it handled.
    for (const secretValue of [
      key,
      secret,
      token,
      refresh_token,
      refreshed.body.data.refresh_token,
    ]) {
      expect(gateway.output().includes(secretValue)).toBe(false);
    }
  });

  it("Yativo: generate -> token -> call", async () => {
    const seen = await mailCount();
    await call("/api/v3/auth/login", { body: { email: admin } });
    const hash = await linkFromOutbox(seen);
    const { token } = (
      await call(`/api/v3/auth/verify?hash=${hash}`, { headers: { accept: "application/json" } })
    ).body.data;
    const generated = await call("/api/v1/apikey/generate", {
      headers: { authorization: `Bearer ${token}` },
      body: {
        name: "Production Backend",
        permissions: ["transactions:read", "transactions:write", "accounts:read"],
      },
    });
    expect(generated.status).toBe(200);
    const { api_key, api_secret } = generated.body.data;
    const exchanged = await call("/auth/token", { body: { api_key, api_secret } });
    expect(exchanged.status).toBe(200);
    const bearer = exchanged.body.access_token;
    // The service behind the gateway verifies the secure key with the signature its client sent.
    const signature = {
      header: signRequest(api_secret, "POST", "/transactions", "{}"),
      method: "POST",
      path: "/transactions",
      bodySha256: sha256Hex("{}"),
    };
    const verify = await call("/v1/keys/verify", {
      headers: { authorization: `Bearer ${bearer}` },
      body: { key: api_key, permissions: ["transactions:write"], signature },
    });
    expect(verify.body).toMatchObject({ valid: true, code: "VALID" });
    const graphql = await call("/graphql", {
      headers: { authorization: `Bearer ${bearer}` },
      body: { query: "{ tenant { name } }" },
    });
    expect(graphql.body).toEqual({ data: { tenant: { name: "Default" } } });
  });

  it("refuses bodies over 1 MiB on the real server, declared or chunked", async () => {
    const big = JSON.stringify({ key: "x".repeat(1_100_000) });
    const declared = await fetch(`${gateway.url}/v1/keys/verify`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: big,
    });
    expect(declared.status).toBe(413);
    const chunks = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 12; i++)
          controller.enqueue(new TextEncoder().encode("x".repeat(100_000)));
        controller.close();
      },
    });
    const chunked = await fetch(`${gateway.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: chunks,
      duplex: "half",
    } as RequestInit);
    expect(chunked.status).toBe(413);
  });
});
