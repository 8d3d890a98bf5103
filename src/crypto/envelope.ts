// AES-256-GCM for secrets at rest under a versioned ENCRYPTION_KEY. The ciphertext is
// bound (AAD) to what it belongs to, so a row's secret copied into another row fails.
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import type { EncryptionKey } from "../config.ts";
import { AppError } from "../errors.ts";

export interface Sealed {
  ciphertext: string;
  keyVersion: number;
}

/** `<iv>.<ciphertext>.<tag>`, base64url each; the key version is stored beside it. */
export function seal(keys: EncryptionKey[], plaintext: string | Buffer, aad: string): Sealed {
  const current = keys[0];
  if (!current) throw new AppError("INTERNAL", "no encryption key is configured");
  const { version, key } = current;
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(Buffer.from(aad));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const tag = cipher.getAuthTag();
  return {
    ciphertext: [iv, body, tag].map((b) => b.toString("base64url")).join("."),
    keyVersion: version,
  };
}

export function open(keys: EncryptionKey[], sealed: Sealed, aad: string): Buffer {
  const entry = keys.find((k) => k.version === sealed.keyVersion);
  if (!entry)
    throw new AppError("INTERNAL", `encryption key v${sealed.keyVersion} is not configured`);
  const [iv, body, tag] = sealed.ciphertext.split(".").map((p) => Buffer.from(p, "base64url"));
  try {
    if (!iv || !body || !tag) throw new Error("ciphertext is not <iv>.<ciphertext>.<tag>");
    const decipher = createDecipheriv("aes-256-gcm", entry.key, iv);
    decipher.setAAD(Buffer.from(aad));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(body), decipher.final()]);
  } catch {
    throw new AppError("INTERNAL", "ciphertext failed authentication");
  }
}

/** The AAD of a key's signing secret. */
export function secretAad(tenantId: string, keyId: string): string {
  return `keygate:api-key-secret:${tenantId}:${keyId}`;
}
