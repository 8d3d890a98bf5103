// ENCRYPTION_KEY rotation: rows sealed under an older key version are opened with it and
// sealed again under the current one, one row per transaction-free update (each row is
// self-contained: ciphertext and version change together in one statement).
import { open, seal, secretAad } from "../../crypto/envelope.ts";
import type { Deps } from "../../deps.ts";
import { privateKeyAad } from "../project-keys/service.ts";

export interface ReencryptReport {
  currentVersion: number;
  apiKeySecrets: number;
  keyPairPrivateKeys: number;
  /** Rows per key version after the run: once only the current version remains, older keys can be retired. */
  remainingByVersion: Record<string, number>;
  /** Rows whose ciphertext did not open (tampered, or sealed under a key no longer configured). */
  failed: string[];
}

export async function reencryptSecrets(
  deps: Pick<Deps, "prisma" | "config" | "keys">,
  batchSize = 200,
): Promise<ReencryptReport> {
  const keys = deps.config.encryptionKeys;
  const current = keys[0]?.version;
  if (current === undefined) throw new Error("ENCRYPTION_KEY: no key is configured");
  let apiKeySecrets = 0;
  let keyPairPrivateKeys = 0;
  const failed: string[] = [];
  // A row that does not open is reported and skipped, never allowed to stop the rotation.
  const reseal = (ciphertext: string, keyVersion: number, aad: string, id: string) => {
    try {
      return seal(keys, open(keys, { ciphertext, keyVersion }, aad), aad);
    } catch {
      failed.push(id);
      return null;
    }
  };

  for (;;) {
    const rows = await deps.prisma.apiKey.findMany({
      where: {
        secretCiphertext: { not: null },
        secretKeyVersion: { not: current },
        id: { notIn: failed },
      },
      select: { id: true, tenantId: true, secretCiphertext: true, secretKeyVersion: true },
      take: batchSize,
    });
    if (rows.length === 0) break;
    for (const row of rows) {
      // The query selects rows with a secret; the check only tells the compiler so.
      if (row.secretCiphertext === null || row.secretKeyVersion === null) continue;
      const sealed = reseal(
        row.secretCiphertext,
        row.secretKeyVersion,
        secretAad(row.tenantId, row.id),
        row.id,
      );
      if (!sealed) continue;
      // Only if nobody changed the row meanwhile.
      const { count } = await deps.prisma.apiKey.updateMany({
        where: { id: row.id, secretKeyVersion: row.secretKeyVersion },
        data: { secretCiphertext: sealed.ciphertext, secretKeyVersion: sealed.keyVersion },
      });
      apiKeySecrets += count;
      // Cached copies hold the old ciphertext: still readable while its key version is
      // configured, but dropped so that no instance depends on the version about to go.
      if (count) deps.keys.invalidate(row.id);
    }
  }

  for (;;) {
    const rows = await deps.prisma.keyPair.findMany({
      where: { privateKeyKeyVersion: { not: current }, id: { notIn: failed } },
      select: { id: true, tenantId: true, privateKeyCiphertext: true, privateKeyKeyVersion: true },
      take: batchSize,
    });
    if (rows.length === 0) break;
    for (const row of rows) {
      const sealed = reseal(
        row.privateKeyCiphertext,
        row.privateKeyKeyVersion,
        privateKeyAad(row.tenantId, row.id),
        row.id,
      );
      if (!sealed) continue;
      const { count } = await deps.prisma.keyPair.updateMany({
        where: { id: row.id, privateKeyKeyVersion: row.privateKeyKeyVersion },
        data: { privateKeyCiphertext: sealed.ciphertext, privateKeyKeyVersion: sealed.keyVersion },
      });
      keyPairPrivateKeys += count;
    }
  }

  const remainingByVersion: Record<string, number> = {};
  const secretGroups = await deps.prisma.apiKey.groupBy({
    by: ["secretKeyVersion"],
    where: { secretCiphertext: { not: null } },
    _count: true,
  });
  for (const g of secretGroups)
    remainingByVersion[`v${g.secretKeyVersion}`] =
      (remainingByVersion[`v${g.secretKeyVersion}`] ?? 0) + g._count;
  const pairGroups = await deps.prisma.keyPair.groupBy({
    by: ["privateKeyKeyVersion"],
    _count: true,
  });
  for (const g of pairGroups)
    remainingByVersion[`v${g.privateKeyKeyVersion}`] =
      (remainingByVersion[`v${g.privateKeyKeyVersion}`] ?? 0) + g._count;
  return { currentVersion: current, apiKeySecrets, keyPairPrivateKeys, remainingByVersion, failed };
}
