// API keys: generate (opaque or JWT, with or without a signing secret), list masked,
// enable, disable, revoke and rotate. A key and its secret appear in one response only.
import { randomBytes, randomUUID } from "node:crypto";
import { z } from "zod";
import { administersTenant, confinedProject, requireTenantActor, type Actor, type TenantActor } from "../../access/actor.ts";
import { grants, isValidPermission, requirePermission } from "../../access/permissions.ts";
import { generateKey, keyPrefix, maskParts } from "../../crypto/key-format.ts";
import { seal, secretAad } from "../../crypto/envelope.ts";
import { sha256Hex } from "../../crypto/tokens.ts";
import type { Deps, RequestMeta } from "../../deps.ts";
import { AppError } from "../../errors.ts";
import type { ApiKey, Prisma as P } from "../../generated/prisma/client.ts";
import { recordAudit } from "../audit/service.ts";
import { lockLiveProject } from "../projects/live-project.ts";
import { parseInput } from "../validation.ts";
import { signKeyJwt } from "./jwt-key.ts";

const MAX_LIFETIME_SECONDS = 20 * 365 * 24 * 3600;
const uuid = z.uuid("must be a UUID");
const limit = z.number().int().min(1).max(1_000_000_000).nullable().optional();

export const generateKeyInput = z
  .object({
    name: z.string().trim().min(1, "must not be empty").max(200),
    description: z.string().max(2000).nullable().optional(),
    projectId: uuid.nullable().optional(),
    ownerId: uuid.nullable().optional(),
    permissions: z.array(z.string().refine(isValidPermission, "must be resource:action, resource:* or *")).max(200).nullable().optional(),
    expiresAt: z.date().nullable().optional(),
    lifetime: z.number().int().min(1).max(MAX_LIFETIME_SECONDS).nullable().optional(),
    rateLimit: z.object({ perMinute: limit, perHour: limit, perDay: limit }).nullable().optional(),
    /** DELETED only for Extractor's contract, which lets a key be created deleted. */
    status: z.enum(["ACTIVE", "DISABLED", "DELETED"]).nullable().optional(),
    format: z.enum(["OPAQUE", "JWT"]).nullable().optional(),
    test: z.boolean().nullable().optional(),
  })
  .superRefine((v, ctx) => {
    if (v.expiresAt && v.lifetime) ctx.addIssue({ code: "custom", path: ["lifetime"], message: "give expiresAt or lifetime, not both" });
    if (v.expiresAt && v.expiresAt.getTime() <= Date.now()) ctx.addIssue({ code: "custom", path: ["expiresAt"], message: "must be in the future" });
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

/** The user a tenant actor acts for (an API key acts for its owner, if any). */
function selfUserId(a: TenantActor): string | null {
  return a.kind === "user" ? a.userId : a.ownerId;
}

/** Owners, admins and integrator-level keys administer every key of the tenant. */
export const administersKeys = administersTenant;

/**
 * The filter of every key query, as conditions that are only ever combined (AND), never
 * spread into an object where a later `id` or `projectId` could overwrite one. Administrators
 * see the tenant; members and their keys see the keys they own or made; a key bound to no
 * one sees the keys it minted; a key in a project sees nothing outside it.
 */
export function keyScope(a: TenantActor): P.ApiKeyWhereInput {
  if (administersKeys(a)) return { tenantId: a.tenantId };
  const conditions: P.ApiKeyWhereInput[] = [{ tenantId: a.tenantId }];
  const project = confinedProject(a);
  if (project) conditions.push({ projectId: project });
  const self = selfUserId(a);
  if (self) conditions.push({ OR: [{ ownerId: self }, { createdById: self }] });
  else if (a.kind === "apiKey") conditions.push({ createdByKeyId: a.keyId });
  else conditions.push({ id: { in: [] } });
  return { AND: conditions };
}

/** One key by id inside the actor's scope. */
function keyById(a: TenantActor, id: string): P.ApiKeyWhereInput {
  return { AND: [keyScope(a), { id }] };
}

/** A key ready to insert: validated, authorized, generated. Nothing is written yet. */
interface PreparedKey {
  data: P.ApiKeyUncheckedCreateInput & { id: string; permissions: string[] };
  key: string;
  secret?: string;
}

async function prepareKey(deps: Deps, a: TenantActor, raw: GenerateKeyInput, kind: KeyKind): Promise<PreparedKey> {
  requirePermission(a, "keys:write");
  const input = parseInput(generateKeyInput, raw);
  const admin = administersKeys(a);
  const self = selfUserId(a);

  // A credential in a project creates credentials in that project only.
  const confined = confinedProject(a);
  const projectId = input.projectId ?? confined;
  if (confined && projectId !== confined) throw new AppError("FORBIDDEN", "projectId: this key creates keys in its own project only");

  // Who the key belongs to. People and user-bound keys make keys bound to themselves unless
  // they administer the tenant; a key bound to no one makes keys bound to no one, within its
  // own permissions and project (checked below), never for a person.
  let ownerId = input.ownerId ?? null;
  if (!ownerId && !admin) ownerId = self;
  if (ownerId && !admin && ownerId !== self) throw new AppError("FORBIDDEN", "ownerId: only owners and admins create keys for others");

  let permissions: string[];
  if (ownerId) {
    const owner = await deps.prisma.user.findFirst({ where: { id: ownerId, tenantId: a.tenantId, disabledAt: null } });
    if (!owner) throw new AppError("USER_NOT_FOUND", "ownerId: no such user");
    permissions = input.permissions ?? [];
    const ownerPermissions = owner.role === "MEMBER" ? owner.permissions : ["*"];
    const beyond = permissions.find((p) => !grants(ownerPermissions, p) || !grants(a.permissions, p));
    if (beyond) throw new AppError("FORBIDDEN", `permissions: ${beyond} exceeds what the owner may do`);
  } else {
    permissions = input.permissions ?? (kind === "PROJECT_KEY" ? [] : a.permissions);
    const beyond = permissions.find((p) => !grants(a.permissions, p));
    if (beyond) throw new AppError("FORBIDDEN", `permissions: ${beyond} exceeds the caller's permissions`);
  }

  if (projectId) {
    const project = await deps.prisma.project.findFirst({ where: { id: projectId, tenantId: a.tenantId, deletedAt: null } });
    if (!project) throw new AppError("PROJECT_NOT_FOUND", "projectId: project not found");
  }
  if (kind === "PROJECT_KEY" && !projectId) throw AppError.validation("projectId", "is required for project keys");

  const tenant = await deps.prisma.tenant.findUniqueOrThrow({ where: { id: a.tenantId } });
  const id = randomUUID();
  const now = new Date();
  const expiresAt = input.expiresAt ?? (input.lifetime ? new Date(now.getTime() + input.lifetime * 1000) : null);
  const format = input.format ?? "OPAQUE";
  const key =
    format === "JWT"
      ? await signKeyJwt(deps.config, { keyId: id, tenantId: a.tenantId, subject: ownerId ?? a.tenantId, issuedAt: now, expiresAt })
      : generateKey(keyPrefix(tenant.keyPrefix, input.test ?? false));
  const secret = kind === "SECURE_API_KEY" ? randomBytes(32).toString("hex") : undefined;
  const sealed = secret ? seal(deps.config.encryptionKeys, secret, secretAad(a.tenantId, id)) : undefined;
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

type Tx = Parameters<Parameters<Deps["prisma"]["$transaction"]>[0]>[0];

/** Inserts a prepared key with its audit event, inside the caller's transaction. */
async function insertKey(tx: Tx, a: TenantActor, prepared: PreparedKey, meta?: RequestMeta) {
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

export async function generateApiKey(
  deps: Deps,
  actor: Actor,
  raw: GenerateKeyInput,
  options: { kind?: KeyKind; meta?: RequestMeta } = {},
): Promise<GeneratedKey> {
  const a = requireTenantActor(actor);
  const prepared = await prepareKey(deps, a, raw, options.kind ?? "API_KEY");
  const apiKey = await deps.prisma.$transaction((tx) => insertKey(tx, a, prepared, options.meta));
  return { apiKey, key: prepared.key, secret: prepared.secret };
}

export function generateSecureApiKey(deps: Deps, actor: Actor, raw: GenerateKeyInput, meta?: RequestMeta) {
  return generateApiKey(deps, actor, raw, { kind: "SECURE_API_KEY", meta }) as Promise<Required<GeneratedKey>>;
}

const keyNotFound = () => new AppError("KEY_NOT_FOUND", "key not found");

async function findOwnKey(deps: Deps, a: TenantActor, id: string) {
  if (!uuid.safeParse(id).success) throw keyNotFound();
  const key = await deps.prisma.apiKey.findFirst({ where: keyById(a, id) });
  if (!key) throw keyNotFound();
  return key;
}

export async function findKeys<Q extends Omit<P.ApiKeyFindManyArgs, "where" | "orderBy">>(
  deps: Deps,
  actor: Actor,
  filter: { status?: ApiKey["status"] | null; projectId?: string | null; ownerId?: string | null; kind?: KeyKind | null },
  query: Q,
) {
  const a = requireTenantActor(actor);
  requirePermission(a, "keys:read");
  for (const [field, value] of [["projectId", filter.projectId], ["ownerId", filter.ownerId]] as const) {
    if (value && !uuid.safeParse(value).success) throw AppError.validation(field, "must be a UUID");
  }
  const where: P.ApiKeyWhereInput = { AND: [keyScope(a)] };
  if (filter.status) where.status = filter.status;
  if (filter.projectId) where.projectId = filter.projectId;
  if (filter.ownerId) where.ownerId = filter.ownerId;
  if (filter.kind) where.kind = filter.kind;
  return deps.prisma.apiKey.findMany({ ...query, where, orderBy: [{ createdAt: "desc" }, { id: "desc" }] });
}

export async function findKey<Q extends Omit<P.ApiKeyFindFirstArgs, "where">>(deps: Deps, actor: Actor, id: string, query?: Q) {
  const a = requireTenantActor(actor);
  requirePermission(a, "keys:read");
  if (!uuid.safeParse(id).success) return null;
  return deps.prisma.apiKey.findFirst({ ...(query ?? {}), where: keyById(a, id) });
}

async function changeStatus(
  deps: Deps,
  actor: Actor,
  id: string,
  change: { from: ApiKey["status"][]; data: P.ApiKeyUpdateManyMutationInput; action: string; metadata?: P.InputJsonValue },
  meta?: RequestMeta,
) {
  const a = requireTenantActor(actor);
  requirePermission(a, "keys:write");
  const key = await findOwnKey(deps, a, id);
  const updated = await deps.prisma.$transaction(async (tx) => {
    const { count } = await tx.apiKey.updateMany({ where: { id: key.id, status: { in: change.from } }, data: change.data });
    if (count === 0) {
      const current = await tx.apiKey.findUniqueOrThrow({ where: { id: key.id } });
      throw new AppError("CONFLICT", `key is ${current.status.toLowerCase()}`);
    }
    await recordAudit(tx, a, {
      tenantId: a.tenantId,
      action: change.action,
      targetType: "ApiKey",
      targetId: key.id,
      metadata: change.metadata,
      ip: meta?.ip,
      requestId: meta?.requestId,
    });
    return tx.apiKey.findUniqueOrThrow({ where: { id: key.id } });
  });
  deps.keys.invalidate(key.id);
  return updated;
}

export function revokeKey(deps: Deps, actor: Actor, id: string, reason?: string | null, meta?: RequestMeta) {
  const text = reason?.trim().slice(0, 500) || null;
  return changeStatus(
    deps,
    actor,
    id,
    {
      from: ["ACTIVE", "DISABLED"],
      data: {
        status: "REVOKED",
        revokedAt: new Date(),
        revokeReason: text,
        revokedById: actor.kind === "user" ? actor.userId : null,
      },
      action: "key.revoke",
      metadata: { reason: text },
    },
    meta,
  );
}

export function disableKey(deps: Deps, actor: Actor, id: string, meta?: RequestMeta) {
  return changeStatus(deps, actor, id, { from: ["ACTIVE"], data: { status: "DISABLED" }, action: "key.disable" }, meta);
}

export function enableKey(deps: Deps, actor: Actor, id: string, meta?: RequestMeta) {
  return changeStatus(deps, actor, id, { from: ["DISABLED"], data: { status: "ACTIVE" }, action: "key.enable" }, meta);
}

/**
 * Issues a successor with the same settings and lets the old key live for the grace period
 * (0: it stops at once). The successor's insert and the old key's change are one transaction,
 * conditional on the old key still being usable: two concurrent rotations cannot both win.
 */
export async function rotateKey(deps: Deps, actor: Actor, id: string, gracePeriodSeconds = 0, meta?: RequestMeta) {
  const a = requireTenantActor(actor);
  requirePermission(a, "keys:write");
  if (!Number.isInteger(gracePeriodSeconds) || gracePeriodSeconds < 0 || gracePeriodSeconds > 30 * 86400) {
    throw AppError.validation("gracePeriodSeconds", "must be an integer from 0 to 2592000");
  }
  const old = await findOwnKey(deps, a, id);
  if (old.status !== "ACTIVE" && old.status !== "DISABLED") throw new AppError("CONFLICT", `key is ${old.status.toLowerCase()}`);
  const now = new Date();
  const prepared = await prepareKey(
    deps,
    a,
    {
      name: old.name,
      description: old.description,
      projectId: old.projectId,
      ownerId: old.ownerId,
      permissions: old.permissions,
      lifetime: old.lifetime,
      expiresAt: old.lifetime ? null : old.expiresAt && old.expiresAt > now ? old.expiresAt : null,
      rateLimit: { perMinute: old.rateLimitPerMinute, perHour: old.rateLimitPerHour, perDay: old.rateLimitPerDay },
      status: old.status,
      format: old.format,
      test: old.isTest,
    },
    old.kind,
  );
  prepared.data.rotatedFromId = old.id;
  const graceEnd = new Date(now.getTime() + gracePeriodSeconds * 1000);
  const data: P.ApiKeyUpdateManyMutationInput = {
    // Written explicitly: it is the version the conditional update below compares.
    updatedAt: new Date(Math.max(now.getTime(), old.updatedAt.getTime() + 1)),
    ...(gracePeriodSeconds === 0
      ? { status: "REVOKED" as const, revokedAt: now, revokeReason: "rotated", revokedById: a.kind === "user" ? a.userId : null }
      : { expiresAt: old.expiresAt && old.expiresAt < graceEnd ? old.expiresAt : graceEnd }),
  };
  const { apiKey, previous } = await deps.prisma.$transaction(async (tx) => {
    // updatedAt as a version: a concurrent rotation (or any change) since the read makes this match nothing.
    const { count } = await tx.apiKey.updateMany({ where: { id: old.id, status: { in: ["ACTIVE", "DISABLED"] }, updatedAt: old.updatedAt }, data });
    if (count === 0) throw new AppError("CONFLICT", "key changed while rotating it; retry");
    // A key in its grace period has its successor already: rotate that one instead.
    if (await tx.apiKey.count({ where: { rotatedFromId: old.id } })) throw new AppError("CONFLICT", "key was already rotated");
    const created = await insertKey(tx, a, prepared, meta);
    await recordAudit(tx, a, {
      tenantId: a.tenantId,
      action: "key.rotate",
      targetType: "ApiKey",
      targetId: old.id,
      metadata: { successorId: created.id, gracePeriodSeconds },
      ip: meta?.ip,
      requestId: meta?.requestId,
    });
    return { apiKey: created, previous: await tx.apiKey.findUniqueOrThrow({ where: { id: old.id } }) };
  });
  deps.keys.invalidate(old.id);
  return { apiKey, key: prepared.key, secret: prepared.secret, previous };
}
