// Signed requests of secure keys:
//   Keygate-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<METHOD>.<path and query>.<hex SHA-256 of body>")>
// Rejected: a timestamp more than 300 s away, a signature seen before inside the window (on
// any instance: the one-use record lives in the database), any change to method, path, query
// or body, a malformed header.
import { createHmac } from "node:crypto";
import type { Deps } from "../deps.ts";
import { AppError } from "../errors.ts";
import { constantTimeEqual, sha256Hex } from "../crypto/tokens.ts";

export const SIGNATURE_HEADER = "keygate-signature";
const SIGNATURE_TOLERANCE_SECONDS = 300;

export interface SignedRequest {
  method: string;
  /** Path and query exactly as sent, e.g. `/api/v3/health?x=1`. */
  pathAndQuery: string;
  /** Hex SHA-256 of the body as sent (of nothing for a request without a body). */
  bodySha256: string;
  header: string | null;
}

function signingPayload(
  t: number | string,
  method: string,
  pathAndQuery: string,
  bodySha256: string,
): string {
  return `${t}.${method.toUpperCase()}.${pathAndQuery}.${bodySha256.toLowerCase()}`;
}

/** For clients and tests: the header value for a request. */
export function signRequest(
  secret: string,
  method: string,
  pathAndQuery: string,
  body: Uint8Array | string = "",
  t = Math.floor(Date.now() / 1000),
): string {
  const v1 = createHmac("sha256", secret)
    .update(signingPayload(t, method, pathAndQuery, sha256Hex(body)))
    .digest("hex");
  return `t=${t},v1=${v1}`;
}

const invalid = () => new AppError("INVALID_SIGNATURE", "invalid request signature");

export async function verifySignature(
  deps: Pick<Deps, "prisma">,
  keyId: string,
  secret: string,
  request: SignedRequest,
): Promise<void> {
  const match = /^t=(\d{1,12}),v1=([0-9a-f]{64})$/.exec(request.header?.trim() ?? "");
  const signature = match?.[2];
  if (!match || signature === undefined || !/^[0-9a-fA-F]{64}$/.test(request.bodySha256))
    throw invalid();
  const t = Number(match[1]);
  const now = Date.now();
  if (Math.abs(Math.floor(now / 1000) - t) > SIGNATURE_TOLERANCE_SECONDS) throw invalid();
  const expected = createHmac("sha256", secret)
    .update(signingPayload(t, request.method, request.pathAndQuery, request.bodySha256))
    .digest("hex");
  if (!constantTimeEqual(expected, signature)) throw invalid();
  // One use per signature, recorded where every instance sees it. Kept until the timestamp
  // leaves the window: after that the signature is refused for its age anyway.
  const keepUntil = new Date((t + SIGNATURE_TOLERANCE_SECONDS + 1) * 1000);
  const inserted = await deps.prisma.$executeRaw`
    INSERT INTO "SignatureUse" ("keyId", "signature", "expiresAt")
    VALUES (${keyId}::uuid, ${signature}, ${keepUntil})
    ON CONFLICT DO NOTHING`;
  if (inserted !== 1) throw invalid();
}

/** Forgets signatures whose timestamps are past the window. */
export async function sweepSignatureUses(deps: Pick<Deps, "prisma">): Promise<number> {
  return deps.prisma.$executeRaw`DELETE FROM "SignatureUse" WHERE "expiresAt" < now()`;
}
