// Opening a secure key's signing secret, for signature checks and exchanges.
import { open, secretAad } from "../../crypto/envelope.ts";
import type { Deps } from "../../deps.ts";
import { AppError } from "../../errors.ts";
import type { CachedKey } from "./runtime.ts";

/**
 * The signing secret of a secure key. A secret that does not open (tampered row, retired
 * encryption key) is logged for the operator and makes the key unusable: the caller gets
 * the same answer as for any bad credential.
 */
export function keySecret(
  deps: Pick<Deps, "config" | "logger">,
  key: Pick<CachedKey, "id" | "tenantId" | "secretCiphertext" | "secretKeyVersion">,
): string {
  try {
    if (!key.secretCiphertext || key.secretKeyVersion == null) throw new Error("key has no secret");
    return open(
      deps.config.encryptionKeys,
      { ciphertext: key.secretCiphertext, keyVersion: key.secretKeyVersion },
      secretAad(key.tenantId, key.id),
    ).toString();
  } catch (error) {
    deps.logger.error(
      { keyId: key.id, keyVersion: key.secretKeyVersion, reason: (error as Error).message },
      "signing secret does not decrypt",
    );
    throw new AppError("UNAUTHENTICATED", "invalid api key or secret");
  }
}
