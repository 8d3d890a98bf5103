// Signed requests of secure keys:
//   Keygate-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<METHOD>.<path and query>.<hex SHA-256 of body>")>
// Rejected: a timestamp more than 300 s away, a signature seen before inside the window,
// any change to method, path, query or body, a malformed header.
import { createHmac } from "node:crypto";
import type { Deps } from "../deps.ts";
import { AppError } from "../errors.ts";
import { constantTimeEqual, sha256Hex } from "../crypto/tokens.ts";

export const SIGNATURE_HEADER = "keygate-signature";
export const SIGNATURE_TOLERANCE_SECONDS = 300;

export interface SignedRequest {
  method: string;
  /** Path and query exactly as sent, e.g. `/api/v3/health?x=1`. */
  pathAndQuery: string;
  body: Uint8Array;
  header: string | null;
}

export function signingPayload(t: number | string, method: string, pathAndQuery: string, body: Uint8Array | string): string {
  return `${t}.${method.toUpperCase()}.${pathAndQuery}.${sha256Hex(body)}`;
}

/** For clients and tests: the header value for a request. */
export function signRequest(secret: string, method: string, pathAndQuery: string, body: Uint8Array | string = "", t = Math.floor(Date.now() / 1000)): string {
  const v1 = createHmac("sha256", secret).update(signingPayload(t, method, pathAndQuery, body)).digest("hex");
  return `t=${t},v1=${v1}`;
}

const invalid = () => new AppError("INVALID_SIGNATURE", "invalid request signature");

export async function verifySignature(deps: Deps, keyId: string, secret: string, request: SignedRequest): Promise<void> {
  const match = /^t=(\d{1,12}),v1=([0-9a-f]{64})$/.exec(request.header?.trim() ?? "");
  if (!match) throw invalid();
  const t = Number(match[1]);
  if (Math.abs(Math.floor(Date.now() / 1000) - t) > SIGNATURE_TOLERANCE_SECONDS) throw invalid();
  const expected = createHmac("sha256", secret).update(signingPayload(t, request.method, request.pathAndQuery, request.body)).digest("hex");
  if (!constantTimeEqual(expected, match[2])) throw invalid();
  // One use per signature: a one-point limiter keyed by it, held for the whole window both ways.
  try {
    await deps.limiters.consumeCustom("signature-replay", { points: 1, durationSeconds: 2 * SIGNATURE_TOLERANCE_SECONDS }, `${keyId}:${match[2]}`);
  } catch (error) {
    if (error instanceof AppError && error.code === "RATE_LIMITED") throw invalid();
    throw error;
  }
}
