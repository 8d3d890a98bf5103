// Project keys (seed 004): several active keys per project for zero-downtime rotation,
// and RSA or PGP key pairs whose private key comes back encrypted with a passphrase.
// The server keeps the public key, the fingerprint and the passphrase-encrypted private
// key sealed again under ENCRYPTION_KEY; never a plaintext private key or passphrase.
import { randomUUID } from "node:crypto";
import { z } from "zod";
import {
  confinedProject,
  requireTenantActor,
  type Actor,
  type TenantActor,
} from "../../access/actor.ts";
import { requirePermission } from "../../access/permissions.ts";
import { seal } from "../../crypto/envelope.ts";
import {
  generatePgpKeyPair,
  generateRsaKeyPair,
  type GeneratedKeyPair,
} from "../../crypto/key-pairs.ts";
import { randomToken } from "../../crypto/tokens.ts";
import type { Deps, RequestMeta } from "../../deps.ts";
import { AppError } from "../../errors.ts";
import type { ApiKey, KeyPair } from "../../generated/prisma/client.ts";
import { recordAudit } from "../audit/service.ts";
import { parseInput } from "../validation.ts";
import { administersKeys, generateKeyOfKind, keyScope, revokeKey } from "../keys/service.ts";
import { lockLiveProject, requireVisibleProject } from "../projects/live-project.ts";

const ONE_YEAR_MS = 365 * 24 * 3600 * 1000;

const projectKeyInput = z
  .object({
    projectId: z.uuid("must be a UUID"),
    name: z.string().trim().min(1, "must not be empty").max(200).nullable().optional(),
    description: z.string().max(2000).nullable().optional(),
    isActive: z.boolean().nullable().optional(),
    type: z.enum(["API_KEY", "TRANSACTION_RSA", "FILE_CONTENT_PGP"]).nullable().optional(),
    expiresAt: z.date().nullable().optional(),
    passphrase: z
      .string()
      .min(12, "must be at least 12 characters")
      .max(1024)
      .nullable()
      .optional(),
    rsaBits: z
      .union([z.literal(3072), z.literal(4096)])
      .nullable()
      .optional(),
    pgpAlgorithm: z.enum(["CURVE25519", "RSA_4096"]).nullable().optional(),
    /** What an API_KEY project key may do; none unless given (never more than the caller's). */
    permissions: z.array(z.string()).max(200).nullable().optional(),
  })
  .superRefine((v, ctx) => {
    if (v.expiresAt && v.expiresAt.getTime() <= Date.now())
      ctx.addIssue({ code: "custom", path: ["expiresAt"], message: "must be in the future" });
  });

export type ProjectKeyInput = z.input<typeof projectKeyInput>;

export type GeneratedProjectKey =
  | { type: "API_KEY"; apiKey: ApiKey; keyValue: string }
  | {
      type: "TRANSACTION_RSA" | "FILE_CONTENT_PGP";
      keyPair: KeyPair;
      encryptedPrivateKey: string;
      passphrase?: string;
    };

export function privateKeyAad(tenantId: string, keyPairId: string): string {
  return `keygate:key-pair-private:${tenantId}:${keyPairId}`;
}

const requireProject = (deps: Deps, a: TenantActor, projectId: string) =>
  requireVisibleProject(deps.prisma, a, projectId);

export async function generateProjectKey(
  deps: Deps,
  actor: Actor,
  raw: ProjectKeyInput,
  meta?: RequestMeta,
): Promise<GeneratedProjectKey> {
  const a = requireTenantActor(actor);
  requirePermission(a, "keys:write");
  const input = parseInput(projectKeyInput, raw);
  const project = await requireProject(deps, a, input.projectId);
  // Project keys act for the project, not for a person: administrators only.
  if (!administersKeys(a))
    throw new AppError("FORBIDDEN", "only owners and admins generate project keys");
  const type = input.type ?? "API_KEY";
  const name = input.name ?? `${project.name} key`;

  if (type === "API_KEY") {
    const { apiKey, key } = await generateKeyOfKind(
      deps,
      a,
      {
        name,
        description: input.description,
        projectId: project.id,
        status: input.isActive === false ? "DISABLED" : "ACTIVE",
        expiresAt: input.expiresAt,
        permissions: input.permissions ?? [],
      },
      "PROJECT_KEY",
      meta,
    );
    return { type, apiKey, keyValue: key };
  }

  const passphrase = input.passphrase ?? randomToken(24);
  const expiresAt = input.expiresAt ?? new Date(Date.now() + ONE_YEAR_MS);
  const id = randomUUID();
  const logContext = { keyPairId: id, projectId: project.id, name, type };
  deps.logger.info(logContext, "key pair generation started");
  let pair: GeneratedKeyPair;
  if (type === "TRANSACTION_RSA") {
    pair = await generateRsaKeyPair(input.rsaBits ?? 4096, passphrase);
  } else {
    pair = await generatePgpKeyPair(
      input.pgpAlgorithm ?? "CURVE25519",
      passphrase,
      { name: `${project.name}: ${name}` },
      expiresAt,
    );
  }
  deps.logger.info(logContext, "key pair generation finished");
  const sealed = seal(
    deps.config.encryptionKeys,
    pair.encryptedPrivateKey,
    privateKeyAad(a.tenantId, id),
  );
  const keyPair = await deps.prisma.$transaction(async (tx) => {
    // Generation took seconds: the project may have been deleted meanwhile.
    await lockLiveProject(tx, a.tenantId, project.id);
    const created = await tx.keyPair.create({
      data: {
        id,
        tenantId: a.tenantId,
        projectId: project.id,
        createdById: a.kind === "user" ? a.userId : null,
        createdByKeyId: a.kind === "apiKey" ? a.keyId : null,
        name,
        description: input.description ?? null,
        type: type === "TRANSACTION_RSA" ? "RSA" : "PGP",
        algorithm: pair.algorithm,
        publicKey: pair.publicKey,
        fingerprint: pair.fingerprint,
        privateKeyCiphertext: sealed.ciphertext,
        privateKeyKeyVersion: sealed.keyVersion,
        status: input.isActive === false ? "DISABLED" : "ACTIVE",
        expiresAt,
      },
    });
    await recordAudit(tx, a, {
      tenantId: a.tenantId,
      action: "key_pair.create",
      targetType: "KeyPair",
      targetId: id,
      metadata: {
        projectId: project.id,
        type,
        algorithm: pair.algorithm,
        fingerprint: pair.fingerprint,
      },
      ip: meta?.ip,
      requestId: meta?.requestId,
    });
    return created;
  });
  return {
    type,
    keyPair,
    encryptedPrivateKey: pair.encryptedPrivateKey,
    passphrase: input.passphrase ? undefined : passphrase,
  };
}

export type ProjectKeyRow = { kind: "apiKey"; row: ApiKey } | { kind: "keyPair"; row: KeyPair };

/** A project's keys and key pairs, newest first, paged by offset. */
export async function listProjectKeys(
  deps: Deps,
  actor: Actor,
  projectId: string,
  page: { offset: number; limit: number },
) {
  const a = requireTenantActor(actor);
  requirePermission(a, "keys:read");
  await requireProject(deps, a, projectId);
  const take = page.offset + page.limit;
  // The same visibility as apiKeys: members see the keys they own or made; key pairs are
  // made by administrators and listed to them.
  const [keys, pairs] = await Promise.all([
    deps.prisma.apiKey.findMany({
      where: { AND: [keyScope(a), { projectId }] },
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      take,
    }),
    administersKeys(a)
      ? deps.prisma.keyPair.findMany({
          where: { tenantId: a.tenantId, projectId },
          orderBy: [{ createdAt: "desc" }, { id: "desc" }],
          take,
        })
      : Promise.resolve([]),
  ]);
  const merged: ProjectKeyRow[] = [
    ...keys.map((row) => ({ kind: "apiKey" as const, row })),
    ...pairs.map((row) => ({ kind: "keyPair" as const, row })),
  ].sort(
    (x, y) =>
      y.row.createdAt.getTime() - x.row.createdAt.getTime() || (x.row.id < y.row.id ? 1 : -1),
  );
  return merged.slice(page.offset, page.offset + page.limit);
}

/** How many keys and key pairs listProjectKeys pages through (a connection's totalCount). */
export async function countProjectKeys(deps: Deps, actor: Actor, projectId: string) {
  const a = requireTenantActor(actor);
  requirePermission(a, "keys:read");
  await requireProject(deps, a, projectId);
  const [keys, pairs] = await Promise.all([
    deps.prisma.apiKey.count({ where: { AND: [keyScope(a), { projectId }] } }),
    administersKeys(a)
      ? deps.prisma.keyPair.count({ where: { tenantId: a.tenantId, projectId } })
      : Promise.resolve(0),
  ]);
  return keys + pairs;
}

/** A key pair's public half, any time; null for an unknown or foreign id. */
export async function findKeyPair(deps: Deps, actor: Actor, id: string) {
  const a = requireTenantActor(actor);
  requirePermission(a, "keys:read");
  if (!z.uuid().safeParse(id).success) return null;
  const project = confinedProject(a);
  return deps.prisma.keyPair.findFirst({
    where: { id, tenantId: a.tenantId, ...(project ? { projectId: project } : {}) },
  });
}

/** revokeKey's second half: a key pair of the caller's tenant, or null when there is none. */
async function revokeKeyPair(
  deps: Deps,
  a: TenantActor,
  id: string,
  reason: string | null,
  meta?: RequestMeta,
) {
  if (!administersKeys(a)) return null;
  const pair = await deps.prisma.keyPair.findFirst({ where: { id, tenantId: a.tenantId } });
  if (!pair) return null;
  return deps.prisma.$transaction(async (tx) => {
    const { count } = await tx.keyPair.updateMany({
      where: { id, status: { in: ["ACTIVE", "DISABLED"] } },
      data: {
        status: "REVOKED",
        revokedAt: new Date(),
        revokeReason: reason,
        revokedById: a.kind === "user" ? a.userId : null,
      },
    });
    if (count === 0) throw new AppError("CONFLICT", `key pair is ${pair.status.toLowerCase()}`);
    await recordAudit(tx, a, {
      tenantId: a.tenantId,
      action: "key_pair.revoke",
      targetType: "KeyPair",
      targetId: id,
      metadata: { reason },
      ip: meta?.ip,
      requestId: meta?.requestId,
    });
    return tx.keyPair.findUniqueOrThrow({ where: { id } });
  });
}

/** revokeKey for every credential kind: an API key (project keys included) or a key pair. */
export async function revokeCredential(
  deps: Deps,
  actor: Actor,
  { id, reason }: { id: string; reason?: string | null },
  meta?: RequestMeta,
) {
  try {
    return { kind: "apiKey" as const, row: await revokeKey(deps, actor, { id, reason }, meta) };
  } catch (error) {
    if (!(error instanceof AppError) || error.code !== "KEY_NOT_FOUND") throw error;
  }
  const a = requireTenantActor(actor);
  const pair = z.uuid().safeParse(id).success
    ? await revokeKeyPair(deps, a, id, reason?.trim().slice(0, 500) || null, meta)
    : null;
  if (!pair) throw new AppError("KEY_NOT_FOUND", "key not found");
  return { kind: "keyPair" as const, row: pair };
}
