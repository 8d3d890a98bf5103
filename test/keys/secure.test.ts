import { describe, expect, it, onTestFinished, vi } from "vitest";
import { signRequest } from "../../src/access/signature.ts";
import { open, secretAad } from "../../src/crypto/envelope.ts";
import { generateSecureMutation, gql } from "../helpers/harness.ts";
import { useHarness, withTenant } from "../helpers/fixtures.ts";

const h = useHarness();
const acme = withTenant(h, "Acme");
const globex = withTenant(h, "Globex");

async function secureKey(token = acme.token, input: Record<string, unknown> = {}) {
  const result = await gql(
    h,
    generateSecureMutation,
    { input: { name: "signer", ...input } },
    token,
  );
  expect(result.errors).toBeUndefined();
  return result.data!.generateSecureApiKey as {
    key: string;
    secret: string;
    apiKey: { id: string };
  };
}

describe("secure keys", () => {
  it("returns a key and a 256-bit secret, storing the secret encrypted and bound to tenant and key", async () => {
    const { key, secret, apiKey } = await secureKey();
    expect(secret).toMatch(/^[0-9a-f]{64}$/);
    const row = await h.deps.prisma.apiKey.findUniqueOrThrow({ where: { id: apiKey.id } });
    expect(row.secretCiphertext).not.toContain(secret);
    expect(row.secretKeyVersion).toBe(1);
    const sealed = { ciphertext: row.secretCiphertext!, keyVersion: row.secretKeyVersion! };
    expect(
      open(h.deps.config.encryptionKeys, sealed, secretAad(row.tenantId, row.id)).toString(),
    ).toBe(secret);
    // Transplanted into another tenant's row, the ciphertext does not open.
    const other = await secureKey(globex.token);
    expect(() =>
      open(h.deps.config.encryptionKeys, sealed, secretAad(globex.tenant.id, other.apiKey.id)),
    ).toThrow();
    expect(key).toMatch(/^kg_/);
  });
});

describe("exchangeApiKey", () => {
  const exchange =
    "mutation($k: String!, $s: String!) { exchangeApiKey(apiKey: $k, apiSecret: $s) { accessToken tokenType expiresIn expiresAt } }";

  it("trades key + secret for a 60-minute bearer token with the key's permissions", async () => {
    const { key, secret, apiKey } = await secureKey(acme.token, { permissions: ["projects:read"] });
    const result = await gql(h, exchange, { k: key, s: secret });
    expect(result.errors).toBeUndefined();
    expect(result.data!.exchangeApiKey).toMatchObject({ tokenType: "Bearer", expiresIn: 3600 });
    const token = result.data!.exchangeApiKey.accessToken;
    expect(
      (await gql(h, "{ projects { edges { node { id } } } }", {}, token)).errors,
    ).toBeUndefined();
    expect(
      (await gql(h, 'mutation { createProject(input: { name: "x" }) { id } }', {}, token))
        .errors![0]!.extensions!.code,
    ).toBe("FORBIDDEN");
    const audit = await h.deps.prisma.auditEvent.count({
      where: { targetId: apiKey.id, action: "key.exchange" },
    });
    expect(audit).toBe(1);

    // Revoking the key ends the tokens minted from it.
    await gql(
      h,
      "mutation($id: ID!) { revokeKey(id: $id) { status } }",
      { id: apiKey.id },
      acme.token,
    );
    expect((await gql(h, "{ tenant { id } }", {}, token)).status).toBe(401);
  });

  it("refuses a wrong secret, a plain key and a revoked key alike", async () => {
    const { key, secret } = await secureKey();
    const wrong = await gql(h, exchange, {
      k: key,
      s: secret.replace(/.$/, (c) => (c === "0" ? "1" : "0")),
    });
    expect(wrong.errors![0]!.extensions!.code).toBe("UNAUTHENTICATED");
    const plain = await gql(
      h,
      'mutation { generateApiKey(input: { name: "p" }) { key } }',
      {},
      acme.token,
    );
    const notSecure = await gql(h, exchange, { k: plain.data!.generateApiKey.key, s: secret });
    expect(notSecure.errors![0]).toEqual(wrong.errors![0]);
  });

  it("limits wrong secrets without locking the owner out", async () => {
    const secure = (await gql(h, generateSecureMutation, { input: { name: "s" } }, acme.token))
      .data!.generateSecureApiKey;
    const attempt = (s: string) => gql(h, exchange, { k: secure.key, s });
    const codes = [];
    for (let i = 0; i < 12; i++)
      codes.push((await attempt("0".repeat(64))).errors![0]!.extensions!.code);
    expect(codes.slice(0, 10).every((c) => c === "UNAUTHENTICATED")).toBe(true);
    expect(codes.slice(10)).toEqual(["RATE_LIMITED", "RATE_LIMITED"]);
    expect((await attempt(secure.secret)).errors).toBeUndefined();
  });
});

describe("signed requests", () => {
  const body = JSON.stringify({ query: "{ tenant { id } }" });

  async function send(key: string, signature: string | null, payload = body) {
    const response = await h.app.request("/graphql", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${key}`,
        ...(signature ? { "keygate-signature": signature } : {}),
      },
      body: payload,
    });
    return response.status;
  }

  it("accepts a valid signature once; rejects +301 s, -301 s, a replay, a flipped body byte and a wrong length", async () => {
    const { key, secret } = await secureKey();
    // The clock stands still (Date only) so "301 s away" is exact on a slow machine too.
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(new Date());
    onTestFinished(() => {
      vi.useRealTimers();
    });
    const now = Math.floor(Date.now() / 1000);
    const valid = signRequest(secret, "POST", "/graphql", body, now);
    expect(await send(key, valid)).toBe(200);
    expect(await send(key, signRequest(secret, "POST", "/graphql", body, now + 301))).toBe(401);
    expect(await send(key, signRequest(secret, "POST", "/graphql", body, now - 301))).toBe(401);
    expect(await send(key, valid)).toBe(401);
    const flipped = body.replace("tenant", "tenanu");
    expect(await send(key, signRequest(secret, "POST", "/graphql", body, now + 1), flipped)).toBe(
      401,
    );
    expect(await send(key, `${signRequest(secret, "POST", "/graphql", body, now + 2)}00`)).toBe(
      401,
    );
  });

  it("requires a signature from secure keys and never answers 500 to garbage", async () => {
    const { key } = await secureKey();
    expect(await send(key, null)).toBe(401);
    for (const garbage of [
      "t=abc,v1=zz",
      "v1=00",
      `t=1,v1=${"0".repeat(64)}`,
      "\u00ff\u00fe",
      "t=".padEnd(5000, "9"),
    ]) {
      expect(await send(key, garbage)).toBe(401);
    }
  });

  it("signs the path and query too", async () => {
    const { key, secret } = await secureKey();
    const signature = signRequest(secret, "POST", "/graphql?x=1", body);
    expect(await send(key, signature)).toBe(401);
  });
});
