// Tenant isolation matrix: for every GraphQL field and REST route that takes an id (or a key,
// or a tenant number), tenant B calling it on one of tenant A's objects must get exactly the
// answer it gets for an id nobody has: same HTTP status, same body. A foreign id answers like
// an unknown id. Afterwards none of A's rows has changed and A's credentials still work.
//
// Adding a case is one line in `cases` below; every case runs with every credential of B.
import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { generateKey } from "../../src/crypto/key-format.ts";
import { signKeyJwt } from "../../src/modules/keys/jwt-key.ts";
import { signRequest } from "../../src/access/signature.ts";
import {
  generateKeyFor,
  generateSecureMutation,
  gql,
  seedUser,
  verifyMutation,
} from "../helpers/harness.ts";
import { useHarness, withTenant } from "../helpers/fixtures.ts";
import { apiRoutes, rootFieldsOf, schemaOperations } from "../helpers/surface.ts";

const h = useHarness({ LOG_LEVEL: "warn" });
const a = withTenant(h, "TenantA");
const b = withTenant(h, "TenantB");

/** Everything of tenant A that has an id (or is a credential). */
const A = {
  tenantNumber: "",
  ownerId: "",
  memberId: "",
  /** A member of A that A's owner disabled: enableUser must not bring them back. */
  disabledMemberId: "",
  sessionId: "",
  projectId: "",
  plainKey: { id: "", key: "" },
  secureKey: { id: "", key: "", secret: "" },
  jwtKey: { id: "", key: "" },
  projectKey: { id: "", key: "" },
  keyPairId: "",
  disabledKey: { id: "", key: "" },
  auditEventId: "",
  /** The int64 number of A's JWT-format key (the Extractor's ApiKeyDto.id). */
  jwtKeyNumber: "",
};

/** B's credentials: a session of its owner, a member's session, and integrator-level API keys. */
const B = { ownerSession: "", memberSession: "", opaqueKey: "", jwtKey: "", projectId: "" };

// ---------------------------------------------------------------------------------------------
// Calling the app the way a client does: through app.request, GraphQL included.

interface Answer {
  status: number;
  body: unknown;
}

/** Drops what legitimately differs between two requests (request ids). */
function normalize(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalize);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([k]) => k !== "requestId")
        .map(([k, v]) => [k, normalize(v)]),
    );
  }
  return value;
}

async function answerOf(response: Response): Promise<Answer> {
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: compared as text
  }
  return { status: response.status, body: normalize(body) };
}

async function graphql(
  token: string,
  query: string,
  variables: Record<string, unknown>,
): Promise<Answer> {
  const response = await h.app.request("/graphql", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  return answerOf(response);
}

async function rest(token: string, method: string, path: string, body?: unknown): Promise<Answer> {
  const response = await h.app.request(path, {
    method,
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return answerOf(response);
}

// ---------------------------------------------------------------------------------------------
// Case builders.

/** A call, and what it covers: the GraphQL document or the "METHOD /path" of the route. */
type Call = ((token: string, value: string) => Promise<Answer>) & {
  document?: string;
  route?: string;
};

/** A GraphQL operation; `vars` places the id (or key) in the variables. */
const g = (
  query: string,
  vars: (value: string) => Record<string, unknown> = (id) => ({ id }),
): Call =>
  Object.assign((token: string, value: string) => graphql(token, query, vars(value)), {
    document: query,
  });

/** A REST route with a JSON body built around the id. */
const r = (method: string, path: string, body?: (value: string) => unknown): Call =>
  Object.assign((token: string, value: string) => rest(token, method, path, body?.(value)), {
    route: `${method} ${path}`,
  });

/** A REST route whose path carries the id (`:id`), with a JSON body. */
const rp = (method: string, route: string, body: unknown): Call =>
  Object.assign(
    (token: string, value: string) =>
      rest(token, method, route.replace(":id", encodeURIComponent(value)), body),
    { route: `${method} ${route}` },
  );

/** What a denial looks like: checked on both answers, so that "identical" never means "both succeeded". */
type Deny = (answer: Answer) => void;

const gqlErrors = (answer: Answer) =>
  (answer.body as { errors?: { extensions?: { code?: string } }[] }).errors ?? [];
const gqlData = (answer: Answer) => (answer.body as { data?: Record<string, any> | null }).data;

/** A GraphQL error with one of these codes (FORBIDDEN is always an acceptable denial) and no data. */
const error =
  (...codes: string[]): Deny =>
  (answer) => {
    const errors = gqlErrors(answer);
    expect(errors.length, JSON.stringify(answer)).toBeGreaterThan(0);
    expect([...codes, "FORBIDDEN"], JSON.stringify(answer)).toContain(errors[0]!.extensions?.code);
    expect(gqlData(answer) ?? null).toBeNull();
  };

/** `data.<field>` is null, without errors (FORBIDDEN accepted too). */
const nullAt =
  (field: string): Deny =>
  (answer) => {
    const errors = gqlErrors(answer);
    if (errors.length) return error()(answer);
    expect(gqlData(answer)?.[field], JSON.stringify(answer)).toBeNull();
  };

/** A connection with no edges. */
const emptyAt =
  (field: string): Deny =>
  (answer) => {
    expect(gqlErrors(answer), JSON.stringify(answer)).toEqual([]);
    expect(gqlData(answer)?.[field].edges).toEqual([]);
  };

/** A connection with no edges, or a GraphQL error (FORBIDDEN, say) on both answers. */
const emptyOrDeniedAt =
  (field: string): Deny =>
  (answer) =>
    gqlErrors(answer).length ? error()(answer) : emptyAt(field)(answer);

/** verifyKey's answer for a key it does not know. */
const verifyNotFound: Deny = (answer) => {
  expect(gqlErrors(answer), JSON.stringify(answer)).toEqual([]);
  expect(gqlData(answer)?.verifyKey).toMatchObject({
    valid: false,
    code: "NOT_FOUND",
    keyId: null,
    tenantId: null,
  });
};

/** A REST answer with this status; for verify, the NOT_FOUND body. */
const httpStatus =
  (...statuses: number[]): Deny =>
  (answer) =>
    expect(statuses, JSON.stringify(answer)).toContain(answer.status);
const restNotFoundKey: Deny = (answer) => {
  expect(answer.status).toBe(200);
  expect(answer.body).toMatchObject({
    valid: false,
    code: "NOT_FOUND",
    keyId: null,
    tenantId: null,
    projectId: null,
    name: null,
  });
};

// Unknown values of the same shape as the foreign ones.
const uuid = () => randomUUID();
const unknownOpaqueKey = () => generateKey("kg");
const unknownJwtKey = () =>
  signKeyJwt(h.deps.config, {
    keyId: randomUUID(),
    tenantId: randomUUID(),
    subject: randomUUID(),
    issuedAt: new Date(),
    expiresAt: null,
  });
const unknownTenantNumber = () => String(2_000_000_000 + Math.floor(Math.random() * 1_000_000));
const randomSecret = () => randomUUID().replace(/-/g, "").repeat(2);
/** A request signature made with A's secure key's secret, as A's own client would send it. */
const signedByA = () => ({
  header: signRequest(A.secureKey.secret, "GET", "/api/v3/health"),
  method: "GET",
  path: "/api/v3/health",
});

interface MatrixCase {
  name: string;
  call: Call;
  /** A's object: evaluated when the case runs (A is seeded in beforeAll). */
  foreign: () => string;
  /** A value nobody has, fresh for every call. */
  unknown: () => string | Promise<string>;
  deny: Deny;
}

const c = (
  name: string,
  call: Call,
  foreign: () => string,
  unknown: MatrixCase["unknown"],
  deny: Deny,
): MatrixCase => ({ name, call, foreign, unknown, deny });

// GraphQL documents.
const Q = {
  node: "query($id: ID!) { node(id: $id) { __typename id ... on ApiKey { name masked } ... on KeyPair { publicKey } ... on Project { name } ... on AuditEvent { action } ... on User { email } ... on Tenant { name } } }",
  projectKeysCount: "query($id: ID!) { project(id: $id) { id keys(first: 1) { totalCount } } }",
  apiKeysCountByProject:
    "query($id: ID) { apiKeys(projectId: $id, first: 1) { totalCount edges { node { id } } } }",
  auditEventsCountByTarget:
    "query($id: ID) { auditEvents(targetId: $id, first: 1) { totalCount edges { node { id } } } }",
  project: "query($id: ID!) { project(id: $id) { id name description deletedAt } }",
  projectKeys:
    "query($id: ID!) { project(id: $id) { id keys(first: 50) { edges { node { id name status } } } } }",
  apiKey:
    "query($id: ID!) { apiKey(id: $id) { id name status masked permissions owner { id email } project { id name } } }",
  keyPair:
    "query($id: ID!) { keyPair(id: $id) { id name status publicKey fingerprint project { id } } }",
  apiKeysByProject:
    "query($id: ID) { apiKeys(projectId: $id, first: 100) { edges { node { id } } pageInfo { hasNextPage startCursor endCursor } } }",
  apiKeysByOwner:
    "query($id: ID) { apiKeys(ownerId: $id, first: 100) { edges { node { id } } pageInfo { hasNextPage startCursor endCursor } } }",
  apiKeysByBoth:
    "query($id: ID) { apiKeys(ownerId: $id, projectId: $id, status: ACTIVE, kind: API_KEY) { edges { node { id } } } }",
  updateProject:
    'mutation($id: ID!) { updateProject(input: { id: $id, name: "pwned by B", description: "B was here" }) { id name } }',
  updateProjectEmpty: "mutation($id: ID!) { updateProject(input: { id: $id }) { id name } }",
  deleteProject: "mutation($id: ID!) { deleteProject(id: $id) { id deletedAt } }",
  revokeKey: 'mutation($id: ID!) { revokeKey(id: $id, reason: "B") { id status } }',
  enableKey: "mutation($id: ID!) { enableKey(id: $id) { id status } }",
  disableKey: "mutation($id: ID!) { disableKey(id: $id) { id status } }",
  rotateKey:
    "mutation($id: ID!) { rotateKey(id: $id) { key apiKey { id } previous { id status } } }",
  rotateKeyGrace: "mutation($id: ID!) { rotateKey(id: $id, gracePeriodSeconds: 3600) { key } }",
  revokeSession: "mutation($id: ID!) { revokeSession(id: $id) { id revokedAt } }",
  generateApiKey:
    "mutation($input: GenerateApiKeyInput!) { generateApiKey(input: $input) { key apiKey { id } } }",
  generateSecureApiKey:
    "mutation($input: GenerateApiKeyInput!) { generateSecureApiKey(input: $input) { key secret apiKey { id } } }",
  generateProjectKey:
    "mutation($input: GenerateProjectKeyInput!) { generateProjectKey(input: $input) { id type ... on GenerateProjectApiKeyPayload { keyValue } ... on GenerateKeyPairPayload { publicKey } } }",
  verifyKey: verifyMutation,
  verifyKeySigned:
    "mutation($key: String!, $signature: VerifySignatureInput) { verifyKey(key: $key, signature: $signature) { valid code keyId tenantId ownerId permissions expiresAt } }",
  disableUser: "mutation($id: ID!) { disableUser(id: $id) { id email } }",
  enableUser: "mutation($id: ID!) { enableUser(id: $id) { id email } }",
  updateMember:
    'mutation($id: ID!) { updateMember(input: { id: $id, permissions: ["keys:read"] }) { id permissions } }',
  removeMember: "mutation($id: ID!) { removeMember(id: $id) { id removedAt } }",
  switchTenant: "mutation($id: ID!) { switchTenant(tenantId: $id) { userId accessToken } }",
  updateKey:
    'mutation($id: ID!) { updateKey(input: { id: $id, name: "taken", permissions: [] }) { id name } }',
  keyUsage:
    'query($id: ID!) { keyUsage(id: $id, from: "2026-01-01T00:00:00Z", to: "2026-01-02T00:00:00Z", granularity: HOUR) { keyId points { count } } }',
  auditEventsByActor:
    "query($id: ID) { auditEvents(actorId: $id, first: 100) { edges { node { id action targetId } } } }",
  auditEventsByTarget:
    "query($id: ID) { auditEvents(targetId: $id, first: 100) { edges { node { id action targetId } } } }",
  exchange:
    "mutation($k: String!, $s: String!) { exchangeApiKey(apiKey: $k, apiSecret: $s) { accessToken } }",
};

const input = (fields: (v: string) => Record<string, unknown>) => (v: string) => ({
  input: fields(v),
});

const cases: MatrixCase[] = [
  // Queries by id: null, exactly like an unknown id.
  c("project(id)", g(Q.project), () => A.projectId, uuid, nullAt("project")),
  c("project(id) { keys }", g(Q.projectKeys), () => A.projectId, uuid, nullAt("project")),
  c("apiKey(id) · opaque key", g(Q.apiKey), () => A.plainKey.id, uuid, nullAt("apiKey")),
  c("apiKey(id) · secure key", g(Q.apiKey), () => A.secureKey.id, uuid, nullAt("apiKey")),
  c("apiKey(id) · JWT key", g(Q.apiKey), () => A.jwtKey.id, uuid, nullAt("apiKey")),
  c("apiKey(id) · project key", g(Q.apiKey), () => A.projectKey.id, uuid, nullAt("apiKey")),
  c("apiKey(id) · a key pair's id", g(Q.apiKey), () => A.keyPairId, uuid, nullAt("apiKey")),
  c("keyPair(id)", g(Q.keyPair), () => A.keyPairId, uuid, nullAt("keyPair")),
  c("keyPair(id) · an API key's id", g(Q.keyPair), () => A.projectKey.id, uuid, nullAt("keyPair")),
  c("apiKeys(projectId)", g(Q.apiKeysByProject), () => A.projectId, uuid, emptyAt("apiKeys")),
  c("apiKeys(ownerId) · A's owner", g(Q.apiKeysByOwner), () => A.ownerId, uuid, emptyAt("apiKeys")),
  c(
    "apiKeys(ownerId) · A's member",
    g(Q.apiKeysByOwner),
    () => A.memberId,
    uuid,
    emptyAt("apiKeys"),
  ),
  c(
    "apiKeys(ownerId, projectId, status, kind)",
    g(Q.apiKeysByBoth),
    () => A.projectId,
    uuid,
    emptyAt("apiKeys"),
  ),

  // node(id:): null for every kind of A's objects, exactly like an unknown id.
  c("node(id) · project", g(Q.node), () => A.projectId, uuid, nullAt("node")),
  c("node(id) · opaque key", g(Q.node), () => A.plainKey.id, uuid, nullAt("node")),
  c("node(id) · secure key", g(Q.node), () => A.secureKey.id, uuid, nullAt("node")),
  c("node(id) · JWT key", g(Q.node), () => A.jwtKey.id, uuid, nullAt("node")),
  c("node(id) · project key", g(Q.node), () => A.projectKey.id, uuid, nullAt("node")),
  c("node(id) · disabled key", g(Q.node), () => A.disabledKey.id, uuid, nullAt("node")),
  c("node(id) · key pair", g(Q.node), () => A.keyPairId, uuid, nullAt("node")),
  c("node(id) · audit event", g(Q.node), () => A.auditEventId, uuid, nullAt("node")),
  c("node(id) · owner", g(Q.node), () => A.ownerId, uuid, nullAt("node")),
  c("node(id) · member", g(Q.node), () => A.memberId, uuid, nullAt("node")),
  c("node(id) · tenant", g(Q.node), () => a.tenant.id, uuid, nullAt("node")),
  c("node(id) · A's owner", g(Q.node), () => A.ownerId, uuid, nullAt("node")),
  // totalCount counts what the connection lists: nothing of A's.
  c(
    "project(id) { keys { totalCount } }",
    g(Q.projectKeysCount),
    () => A.projectId,
    uuid,
    nullAt("project"),
  ),
  c(
    "apiKeys(projectId) { totalCount }",
    g(Q.apiKeysCountByProject),
    () => A.projectId,
    uuid,
    (answer) => {
      emptyAt("apiKeys")(answer);
      expect(gqlData(answer)?.apiKeys.totalCount).toBe(0);
    },
  ),
  c(
    "auditEvents(targetId) { totalCount }",
    g(Q.auditEventsCountByTarget),
    () => A.plainKey.id,
    uuid,
    (answer) => {
      if (gqlErrors(answer).length) return error()(answer);
      emptyAt("auditEvents")(answer);
      expect(gqlData(answer)?.auditEvents.totalCount).toBe(0);
    },
  ),

  // Mutations by id: the not-found error of an unknown id.
  c("updateProject", g(Q.updateProject), () => A.projectId, uuid, error("PROJECT_NOT_FOUND")),
  c(
    "updateProject · no change",
    g(Q.updateProjectEmpty),
    () => A.projectId,
    uuid,
    error("PROJECT_NOT_FOUND"),
  ),
  c("deleteProject", g(Q.deleteProject), () => A.projectId, uuid, error("PROJECT_NOT_FOUND")),
  c("revokeKey · opaque key", g(Q.revokeKey), () => A.plainKey.id, uuid, error("KEY_NOT_FOUND")),
  c("revokeKey · secure key", g(Q.revokeKey), () => A.secureKey.id, uuid, error("KEY_NOT_FOUND")),
  c("revokeKey · JWT key", g(Q.revokeKey), () => A.jwtKey.id, uuid, error("KEY_NOT_FOUND")),
  c("revokeKey · project key", g(Q.revokeKey), () => A.projectKey.id, uuid, error("KEY_NOT_FOUND")),
  c("revokeKey · key pair", g(Q.revokeKey), () => A.keyPairId, uuid, error("KEY_NOT_FOUND")),
  c("enableKey · opaque key", g(Q.enableKey), () => A.plainKey.id, uuid, error("KEY_NOT_FOUND")),
  c(
    "enableKey · disabled key",
    g(Q.enableKey),
    () => A.disabledKey.id,
    uuid,
    error("KEY_NOT_FOUND"),
  ),
  c(
    "revokeKey · disabled key",
    g(Q.revokeKey),
    () => A.disabledKey.id,
    uuid,
    error("KEY_NOT_FOUND"),
  ),
  c("apiKey(id) · disabled key", g(Q.apiKey), () => A.disabledKey.id, uuid, nullAt("apiKey")),
  c(
    "verifyKey · disabled key",
    g(Q.verifyKey, (key) => ({ key })),
    () => A.disabledKey.key,
    unknownOpaqueKey,
    verifyNotFound,
  ),
  c(
    "POST /v1/keys/verify · disabled key",
    r("POST", "/v1/keys/verify", (key) => ({ key })),
    () => A.disabledKey.key,
    unknownOpaqueKey,
    restNotFoundKey,
  ),
  c("enableKey · project key", g(Q.enableKey), () => A.projectKey.id, uuid, error("KEY_NOT_FOUND")),
  c("enableKey · key pair", g(Q.enableKey), () => A.keyPairId, uuid, error("KEY_NOT_FOUND")),
  c("disableKey · opaque key", g(Q.disableKey), () => A.plainKey.id, uuid, error("KEY_NOT_FOUND")),
  c("disableKey · secure key", g(Q.disableKey), () => A.secureKey.id, uuid, error("KEY_NOT_FOUND")),
  c("disableKey · JWT key", g(Q.disableKey), () => A.jwtKey.id, uuid, error("KEY_NOT_FOUND")),
  c(
    "disableKey · project key",
    g(Q.disableKey),
    () => A.projectKey.id,
    uuid,
    error("KEY_NOT_FOUND"),
  ),
  c("disableKey · key pair", g(Q.disableKey), () => A.keyPairId, uuid, error("KEY_NOT_FOUND")),
  c("rotateKey · opaque key", g(Q.rotateKey), () => A.plainKey.id, uuid, error("KEY_NOT_FOUND")),
  c("rotateKey · secure key", g(Q.rotateKey), () => A.secureKey.id, uuid, error("KEY_NOT_FOUND")),
  c(
    "rotateKey · JWT key, with grace",
    g(Q.rotateKeyGrace),
    () => A.jwtKey.id,
    uuid,
    error("KEY_NOT_FOUND"),
  ),
  c("rotateKey · project key", g(Q.rotateKey), () => A.projectKey.id, uuid, error("KEY_NOT_FOUND")),
  c("rotateKey · key pair", g(Q.rotateKey), () => A.keyPairId, uuid, error("KEY_NOT_FOUND")),
  c(
    "revokeSession · A's owner's session",
    g(Q.revokeSession),
    () => A.sessionId,
    uuid,
    error("SESSION_NOT_FOUND"),
  ),
  c("disableUser · A's owner", g(Q.disableUser), () => A.ownerId, uuid, error("USER_NOT_FOUND")),
  c("disableUser · A's member", g(Q.disableUser), () => A.memberId, uuid, error("USER_NOT_FOUND")),
  c(
    "enableUser · A's disabled member",
    g(Q.enableUser),
    () => A.disabledMemberId,
    uuid,
    error("USER_NOT_FOUND"),
  ),
  c("enableUser · A's member", g(Q.enableUser), () => A.memberId, uuid, error("USER_NOT_FOUND")),
  c("updateMember · A's owner", g(Q.updateMember), () => A.ownerId, uuid, error("USER_NOT_FOUND")),
  c(
    "updateMember · A's member",
    g(Q.updateMember),
    () => A.memberId,
    uuid,
    error("USER_NOT_FOUND"),
  ),
  c("removeMember · A's owner", g(Q.removeMember), () => A.ownerId, uuid, error("USER_NOT_FOUND")),
  c(
    "removeMember · A's member",
    g(Q.removeMember),
    () => A.memberId,
    uuid,
    error("USER_NOT_FOUND"),
  ),
  // B's owner is no member of A: switching there answers like a tenant that does not exist.
  c(
    "switchTenant · A's tenant",
    g(Q.switchTenant),
    () => a.tenant.id,
    uuid,
    error("TENANT_NOT_FOUND"),
  ),
  c("updateKey · opaque key", g(Q.updateKey), () => A.plainKey.id, uuid, error("KEY_NOT_FOUND")),
  c("updateKey · secure key", g(Q.updateKey), () => A.secureKey.id, uuid, error("KEY_NOT_FOUND")),
  c("updateKey · JWT key", g(Q.updateKey), () => A.jwtKey.id, uuid, error("KEY_NOT_FOUND")),
  c("updateKey · project key", g(Q.updateKey), () => A.projectKey.id, uuid, error("KEY_NOT_FOUND")),
  c("updateKey · key pair", g(Q.updateKey), () => A.keyPairId, uuid, error("KEY_NOT_FOUND")),
  c("keyUsage · opaque key", g(Q.keyUsage), () => A.plainKey.id, uuid, error("KEY_NOT_FOUND")),
  c("keyUsage · project key", g(Q.keyUsage), () => A.projectKey.id, uuid, error("KEY_NOT_FOUND")),

  // A's audit trail, filtered by A's ids: nothing, exactly like an unknown id.
  c(
    "auditEvents(actorId) · A's owner",
    g(Q.auditEventsByActor),
    () => A.ownerId,
    uuid,
    emptyOrDeniedAt("auditEvents"),
  ),
  c(
    "auditEvents(targetId) · A's project",
    g(Q.auditEventsByTarget),
    () => A.projectId,
    uuid,
    emptyOrDeniedAt("auditEvents"),
  ),
  c(
    "auditEvents(targetId) · A's key",
    g(Q.auditEventsByTarget),
    () => A.plainKey.id,
    uuid,
    emptyOrDeniedAt("auditEvents"),
  ),

  // Generation that references A's project or A's users.
  c(
    "generateApiKey(projectId)",
    g(
      Q.generateApiKey,
      input((id) => ({ name: "x", projectId: id })),
    ),
    () => A.projectId,
    uuid,
    error("PROJECT_NOT_FOUND"),
  ),
  c(
    "generateApiKey(ownerId) · A's owner",
    g(
      Q.generateApiKey,
      input((id) => ({ name: "x", ownerId: id })),
    ),
    () => A.ownerId,
    uuid,
    error("USER_NOT_FOUND"),
  ),
  c(
    "generateApiKey(ownerId) · A's member",
    g(
      Q.generateApiKey,
      input((id) => ({ name: "x", ownerId: id, permissions: ["keys:read"] })),
    ),
    () => A.memberId,
    uuid,
    error("USER_NOT_FOUND"),
  ),
  c(
    "generateApiKey(JWT, ownerId)",
    g(
      Q.generateApiKey,
      input((id) => ({ name: "x", ownerId: id, format: "JWT" })),
    ),
    () => A.ownerId,
    uuid,
    error("USER_NOT_FOUND"),
  ),
  c(
    "generateSecureApiKey(projectId)",
    g(
      Q.generateSecureApiKey,
      input((id) => ({ name: "x", projectId: id })),
    ),
    () => A.projectId,
    uuid,
    error("PROJECT_NOT_FOUND"),
  ),
  c(
    "generateSecureApiKey(ownerId)",
    g(
      Q.generateSecureApiKey,
      input((id) => ({ name: "x", ownerId: id })),
    ),
    () => A.ownerId,
    uuid,
    error("USER_NOT_FOUND"),
  ),
  c(
    "generateProjectKey · API_KEY",
    g(
      Q.generateProjectKey,
      input((id) => ({ projectId: id })),
    ),
    () => A.projectId,
    uuid,
    error("PROJECT_NOT_FOUND"),
  ),
  c(
    "generateProjectKey · API_KEY, with permissions",
    g(
      Q.generateProjectKey,
      input((id) => ({ projectId: id, permissions: ["keys:read"] })),
    ),
    () => A.projectId,
    uuid,
    error("PROJECT_NOT_FOUND"),
  ),
  c(
    "generateProjectKey · FILE_CONTENT_PGP",
    g(
      Q.generateProjectKey,
      input((id) => ({ projectId: id, type: "FILE_CONTENT_PGP" })),
    ),
    () => A.projectId,
    uuid,
    error("PROJECT_NOT_FOUND"),
  ),
  c(
    "generateProjectKey · TRANSACTION_RSA",
    g(
      Q.generateProjectKey,
      input((id) => ({ projectId: id, type: "TRANSACTION_RSA", rsaBits: 3072 })),
    ),
    () => A.projectId,
    uuid,
    error("PROJECT_NOT_FOUND"),
  ),

  // Verification while signed in as B: A's keys are NOT_FOUND, like keys nobody issued.
  c(
    "verifyKey · opaque key",
    g(Q.verifyKey, (key) => ({ key })),
    () => A.plainKey.key,
    unknownOpaqueKey,
    verifyNotFound,
  ),
  c(
    "verifyKey · opaque key, with permissions",
    g(Q.verifyKey, (key) => ({ key, permissions: ["keys:read"] })),
    () => A.plainKey.key,
    unknownOpaqueKey,
    verifyNotFound,
  ),
  c(
    "verifyKey · secure key",
    g(Q.verifyKey, (key) => ({ key })),
    () => A.secureKey.key,
    unknownOpaqueKey,
    verifyNotFound,
  ),
  c(
    "verifyKey · JWT key",
    g(Q.verifyKey, (key) => ({ key })),
    () => A.jwtKey.key,
    unknownJwtKey,
    verifyNotFound,
  ),
  c(
    "verifyKey · project key",
    g(Q.verifyKey, (key) => ({ key })),
    () => A.projectKey.key,
    unknownOpaqueKey,
    verifyNotFound,
  ),
  c(
    "verifyKey · secure key, signed with A's secret",
    g(Q.verifyKeySigned, (key) => ({ key, signature: signedByA() })),
    () => A.secureKey.key,
    unknownOpaqueKey,
    verifyNotFound,
  ),
  c(
    "POST /v1/keys/verify · opaque key",
    r("POST", "/v1/keys/verify", (key) => ({ key })),
    () => A.plainKey.key,
    unknownOpaqueKey,
    restNotFoundKey,
  ),
  c(
    "POST /v1/keys/verify · with permissions",
    r("POST", "/v1/keys/verify", (key) => ({ key, permissions: ["*"] })),
    () => A.plainKey.key,
    unknownOpaqueKey,
    restNotFoundKey,
  ),
  c(
    "POST /v1/keys/verify · secure key",
    r("POST", "/v1/keys/verify", (key) => ({ key })),
    () => A.secureKey.key,
    unknownOpaqueKey,
    restNotFoundKey,
  ),
  c(
    "POST /v1/keys/verify · JWT key",
    r("POST", "/v1/keys/verify", (key) => ({ key })),
    () => A.jwtKey.key,
    unknownJwtKey,
    restNotFoundKey,
  ),
  c(
    "POST /v1/keys/verify · project key",
    r("POST", "/v1/keys/verify", (key) => ({ key })),
    () => A.projectKey.key,
    unknownOpaqueKey,
    restNotFoundKey,
  ),

  // Vendor routes that carry an id of A.
  c(
    "POST /api/adm/companyProjectKeys/generate",
    r("POST", "/api/adm/companyProjectKeys/generate", (id) => ({ projectId: id })),
    () => A.projectId,
    uuid,
    httpStatus(404, 403),
  ),
  c(
    "POST /api/admin/companyProjectKeys/generate",
    r("POST", "/api/admin/companyProjectKeys/generate", (id) => ({ projectId: id, name: "x" })),
    () => A.projectId,
    uuid,
    httpStatus(404, 403),
  ),
  c(
    "POST /api/adm/companyProjectKeys/generate · PGP",
    r("POST", "/api/adm/companyProjectKeys/generate", (id) => ({
      projectId: id,
      type: "FileContentPGPKey",
    })),
    () => A.projectId,
    uuid,
    httpStatus(404, 403),
  ),
  c(
    "POST /api/adm/companyProjectKeys/generate · RSA",
    r("POST", "/api/adm/companyProjectKeys/generate", (id) => ({
      projectId: id,
      type: "TransactionRSAKey",
    })),
    () => A.projectId,
    uuid,
    httpStatus(404, 403),
  ),
  c(
    "POST /api/adm/companyProjectKeys/generate · companyProjectId",
    r("POST", "/api/adm/companyProjectKeys/generate", (id) => ({
      projectId: id,
      companyProjectId: id,
    })),
    () => A.projectId,
    uuid,
    httpStatus(404, 403),
  ),
  c(
    "POST /api/adm/companyProjectKeys/generate · companyId = A",
    r("POST", "/api/adm/companyProjectKeys/generate", (id) => ({
      projectId: B.projectId,
      companyId: id,
    })),
    () => a.tenant.id,
    uuid,
    httpStatus(403),
  ),
  c(
    "POST /api/v1/apikey (Extractor) · tenantId = A",
    r("POST", "/api/v1/apikey", (n) => ({ label: "x", tenantId: Number(n) })),
    () => A.tenantNumber,
    unknownTenantNumber,
    httpStatus(403),
  ),
  c(
    "PUT /api/v1/apikey/:id (Extractor) · A's key, label",
    rp("PUT", "/api/v1/apikey/:id", { label: "taken over" }),
    () => A.jwtKeyNumber,
    unknownTenantNumber,
    httpStatus(404),
  ),
  c(
    "PUT /api/v1/apikey/:id (Extractor) · A's key, DELETED",
    rp("PUT", "/api/v1/apikey/:id", { status: "DELETED" }),
    () => A.jwtKeyNumber,
    unknownTenantNumber,
    httpStatus(404),
  ),
  c(
    "PUT /api/v1/apikey/:id (Extractor) · A's key, DISABLED",
    rp("PUT", "/api/v1/apikey/:id", { status: "DISABLED" }),
    () => A.jwtKeyNumber,
    unknownTenantNumber,
    httpStatus(404),
  ),
  c(
    "POST /api/v1/apikey (Extractor) · tenantId = A, DELETED",
    r("POST", "/api/v1/apikey", (n) => ({
      label: "x",
      tenantId: Number(n),
      status: "DELETED",
      lifetime: 60,
    })),
    () => A.tenantNumber,
    unknownTenantNumber,
    httpStatus(403),
  ),
];

/**
 * Trading A's secure key with a wrong secret answers like an unknown key. Not tenant-scoped (the
 * exchange is anonymous), so these run after the snapshot check: see the last describe.
 */
const exchangeCases: MatrixCase[] = [
  c(
    "exchangeApiKey · A's key, wrong secret",
    g(Q.exchange, (k) => ({ k, s: randomSecret() })),
    () => A.secureKey.key,
    unknownOpaqueKey,
    error("UNAUTHENTICATED"),
  ),
  c(
    "POST /auth/token · A's key, wrong secret",
    r("POST", "/auth/token", (k) => ({ api_key: k, api_secret: randomSecret() })),
    () => A.secureKey.key,
    unknownOpaqueKey,
    httpStatus(401),
  ),
];

const credentials: { name: string; token: () => string }[] = [
  { name: "B's owner session", token: () => B.ownerSession },
  { name: "B's integrator-level API key", token: () => B.opaqueKey },
  { name: "B's integrator-level JWT-format API key", token: () => B.jwtKey },
  { name: "B's member session (keys:*, projects:*)", token: () => B.memberSession },
];

// ---------------------------------------------------------------------------------------------

/** Every row of tenant A, as JSON: compared before and after the matrix. */
async function snapshotOfA(): Promise<string> {
  await h.deps.keys.flush();
  const where = { tenantId: a.tenant.id };
  const order = { orderBy: { id: "asc" as const } };
  const rows = {
    tenant: await h.deps.prisma.tenant.findUnique({ where: { id: a.tenant.id } }),
    users: await h.deps.prisma.user.findMany({ where, ...order }),
    projects: await h.deps.prisma.project.findMany({ where, ...order }),
    apiKeys: await h.deps.prisma.apiKey.findMany({ where, ...order }),
    keyPairs: await h.deps.prisma.keyPair.findMany({ where, ...order }),
    sessions: await h.deps.prisma.session.findMany({ where, ...order }),
    auditEvents: await h.deps.prisma.auditEvent.findMany({ where, ...order }),
  };
  return JSON.stringify(rows, (_k, v) => (typeof v === "bigint" ? v.toString() : v));
}

let before = "";

beforeAll(async () => {
  // Tenant A: one of everything.
  A.tenantNumber = String(a.tenant.number);
  A.ownerId = a.owner.id;
  A.memberId = (await seedUser(h.deps, a.tenant.id, "MEMBER", ["keys:read", "keys:write"])).user.id;
  const disabledMember = await seedUser(h.deps, a.tenant.id, "MEMBER", ["keys:read"]);
  expect(
    (await gql(h, Q.disableUser, { id: disabledMember.user.id }, a.token)).errors,
  ).toBeUndefined();
  A.disabledMemberId = disabledMember.user.id;
  A.sessionId = (
    await h.deps.prisma.session.findFirstOrThrow({ where: { userId: a.owner.id, revokedAt: null } })
  ).id;
  const project = await gql(
    h,
    'mutation { createProject(input: { name: "A secret project", description: "A only" }) { id } }',
    {},
    a.token,
  );
  A.projectId = project.data!.createProject.id;
  const plain = await generateKeyFor(h, a.token, {
    name: "A opaque",
    projectId: A.projectId,
    permissions: ["keys:read", "projects:read"],
  });
  A.plainKey = { id: plain.apiKey.id, key: plain.key };
  const secure = (await gql(h, generateSecureMutation, { input: { name: "A secure" } }, a.token))
    .data!.generateSecureApiKey;
  A.secureKey = { id: secure.apiKey.id, key: secure.key, secret: secure.secret };
  const jwt = await generateKeyFor(h, a.token, {
    name: "A JWT",
    format: "JWT",
    ownerId: A.memberId,
    permissions: ["keys:read"],
  });
  A.jwtKey = { id: jwt.apiKey.id, key: jwt.key };
  A.jwtKeyNumber = String(
    (await h.deps.prisma.apiKey.findUniqueOrThrow({ where: { id: jwt.apiKey.id } })).number,
  );
  const projectKeyMutation =
    "mutation($input: GenerateProjectKeyInput!) { generateProjectKey(input: $input) { id ... on GenerateProjectApiKeyPayload { keyValue } } }";
  const projectKey = await gql(
    h,
    projectKeyMutation,
    { input: { projectId: A.projectId, name: "A project key" } },
    a.token,
  );
  A.projectKey = {
    id: projectKey.data!.generateProjectKey.id,
    key: projectKey.data!.generateProjectKey.keyValue,
  };
  const keyPair = await gql(
    h,
    projectKeyMutation,
    { input: { projectId: A.projectId, type: "FILE_CONTENT_PGP", name: "A PGP" } },
    a.token,
  );
  expect(keyPair.errors).toBeUndefined();
  A.keyPairId = keyPair.data!.generateProjectKey.id;
  // A DISABLED key of A too: enableKey on it must not succeed either.
  const disabled = await generateKeyFor(h, a.token, { name: "A disabled", status: "DISABLED" });
  A.disabledKey = { id: disabled.apiKey.id, key: disabled.key };
  A.auditEventId = (
    await h.deps.prisma.auditEvent.findFirstOrThrow({ where: { tenantId: a.tenant.id } })
  ).id;
  // A's own owner finds every one of them through node(id:): the null B gets is the scoping.
  for (const id of [A.projectId, A.plainKey.id, A.projectKey.id, A.keyPairId, A.auditEventId]) {
    const own = await gql(h, Q.node, { id }, a.token);
    expect(own.data?.node?.id, JSON.stringify(own)).toBe(id);
  }

  // Tenant B: its owner, a member, integrator-level keys and a project of its own.
  B.ownerSession = b.token;
  B.memberSession = (await seedUser(h.deps, b.tenant.id, "MEMBER", ["keys:*", "projects:*"])).token;
  B.opaqueKey = (await generateKeyFor(h, b.token, { name: "B integrator" })).key;
  B.jwtKey = (await generateKeyFor(h, b.token, { name: "B integrator JWT", format: "JWT" })).key;
  B.projectId = (
    await gql(h, 'mutation { createProject(input: { name: "B project" }) { id } }', {}, b.token)
  ).data!.createProject.id;

  before = await snapshotOfA();
});

async function runCase(kase: MatrixCase, token: string) {
  const foreignValue = kase.foreign();
  expect(foreignValue, "tenant A's object was not seeded").toBeTruthy();
  const foreign = await kase.call(token, foreignValue);
  const unknown = await kase.call(token, await kase.unknown());
  kase.deny(foreign);
  kase.deny(unknown);
  expect(foreign).toEqual(unknown);
  // And nothing of A leaks into B's answer.
  const text = JSON.stringify(foreign.body);
  for (const secret of [
    A.plainKey.key,
    A.secureKey.key,
    A.secureKey.secret,
    A.jwtKey.key,
    A.projectKey.key,
    A.plainKey.id,
    A.keyPairId,
  ]) {
    expect(text.includes(secret), `answer contains one of A's ids or secrets: ${text}`).toBe(false);
  }
}

describe.each(credentials)(
  "as $name, a foreign id answers exactly like an unknown id",
  (credential) => {
    it.each(cases)("$name", (kase) => runCase(kase, credential.token()));
  },
);

describe("listings of B never show A's objects", () => {
  it.each(credentials)("as $name", async (credential) => {
    const token = credential.token();
    const listing = await graphql(
      token,
      `{ projects(first: 100) { edges { node { id } } }
         apiKeys(first: 100) { edges { node { id } } }
         tenant { id number users { id email } }
         viewer { id sessions { id } } }`,
      {},
    );
    const text = JSON.stringify(listing.body);
    expect(listing.status).toBe(200);
    for (const id of [
      a.tenant.id,
      A.ownerId,
      A.memberId,
      A.sessionId,
      A.projectId,
      A.plainKey.id,
      A.secureKey.id,
      A.jwtKey.id,
      A.projectKey.id,
      A.keyPairId,
    ]) {
      expect(text.includes(id), `${id} of tenant A in ${text}`).toBe(false);
    }
  });
});

describe("afterwards, tenant A is untouched", () => {
  it("has exactly the rows it had before (keys, key pairs, project, users, sessions, audit events)", async () => {
    expect(await snapshotOfA()).toBe(before);
  });

  it("A's users are as enabled as they were: owner and member enabled, the disabled member still disabled", async () => {
    const disabledAt = async (id: string) =>
      (await h.deps.prisma.user.findUniqueOrThrow({ where: { id } })).disabledAt;
    expect(await disabledAt(A.ownerId)).toBeNull();
    expect(await disabledAt(A.memberId)).toBeNull();
    expect(await disabledAt(A.disabledMemberId)).not.toBeNull();
    expect((await gql(h, "{ viewer { id } }", {}, a.token)).data!.viewer.id).toBe(A.ownerId);
  });

  it("A's keys still verify VALID, for A and for anonymous callers", async () => {
    for (const key of [A.plainKey.key, A.secureKey.key, A.jwtKey.key, A.projectKey.key]) {
      // A secure key is VALID only with a signature; without one it is still A's, not NOT_FOUND.
      const code = key === A.secureKey.key ? "SIGNATURE_REQUIRED" : "VALID";
      expect((await gql(h, verifyMutation, { key }, a.token)).data!.verifyKey).toMatchObject({
        valid: code === "VALID",
        code,
        tenantId: a.tenant.id,
      });
      const response = await h.app.request("/v1/keys/verify", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ key }),
      });
      expect(await response.json()).toMatchObject({ valid: code === "VALID", code });
    }
  });

  it("A still reads its project, its keys and its key pair; A's session and secure key still work", async () => {
    const project = await gql(h, Q.projectKeys, { id: A.projectId }, a.token);
    expect(project.data!.project).toMatchObject({ id: A.projectId });
    const ids = project.data!.project.keys.edges.map((e: any) => e.node.id);
    expect(ids).toEqual(expect.arrayContaining([A.plainKey.id, A.projectKey.id, A.keyPairId]));
    expect(project.data!.project.keys.edges.every((e: any) => e.node.status === "ACTIVE")).toBe(
      true,
    );
    const pair = await gql(h, Q.keyPair, { id: A.keyPairId }, a.token);
    expect(pair.data!.keyPair).toMatchObject({ id: A.keyPairId, status: "ACTIVE" });
    const viewer = await gql(h, "{ viewer { id sessions { id revokedAt } } }", {}, a.token);
    expect(viewer.data!.viewer.id).toBe(A.ownerId);
    expect(viewer.data!.viewer.sessions.find((s: any) => s.id === A.sessionId)).toMatchObject({
      revokedAt: null,
    });
    const exchange = await gql(h, Q.exchange, { k: A.secureKey.key, s: A.secureKey.secret });
    expect(exchange.errors).toBeUndefined();
    expect(exchange.data!.exchangeApiKey.accessToken).toBeTruthy();
  });
});

describe("exchanging A's secure key with a wrong secret", () => {
  describe.each(credentials)("as $name", (credential) => {
    it.each(exchangeCases)("$name", (kase) => runCase(kase, credential.token()));
  });
  it("answers anonymous callers like an unknown key too", async () => {
    const call = async (key: string) =>
      answerOf(
        await h.app.request("/auth/token", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ api_key: key, api_secret: randomSecret() }),
        }),
      );
    expect(await call(A.secureKey.key)).toEqual(await call(unknownOpaqueKey()));
  });

  // A rejected exchange is no use of the key: anyone who knows the key string but not the
  // secret must not be able to make A's key look recently used.
  it("does not mark A's key as used (lastUsedAt unchanged)", async () => {
    await h.deps.keys.flush();
    const lastUsed = async () =>
      (
        await h.deps.prisma.apiKey.findUniqueOrThrow({ where: { id: A.secureKey.id } })
      ).lastUsedAt?.toISOString() ?? null;
    const before = await lastUsed();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const rejected = await gql(
      h,
      Q.exchange,
      { k: A.secureKey.key, s: randomSecret() },
      B.ownerSession,
    );
    expect(rejected.errors![0]!.extensions!.code).toBe("UNAUTHENTICATED");
    await h.deps.keys.flush();
    expect(await lastUsed()).toBe(before);
  });
});

describe("someone who knows A's secure key but not its secret", () => {
  // Unsigned requests carrying A's secure key are rejected (the secret signs every request);
  // they must not spend the key's own rate limit, or anyone who saw the key string could lock
  // A's signed client out, and learn from the 429 that the key exists.
  it("cannot spend the key's rate limit with unsigned requests", async () => {
    const created = await gql(
      h,
      "mutation($input: GenerateApiKeyInput!) { generateSecureApiKey(input: $input) { key secret } }",
      { input: { name: "A limited secure", rateLimit: { perMinute: 2 } } },
      a.token,
    );
    const { key, secret } = created.data!.generateSecureApiKey;
    const unsigned = [];
    for (let i = 0; i < 3; i++)
      unsigned.push(
        (await h.app.request("/api/v3/health", { headers: { authorization: `Bearer ${key}` } }))
          .status,
      );
    const unknown = (
      await h.app.request("/api/v3/health", {
        headers: { authorization: `Bearer ${unknownOpaqueKey()}` },
      })
    ).status;
    expect(unsigned).toEqual([unknown, unknown, unknown]);
    const signed = await h.app.request("/api/v3/health", {
      headers: {
        authorization: `Bearer ${key}`,
        "keygate-signature": signRequest(secret, "GET", "/api/v3/health"),
      },
    });
    expect(signed.status).toBe(200);
    expect(await signed.json()).toMatchObject({
      success: true,
      data: { tenant_id: a.tenant.id, auth: "api_key" },
    });
  });
});

// ---------------------------------------------------------------------------------------------
// The matrix is written by hand; this compares it with what the code declares, so that a new
// operation or route fails here until it has a case or an exemption with its reason.

/** Operations with no case above, and why none is needed. */
const EXEMPT_OPERATIONS: Record<string, string> = {
  "Query.projects":
    "takes no id: lists the caller's own tenant (checked by 'listings of B never show A's objects')",
  "Query.tenant":
    "takes no id: the caller's own tenant (checked by 'listings of B never show A's objects')",
  "Query.viewer":
    "takes no id: the caller itself (checked by 'listings of B never show A's objects')",
  "Query.tenants": "takes no id; platform administrators only, who see every tenant by design",
  "Mutation.addUser": "takes no id: adds to the caller's own tenant",
  "Mutation.inviteMember":
    "takes no id: invites into the caller's own tenant; answers alike for other tenants' members (test/people.test.ts)",
  "Query.memberships": "takes no id: the calling person's own memberships (test/people.test.ts)",
  "Mutation.createProject": "takes no id: creates in the caller's own tenant",
  "Mutation.createTenant": "takes no id; platform administrators only, creating a new tenant",
  "Mutation.updateTenant": "takes no id: changes the caller's own tenant",
  "Query.usageSummary": "takes no id: sums the caller's own tenant's keys (test/usage.test.ts)",
  "Mutation.setTenantState":
    "platform administrators only, who act on every tenant by design; B's owner gets FORBIDDEN (test/members.test.ts)",
  "Mutation.logout": "takes no id: ends the calling session",
  "Mutation.refreshSession":
    "takes a refresh token, a secret of its own session, not an id of a tenant's object",
  "Mutation.requestMagicLink":
    "anonymous; answers the same for every address (test/auth/magic-link.test.ts)",
  "Mutation.verify": "anonymous; consumes a one-use sign-in token, not an id of a tenant's object",
};

/** Routes with no case above, and why none is needed. */
const EXEMPT_ROUTES: Record<string, string> = {
  "GET /graphql":
    "the same resolvers as POST /graphql, whose operations the cases cover (mutations are refused over GET)",
  "OPTIONS /graphql": "CORS preflight: no resolver runs",
  "POST /api/v3/auth/login": "anonymous; answers the same for every address",
  "GET /api/v3/auth/verify": "anonymous; consumes a one-use sign-in token, not an id",
  "HEAD /api/v3/auth/verify": "anonymous; consumes a one-use sign-in token, not an id",
  "POST /api/v3/auth/verify": "anonymous; consumes a one-use sign-in token, not an id",
  "GET /api/v3/auth/refresh-token": "takes a refresh token, a secret of its own session, not an id",
  "GET /api/v3/auth/api-key": "takes no id: issues a key in the caller's own tenant",
  "GET /api/v3/auth/api-key/secure": "takes no id: issues a secure key in the caller's own tenant",
  "GET /api/v3/health": "takes no id: describes the caller's own credential",
  "POST /api/v1/apikey/generate": "takes no id: issues a key in the caller's own tenant",
  "POST /api/apikey/generate": "takes no id: issues a key in the caller's own tenant",
  // A second and third case would spend the per-key budget of wrong secrets the others need.
  "POST /api/auth/token":
    "the handler and service of POST /auth/token, whose case covers them (test/rest/real-clients.test.ts calls every prefix)",
  "POST /api/v1/auth/token":
    "the handler and service of POST /auth/token, whose case covers them (test/rest/real-clients.test.ts calls every prefix)",
  "POST /api/v3/auth/refresh": "takes a refresh token, a secret of its own session, not an id",
  "GET /health": "takes no id and no credential: the health of the gateway's database",
  "POST /dashboard/session/link": "anonymous; answers the same for every address",
  "POST /dashboard/session/link-account":
    "anonymous; names the account of a one-use sign-in token, a secret, not an id",
  "POST /dashboard/session/confirm": "anonymous; consumes a one-use sign-in token, not an id",
  "POST /dashboard/session/refresh":
    "takes the refresh token of its own session (cookie), a secret, not an id",
  "POST /dashboard/session/sign-out": "ends the caller's own session; takes no id",
  "POST /dashboard/session/switch":
    "switchTenant's service, whose Mutation.switchTenant case covers it: a tenant outside the caller's memberships answers like an unknown one",
};

describe("the matrix covers the whole surface", () => {
  const all = [...cases, ...exchangeCases];
  const coveredOperations = new Set(
    all.flatMap((kase) => (kase.call.document ? rootFieldsOf(kase.call.document).fields : [])),
  );
  const coveredRoutes = new Set(all.flatMap((kase) => (kase.call.route ? [kase.call.route] : [])));
  // The GraphQL cases go through POST /graphql.
  coveredRoutes.add("POST /graphql");

  it("every query and mutation of the schema has a case or an exemption", () => {
    const operations = schemaOperations();
    expect(operations).toContain("Mutation.disableUser");
    expect(
      operations.filter((op) => !coveredOperations.has(op) && !(op in EXEMPT_OPERATIONS)),
    ).toEqual([]);
    // An exemption for something covered, or gone, is a stale decision.
    expect(
      Object.keys(EXEMPT_OPERATIONS).filter(
        (op) => coveredOperations.has(op) || !operations.includes(op),
      ),
    ).toEqual([]);
  });

  it("every route of the app (but NON_API_ROUTES) has a case or an exemption", () => {
    const routes = apiRoutes(h);
    expect(routes).toContain("POST /v1/keys/verify");
    expect(
      routes.filter((route) => !coveredRoutes.has(route) && !(route in EXEMPT_ROUTES)),
    ).toEqual([]);
    expect(
      Object.keys(EXEMPT_ROUTES).filter(
        (route) => coveredRoutes.has(route) || !routes.includes(route),
      ),
    ).toEqual([]);
    expect([...coveredRoutes].filter((route) => !routes.includes(route))).toEqual([]);
  });
});
