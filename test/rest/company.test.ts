// Seed 004: company project keys, both spellings of the route.
import { createPublicKey, createSign, createVerify } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openRsaPrivateKey } from "../../src/crypto/key-pairs.ts";
import {
  createHarness,
  gql,
  seedTenant,
  seedUser,
  postJson,
  type Harness,
} from "../helpers/harness.ts";
import { checkResponses, matchesServedDocument } from "../helpers/openapi.ts";

let h: Harness;
let acme: Awaited<ReturnType<typeof seedTenant>>;
let globex: Awaited<ReturnType<typeof seedTenant>>;
let projectId: string;

beforeAll(async () => {
  h = checkResponses(await createHarness());
  acme = await seedTenant(h.deps, "Acme");
  globex = await seedTenant(h.deps, "Globex");
  projectId = (
    await gql(h, 'mutation { createProject(input: { name: "E-commerce" }) { id } }', {}, acme.token)
  ).data!.createProject.id;
});
afterAll(() => h.close());

const post = (path: string, body: unknown, token?: string) => postJson(h, path, body, token);

describe("company project keys", () => {
  it("the documented example request (the /api/admin spelling)", async () => {
    const response = await post(
      "/api/admin/companyProjectKeys/generate",
      {
        projectId,
        name: "Production API Key",
        description: "Main production environment key for e-commerce application",
        isActive: true,
      },
      acme.token,
    );
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(body).toMatchObject({ success: true, code: 200, errorMessage: null });
    expect(Object.keys(body).sort()).toEqual(["code", "errorMessage", "id", "keyValue", "success"]);
    matchesServedDocument("/api/admin/companyProjectKeys/generate", "POST", 200, body);
    const verified = await post("/v1/keys/verify", { key: body.keyValue });
    expect(await verified.json()).toMatchObject({ valid: true, projectId });
  });

  it("the documented curl with an empty body: 400, missing projectId", async () => {
    const response = await post("/api/adm/companyProjectKeys/generate", {}, acme.token);
    expect(response.status).toBe(400);
    const body = await response.json();
    expect(body).toEqual({ success: false, code: 400, errorMessage: "projectId: is required" });
    matchesServedDocument("/api/adm/companyProjectKeys/generate", "POST", 400, body);
  });

  it("generates an RSA key pair whose private key comes back encrypted", async () => {
    const passphrase = "company passphrase 123";
    const response = await post(
      "/api/adm/companyProjectKeys/generate",
      { projectId, type: "TransactionRSAKey", passphrase },
      acme.token,
    );
    expect(response.status).toBe(200);
    const body = await response.json();
    matchesServedDocument("/api/adm/companyProjectKeys/generate", "POST", 200, body);
    expect(body).toMatchObject({
      success: true,
      code: 200,
      errorMessage: null,
      type: "TransactionRSAKey",
    });
    expect(body.passphrase).toBeUndefined();
    const signature = createSign("sha256")
      .update("payload")
      .sign(openRsaPrivateKey(body.encryptedPrivateKey, passphrase));
    expect(
      createVerify("sha256").update("payload").verify(createPublicKey(body.publicKey), signature),
    ).toBe(true);
  });

  it("generates a PGP key pair and returns the generated passphrase once", async () => {
    const body = await (
      await post(
        "/api/adm/companyProjectKeys/generate",
        { projectId, type: "FileContentPGPKey" },
        acme.token,
      )
    ).json();
    expect(body).toMatchObject({ success: true, type: "FileContentPGPKey" });
    expect(body.publicKey).toContain("BEGIN PGP PUBLIC KEY BLOCK");
    expect(typeof body.passphrase).toBe("string");
    expect(Number.isNaN(Date.parse(body.expirationDate))).toBe(false);
  });

  it("401, 403 and 404 with the documented envelope", async () => {
    const anonymous = await post("/api/adm/companyProjectKeys/generate", { projectId });
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ success: false, code: 401 });
    const member = await seedUser(h.deps, acme.tenant.id, "MEMBER", ["keys:*"]);
    const forbidden = await post(
      "/api/adm/companyProjectKeys/generate",
      { projectId },
      member.token,
    );
    expect(forbidden.status).toBe(403);
    const otherCompany = await post(
      "/api/adm/companyProjectKeys/generate",
      { projectId, companyId: globex.tenant.id },
      acme.token,
    );
    expect(otherCompany.status).toBe(403);
    const unknown = await post(
      "/api/adm/companyProjectKeys/generate",
      { projectId: "7bc94a21-8833-4d2f-a5e1-9f4b2d8c1e7a" },
      acme.token,
    );
    expect(unknown.status).toBe(404);
    const foreign = await post("/api/adm/companyProjectKeys/generate", { projectId }, globex.token);
    expect(foreign.status).toBe(404);
    expect(await foreign.json()).toEqual(await unknown.json());
    for (const r of [anonymous, forbidden, unknown])
      expect(r.headers.get("content-type")).toMatch(/json/);
  });

  it("400 for wrong types, bad GUIDs, unknown key types and bad JSON", async () => {
    for (const body of [
      { projectId: "nope" },
      { projectId, isActive: "yes" },
      { projectId, type: "SSHKey" },
      { projectId, companyProjectId: globex.tenant.id },
      "{",
      "[1]",
    ]) {
      const response = await post("/api/adm/companyProjectKeys/generate", body, acme.token);
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ success: false, code: 400 });
    }
  });
});
