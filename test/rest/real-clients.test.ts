// What published Kotani, Yativo and Extractor clients send (issue 13), over real HTTP against the
// app on a port: the requests as a client library builds them, the answers checked against the
// served document (bodies and the rate-limit headers).
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signKotaniRequest, signRequest } from "../../src/access/signature.ts";
import { createApp } from "../../src/app.ts";
import { useHarness, withTenant } from "../helpers/fixtures.ts";
import { generateSecureMutation, gql, hashOf, outboxLinks, seedUser } from "../helpers/harness.ts";
import { type Listening, listen } from "../helpers/listen.ts";
import { matchesServedDocument } from "../helpers/openapi.ts";

const h = useHarness();
const acme = withTenant(h, "Acme");
const rival = withTenant(h, "Rival");
let server: Listening;
let doc: { paths: Record<string, Record<string, any>> };

beforeAll(async () => {
  server = await listen(h);
  doc = await (await fetch(`${server.url}/openapi.json`)).json();
});
afterAll(() => server?.close());

interface Answer {
  status: number;
  headers: Headers;
  body: any;
}

async function call(
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: unknown; token?: string } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.body !== undefined) {
    headers["content-type"] ??= "application/json";
    body = typeof options.body === "string" ? options.body : JSON.stringify(options.body);
  }
  const response = await fetch(`${server.url}${path}`, { method, headers, body });
  const text = await response.text();
  const json = /json/.test(response.headers.get("content-type") ?? "");
  return {
    status: response.status,
    headers: response.headers,
    body: json ? JSON.parse(text) : text,
  };
}

/** The body matches the served document, and every rate-limit header sent is declared there. */
function documented(route: string, method: string, answer: Answer): Answer {
  matchesServedDocument(route, method, answer.status, answer.body);
  const declared = Object.keys(
    doc.paths[route]?.[method.toLowerCase()]?.responses?.[answer.status]?.headers ?? {},
  ).map((name) => name.toLowerCase());
  for (const name of ["retry-after", "ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"])
    if (answer.headers.has(name)) expect(declared, `${method} ${route} ${name}`).toContain(name);
  return answer;
}

/** A session through the magic link, as Kotani's guide does it with curl (Accept: *\/*). */
async function signInByLink(email: string) {
  expect((await call("POST", "/api/v3/auth/login", { body: { email } })).status).toBe(200);
  const hash = hashOf((await outboxLinks(h.deps)).at(-1)!);
  const verified = await call("GET", `/api/v3/auth/verify?hash=${encodeURIComponent(hash)}`, {
    headers: { accept: "*/*" },
  });
  expect(verified.status).toBe(200);
  return documented("/api/v3/auth/verify", "GET", verified).body.data as {
    token: string;
    refresh_token: string;
  };
}

async function secureKey(token: string, input: Record<string, unknown> = {}) {
  const result = await gql(
    h,
    generateSecureMutation,
    { input: { name: "secure", ...input } },
    token,
  );
  expect(result.errors).toBeUndefined();
  return result.data!.generateSecureApiKey as { key: string; secret: string };
}

describe("GET /health (Kotani's document: NestJS terminus shape)", () => {
  it("answers 200 with the database up", async () => {
    const answer = documented("/health", "GET", await call("GET", "/health"));
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      status: "ok",
      info: { database: { status: "up" } },
      error: {},
      details: { database: { status: "up" } },
    });
  });

  it("answers 503 with status error and the database under error when it does not answer", async () => {
    const ping = h.deps.db.ping;
    try {
      h.deps.db.ping = () => Promise.reject(new Error("connect ECONNREFUSED 10.0.0.1:5432"));
      const refused = documented("/health", "GET", await call("GET", "/health"));
      expect(refused.status).toBe(503);
      expect(refused.body).toMatchObject({
        status: "error",
        info: {},
        error: { database: { status: "down" } },
        details: { database: { status: "down" } },
      });
      // The driver's message (addresses, credentials) stays in the gateway.
      expect(JSON.stringify(refused.body)).not.toContain("10.0.0.1");

      h.deps.db.ping = () => new Promise(() => {});
      const hanging = documented("/health", "GET", await call("GET", "/health"));
      expect(hanging.status).toBe(503);
      expect(hanging.body.error.database.message).toMatch(/no answer within/);
    } finally {
      h.deps.db.ping = ping;
    }
    expect((await call("GET", "/health")).status).toBe(200);
    // The other probes keep their own shapes.
    expect((await call("GET", "/healthz")).body).toEqual({ status: "ok" });
    expect((await call("GET", "/readyz")).body).toMatchObject({ status: "ready" });
  });
});

describe("Kotani's SDK: POST /api/v3/auth/refresh {refresh_token}", () => {
  it("rotates like GET /api/v3/auth/refresh-token, and a replayed token ends the session", async () => {
    const first = await signInByLink(acme.owner.email);
    const refreshed = documented(
      "/api/v3/auth/refresh",
      "POST",
      await call("POST", "/api/v3/auth/refresh", { body: { refresh_token: first.refresh_token } }),
    );
    expect(refreshed.status).toBe(200);
    expect(refreshed.body).toMatchObject({ success: true, message: "ok" });
    const session = refreshed.body.data;
    expect(Object.keys(session).sort()).toEqual(
      ["refresh_token", "session_id", "token", "token_id", "user_id"].sort(),
    );
    expect(session.refresh_token).not.toBe(first.refresh_token);
    // The SDK stores `data` as its session: its token works.
    const health = await call("GET", "/api/v3/health", { token: session.token });
    expect(health.body.data.auth).toBe("jwt");
    // The documented GET takes the rotated token: one rotation service.
    const viaGet = await call("GET", "/api/v3/auth/refresh-token", {
      headers: { refresh_token: session.refresh_token },
    });
    expect(viaGet.status).toBe(200);
    // Replaying the first refresh token ends the session: the newest tokens stop working too.
    const replay = documented(
      "/api/v3/auth/refresh",
      "POST",
      await call("POST", "/api/v3/auth/refresh", { body: { refresh_token: first.refresh_token } }),
    );
    expect(replay.status).toBe(403);
    expect(replay.body).toMatchObject({ success: false, error_code: 403 });
    const after = await call("POST", "/api/v3/auth/refresh", {
      body: { refresh_token: viaGet.body.data.refresh_token },
    });
    expect(after.status).toBe(403);
  });

  it("names the missing or wrong field in data.errors", async () => {
    for (const body of [{}, { refresh_token: 42 }, { refresh_token: "" }]) {
      const answer = documented(
        "/api/v3/auth/refresh",
        "POST",
        await call("POST", "/api/v3/auth/refresh", { body }),
      );
      expect(answer.status).toBe(400);
      expect(answer.body).toMatchObject({
        success: false,
        message: "Bad Request",
        error_code: 400,
        data: { errors: [{ field: "refresh_token" }] },
      });
    }
  });
});

describe("Kotani error envelopes", () => {
  it("carry error_code beside success, message and data; a 429 gives data.retryAfter and the headers", async () => {
    const { key, secret } = await secureKey(acme.token, { rateLimit: { perMinute: 1 } });
    // Each request signed anew (a signature is accepted once).
    let t = Math.floor(Date.now() / 1000);
    const signed = () => ({
      "keygate-signature": signRequest(secret, "GET", "/api/v3/health", "", t--),
    });
    const ok = await call("GET", "/api/v3/health", { token: key, headers: signed() });
    expect(ok.status).toBe(200);
    const limited = documented(
      "/api/v3/health",
      "GET",
      await call("GET", "/api/v3/health", { token: key, headers: signed() }),
    );
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({
      success: false,
      message: "Too Many Requests",
      error_code: 429,
    });
    const retryAfter = limited.body.data.retryAfter;
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(limited.headers.get("retry-after")).toBe(String(retryAfter));
    expect(limited.headers.get("ratelimit-limit")).toBe("1");
    expect(limited.headers.get("ratelimit-remaining")).toBe("0");
    expect(limited.headers.get("ratelimit-reset")).toBe(String(retryAfter));

    const anonymous = documented("/api/v3/health", "GET", await call("GET", "/api/v3/health"));
    expect(anonymous.body).toEqual({
      success: false,
      message: "Unauthorized",
      error_code: 403,
      data: {},
    });
  });
});

describe("Kotani request signing: x-timestamp, x-nonce, x-signature", () => {
  const kotaniHeaders = (
    secret: string,
    content: string,
    { nonce = randomUUID(), timestamp = String(Math.floor(Date.now() / 1000)) } = {},
  ) => ({
    "x-timestamp": timestamp,
    "x-nonce": nonce,
    "x-signature": signKotaniRequest(secret, timestamp, nonce, content),
  });
  let key: string;
  let secret: string;

  beforeAll(async () => {
    ({ key, secret } = await secureKey(acme.token));
  });

  it("accepts a GET signed over its last path segment (seconds or milliseconds)", async () => {
    const signed = documented(
      "/api/v3/health",
      "GET",
      await call("GET", "/api/v3/health", { token: key, headers: kotaniHeaders(secret, "health") }),
    );
    expect(signed.status).toBe(200);
    expect(signed.body.data).toMatchObject({ auth: "api_key", tenant_id: acme.tenant.id });
    const millis = await call("GET", "/api/v3/health", {
      token: key,
      headers: kotaniHeaders(secret, "health", { timestamp: String(Date.now()) }),
    });
    expect(millis.status).toBe(200);
    // Another Kotani route: the segment is the route's own.
    const generated = documented(
      "/api/v3/auth/api-key",
      "GET",
      await call("GET", "/api/v3/auth/api-key", {
        token: key,
        headers: kotaniHeaders(secret, "api-key"),
      }),
    );
    expect(generated.status).toBe(200);
    // Keygate-Signature keeps working beside it.
    const keygate = await call("GET", "/api/v3/health", {
      token: key,
      headers: { "keygate-signature": signRequest(secret, "GET", "/api/v3/health") },
    });
    expect(keygate.status).toBe(200);
  });

  it("answers 401 in the Kotani envelope for a bad signature, a stale timestamp or a reused nonce", async () => {
    const refused = async (headers: Record<string, string>, token = key) => {
      const answer = documented(
        "/api/v3/health",
        "GET",
        await call("GET", "/api/v3/health", { token, headers }),
      );
      expect(answer.status, JSON.stringify(headers)).toBe(401);
      expect(answer.body).toEqual({
        success: false,
        message: "Invalid Signature",
        error_code: 401,
        data: {},
      });
    };
    await refused(kotaniHeaders("0".repeat(64), "health"));
    await refused(kotaniHeaders(secret, "api-key"));
    await refused({ ...kotaniHeaders(secret, "health"), "x-signature": "zz" });
    const { "x-nonce": _, ...noNonce } = kotaniHeaders(secret, "health");
    await refused(noNonce);
    const old = String(Math.floor(Date.now() / 1000) - 301);
    await refused(kotaniHeaders(secret, "health", { timestamp: old }));
    const future = String(Math.floor(Date.now() / 1000) + 301);
    await refused(kotaniHeaders(secret, "health", { timestamp: future }));
    // A signed request with an unknown key answers the same: the 401 does not tell a key exists.
    await refused(kotaniHeaders(secret, "health"), `kg_${"0".repeat(24)}_${"0".repeat(6)}`);

    const nonce = randomUUID();
    const once = kotaniHeaders(secret, "health", { nonce });
    expect((await call("GET", "/api/v3/health", { token: key, headers: once })).status).toBe(200);
    await refused(once);
    // A fresh timestamp with the same nonce is a second use too.
    const later = String(Math.floor(Date.now() / 1000) + 1);
    await refused(kotaniHeaders(secret, "health", { nonce, timestamp: later }));
  });

  it("records a nonce in the database, so a second gateway on it refuses the replay", async () => {
    const second = await listen({ app: createApp(h.deps).app });
    try {
      const nonce = randomUUID();
      const headers = {
        authorization: `Bearer ${key}`,
        ...kotaniHeaders(secret, "health", { nonce }),
      };
      expect((await fetch(`${server.url}/api/v3/health`, { headers })).status).toBe(200);
      expect((await fetch(`${second.url}/api/v3/health`, { headers })).status).toBe(401);
      const rows = await h.deps.prisma.$queryRaw<{ n: bigint }[]>`
        SELECT count(*) AS n FROM "SignatureUse" WHERE "signature" = ${`nonce:${nonce}`}`;
      expect(Number(rows[0]!.n)).toBe(1);
    } finally {
      await second.close();
    }
  });

  it("is only for Kotani routes: elsewhere a secure key still signs with Keygate-Signature", async () => {
    const { key: other, secret: otherSecret } = await secureKey(acme.token);
    const body = { name: "x" };
    const answer = await call("POST", "/api/v1/apikey/generate", {
      token: other,
      body,
      headers: kotaniHeaders(otherSecret, JSON.stringify(body)),
    });
    expect(answer.status).toBe(401);
  });
});

describe("GET /api/v3/auth/verify: JSON unless the request prefers a page", () => {
  it("consumes the link for Accept */*, no Accept and application/json; a browser gets the page", async () => {
    // A member each time: sign-in links are limited per address.
    const fresh = async () => {
      const { user } = await seedUser(h.deps, acme.tenant.id, "MEMBER");
      await call("POST", "/api/v3/auth/login", { body: { email: user.email } });
      return encodeURIComponent(hashOf((await outboxLinks(h.deps)).at(-1)!));
    };
    for (const accept of ["*/*", undefined, "application/json", "application/json, text/html"]) {
      const answer = await call("GET", `/api/v3/auth/verify?hash=${await fresh()}`, {
        headers: accept === undefined ? {} : { accept },
      });
      expect(answer.status, String(accept)).toBe(200);
      expect(answer.headers.get("content-type")).toMatch(/application\/json/);
      expect(documented("/api/v3/auth/verify", "GET", answer).body.data.token).toBeTruthy();
    }
    const hash = await fresh();
    for (const accept of [
      "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
      "text/html",
      "application/json;q=0.5, text/html",
    ]) {
      const page = await call("GET", `/api/v3/auth/verify?hash=${hash}`, { headers: { accept } });
      expect(page.status).toBe(200);
      expect(page.headers.get("content-type")).toMatch(/text\/html/);
    }
    // The pages consumed nothing: the link still signs in once.
    const json = await call("GET", `/api/v3/auth/verify?hash=${hash}`, {
      headers: { accept: "*/*" },
    });
    expect(json.status).toBe(200);
    const again = await call("GET", `/api/v3/auth/verify?hash=${hash}`, {
      headers: { accept: "*/*" },
    });
    expect(documented("/api/v3/auth/verify", "GET", again).status).toBe(403);
  });
});

describe("Yativo: every documented prefix", () => {
  let created: { api_key: string; api_secret: string; key_id: string };

  beforeAll(async () => {
    const answer = await call("POST", "/api/apikey/generate", {
      token: acme.token,
      body: { name: "Unversioned", permissions: ["accounts:read", "webhooks:manage"] },
    });
    expect(answer.status).toBe(200);
    documented("/api/apikey/generate", "POST", answer);
    created = answer.body.data;
  });

  it("POST /api/apikey/generate and /api/v1/apikey/generate both create a key and secret", async () => {
    expect(created.api_secret).toMatch(/^[0-9a-f]{64}$/);
    const versioned = documented(
      "/api/v1/apikey/generate",
      "POST",
      await call("POST", "/api/v1/apikey/generate", { token: acme.token, body: { name: "V1" } }),
    );
    expect(versioned.status).toBe(200);
    expect(versioned.body.data.key_name).toBe("V1");
  });

  it("trades the key under /auth/token, /api/auth/token and /api/v1/auth/token in the flat shape", async () => {
    for (const path of ["/auth/token", "/api/auth/token", "/api/v1/auth/token"]) {
      const answer = documented(
        path,
        "POST",
        await call("POST", path, {
          body: { api_key: created.api_key, api_secret: created.api_secret },
        }),
      );
      expect(answer.status, path).toBe(200);
      expect(answer.body).toEqual({
        success: true,
        access_token: expect.any(String),
        token_type: "Bearer",
        expires_in: 3600,
        expires_at: expect.any(String),
        scopes: ["accounts:read", "webhooks:manage"],
      });
      const expiresAt = Date.parse(answer.body.expires_at);
      expect(Math.abs(expiresAt - Date.now() - 3600_000)).toBeLessThan(60_000);
      const used = await call("GET", "/api/v3/health", { token: answer.body.access_token });
      expect(used.body.data).toMatchObject({ auth: "api_key", tenant_id: acme.tenant.id });
    }
  });

  it("answers a bad key or secret with 401, success false and a message, on every prefix", async () => {
    for (const path of ["/auth/token", "/api/auth/token", "/api/v1/auth/token"]) {
      for (const body of [
        { api_key: created.api_key, api_secret: "f".repeat(64) },
        { api_key: `kg_${"0".repeat(24)}_${"0".repeat(6)}`, api_secret: created.api_secret },
      ]) {
        const answer = documented(path, "POST", await call("POST", path, { body }));
        expect(answer.status).toBe(401);
        expect(answer.body).toMatchObject({ success: false, message: expect.any(String) });
        expect(JSON.stringify(answer.body)).not.toContain(created.api_secret);
      }
    }
  });
});

describe("Extractor: PUT /api/v1/apikey/{id} {status, label}", () => {
  const route = "/api/v1/apikey/{id}";
  async function createKey(label = "CI") {
    const answer = await call("POST", "/api/v1/apikey", { token: acme.token, body: { label } });
    expect(answer.status).toBe(200);
    return answer.body as { id: number; apiKey: string; jti: string };
  }
  const put = (id: number | string, body: unknown, token = acme.token) =>
    call("PUT", `/api/v1/apikey/${id}`, { token, body });
  const verify = async (key: string) =>
    (await call("POST", "/v1/keys/verify", { body: { key } })).body.code as string;

  it("changes the label and walks the statuses, answering the ApiKeyDto without the key", async () => {
    const key = await createKey();
    const relabelled = documented(route, "PUT", await put(key.id, { label: "CI (prod)" }));
    expect(relabelled.status).toBe(200);
    expect(relabelled.body).toMatchObject({
      id: key.id,
      label: "CI (prod)",
      status: "ACTIVE",
      jti: key.jti,
      tenantId: Number(acme.tenant.number),
    });
    expect(relabelled.body.apiKey).toBeUndefined();
    expect(JSON.stringify(relabelled.body)).not.toContain(key.apiKey);

    const disabled = documented(route, "PUT", await put(key.id, { status: "DISABLED" }));
    expect(disabled.body.status).toBe("DISABLED");
    expect(await verify(key.apiKey)).toBe("DISABLED");
    // The same status again changes nothing and is no error.
    expect((await put(key.id, { status: "DISABLED" })).status).toBe(200);

    const active = documented(route, "PUT", await put(key.id, { status: "ACTIVE" }));
    expect(active.body.status).toBe("ACTIVE");
    expect(await verify(key.apiKey)).toBe("VALID");

    const deleted = documented(
      route,
      "PUT",
      await put(key.id, { status: "DELETED", label: "retired" }),
    );
    expect(deleted.body).toMatchObject({ status: "DELETED", label: "retired" });
    expect(await verify(key.apiKey)).toBe("REVOKED");
    const revived = documented(route, "PUT", await put(key.id, { status: "ACTIVE" }));
    expect(revived.status).toBe(409);
    expect(revived.body).toMatchObject({ status: 409, error: "Conflict" });
    const audit = await h.deps.prisma.auditEvent.findMany({
      where: { tenantId: acme.tenant.id, action: { startsWith: "key." } },
      select: { action: true },
    });
    expect(audit.map((e) => e.action)).toEqual(
      expect.arrayContaining(["key.update", "key.disable", "key.enable", "key.revoke"]),
    );
  });

  it("answers another tenant's key like an unknown one, and names bad fields", async () => {
    const key = await createKey("Acme's");
    const foreign = documented(route, "PUT", await put(key.id, { label: "mine" }, rival.token));
    const unknown = documented(
      route,
      "PUT",
      await put(999_999_999, { label: "mine" }, rival.token),
    );
    expect(foreign.status).toBe(404);
    expect(foreign.body).toEqual(unknown.body);
    expect((await put("abc", { label: "x" })).status).toBe(404);
    expect(await verify(key.apiKey)).toBe("VALID");

    for (const [body, field] of [
      [{ status: "PAUSED" }, "status"],
      [{ label: " " }, "label"],
      [{}, "status"],
    ] as const) {
      const answer = documented(route, "PUT", await put(key.id, body));
      expect(answer.status).toBe(400);
      expect(answer.body.message).toContain(field);
    }
    const anonymous = await call("PUT", `/api/v1/apikey/${key.id}`, { body: { label: "x" } });
    expect(documented(route, "PUT", anonymous).status).toBe(401);
  });
});
