// Random tokens, hashes and constant-time comparison for every secret Keygate handles.
import { hash, randomBytes, timingSafeEqual } from "node:crypto";

/** A URL-safe random token with `bytes` bytes of CSPRNG entropy. */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString("base64url");
}

/** One-shot (crypto.hash): a fifth of createHash's cost, and every verification hashes its key. */
export function sha256Hex(value: string | Uint8Array): string {
  return hash("sha256", value, "hex");
}

/** Constant-time equality of two strings (length leaks, content does not). */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  if (left.length !== right.length) {
    timingSafeEqual(left, left);
    return false;
  }
  return timingSafeEqual(left, right);
}
