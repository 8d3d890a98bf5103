import { createPublicKey, createSign, createVerify } from "node:crypto";
import * as openpgp from "openpgp";
import { beforeAll, describe, expect, it } from "vitest";
import { openRsaPrivateKey } from "../../src/crypto/key-pairs.ts";
import { databaseDump, generateKeyFor, gql, seedUser, verifyMutation } from "../helpers/harness.ts";
import { useHarness, withTenant } from "../helpers/fixtures.ts";

const h = useHarness();
const a = withTenant(h, "TenantA");
const b = withTenant(h, "TenantB");
let projectId: string;

const generate = `mutation($input: GenerateProjectKeyInput!) { generateProjectKey(input: $input) {
  __typename id type expiresAt
  ... on GenerateProjectApiKeyPayload { keyValue apiKey { id kind status masked } }
  ... on GenerateKeyPairPayload {
    publicKey encryptedPrivateKey passphrase keyPair { id type algorithm fingerprint status }
  }
} }`;
const keysOf = `query($id: ID!) { project(id: $id) { keys(first: 50) { edges { node { id type name status masked fingerprint algorithm createdAt expiresAt } } } } }`;

beforeAll(async () => {
  projectId = (
    await gql(h, 'mutation { createProject(input: { name: "Shop" }) { id } }', {}, a.token)
  ).data!.createProject.id;
});

describe("project API keys", () => {
  it("issues several active keys per project, shown once, then masked", async () => {
    const first = (
      await gql(h, generate, { input: { projectId, name: "Production API Key" } }, a.token)
    ).data!.generateProjectKey;
    const second = (
      await gql(h, generate, { input: { projectId, name: "Rotation", isActive: true } }, a.token)
    ).data!.generateProjectKey;
    const inactive = (await gql(h, generate, { input: { projectId, isActive: false } }, a.token))
      .data!.generateProjectKey;
    expect(first).toMatchObject({
      __typename: "GenerateProjectApiKeyPayload",
      type: "API_KEY",
      apiKey: { kind: "PROJECT_KEY", status: "ACTIVE" },
    });
    // A project API key's payload has no key pair fields at all.
    expect(Object.keys(first).sort()).toEqual(
      ["__typename", "apiKey", "expiresAt", "id", "keyValue", "type"].sort(),
    );
    expect(first.keyValue).toMatch(/^kg_/);
    expect(inactive.apiKey.status).toBe("DISABLED");
    for (const k of [first, second])
      expect((await gql(h, verifyMutation, { key: k.keyValue })).data!.verifyKey).toMatchObject({
        valid: true,
      });
    const verified = await h.app.request("/v1/keys/verify", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ key: first.keyValue }),
    });
    expect((await verified.json()).projectId).toBe(projectId);

    const listed = (await gql(h, keysOf, { id: projectId }, a.token)).data!.project.keys.edges.map(
      (e: any) => e.node,
    );
    const ids = listed.map((k: any) => k.id);
    expect(ids).toEqual(expect.arrayContaining([first.id, second.id, inactive.id]));
    expect(JSON.stringify(listed)).not.toContain(first.keyValue);
    expect(listed.find((k: any) => k.id === first.id)).toMatchObject({
      type: "API_KEY",
      masked: first.apiKey.masked,
      status: "ACTIVE",
    });
  });

  it("needs an existing project of the caller's tenant, and an administrator", async () => {
    const missing = await gql(
      h,
      generate,
      { input: { projectId: "00000000-0000-4000-8000-000000000000" } },
      a.token,
    );
    const foreign = await gql(h, generate, { input: { projectId } }, b.token);
    expect(missing.errors![0]!.extensions!.code).toBe("PROJECT_NOT_FOUND");
    expect(foreign.errors![0]!.extensions).toEqual(missing.errors![0]!.extensions);
    const badId = await gql(h, generate, { input: { projectId: "nope" } }, a.token);
    expect(badId.errors![0]!.extensions!.fields[0].field).toBe("projectId");
    const member = await seedUser(h.deps, a.tenant.id, "MEMBER", ["keys:*"]);
    expect(
      (await gql(h, generate, { input: { projectId } }, member.token)).errors![0]!.extensions!.code,
    ).toBe("FORBIDDEN");
  });
});

describe("project.keys visibility", () => {
  it("shows members only the keys they own, and no key pairs", async () => {
    const project = (
      await gql(h, 'mutation { createProject(input: { name: "p" }) { id } }', {}, a.token)
    ).data!.createProject.id as string;
    const member = await seedUser(h.deps, a.tenant.id, "MEMBER", [
      "projects:read",
      "keys:read",
      "keys:write",
    ]);
    await gql(
      h,
      'mutation($p: ID!) { generateProjectKey(input: { projectId: $p, name: "admin\'s" }) { id } }',
      { p: project },
      a.token,
    );
    await gql(
      h,
      "mutation($p: ID!) { generateProjectKey(input: { projectId: $p, type: FILE_CONTENT_PGP }) { id } }",
      { p: project },
      a.token,
    );
    await generateKeyFor(h, member.token, { name: "member's", projectId: project });
    const names = async (token: string) =>
      (
        await gql(
          h,
          "query($p: ID!) { project(id: $p) { keys { edges { node { name type } } } } }",
          { p: project },
          token,
        )
      )
        .data!.project.keys.edges.map((e: any) => e.node.name)
        .sort();
    expect(await names(member.token)).toEqual(["member's"]);
    expect((await names(a.token)).length).toBe(3);
  });
});

describe("RSA key pairs", () => {
  it("signs with the decrypted private key and verifies with the stored public key; a wrong passphrase fails", async () => {
    const passphrase = "correct horse battery staple";
    const result = await gql(
      h,
      generate,
      { input: { projectId, type: "TRANSACTION_RSA", passphrase, rsaBits: 3072 } },
      a.token,
    );
    expect(result.errors).toBeUndefined();
    const g = result.data!.generateProjectKey;
    expect(g).toMatchObject({
      __typename: "GenerateKeyPairPayload",
      type: "TRANSACTION_RSA",
      passphrase: null,
      keyPair: { type: "RSA", algorithm: "RSA-3072", status: "ACTIVE" },
    });
    expect(g).not.toHaveProperty("keyValue");
    expect(g.encryptedPrivateKey).toContain("BEGIN ENCRYPTED PRIVATE KEY");
    expect(g.publicKey).toContain("BEGIN PUBLIC KEY");
    expect(Math.abs(new Date(g.expiresAt).getTime() - (Date.now() + 365 * 86400_000))).toBeLessThan(
      120_000,
    );

    const stored = (
      await gql(
        h,
        "query($id: ID!) { keyPair(id: $id) { publicKey fingerprint } }",
        { id: g.id },
        a.token,
      )
    ).data!.keyPair;
    expect(stored.publicKey).toBe(g.publicKey);
    const privateKey = openRsaPrivateKey(g.encryptedPrivateKey, passphrase);
    const signature = createSign("sha256").update("transaction 42").sign(privateKey);
    expect(
      createVerify("sha256")
        .update("transaction 42")
        .verify(createPublicKey(stored.publicKey), signature),
    ).toBe(true);
    expect(
      createVerify("sha256")
        .update("transaction 43")
        .verify(createPublicKey(stored.publicKey), signature),
    ).toBe(false);
    expect(() => openRsaPrivateKey(g.encryptedPrivateKey, "wrong passphrase!!")).toThrow();

    // The server keeps only ciphertext: neither the passphrase nor the PEM in the clear.
    const dump = await databaseDump(h.deps);
    expect(dump.includes(passphrase)).toBe(false);
    expect(dump.includes(g.encryptedPrivateKey.split("\n")[1])).toBe(false);
  });

  it("generates a strong passphrase when none is given, and returns it once", async () => {
    const g = (
      await gql(
        h,
        generate,
        { input: { projectId, type: "TRANSACTION_RSA", rsaBits: 3072 } },
        a.token,
      )
    ).data!.generateProjectKey;
    expect(g.passphrase.length).toBeGreaterThanOrEqual(32);
    expect(() => openRsaPrivateKey(g.encryptedPrivateKey, g.passphrase)).not.toThrow();
    const dump = await databaseDump(h.deps);
    expect(dump.includes(g.passphrase)).toBe(false);
  });

  it("keeps answering other requests while an RSA-4096 key is generated", async () => {
    // Ordering, not timing: count /healthz answers that complete after the generation has
    // started and before it has finished. A generation that blocked the event loop would
    // leave no room for any.
    const name = `rsa-4096-${Date.now()}`;
    const phase = () => {
      const lines = h.logs.filter((l) => l.includes(name));
      return {
        started: lines.some((l) => l.includes("generation started")),
        finished: lines.some((l) => l.includes("generation finished")),
      };
    };
    let done = false;
    const generation = gql(
      h,
      generate,
      { input: { projectId, name, type: "TRANSACTION_RSA" } },
      a.token,
    ).finally(() => (done = true));
    let during = 0;
    while (!done) {
      // Each request arrives in its own event-loop turn, as requests from sockets do.
      await new Promise((resolve) => setImmediate(resolve));
      const response = await h.app.request("/healthz");
      expect(response.status).toBe(200);
      const p = phase();
      if (p.started && !p.finished) during += 1;
    }
    const result = await generation;
    expect(result.data!.generateProjectKey.keyPair.algorithm).toBe("RSA-4096");
    expect(phase()).toEqual({ started: true, finished: true });
    expect(during).toBeGreaterThanOrEqual(3);
    // RSA-4096 generation time is random and grows with a loaded machine: a generous limit.
  }, 120_000);
});

describe("PGP key pairs", () => {
  it("encrypts to the public key, decrypts with the unlocked private key, and verifies detached signatures", async () => {
    const passphrase = "pgp passphrase for tests";
    const g = (
      await gql(
        h,
        generate,
        { input: { projectId, type: "FILE_CONTENT_PGP", passphrase } },
        a.token,
      )
    ).data!.generateProjectKey;
    expect(g.keyPair).toMatchObject({ type: "PGP", algorithm: "PGP curve25519" });
    expect(g.encryptedPrivateKey).toContain("BEGIN PGP PRIVATE KEY BLOCK");
    const publicKey = await openpgp.readKey({ armoredKey: g.publicKey });
    expect(publicKey.getFingerprint().toUpperCase()).toBe(g.keyPair.fingerprint);
    const locked = await openpgp.readPrivateKey({ armoredKey: g.encryptedPrivateKey });
    expect(locked.isDecrypted()).toBe(false);
    await expect(openpgp.decryptKey({ privateKey: locked, passphrase: "wrong" })).rejects.toThrow();
    const privateKey = await openpgp.decryptKey({ privateKey: locked, passphrase });

    const encrypted = await openpgp.encrypt({
      message: await openpgp.createMessage({ text: "file content" }),
      encryptionKeys: publicKey,
    });
    const { data } = await openpgp.decrypt({
      message: await openpgp.readMessage({ armoredMessage: encrypted as string }),
      decryptionKeys: privateKey,
    });
    expect(data).toBe("file content");

    const message = await openpgp.createMessage({ text: "signed file" });
    const signature = await openpgp.sign({ message, signingKeys: privateKey, detached: true });
    const verification = await openpgp.verify({
      message,
      signature: await openpgp.readSignature({ armoredSignature: signature as string }),
      verificationKeys: publicKey,
    });
    await expect(verification.signatures[0]!.verified).resolves.toBe(true);
  });
});

describe("revocation and isolation", () => {
  it("revokeKey works on project keys and key pairs; tenant B answers like an unknown id everywhere", async () => {
    const apiKey = (await gql(h, generate, { input: { projectId } }, a.token)).data!
      .generateProjectKey;
    const pair = (
      await gql(h, generate, { input: { projectId, type: "FILE_CONTENT_PGP" } }, a.token)
    ).data!.generateProjectKey;
    const revoke =
      'mutation($id: ID!) { revokeKey(id: $id, reason: "rotation") { id status revokeReason __typename } }';
    const unknown = "00000000-0000-4000-8000-000000000000";

    for (const id of [apiKey.id, pair.id]) {
      const foreign = await gql(h, revoke, { id }, b.token);
      const none = await gql(h, revoke, { id: unknown }, b.token);
      expect(foreign.errors![0]).toMatchObject({
        message: none.errors![0]!.message,
        extensions: none.errors![0]!.extensions,
      });
    }
    expect((await gql(h, keysOf, { id: projectId }, b.token)).data!.project).toBeNull();
    expect(
      (await gql(h, "query($id: ID!) { keyPair(id: $id) { id } }", { id: pair.id }, b.token)).data!
        .keyPair,
    ).toBeNull();

    const revokedKey = await gql(h, revoke, { id: apiKey.id }, a.token);
    expect(revokedKey.data!.revokeKey).toMatchObject({ status: "REVOKED", __typename: "ApiKey" });
    expect((await gql(h, verifyMutation, { key: apiKey.keyValue })).data!.verifyKey.code).toBe(
      "REVOKED",
    );
    const revokedPair = await gql(h, revoke, { id: pair.id }, a.token);
    expect(revokedPair.data!.revokeKey).toMatchObject({
      status: "REVOKED",
      revokeReason: "rotation",
      __typename: "KeyPair",
    });
    const audit = await h.deps.prisma.auditEvent.findMany({
      where: { targetId: pair.id },
      orderBy: { createdAt: "asc" },
    });
    expect(audit.map((e) => e.action)).toEqual(["key_pair.create", "key_pair.revoke"]);
  });
});
