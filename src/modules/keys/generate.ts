// Generating API keys (opaque or JWT, with or without a signing secret). The key and its
// secret appear in this one response only; what is stored is a hash, masked parts and the
// secret sealed under ENCRYPTION_KEY.
import { randomBytes, randomUUID } from "node:crypto";
import { z } from "zod";
import {
  confinedProject,
  requireTenantActor,
  type Actor,
  type TenantActor,
} from "../../access/actor.ts";
import { grants, isValidPermission, requirePermission } from "../../access/permissions.ts";
import { generateKey, keyPrefix, maskParts } from "../../crypto/key-format.ts";
import { seal, secretAad } from "../../crypto/envelope.ts";
import { sha256Hex } from "../../crypto/tokens.ts";
import type { Deps, RequestMeta } from "../../deps.ts";
import { AppError } from "../../errors.ts";
import type { ApiKey, Prisma as P } from "../../generated/prisma/client.ts";
import { recordAudit } from "../audit/service.ts";
import { lockLiveProject, type Tx } from "../projects/live-project.ts";
import { parseInput } from "../validation.ts";
import { signKeyJwt } from "./jwt-key.ts";
import { administersKeys, selfUserId, uuid } from "./policy.ts";

const MAX_LIFETIME_SECONDS = 20 * 365 * 24 * 3600;
const limit = z.number().int().min(1).max(1_000_000_000).nullable().optional();

export const permissionList = z
  .array(z.string().refine(isValidPermission, "must be resource:action, resource:* or *"))
  .max(200);

const generateKeyInput = z
  .object({
    name: z.string().trim().min(1, "must not be empty").max(200),
    description: z.string().max(2000).nullable().optional(),
    projectId: uuid.nullable().optional(),
    ownerId: uuid.nullable().optional(),
    permissions: permissionList.nullable().optional(),
    expiresAt: z.date().nullable().optional(),
    lifetime: z.number().int().min(1).max(MAX_LIFETIME_SECONDS).nullable().optional(),
    rateLimit: z.object({ perMinute: limit, perHour: limit, perDay: limit }).nullable().optional(),
    /** DELETED only for Extractor's contract, which lets a key be created deleted. */
    status: z.enum(["ACTIVE", "DISABLED", "DELETED"]).nullable().optional(),
    format: z.enum(["OPAQUE", "JWT"]).nullable().optional(),
    test: z.boolean().nullable().optional(),
  })
  .superRefine((v, ctx) => {
    if (v.expiresAt && v.lifetime)
      ctx.addIssue({
        code: "custom",
        path: ["lifetime"],
        message: "give expiresAt or lifetime, not both",
      });
    if (v.expiresAt && v.expiresAt.getTime() <= Date.now())
      ctx.addIssue({ code: "custom", path: ["expiresAt"], message: "must be in the future" });
  });

export type GenerateKeyInput = z.input<typeof generateKeyInput>;
export type KeyKind = "API_KEY" | "SECURE_API_KEY" | "PROJECT_KEY";

export interface GeneratedKey {
  apiKey: ApiKey;
  /** The key itself: in this response only. */
  key: string;
  /** The signing secret of a secure key: in this response only. */
  secret?: string;
}

/** A key ready to insert: validated, authorized, generated. Nothing is written yet. */
export interface PreparedKey {
  data: P.ApiKeyUncheckedCreateInput & { id: string; permissions: string[] };
  key: string;
  secret?: string;
}

/**
 * Permissions a key may be given by this caller: never beyond the caller's own, and for a key
 * bound to a user never beyond that user's (who must exist in the tenant and be enabled).
 * Shared by generation and updates.
 */
export async function requireGrantable(
  deps: Deps,
  a: TenantActor,
  ownerId: string | null,
  permissions: string[],
): Promise<void> {
  if (ownerId) {
    const owner = await deps.prisma.user.findFirst({
      // Only a member who has joined and is neither disabled nor removed can own a key.
      where: {
        id: ownerId,
        tenantId: a.tenantId,
        disabledAt: null,
        removedAt: null,
        joinedAt: { not: null },
      },
    });
    if (!owner) throw new AppError("USER_NOT_FOUND", "ownerId: no such user");
    const ownerPermissions = owner.role === "MEMBER" ? owner.permissions : ["*"];
    const beyond = permissions.find(
      (p) => !grants(ownerPermissions, p) || !grants(a.permissions, p),
    );
    if (beyond)
      throw new AppError("FORBIDDEN", `permissions: ${beyond} exceeds what the owner may do`);
  } else {
    const beyond = permissions.find((p) => !grants(a.permissions, p));
    if (beyond)
      throw new AppError("FORBIDDEN", `permissions: ${beyond} exceeds the caller's permissions`);
  }
}

export async function prepareKey(
  deps: Deps,
  a: TenantActor,
  raw: GenerateKeyInput,
  kind: KeyKind,
): Promise<PreparedKey> {
  requirePermission(a, "keys:write");
  const input = parseInput(generateKeyInput, raw);
  const admin = administersKeys(a);
  const self = selfUserId(a);

  // A credential in a project creates credentials in that project only.
  const confined = confinedProject(a);
  const projectId = input.projectId ?? confined;
  if (confined && projectId !== confined)
    throw new AppError("FORBIDDEN", "projectId: this key creates keys in its own project only");

  // Who the key belongs to. People and user-bound keys make keys bound to themselves unless
  // they administer the tenant; a key bound to no one makes keys bound to no one, within its
  // own permissions and project (checked below), never for a person.
  let ownerId = input.ownerId ?? null;
  if (!ownerId && !admin) ownerId = self;
  if (ownerId && !admin && ownerId !== self)
    throw new AppError("FORBIDDEN", "ownerId: only owners and admins create keys for others");

  const permissions = input.permissions ?? (ownerId || kind === "PROJECT_KEY" ? [] : a.permissions);
  await requireGrantable(deps, a, ownerId, permissions);

  if (projectId) {
    const project = await deps.prisma.project.findFirst({
      where: { id: projectId, tenantId: a.tenantId, deletedAt: null },
    });
    if (!project) throw new AppError("PROJECT_NOT_FOUND", "projectId: project not found");
  }
  if (kind === "PROJECT_KEY" && !projectId)
    throw AppError.validation("projectId", "is required for project keys");

  const tenant = await deps.prisma.tenant.findUniqueOrThrow({ where: { id: a.tenantId } });
  const id = randomUUID();
  const now = new Date();
  const expiresAt =
    input.expiresAt ?? (input.lifetime ? new Date(now.getTime() + input.lifetime * 1000) : null);
  const format = input.format ?? "OPAQUE";
  const key =
    format === "JWT"
      ? await signKeyJwt(deps.config, {
          keyId: id,
          tenantId: a.tenantId,
          subject: ownerId ?? a.tenantId,
          issuedAt: now,
          expiresAt,
        })
      : generateKey(keyPrefix(tenant.keyPrefix, input.test ?? false));
  const secret = kind === "SECURE_API_KEY" ? randomBytes(32).toString("hex") : undefined;
  const sealed = secret
    ? seal(deps.config.encryptionKeys, secret, secretAad(a.tenantId, id))
    : undefined;
  const { start, end } = maskParts(key);
  return {
    key,
    secret,
    data: {
      id,
      tenantId: a.tenantId,
      kind,
      format,
      name: input.name,
      description: input.description ?? null,
      ownerId,
      projectId: projectId ?? null,
      createdById: a.kind === "user" ? a.userId : null,
      createdByKeyId: a.kind === "apiKey" ? a.keyId : null,
      permissions,
      status: input.status ?? "ACTIVE",
      revokedAt: input.status === "DELETED" ? now : null,
      expiresAt,
      lifetime: input.lifetime ?? null,
      rateLimitPerMinute: input.rateLimit?.perMinute ?? null,
      rateLimitPerHour: input.rateLimit?.perHour ?? null,
      rateLimitPerDay: input.rateLimit?.perDay ?? null,
      hash: sha256Hex(key),
      start,
      end,
      jti: id,
      isTest: input.test ?? false,
      secretCiphertext: sealed?.ciphertext ?? null,
      secretKeyVersion: sealed?.keyVersion ?? null,
      createdAt: now,
    },
  };
}

/** Inserts a prepared key with its audit event, inside the caller's transaction. */
export async function insertKey(tx: Tx, a: TenantActor, prepared: PreparedKey, meta?: RequestMeta) {
  if (prepared.data.projectId) await lockLiveProject(tx, a.tenantId, prepared.data.projectId);
  const created = await tx.apiKey.create({ data: prepared.data });
  await recordAudit(tx, a, {
    tenantId: a.tenantId,
    action: "key.create",
    targetType: "ApiKey",
    targetId: created.id,
    metadata: {
      kind: created.kind,
      format: created.format,
      ownerId: created.ownerId,
      projectId: created.projectId,
      permissions: created.permissions,
      rotatedFromId: created.rotatedFromId,
      createdByKeyId: created.createdByKeyId,
    },
    ip: meta?.ip,
    requestId: meta?.requestId,
  });
  return created;
}

/** A key of the given kind; project keys come through the project-keys service. */
export async function generateKeyOfKind(
  deps: Deps,
  actor: Actor,
  raw: GenerateKeyInput,
  kind: KeyKind,
  meta?: RequestMeta,
): Promise<GeneratedKey> {
  const a = requireTenantActor(actor);
  const prepared = await prepareKey(deps, a, raw, kind);
  const apiKey = await deps.prisma.$transaction((tx) => insertKey(tx, a, prepared, meta));
  return { apiKey, key: prepared.key, secret: prepared.secret };
}

export function generateApiKey(
  deps: Deps,
  actor: Actor,
  raw: GenerateKeyInput,
  meta?: RequestMeta,
): Promise<GeneratedKey> {
  return generateKeyOfKind(deps, actor, raw, "API_KEY", meta);
}

export function generateSecureApiKey(
  deps: Deps,
  actor: Actor,
  raw: GenerateKeyInput,
  meta?: RequestMeta,
) {
  return generateKeyOfKind(deps, actor, raw, "SECURE_API_KEY", meta) as Promise<
    Required<GeneratedKey>
  >;
}
