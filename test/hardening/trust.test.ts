// Regression tests for the attacks of the trust review (issue 10, items 1-5 and 9), each
// replayed over real HTTP against the app served as main.ts serves it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signRequest } from "../../src/access/signature.ts";
import { sha256Hex } from "../../src/crypto/tokens.ts";
import { hashOf, outboxLinks, seedUser } from "../helpers/harness.ts";
import { useHarness, withTenant } from "../helpers/fixtures.ts";
import { httpGql, httpPost, listen, type Listening } from "../helpers/listen.ts";

const h = useHarness();
const acme = withTenant(h, "Acme");
let server: Listening;
let url: string;

beforeAll(async () => {
  server = await listen(h);
  url = server.url;
});
afterAll(() => server.close());

const generate = `mutation($input: GenerateApiKeyInput!) { generateApiKey(input: $input) { key apiKey { id permissions project { id } } } }`;
const generateSecure = `mutation($input: GenerateApiKeyInput!) { generateSecureApiKey(input: $input) { key secret apiKey { id } } }`;
const projectKey = `mutation($input: GenerateProjectKeyInput!) { generateProjectKey(input: $input) { id ... on GenerateProjectApiKeyPayload { keyValue apiKey { permissions } } } }`;
const createProject = `mutation($name: String!) { createProject(input: { name: $name }) { id } }`;
const deleteProject = `mutation($id: ID!) { deleteProject(id: $id) { id } }`;
const revoke = `mutation($id: ID!) { revokeKey(id: $id) { id status } }`;
const disable = `mutation($id: ID!) { disableKey(id: $id) { id } }`;
const rotate = `mutation($id: ID!) { rotateKey(id: $id) { key } }`;
const listKeys = `{ apiKeys(first: 100) { edges { node { id } } } }`;
const oneKey = `query($id: ID!) { apiKey(id: $id) { id } }`;
const verify = `mutation($key: String!, $signature: VerifySignatureInput) { verifyKey(key: $key, signature: $signature) { valid code ratelimit { remaining } } }`;

const code = (r: { errors?: { extensions?: Record<string, any> }[] }) =>
  r.errors?.[0]?.extensions?.code;

async function newProject(name: string): Promise<string> {
  const r = await httpGql(url, createProject, { name }, acme.token);
  expect(r.errors).toBeUndefined();
  return r.data!.createProject.id;
}

async function ownerKey(input: Record<string, unknown> = {}) {
  const r = await httpGql(url, generate, { input: { name: "owner's", ...input } }, acme.token);
  expect(r.errors).toBeUndefined();
  return r.data!.generateApiKey as { key: string; apiKey: { id: string; permissions: string[] } };
}

async function verifyRest(key: string) {
  return (await httpPost(url, "/v1/keys/verify", { key })).body;
}

describe("1. a project key is confined to its project and never administers", () => {
  it("gets no permissions unless given, and can do nothing with none", async () => {
    const p1 = await newProject("P1");
    const made = await httpGql(url, projectKey, { input: { projectId: p1 } }, acme.token);
    expect(made.data!.generateProjectKey.apiKey.permissions).toEqual([]);
    const key = made.data!.generateProjectKey.keyValue as string;
    const victim = await ownerKey();
    const p2 = await newProject("P2");
    expect(code(await httpGql(url, generate, { input: { name: "escalate" } }, key))).toBe(
      "FORBIDDEN",
    );
    expect(code(await httpGql(url, revoke, { id: victim.apiKey.id }, key))).toBe("FORBIDDEN");
    expect(code(await httpGql(url, deleteProject, { id: p2 }, key))).toBe("FORBIDDEN");
    expect(code(await httpGql(url, listKeys, {}, key))).toBe("FORBIDDEN");
    // The vendor route gives the same default.
    const rest = await httpPost(
      url,
      "/api/adm/companyProjectKeys/generate",
      { projectId: p1 },
      acme.token,
    );
    expect(rest.status).toBe(200);
    const row = await h.deps.prisma.apiKey.findUniqueOrThrow({ where: { id: rest.body.id } });
    expect(row.permissions).toEqual([]);
  });

  it("with permissions, creates only inside its project and its permissions, sees only what it minted", async () => {
    const p1 = await newProject("P1 scoped");
    const p2 = await newProject("P2 other");
    const made = await httpGql(
      url,
      projectKey,
      { input: { projectId: p1, permissions: ["keys:*", "projects:*", "orders:read"] } },
      acme.token,
    );
    expect(made.errors).toBeUndefined();
    const pk = made.data!.generateProjectKey as { id: string; keyValue: string };
    const victim = await ownerKey();

    // No project given: the new key lands in the minter's project, with at most its permissions.
    const minted = await httpGql(url, generate, { input: { name: "minted" } }, pk.keyValue);
    expect(minted.errors).toBeUndefined();
    expect(minted.data!.generateApiKey.apiKey.project.id).toBe(p1);
    expect(minted.data!.generateApiKey.apiKey.permissions).toEqual([
      "keys:*",
      "projects:*",
      "orders:read",
    ]);
    const mintedRow = await h.deps.prisma.apiKey.findUniqueOrThrow({
      where: { id: minted.data!.generateApiKey.apiKey.id },
    });
    expect(mintedRow.createdByKeyId).toBe(pk.id);

    expect(
      code(await httpGql(url, generate, { input: { name: "x", projectId: p2 } }, pk.keyValue)),
    ).toBe("FORBIDDEN");
    expect(
      code(await httpGql(url, generate, { input: { name: "x", permissions: ["*"] } }, pk.keyValue)),
    ).toBe("FORBIDDEN");
    expect(
      code(
        await httpGql(url, generate, { input: { name: "x", ownerId: acme.owner.id } }, pk.keyValue),
      ),
    ).toBe("FORBIDDEN");
    expect(code(await httpGql(url, projectKey, { input: { projectId: p1 } }, pk.keyValue))).toBe(
      "FORBIDDEN",
    );
    expect(code(await httpGql(url, createProject, { name: "mine" }, pk.keyValue))).toBe(
      "FORBIDDEN",
    );
    expect(code(await httpGql(url, deleteProject, { id: p2 }, pk.keyValue))).toBe("FORBIDDEN");
    expect(code(await httpGql(url, deleteProject, { id: p1 }, pk.keyValue))).toBe("FORBIDDEN");
    // The owner's keys answer like unknown ones.
    for (const op of [revoke, disable, rotate])
      expect(code(await httpGql(url, op, { id: victim.apiKey.id }, pk.keyValue))).toBe(
        "KEY_NOT_FOUND",
      );
    expect(
      (await httpGql(url, oneKey, { id: victim.apiKey.id }, pk.keyValue)).data!.apiKey,
    ).toBeNull();
    const listed = (await httpGql(url, listKeys, {}, pk.keyValue)).data!.apiKeys.edges.map(
      (e: any) => e.node.id,
    );
    expect(listed).toEqual([minted.data!.generateApiKey.apiKey.id]);
    const projects = await httpGql(
      url,
      `{ projects(first: 50) { edges { node { id } } } }`,
      {},
      pk.keyValue,
    );
    expect(projects.data!.projects.edges.map((e: any) => e.node.id)).toEqual([p1]);

    // Deleting the project ends what the project key minted.
    expect((await verifyRest(minted.data!.generateApiKey.key)).code).toBe("VALID");
    expect((await httpGql(url, deleteProject, { id: p1 }, acme.token)).errors).toBeUndefined();
    expect((await verifyRest(minted.data!.generateApiKey.key)).code).toBe("REVOKED");
    expect((await verifyRest(pk.keyValue)).code).toBe("REVOKED");
  });

  it("a non-administering key bound to no one cannot reach other keys through the id filter", async () => {
    // Ownerless but without `*`: the scope's shut-out used to be overwritten by `{ ...scope, id }`.
    const narrow = await ownerKey({ permissions: ["keys:read", "keys:write"] });
    const victim = await ownerKey();
    for (const op of [revoke, disable, rotate])
      expect(code(await httpGql(url, op, { id: victim.apiKey.id }, narrow.key))).toBe(
        "KEY_NOT_FOUND",
      );
    expect(
      (await httpGql(url, oneKey, { id: victim.apiKey.id }, narrow.key)).data!.apiKey,
    ).toBeNull();
    expect((await verifyRest(victim.key)).code).toBe("VALID");
  });

  it("every credential kind creates only within its own permissions, and keys record their minter", async () => {
    const member = await seedUser(h.deps, acme.tenant.id, "MEMBER", [
      "keys:write",
      "keys:read",
      "orders:read",
    ]);
    const memberKey = (
      await httpGql(
        url,
        generate,
        { input: { name: "m", permissions: ["keys:write", "orders:read"] } },
        member.token,
      )
    ).data!.generateApiKey;
    const integrator = await ownerKey();
    const secure = (
      await httpGql(
        url,
        generateSecure,
        { input: { name: "s", permissions: ["keys:write", "orders:read"] } },
        acme.token,
      )
    ).data!.generateSecureApiKey;
    const exchange = await httpPost(url, "/auth/token", {
      api_key: secure.key,
      api_secret: secure.secret,
    });
    expect(exchange.status).toBe(200);
    const credentials: [string, string, string | null][] = [
      ["member session", member.token, null],
      ["user-bound key", memberKey.key, memberKey.apiKey.id],
      ["exchange token", exchange.body.access_token, secure.apiKey.id],
    ];
    for (const [label, token, keyId] of credentials) {
      const beyond = await httpGql(
        url,
        generate,
        { input: { name: label, permissions: ["billing:write"] } },
        token,
      );
      expect(code(beyond), label).toBe("FORBIDDEN");
      const within = await httpGql(
        url,
        generate,
        { input: { name: label, permissions: ["orders:read"] } },
        token,
      );
      expect(within.errors, label).toBeUndefined();
      const row = await h.deps.prisma.apiKey.findUniqueOrThrow({
        where: { id: within.data!.generateApiKey.apiKey.id },
      });
      expect(row.createdByKeyId, label).toBe(keyId);
    }
    const byIntegrator = await httpGql(
      url,
      generate,
      { input: { name: "by integrator" } },
      integrator.key,
    );
    const row = await h.deps.prisma.apiKey.findUniqueOrThrow({
      where: { id: byIntegrator.data!.generateApiKey.apiKey.id },
    });
    expect(row.createdByKeyId).toBe(integrator.apiKey.id);
  });
});

describe("2. a secure key without its signature is not VALID and spends nothing", () => {
  it("answers SIGNATURE_REQUIRED on REST and GraphQL, and the owner's signed requests still pass", async () => {
    const s = (
      await httpGql(
        url,
        generateSecure,
        { input: { name: "limited", rateLimit: { perMinute: 5 } } },
        acme.token,
      )
    ).data!.generateSecureApiKey;
    for (let i = 0; i < 5; i++) {
      expect((await verifyRest(s.key)).code).toBe("SIGNATURE_REQUIRED");
      expect((await httpGql(url, verify, { key: s.key })).data!.verifyKey.code).toBe(
        "SIGNATURE_REQUIRED",
      );
    }
    const body = JSON.stringify({ amount: 5 });
    const header = signRequest(s.secret, "POST", "/orders?x=1", body);
    const signature = { header, method: "POST", path: "/orders?x=1", bodySha256: sha256Hex(body) };
    const signed = (await httpPost(url, "/v1/keys/verify", { key: s.key, signature })).body;
    expect(signed).toMatchObject({ valid: true, code: "VALID", ratelimit: { remaining: 4 } });
    // One use: the same signature again, a tampered path, a wrong secret.
    expect((await httpPost(url, "/v1/keys/verify", { key: s.key, signature })).body.code).toBe(
      "INVALID_SIGNATURE",
    );
    const tampered = {
      ...signature,
      header: signRequest(s.secret, "POST", "/orders?x=1", body),
      path: "/orders?x=2",
    };
    expect(
      (await httpPost(url, "/v1/keys/verify", { key: s.key, signature: tampered })).body.code,
    ).toBe("INVALID_SIGNATURE");
    const forged = {
      ...signature,
      header: signRequest("not-the-secret", "POST", "/orders?x=1", body),
    };
    expect(
      (await httpGql(url, verify, { key: s.key, signature: forged })).data!.verifyKey.code,
    ).toBe("INVALID_SIGNATURE");
    // Only the signed request was charged.
    const again = {
      header: signRequest(s.secret, "GET", "/orders"),
      method: "GET",
      path: "/orders",
    };
    expect(
      (await httpGql(url, verify, { key: s.key, signature: again })).data!.verifyKey,
    ).toMatchObject({ code: "VALID", ratelimit: { remaining: 3 } });
  });

  it("names the bad field of a signature", async () => {
    const r = await httpPost(url, "/v1/keys/verify", {
      key: "kg_x",
      signature: { header: "t=1,v1=00", method: "GET", path: "orders" },
    });
    expect(r.status).toBe(400);
    expect(JSON.stringify(r.body)).toContain("signature.path");
  });
});

describe("3. a disabled user's keys stop working", () => {
  it("stops verification, bearer use, exchange and exchange tokens, and comes back on enable", async () => {
    const member = await seedUser(h.deps, acme.tenant.id, "MEMBER", ["keys:write", "keys:read"]);
    const plain = (
      await httpGql(
        url,
        generate,
        { input: { name: "plain", permissions: ["keys:read"] } },
        member.token,
      )
    ).data!.generateApiKey;
    const secure = (
      await httpGql(
        url,
        generateSecure,
        { input: { name: "secure", permissions: ["keys:read"] } },
        member.token,
      )
    ).data!.generateSecureApiKey;
    const exchanged = await httpPost(url, "/auth/token", {
      api_key: secure.key,
      api_secret: secure.secret,
    });
    const token = exchanged.body.access_token as string;
    expect((await verifyRest(plain.key)).code).toBe("VALID");
    expect((await httpGql(url, listKeys, {}, token)).errors).toBeUndefined();

    const disabled = await httpGql(
      url,
      `mutation($id: ID!) { disableUser(id: $id) { id } }`,
      { id: member.user.id },
      acme.token,
    );
    expect(disabled.errors).toBeUndefined();
    expect((await verifyRest(plain.key)).code).toBe("DISABLED");
    expect((await httpGql(url, listKeys, {}, plain.key)).status).toBe(401);
    expect((await httpGql(url, listKeys, {}, token)).status).toBe(401);
    expect((await httpGql(url, listKeys, {}, member.token)).status).toBe(401);
    expect(
      (await httpPost(url, "/auth/token", { api_key: secure.key, api_secret: secure.secret }))
        .status,
    ).toBe(401);

    expect(
      (
        await httpGql(
          url,
          `mutation($id: ID!) { enableUser(id: $id) { id } }`,
          { id: member.user.id },
          acme.token,
        )
      ).errors,
    ).toBeUndefined();
    expect((await verifyRest(plain.key)).code).toBe("VALID");
    const actions = (
      await h.deps.prisma.auditEvent.findMany({ where: { targetId: member.user.id } })
    ).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(["user.disable", "user.enable"]));
  });

  it("a user-bound key never holds more than its owner holds now", async () => {
    const member = await seedUser(h.deps, acme.tenant.id, "MEMBER", [
      "keys:write",
      "keys:read",
      "orders:read",
    ]);
    const k = (
      await httpGql(
        url,
        generate,
        { input: { name: "narrowing", permissions: ["keys:read", "orders:read"] } },
        member.token,
      )
    ).data!.generateApiKey;
    await h.deps.prisma.user.update({
      where: { id: member.user.id },
      data: { permissions: ["orders:read"] },
    });
    h.deps.keys.invalidateOwners(member.user.id);
    const answer = (
      await httpPost(url, "/v1/keys/verify", { key: k.key, permissions: ["keys:read"] })
    ).body;
    expect(answer.code).toBe("INSUFFICIENT_PERMISSIONS");
    expect(answer.permissions).toEqual(["orders:read"]);
  });
});

describe("4. refresh replay inside the grace window", () => {
  it("gives the replayer the victim's own successor, never a pair that displaces it", async () => {
    const member = await seedUser(h.deps, acme.tenant.id, "MEMBER");
    await httpGql(url, "mutation($e: EmailAddress!) { requestMagicLink(email: $e) { message } }", {
      e: member.user.email,
    });
    const link = (await outboxLinks(h.deps)).at(-1)!;
    const signedIn = await httpGql(
      url,
      "mutation($h: String!) { verify(hash: $h) { refreshToken sessionId } }",
      { h: hashOf(link) },
    );
    const r1 = signedIn.data!.verify.refreshToken as string;
    const refresh =
      "mutation($t: String!) { refreshSession(refreshToken: $t) { accessToken refreshToken } }";
    const victim = await httpGql(url, refresh, { t: r1 });
    const attacker = await httpGql(url, refresh, { t: r1 });
    expect(attacker.data!.refreshSession).toEqual(victim.data!.refreshSession);
    const victimNext = await httpGql(url, refresh, { t: victim.data!.refreshSession.refreshToken });
    expect(victimNext.errors).toBeUndefined();
  });
});

describe("5. magic-link requests do no lookup before the answer is out", () => {
  it("runs the address lookup only after the response finished, on GraphQL and on the Kotani route", async () => {
    const events: string[] = [];
    const onRequest = (_req: unknown, res: import("node:http").ServerResponse) =>
      res.once("finish", () => events.push("response finished"));
    server.server.on("request", onRequest);
    const real = h.deps.prisma;
    h.deps.prisma = new Proxy(real, {
      get(target, property) {
        if (property === "user" || property === "magicLink")
          events.push(`query ${String(property)}`);
        return Reflect.get(target, property, target);
      },
    });
    try {
      for (const send of [
        () =>
          httpGql(url, "mutation($e: EmailAddress!) { requestMagicLink(email: $e) { message } }", {
            e: acme.owner.email,
          }),
        () => httpPost(url, "/api/v3/auth/login", { email: acme.owner.email }),
      ]) {
        events.length = 0;
        await send();
        await h.deps.background.idle();
        expect(events[0]).toBe("response finished");
        expect(events).toContain("query user");
      }
    } finally {
      h.deps.prisma = real;
      server.server.off("request", onRequest);
    }
  });
});

describe("9. a key pair generated while its project is deleted", () => {
  it("is never left ACTIVE in a deleted project", async () => {
    const p = await newProject("Doomed");
    const generating = httpGql(
      url,
      `mutation($input: GenerateProjectKeyInput!) { generateProjectKey(input: $input) { id } }`,
      { input: { projectId: p, type: "TRANSACTION_RSA", rsaBits: 4096 } },
      acme.token,
    );
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect((await httpGql(url, deleteProject, { id: p }, acme.token)).errors).toBeUndefined();
    const generated = await generating;
    if (!generated.errors) expect(generated.data).toBeTruthy();
    else expect(code(generated)).toBe("PROJECT_NOT_FOUND");
    expect(await h.deps.prisma.keyPair.count({ where: { projectId: p, status: "ACTIVE" } })).toBe(
      0,
    );
  });
});

describe("IP allowlists hold for bearer use too", () => {
  it("lets a key act from an allowed address only, as bearer, in an exchange and through its token", async () => {
    const update = `mutation($input: UpdateKeyInput!) { updateKey(input: $input) { id ipAllowlist } }`;
    const s = (
      await httpGql(
        url,
        generateSecure,
        { input: { name: "fenced", permissions: ["keys:read"] } },
        acme.token,
      )
    ).data!.generateSecureApiKey;
    const exchanged = await httpPost(url, "/auth/token", { api_key: s.key, api_secret: s.secret });
    const token = exchanged.body.access_token as string;

    // The test's requests come from 127.0.0.1.
    await httpGql(
      url,
      update,
      { input: { id: s.apiKey.id, ipAllowlist: ["127.0.0.0/8"] } },
      acme.token,
    );
    expect((await httpGql(url, listKeys, {}, token)).errors).toBeUndefined();
    expect(
      (await httpPost(url, "/auth/token", { api_key: s.key, api_secret: s.secret })).status,
    ).toBe(200);

    await httpGql(
      url,
      update,
      { input: { id: s.apiKey.id, ipAllowlist: ["203.0.113.0/24"] } },
      acme.token,
    );
    expect((await httpGql(url, listKeys, {}, token)).status).toBe(401);
    expect(
      (await httpPost(url, "/auth/token", { api_key: s.key, api_secret: s.secret })).status,
    ).toBe(401);
  });
});

describe("a key never changes itself", () => {
  it("cannot lift its own rate limit, credits, allowlist or expiry", async () => {
    const member = await seedUser(h.deps, acme.tenant.id, "MEMBER", ["keys:write", "keys:read"]);
    const made = await httpGql(
      url,
      generate,
      {
        input: {
          name: "self",
          permissions: ["keys:write", "keys:read"],
          rateLimit: { perMinute: 5 },
        },
      },
      member.token,
    );
    const self = made.data!.generateApiKey as { key: string; apiKey: { id: string } };
    const update = `mutation($input: UpdateKeyInput!) { updateKey(input: $input) { id } }`;
    for (const change of [
      { rateLimit: null },
      { credits: null },
      { ipAllowlist: [] },
      { expiresAt: null },
    ]) {
      const answer = await httpGql(
        url,
        update,
        { input: { id: self.apiKey.id, ...change } },
        self.key,
      );
      expect(code(answer), JSON.stringify(change)).toBe("FORBIDDEN");
    }
    const row = await h.deps.prisma.apiKey.findUniqueOrThrow({ where: { id: self.apiKey.id } });
    expect(row.rateLimitPerMinute).toBe(5);
  });
});
