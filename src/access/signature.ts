// Signed requests of secure keys:
//   Keygate-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<METHOD>.<path and query>.<hex SHA-256 of body>")>
// Rejected: a timestamp more than 300 s away, a signature seen before inside the window (on
// any instance: the one-use record lives in the database), any change to method, path, query
// or body, a malformed header.
//
// On the Kotani routes a secure key may sign the way Kotani documents instead:
//   x-timestamp: <unix seconds or milliseconds>, x-nonce: <single use per key>,
//   x-signature: <hex HMAC-SHA256(secret, "<x-timestamp>.<x-nonce>.<compact JSON body>")>
// (for a GET: "<x-timestamp>.<x-nonce>.<last path segment>"). Same window; the nonce is
// recorded once per key in the same table, so a second use fails on every instance.
import { AsyncLocalStorage } from "node:async_hooks";
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
  const kotani = request.header === null ? kotaniSigning.getStore() : undefined;
  if (kotani) return verifyKotaniSignature(deps, keyId, secret, kotani);
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
  await useOnce(deps, keyId, signature, t);
}

/** Records a one-use value for the key until `t` leaves the window; a second use is refused. */
async function useOnce(deps: Pick<Deps, "prisma">, keyId: string, value: string, t: number) {
  const keepUntil = new Date((t + SIGNATURE_TOLERANCE_SECONDS + 1) * 1000);
  const inserted = await deps.prisma.$executeRaw`
    INSERT INTO "SignatureUse" ("keyId", "signature", "expiresAt")
    VALUES (${keyId}::uuid, ${value}, ${keepUntil})
    ON CONFLICT DO NOTHING`;
  if (inserted !== 1) throw invalid();
}

// ---- Kotani's signing headers ----

export const KOTANI_SIGNATURE_HEADERS = {
  timestamp: "x-timestamp",
  nonce: "x-nonce",
  signature: "x-signature",
} as const;

export interface KotaniSigning {
  timestamp: string | null;
  nonce: string | null;
  signature: string | null;
  /** What was signed after the nonce: the compact JSON body, or a GET's last path segment. */
  content: () => Promise<string>;
}

// Authentication only sees a Keygate-Signature header: the Kotani route runs it inside this
// context, and a secure key without Keygate-Signature is then checked against Kotani's headers.
const kotaniSigning = new AsyncLocalStorage<KotaniSigning>();

/** Runs `authenticate` so that a secure key may prove itself with Kotani's headers. */
export function withKotaniSigning<T>(signing: KotaniSigning, run: () => Promise<T>): Promise<T> {
  return kotaniSigning.run(signing, run);
}

/** For clients and tests: the x-signature of a request. */
export function signKotaniRequest(
  secret: string,
  timestamp: string | number,
  nonce: string,
  content: string,
): string {
  return createHmac("sha256", secret).update(`${timestamp}.${nonce}.${content}`).digest("hex");
}

/** What a Kotani signature covers after the nonce: a GET's (or HEAD's) last path segment, else the body as compact JSON. */
export function kotaniSignedContent(method: string, path: string, body: string): string {
  if (method === "GET" || method === "HEAD") return path.split("/").filter(Boolean).at(-1) ?? "";
  if (!body.trim()) return "{}";
  try {
    return JSON.stringify(JSON.parse(body));
  } catch {
    return body;
  }
}

const NONCE = /^[A-Za-z0-9._:-]{1,128}$/;

async function verifyKotaniSignature(
  deps: Pick<Deps, "prisma">,
  keyId: string,
  secret: string,
  signing: KotaniSigning,
): Promise<void> {
  const { timestamp, nonce, signature } = signing;
  if (
    !timestamp ||
    !/^\d{1,13}$/.test(timestamp) ||
    !nonce ||
    !NONCE.test(nonce) ||
    !signature ||
    !/^[0-9a-fA-F]{64}$/.test(signature)
  )
    throw invalid();
  // Milliseconds (what Date.now() gives) or seconds.
  const value = Number(timestamp);
  const t = value > 1e11 ? Math.floor(value / 1000) : value;
  if (Math.abs(Math.floor(Date.now() / 1000) - t) > SIGNATURE_TOLERANCE_SECONDS) throw invalid();
  const expected = signKotaniRequest(secret, timestamp, nonce, await signing.content());
  if (!constantTimeEqual(expected, signature.toLowerCase())) throw invalid();
  await useOnce(deps, keyId, `nonce:${nonce}`, t);
}

/** Forgets signatures whose timestamps are past the window. */
export async function sweepSignatureUses(deps: Pick<Deps, "prisma">): Promise<number> {
  return deps.prisma.$executeRaw`DELETE FROM "SignatureUse" WHERE "expiresAt" < now()`;
}
