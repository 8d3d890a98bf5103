// After a run that creates every kind of credential, neither a database dump nor the
// captured logs contain a plaintext key, secret, token or passphrase.
import { describe, expect, it } from "vitest";
import { signRequest } from "../../src/access/signature.ts";
import {
  databaseDump,
  generateKeyFor,
  generateSecureMutation,
  gql,
  hashOf,
  outboxLinks,
} from "../helpers/harness.ts";
import { useHarness, withTenant } from "../helpers/fixtures.ts";

const h = useHarness({ LOG_LEVEL: "debug" });
const acme = withTenant(h, "Acme");

describe("secret hygiene", () => {
  it("keeps every credential out of the database and the logs", async () => {
    const secrets: string[] = [];
    const keep = (...values: string[]) => {
      for (const [i, v] of values.entries()) {
        expect(
          typeof v === "string" && v.length > 15,
          `credential ${secrets.length + i + 1} missing`,
        ).toBe(true);
      }
      secrets.push(...values);
    };

    // Magic link, session access token, refresh tokens.
    await gql(h, "mutation($e: EmailAddress!) { requestMagicLink(email: $e) { message } }", {
      e: acme.owner.email,
    });
    const hash = hashOf((await outboxLinks(h.deps)).at(-1)!);
    const session = (
      await gql(h, "mutation($h: String!) { verify(hash: $h) { accessToken refreshToken } }", {
        h: hash,
      })
    ).data!.verify;
    const rotated = (
      await gql(
        h,
        "mutation($t: String!) { refreshSession(refreshToken: $t) { accessToken refreshToken } }",
        { t: session.refreshToken },
      )
    ).data!.refreshSession;
    keep(
      hash,
      session.accessToken,
      session.refreshToken,
      rotated.accessToken,
      rotated.refreshToken,
    );

    // API keys of every format, a secure key and its exchange token, signed use.
    const opaque = await generateKeyFor(h, rotated.accessToken, { permissions: ["projects:read"] });
    const jwt = await generateKeyFor(h, rotated.accessToken, { format: "JWT" });
    const secure = (
      await gql(h, generateSecureMutation, { input: { name: "s" } }, rotated.accessToken)
    ).data!.generateSecureApiKey;
    const exchanged = (
      await gql(
        h,
        "mutation($k: String!, $s: String!) { exchangeApiKey(apiKey: $k, apiSecret: $s) { accessToken } }",
        { k: secure.key, s: secure.secret },
      )
    ).data!.exchangeApiKey;
    keep(opaque.key, jwt.key, secure.key, secure.secret, exchanged.accessToken);
    const body = JSON.stringify({ query: "{ tenant { id } }" });
    await h.app.request("/graphql", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${secure.key}`,
        "keygate-signature": signRequest(secure.secret, "POST", "/graphql", body),
      },
      body,
    });
    for (const key of [opaque.key, jwt.key]) {
      await h.app.request("/v1/keys/verify", {
        method: "POST",
        headers: {
          "content-type": "application/json",
          authorization: `Bearer ${exchanged.accessToken}`,
        },
        body: JSON.stringify({ key }),
      });
      await h.app.request("/api/v3/health", { headers: { authorization: `Bearer ${key}` } });
    }

    // Project keys and key pairs, with a given and a generated passphrase.
    const project = (
      await gql(
        h,
        'mutation { createProject(input: { name: "p" }) { id } }',
        {},
        rotated.accessToken,
      )
    ).data!.createProject.id;
    const pk = await gql(
      h,
      "mutation($p: ID!) { generateProjectKey(input: { projectId: $p }) { ... on GenerateProjectApiKeyPayload { keyValue } } }",
      { p: project },
      rotated.accessToken,
    );
    const projectKey = pk.data!.generateProjectKey;
    const given = "a passphrase nobody should ever see";
    const pgp = (
      await gql(
        h,
        "mutation($p: ID!, $s: String) { generateProjectKey(input: { projectId: $p, type: FILE_CONTENT_PGP, passphrase: $s }) { ... on GenerateKeyPairPayload { encryptedPrivateKey } } }",
        { p: project, s: given },
        rotated.accessToken,
      )
    ).data!.generateProjectKey;
    const rsa = (
      await gql(
        h,
        "mutation($p: ID!) { generateProjectKey(input: { projectId: $p, type: TRANSACTION_RSA, rsaBits: 3072 }) { ... on GenerateKeyPairPayload { passphrase encryptedPrivateKey } } }",
        { p: project },
        rotated.accessToken,
      )
    ).data!.generateProjectKey;
    keep(
      projectKey.keyValue,
      given,
      rsa.passphrase,
      pgp.encryptedPrivateKey
        .split("\n")
        .reduce((a: string, b: string) => (b.length > a.length ? b : a)),
      rsa.encryptedPrivateKey.split("\n")[1],
    );

    // Vendor routes too.
    const kotani = await (
      await h.app.request("/api/v3/auth/api-key/secure", {
        headers: { authorization: `Bearer ${rotated.accessToken}` },
      })
    ).json();
    const yativo = await (
      await h.app.request("/api/v1/apikey/generate", {
        method: "POST",
        headers: {
          "content-type": "application/json",
          authorization: `Bearer ${rotated.accessToken}`,
        },
        body: JSON.stringify({ name: "y" }),
      })
    ).json();
    keep(kotani.data.key, kotani.data.secret, yativo.data.api_key, yativo.data.api_secret);

    await h.deps.keys.flush();
    const dump = await databaseDump(h.deps);
    const logs = h.logs.join("\n");
    expect(secrets.length).toBe(19);
    expect(logs.length).toBeGreaterThan(1000);
    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThan(15);
      expect(dump.includes(secret), `database holds ${secret.slice(0, 12)}…`).toBe(false);
      expect(logs.includes(secret), `logs hold ${secret.slice(0, 12)}…`).toBe(false);
    }
  });

  it("logs one line per request with request id, route, status, duration, tenant and key id", async () => {
    const { key, apiKey } = await generateKeyFor(h, acme.token);
    await h.app.request("/api/v3/health", {
      headers: { authorization: `Bearer ${key}`, "x-request-id": "req-log-1" },
    });
    const line = h.logs
      .map((l) => JSON.parse(l))
      .find((l) => l.requestId === "req-log-1" && l.msg === "request");
    expect(line).toMatchObject({
      route: "/api/v3/health",
      status: 200,
      tenantId: acme.tenant.id,
      keyId: apiKey.id,
    });
    expect(typeof line.durationMs).toBe("number");
  });

  it("redacts secret-bearing fields whatever logs them", () => {
    const before = h.logs.length;
    h.deps.logger.info(
      {
        req: { headers: { authorization: "Bearer sk-live-abc" } },
        body: {
          apiKey: "kg_plaintext",
          secret: "s3cr3t",
          passphrase: "pp",
          token: "tok",
          privateKey: "pk",
        },
      },
      "probe",
    );
    const line = h.logs.slice(before).join("");
    for (const value of ["sk-live-abc", "kg_plaintext", "s3cr3t", '"pp"', '"tok"', '"pk"'])
      expect(line).not.toContain(value);
    expect(line).toContain("[redacted]");
  });
});
