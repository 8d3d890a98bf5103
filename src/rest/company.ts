// Company project keys (seed 004): POST /api/adm/companyProjectKeys/generate, and the
// /api/admin/... spelling the same document uses in its example. Both are declared with their
// request and response schemas.
import { z } from "zod";
import type { Deps } from "../deps.ts";
import { AppError } from "../errors.ts";
import { generateProjectKey } from "../modules/project-keys/service.ts";
import { parseInput } from "../modules/validation.ts";
import { tenantActorOf } from "./actor.ts";
import { companyEnvelope } from "./envelope.ts";
import { readJsonObject, requestMeta } from "./http.ts";
import { defineRoute, mountRoutes, routeGroup, type RestContext } from "./route.ts";

const guid = z.uuid("must be a GUID");

const companyGenerateBody = z.object({
  projectId: z.uuid({
    error: (issue) => (issue.input === undefined ? "is required" : "must be a GUID"),
  }),
  name: z.string().trim().min(1).max(200).nullable().optional(),
  description: z.string().max(2000).nullable().optional(),
  isActive: z.boolean({ error: "must be a boolean" }).nullable().optional(),
  companyId: guid.nullable().optional(),
  companyProjectId: guid.nullable().optional(),
  type: z
    .enum(["TransactionRSAKey", "FileContentPGPKey"], {
      error: "must be TransactionRSAKey or FileContentPGPKey",
    })
    .nullable()
    .optional(),
  /** An extension of the contract: the passphrase that encrypts a key pair's private key. */
  passphrase: z.string().min(12, "must be at least 12 characters").max(1024).nullable().optional(),
  /** An extension of the contract: what an API key project key may do (default: nothing). */
  permissions: z.array(z.string().max(200)).max(200).nullable().optional(),
});

const typeMap = {
  TransactionRSAKey: "TRANSACTION_RSA",
  FileContentPGPKey: "FILE_CONTENT_PGP",
} as const;

const keyTypes = ["TransactionRSAKey", "FileContentPGPKey"] as const;

const companyKeyAnswer = z.object({
  success: z.literal(true),
  code: z.literal(200),
  errorMessage: z.null(),
  id: z.string(),
  keyValue: z.string(),
});

const companyKeyPairAnswer = z.object({
  success: z.literal(true),
  code: z.literal(200),
  errorMessage: z.null(),
  id: z.string(),
  publicKey: z.string(),
  encryptedPrivateKey: z.string(),
  expirationDate: z.iso.datetime().nullable(),
  type: z.enum(keyTypes),
  /** Only when Keygate generated the passphrase (none was given): shown once. */
  passphrase: z.string().optional(),
});

async function generate(c: RestContext, deps: Deps) {
  const actor = await tenantActorOf(deps, c);
  const body = parseInput(companyGenerateBody, await readJsonObject(c));
  // The company is the caller's tenant; another company's id is not the caller's to use.
  if (body.companyId && body.companyId !== actor.tenantId)
    throw new AppError("FORBIDDEN", "companyId: not your company");
  if (body.companyProjectId && body.companyProjectId !== body.projectId) {
    throw AppError.validation("companyProjectId", "must match projectId");
  }
  const result = await generateProjectKey(
    deps,
    actor,
    {
      projectId: body.projectId,
      name: body.name,
      description: body.description,
      isActive: body.isActive,
      type: body.type ? typeMap[body.type] : "API_KEY",
      passphrase: body.passphrase,
      permissions: body.permissions,
    },
    requestMeta(c),
  );
  c.header("Cache-Control", "no-store");
  if (result.type === "API_KEY") {
    const answer: z.infer<typeof companyKeyAnswer> = {
      success: true,
      code: 200,
      errorMessage: null,
      id: result.apiKey.id,
      keyValue: result.keyValue,
    };
    return c.json(answer);
  }
  const answer: z.infer<typeof companyKeyPairAnswer> = {
    success: true,
    code: 200,
    errorMessage: null,
    id: result.keyPair.id,
    publicKey: result.keyPair.publicKey,
    encryptedPrivateKey: result.encryptedPrivateKey,
    expirationDate: result.keyPair.expiresAt?.toISOString() ?? null,
    type: result.type === "TRANSACTION_RSA" ? "TransactionRSAKey" : "FileContentPGPKey",
  };
  if (result.passphrase) answer.passphrase = result.passphrase;
  return c.json(answer);
}

const generateRoute = (path: string, operationId: string) =>
  defineRoute({
    method: "post",
    path,
    operationId,
    summary: "Generate a project key, or an RSA/PGP key pair",
    security: ["bearer"],
    signing: ["keygate"],
    request: { body: companyGenerateBody },
    responses: {
      200: {
        description: "the key (or key pair), once",
        json: z.union([companyKeyAnswer, companyKeyPairAnswer]),
      },
    },
    handler: generate,
  });

export const companyApi = routeGroup("Company project keys", companyEnvelope, [
  generateRoute("/api/adm/companyProjectKeys/generate", "companyGenerateProjectKey"),
  generateRoute("/api/admin/companyProjectKeys/generate", "companyGenerateProjectKeyAdmin"),
]);

export const companyRoutes = (deps: Deps) => mountRoutes(deps, companyApi);
