// Relay conformance and consistent scalars, through real HTTP: Node and node(id:) with the same
// scoping as the direct queries, totalCount on connections, one payload type per generated kind,
// ProjectKey as a Credential, ids as ID, Int64 as a JSON number, no unused scalar.
import { readFile } from "node:fs/promises";
import { randomUUID } from "node:crypto";
import {
  buildSchema,
  getNamedType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  isScalarType,
  type GraphQLNamedType,
} from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateKeyFor, generateSecureMutation, seedUser } from "../helpers/harness.ts";
import { useHarness, withTenant } from "../helpers/fixtures.ts";
import { httpGql, listen, type Listening } from "../helpers/listen.ts";

const h = useHarness();
const a = withTenant(h, "RelayA");
const b = withTenant(h, "RelayB");
let server: Listening;
const gql = (query: string, variables: Record<string, unknown> = {}, token?: string) =>
  httpGql(server.url, query, variables, token);

const NODE = `query($id: ID!) { node(id: $id) {
  __typename id
  ... on ApiKey { name masked number }
  ... on KeyPair { fingerprint }
  ... on Project { name }
  ... on AuditEvent { action targetId }
} }`;
const GENERATE_PROJECT_KEY = `mutation($input: GenerateProjectKeyInput!) { generateProjectKey(input: $input) {
  __typename id type
  ... on GenerateProjectApiKeyPayload { keyValue apiKey { id } }
  ... on GenerateKeyPairPayload { publicKey encryptedPrivateKey passphrase keyPair { id } }
} }`;

let projectId = "";
let keyId = "";
let keyPairId = "";
let projectKeyId = "";
let auditEventId = "";

beforeAll(async () => {
  server = await listen(h);
  projectId = (
    await gql('mutation { createProject(input: { name: "Relay" }) { id } }', {}, a.token)
  ).data!.createProject.id;
  keyId = (await generateKeyFor(h, a.token, { name: "relay key", projectId })).apiKey.id;
  await generateKeyFor(h, a.token, { name: "relay key 2", projectId });
  const projectKey = await gql(GENERATE_PROJECT_KEY, { input: { projectId } }, a.token);
  projectKeyId = projectKey.data!.generateProjectKey.id;
  const pair = await gql(
    GENERATE_PROJECT_KEY,
    { input: { projectId, type: "FILE_CONTENT_PGP" } },
    a.token,
  );
  expect(pair.errors).toBeUndefined();
  keyPairId = pair.data!.generateProjectKey.id;
  auditEventId = (
    await gql(
      "query($t: ID) { auditEvents(targetId: $t, first: 1) { edges { node { id } } } }",
      { t: keyId },
      a.token,
    )
  ).data!.auditEvents.edges[0].node.id;
});

afterAll(async () => {
  await server?.close();
});

describe("node(id:)", () => {
  it("answers every Node type with its own id, as the direct queries do", async () => {
    const expected: [string, string][] = [
      [keyId, "ApiKey"],
      [projectKeyId, "ApiKey"],
      [keyPairId, "KeyPair"],
      [projectId, "Project"],
      [auditEventId, "AuditEvent"],
    ];
    for (const [id, typename] of expected) {
      const result = await gql(NODE, { id }, a.token);
      expect(result.errors, JSON.stringify(result)).toBeUndefined();
      expect(result.data!.node).toMatchObject({ __typename: typename, id });
    }
    const key = (await gql(NODE, { id: keyId }, a.token)).data!.node;
    const direct = (
      await gql(
        "query($id: ID!) { apiKey(id: $id) { name masked number } }",
        { id: keyId },
        a.token,
      )
    ).data!.apiKey;
    expect(key).toEqual({ __typename: "ApiKey", id: keyId, ...direct });
  });

  it("answers null for an unknown id, a malformed one and another tenant's, exactly alike", async () => {
    const unknown = await gql(NODE, { id: randomUUID() }, b.token);
    expect(unknown).toMatchObject({ status: 200, data: { node: null } });
    expect(unknown.errors).toBeUndefined();
    expect((await gql(NODE, { id: "not-an-id" }, a.token)).data).toEqual({ node: null });
    for (const id of [keyId, keyPairId, projectId, auditEventId, projectKeyId]) {
      const foreign = await gql(NODE, { id }, b.token);
      expect(foreign).toEqual({ ...unknown, data: { node: null } });
    }
  });

  it("applies each type's own permission: a member sees only what its direct queries show", async () => {
    const member = await seedUser(h.deps, a.tenant.id, "MEMBER", ["projects:read"]);
    expect((await gql(NODE, { id: projectId }, member.token)).data!.node).toMatchObject({
      __typename: "Project",
    });
    // No keys:read: apiKey(id) is FORBIDDEN, node(id) is null; audit events are for admins.
    for (const id of [keyId, keyPairId, auditEventId]) {
      const result = await gql(NODE, { id }, member.token);
      expect(result.errors).toBeUndefined();
      expect(result.data!.node).toBeNull();
    }
    // A member with keys:read sees its own keys only, like apiKey(id).
    const reader = await seedUser(h.deps, a.tenant.id, "MEMBER", ["keys:read"]);
    expect((await gql(NODE, { id: keyId }, reader.token)).data!.node).toBeNull();
  });

  it("asks anonymous callers to authenticate", async () => {
    const result = await gql(NODE, { id: projectId });
    expect(result.errors![0]!.extensions!.code).toBe("UNAUTHENTICATED");
  });
});

describe("totalCount", () => {
  it("counts what each connection lists, in all, whatever the page size", async () => {
    const result = await gql(
      `query($p: ID!) {
        apiKeys(projectId: $p, first: 1) { totalCount edges { node { id } } }
        all: apiKeys(first: 1) { totalCount }
        projects(first: 1) { totalCount edges { node { id } } }
        project(id: $p) { keys(first: 1) { totalCount edges { node { id } } } }
        auditEvents(targetId: $p, first: 1) { totalCount }
      }`,
      { p: projectId },
      a.token,
    );
    expect(result.errors).toBeUndefined();
    const d = result.data!;
    // Two keys generated into the project plus the project API key.
    expect(d.apiKeys).toMatchObject({ totalCount: 3 });
    expect(d.apiKeys.edges).toHaveLength(1);
    expect(d.all.totalCount).toBe(
      await h.deps.prisma.apiKey.count({ where: { tenantId: a.tenant.id } }),
    );
    expect(d.projects.totalCount).toBe(1);
    // The project's three API keys and its key pair.
    expect(d.project.keys.totalCount).toBe(4);
    expect(d.project.keys.edges).toHaveLength(1);
    expect(d.auditEvents.totalCount).toBe(
      await h.deps.prisma.auditEvent.count({
        where: { tenantId: a.tenant.id, targetId: projectId },
      }),
    );
    // Another tenant counts its own: nothing of A's.
    const other = await gql("{ apiKeys { totalCount } projects { totalCount } }", {}, b.token);
    expect(other.data).toEqual({ apiKeys: { totalCount: 0 }, projects: { totalCount: 0 } });
  });
});

describe("generated-key payloads", () => {
  it("are one type per kind: a field that does not apply cannot even be asked for", async () => {
    const apiKey = await gql(GENERATE_PROJECT_KEY, { input: { projectId } }, a.token);
    expect(apiKey.data!.generateProjectKey).toMatchObject({
      __typename: "GenerateProjectApiKeyPayload",
      type: "API_KEY",
      keyValue: expect.stringMatching(/^kg_/),
    });
    expect(apiKey.data!.generateProjectKey).not.toHaveProperty("encryptedPrivateKey");
    const flat = await gql(
      "mutation($p: ID!) { generateProjectKey(input: { projectId: $p }) { id keyValue } }",
      { p: projectId },
      a.token,
    );
    expect(flat.errors![0]!.message).toContain('Cannot query field "keyValue"');

    const plain = await generateKeyFor(h, a.token, { name: "to rotate" });
    const secure = (await gql(generateSecureMutation, { input: { name: "secure" } }, a.token)).data!
      .generateSecureApiKey;
    const rotate =
      "mutation($id: ID!) { rotateKey(id: $id) { __typename key ... on RotateSecureApiKeyPayload { secret } } }";
    const rotatedPlain = (await gql(rotate, { id: plain.apiKey.id }, a.token)).data!.rotateKey;
    expect(rotatedPlain.__typename).toBe("RotateApiKeyPayload");
    expect(rotatedPlain).not.toHaveProperty("secret");
    const rotatedSecure = (await gql(rotate, { id: secure.apiKey.id }, a.token)).data!.rotateKey;
    expect(rotatedSecure).toMatchObject({
      __typename: "RotateSecureApiKeyPayload",
      secret: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
  });
});

describe("ProjectKey", () => {
  it("implements Credential: its shared fields read through the interface, revocation included", async () => {
    await gql(
      'mutation($id: ID!) { revokeKey(id: $id, reason: "relay test") { id } }',
      { id: keyPairId },
      a.token,
    );
    const result = await gql(
      `query($p: ID!) { project(id: $p) { keys(first: 50) { edges { node {
        __typename type ... on Credential { id name status revokedAt revokeReason createdAt }
      } } } } }`,
      { p: projectId },
      a.token,
    );
    expect(result.errors).toBeUndefined();
    const nodes = result.data!.project.keys.edges.map((e: any) => e.node);
    expect(nodes.every((n: any) => n.__typename === "ProjectKey")).toBe(true);
    expect(nodes.find((n: any) => n.id === keyPairId)).toMatchObject({
      type: "FILE_CONTENT_PGP",
      status: "REVOKED",
      revokeReason: "relay test",
      revokedAt: expect.any(String),
    });
    expect(nodes.find((n: any) => n.id === projectKeyId)).toMatchObject({
      type: "API_KEY",
      status: "ACTIVE",
      revokedAt: null,
    });
  });
});

describe("scalars", () => {
  it("serializes Int64 as a JSON number", async () => {
    const result = await gql(
      "query($id: ID!) { apiKey(id: $id) { number } tenant { number } }",
      { id: keyId },
      a.token,
    );
    expect(typeof result.data!.apiKey.number).toBe("number");
    expect(typeof result.data!.tenant.number).toBe("number");
    const row = await h.deps.prisma.apiKey.findUniqueOrThrow({ where: { id: keyId } });
    expect(result.data!.apiKey.number).toBe(Number(row.number));
  });

  it("schema.graphql declares no unused scalar, and every id field is an ID", async () => {
    const sdl = await readFile(new URL("../../schema.graphql", import.meta.url), "utf8");
    const schema = buildSchema(sdl);
    const used = new Set<string>();
    const idFields: string[] = [];
    const note = (owner: string, field: string, type: GraphQLNamedType) => {
      used.add(type.name);
      if (/^(id|\w+Id|\w+Ids)$/.test(field) && type.name !== "ID")
        idFields.push(`${owner}.${field}: ${type.name}`);
    };
    for (const type of Object.values(schema.getTypeMap())) {
      if (type.name.startsWith("__")) continue;
      if (isObjectType(type) || isInterfaceType(type)) {
        for (const field of Object.values(type.getFields())) {
          note(type.name, field.name, getNamedType(field.type));
          for (const arg of field.args)
            note(`${type.name}.${field.name}`, arg.name, getNamedType(arg.type));
        }
      } else if (isInputObjectType(type)) {
        for (const field of Object.values(type.getFields()))
          note(type.name, field.name, getNamedType(field.type));
      }
    }
    const scalars = Object.values(schema.getTypeMap())
      .filter((t) => isScalarType(t) && !t.name.startsWith("__"))
      .map((t) => t.name);
    expect(scalars.filter((name) => !used.has(name))).toEqual([]);
    expect(scalars).not.toContain("UUID");
    expect(idFields).toEqual([]);
  });
});
