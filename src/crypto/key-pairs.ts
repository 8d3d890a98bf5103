// RSA (node:crypto) and PGP (openpgp v6) key pairs. Generation runs off the event loop
// (libuv's thread pool, or WebCrypto), so a 4096-bit key does not stall other requests.
// The private key leaves here only encrypted with the passphrase.
import { createHash, createPrivateKey, generateKeyPair } from "node:crypto";
import { promisify } from "node:util";
import * as openpgp from "openpgp";

const generateKeyPairAsync = promisify(generateKeyPair);

export interface GeneratedKeyPair {
  algorithm: string;
  publicKey: string;
  /** Encrypted with the passphrase: PKCS#8 PEM (RSA) or an armored OpenPGP private key. */
  encryptedPrivateKey: string;
  fingerprint: string;
}

export type RsaBits = 3072 | 4096;
export type PgpAlgorithm = "CURVE25519" | "RSA_4096";

export async function generateRsaKeyPair(
  bits: RsaBits,
  passphrase: string,
): Promise<GeneratedKeyPair> {
  const { publicKey, privateKey } = await generateKeyPairAsync("rsa", {
    modulusLength: bits,
    publicExponent: 0x10001,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase },
  });
  const der = createHash("sha256")
    .update(Buffer.from(publicKey.replace(/-----[^-]+-----|\s+/g, ""), "base64"))
    .digest("hex");
  return {
    algorithm: `RSA-${bits}`,
    publicKey,
    encryptedPrivateKey: privateKey,
    fingerprint: `SHA256:${der}`,
  };
}

export async function generatePgpKeyPair(
  algorithm: PgpAlgorithm,
  passphrase: string,
  identity: { name: string; email?: string },
  expiresAt: Date | null,
): Promise<GeneratedKeyPair> {
  const keyExpirationTime = expiresAt
    ? Math.max(1, Math.floor((expiresAt.getTime() - Date.now()) / 1000))
    : 0;
  // CURVE25519 means a v4 key on the legacy curve25519 encodings (EdDSA primary, ECDH cv25519
  // subkey): GnuPG 2.2, still Debian's gpg, rejects the RFC 9580 Ed25519/X25519 algorithms
  // (27/25: "unsupported public-key algorithm") that openpgp's `type: "curve25519"` makes.
  const options =
    algorithm === "RSA_4096"
      ? ({ type: "rsa", rsaBits: 4096 } as const)
      : ({ type: "ecc", curve: "curve25519Legacy" } as const);
  const { privateKey, publicKey } = await openpgp.generateKey({
    ...options,
    userIDs: [identity.email ? identity : { name: identity.name }],
    passphrase,
    keyExpirationTime,
    format: "armored",
  });
  const parsed = await openpgp.readKey({ armoredKey: publicKey });
  return {
    algorithm: algorithm === "RSA_4096" ? "PGP RSA-4096" : "PGP curve25519",
    publicKey,
    encryptedPrivateKey: privateKey,
    fingerprint: parsed.getFingerprint().toUpperCase(),
  };
}

/** For tests and clients: decrypt an RSA private key with its passphrase (throws when wrong). */
export function openRsaPrivateKey(encryptedPem: string, passphrase: string) {
  return createPrivateKey({ key: encryptedPem, format: "pem", passphrase });
}
