// GraphQL adapters for project keys and key pairs, and `revokeKey` for every credential.
import { resolveOffsetConnection } from "@pothos/plugin-relay";
import { z } from "zod";
import { builder } from "../../graphql/builder.ts";
import { requestMetaOf } from "../../graphql/context.ts";
import { NodeInterface, nodeLoader } from "../../graphql/node.ts";
import { masked } from "../../crypto/key-format.ts";
import { ApiKeyType, CredentialInterface } from "../keys/graphql.ts";
import { ProjectType } from "../projects/graphql.ts";
import {
  countProjectKeys,
  findKeyPair,
  generateProjectKey,
  listProjectKeys,
  revokeCredential,
  type GeneratedProjectKey,
  type ProjectKeyRow,
} from "./service.ts";

const KeyPairTypeEnum = builder.enumType("KeyPairType", { values: ["RSA", "PGP"] as const });
const ProjectKeyTypeEnum = builder.enumType("ProjectKeyType", {
  values: ["API_KEY", "TRANSACTION_RSA", "FILE_CONTENT_PGP"] as const,
});
const PgpAlgorithmEnum = builder.enumType("PgpAlgorithm", {
  values: ["CURVE25519", "RSA_4096"] as const,
});

const KeyPairType = builder.prismaObject("KeyPair", {
  interfaces: [NodeInterface, CredentialInterface],
  description: "An RSA or PGP key pair. The private key is never returned after generation.",
  fields: (t) => ({
    id: t.exposeID("id"),
    type: t.expose("type", { type: KeyPairTypeEnum }),
    algorithm: t.exposeString("algorithm"),
    publicKey: t.exposeString("publicKey"),
    fingerprint: t.exposeString("fingerprint"),
    updatedAt: t.expose("updatedAt", { type: "DateTime" }),
    project: t.relation("project"),
  }),
});

nodeLoader("KeyPair", (ctx, id) => findKeyPair(ctx.deps, ctx.actor, id));

const typeOf = (k: ProjectKeyRow) =>
  k.kind === "apiKey"
    ? ("API_KEY" as const)
    : k.row.type === "RSA"
      ? ("TRANSACTION_RSA" as const)
      : ("FILE_CONTENT_PGP" as const);

// Not a Node: its id is the id of the ApiKey or KeyPair it shows, and node(id:) answers those.
const ProjectKeyType = builder.objectRef<ProjectKeyRow>("ProjectKey").implement({
  description: "One key of a project: a project API key (masked) or a key pair (public half).",
  interfaces: [CredentialInterface],
  fields: (t) => ({
    type: t.field({ type: ProjectKeyTypeEnum, resolve: typeOf }),
    masked: t.string({
      nullable: true,
      resolve: (k) => (k.kind === "apiKey" ? masked(k.row.start, k.row.end) : null),
    }),
    fingerprint: t.string({
      nullable: true,
      resolve: (k) => (k.kind === "keyPair" ? k.row.fingerprint : null),
    }),
    algorithm: t.string({
      nullable: true,
      resolve: (k) => (k.kind === "keyPair" ? k.row.algorithm : null),
    }),
    publicKey: t.string({
      nullable: true,
      resolve: (k) => (k.kind === "keyPair" ? k.row.publicKey : null),
    }),
    lastUsedAt: t.field({
      type: "DateTime",
      nullable: true,
      resolve: (k) => (k.kind === "apiKey" ? k.row.lastUsedAt : null),
    }),
  }),
});

builder.prismaObjectField(ProjectType, "keys", (t) =>
  t.connection(
    {
      type: ProjectKeyType,
      authScopes: { authenticated: true },
      description: "The project's API keys and key pairs, newest first.",
      resolve: async (project, args, ctx) => {
        const page = await resolveOffsetConnection(
          { args, defaultSize: 20, maxSize: 100 },
          ({ offset, limit }) =>
            listProjectKeys(ctx.deps, ctx.actor, project.id, { offset, limit }),
        );
        // Counted only when totalCount is selected.
        return { ...page, count: () => countProjectKeys(ctx.deps, ctx.actor, project.id) };
      },
    },
    {
      name: "ProjectKeyConnection",
      fields: (c) => ({
        totalCount: c.int({ resolve: (page) => page.count() }),
      }),
    },
    { name: "ProjectKeyEdge" },
  ),
);

const GenerateProjectKeyInput = builder.inputType("GenerateProjectKeyInput", {
  fields: (t) => ({
    projectId: t.id({ required: true }),
    name: t.string({ validate: z.string().trim().min(1).max(200) }),
    description: t.string({ validate: z.string().max(2000) }),
    isActive: t.boolean({ description: "Default true." }),
    type: t.field({ type: ProjectKeyTypeEnum, description: "Default API_KEY." }),
    expiresAt: t.field({ type: "DateTime", description: "Key pairs default to one year." }),
    passphrase: t.string({
      description: "Encrypts the private key; generated and returned once when omitted.",
    }),
    rsaBits: t.int({ description: "TRANSACTION_RSA: 4096 (default) or 3072." }),
    pgpAlgorithm: t.field({
      type: PgpAlgorithmEnum,
      description: "FILE_CONTENT_PGP: CURVE25519 (default) or RSA_4096.",
    }),
    permissions: t.stringList({
      description:
        "API_KEY: what the key may do (default: nothing). Never more than the caller's own; a project key can never administer the tenant.",
    }),
  }),
});

type GeneratedApiKey = Extract<GeneratedProjectKey, { type: "API_KEY" }>;
type GeneratedKeyPair = Exclude<GeneratedProjectKey, { type: "API_KEY" }>;

// One payload type per kind: a frontend cannot ask a key pair for its keyValue, nor an API key
// for its private key. What both have is on the interface.
const GenerateProjectKeyPayload = builder
  .interfaceRef<GeneratedProjectKey>("GenerateProjectKeyPayload")
  .implement({
    description:
      "A new project key: GenerateProjectApiKeyPayload (API_KEY) or GenerateKeyPairPayload (TRANSACTION_RSA, FILE_CONTENT_PGP).",
    resolveType: (g) =>
      g.type === "API_KEY" ? "GenerateProjectApiKeyPayload" : "GenerateKeyPairPayload",
    fields: (t) => ({
      id: t.id({ resolve: (g) => (g.type === "API_KEY" ? g.apiKey.id : g.keyPair.id) }),
      type: t.field({ type: ProjectKeyTypeEnum, resolve: (g) => g.type }),
      expiresAt: t.field({
        type: "DateTime",
        nullable: true,
        resolve: (g) => (g.type === "API_KEY" ? g.apiKey.expiresAt : g.keyPair.expiresAt),
      }),
    }),
  });

builder.objectRef<GeneratedApiKey>("GenerateProjectApiKeyPayload").implement({
  description: "A project API key. keyValue appears in this response only.",
  interfaces: [GenerateProjectKeyPayload],
  fields: (t) => ({
    keyValue: t.exposeString("keyValue", { description: "The key. Shown in this response only." }),
    apiKey: t.field({ type: ApiKeyType, resolve: (g) => g.apiKey }),
  }),
});

builder.objectRef<GeneratedKeyPair>("GenerateKeyPairPayload").implement({
  description:
    "An RSA or PGP key pair. encryptedPrivateKey and a generated passphrase appear in this response only.",
  interfaces: [GenerateProjectKeyPayload],
  fields: (t) => ({
    keyPair: t.field({ type: KeyPairType, resolve: (g) => g.keyPair }),
    publicKey: t.string({ resolve: (g) => g.keyPair.publicKey }),
    encryptedPrivateKey: t.exposeString("encryptedPrivateKey", {
      description: "The private key, encrypted with the passphrase. Shown in this response only.",
    }),
    passphrase: t.string({
      nullable: true,
      description: "Only when Keygate generated it. Shown in this response only.",
      resolve: (g) => g.passphrase ?? null,
    }),
  }),
});

builder.queryFields((t) => ({
  keyPair: t.prismaField({
    type: "KeyPair",
    nullable: true,
    authScopes: { authenticated: true },
    description: "A key pair's public half; null for an unknown id and for another tenant's.",
    args: { id: t.arg.id({ required: true }) },
    resolve: (_query, _root, { id }, ctx) => findKeyPair(ctx.deps, ctx.actor, id),
  }),
}));

builder.mutationFields((t) => ({
  generateProjectKey: t.field({
    type: GenerateProjectKeyPayload,
    authScopes: { authenticated: true },
    args: { input: t.arg({ type: GenerateProjectKeyInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      generateProjectKey(
        ctx.deps,
        ctx.actor,
        { ...input, rsaBits: input.rsaBits as 3072 | 4096 | null | undefined },
        requestMetaOf(ctx),
      ),
  }),
  revokeKey: t.field({
    type: CredentialInterface,
    authScopes: { authenticated: true },
    description:
      "Revokes an API key (project keys included) or a key pair; the very next request with it fails.",
    args: {
      id: t.arg.id({ required: true }),
      reason: t.arg.string({ validate: z.string().max(500) }),
    },
    resolve: async (_root, { id, reason }, ctx) =>
      (await revokeCredential(ctx.deps, ctx.actor, { id, reason }, requestMetaOf(ctx))).row,
  }),
}));
