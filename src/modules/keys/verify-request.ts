// Verification as the services behind the gateway ask for it, shared by REST and GraphQL:
// one input schema, one tenant decision, one answer shape.
import { isIP } from "node:net";
import { z } from "zod";
import type { Actor } from "../../access/actor.ts";
import type { Deps } from "../../deps.ts";
import { sha256Hex } from "../../crypto/tokens.ts";
import { parseInput } from "../validation.ts";
import type { CachedKey } from "./runtime.ts";
import { type Now, verifyKey, type VerifyResult } from "./verify.ts";

const EMPTY_BODY_SHA256 = sha256Hex("");

const verifySignatureInput = z.object({
  header: z
    .string()
    .min(1, "is required")
    .max(512)
    .describe("The request's Keygate-Signature header, as received."),
  method: z.string().regex(/^[A-Za-z]{1,16}$/, "must be an HTTP method"),
  path: z
    .string()
    .startsWith("/", "must start with /")
    .max(4096)
    .describe("Path and query exactly as the client sent them."),
  bodySha256: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, "must be a hex SHA-256")
    .optional()
    .describe("Hex SHA-256 of the request body; omitted: an empty body."),
});

export const verifyBody = z.object({
  key: z.string().min(1, "is required").max(4096),
  permissions: z.array(z.string().max(200)).max(100).optional(),
  /** Required for a secure key: without it the answer is SIGNATURE_REQUIRED and nothing is charged. */
  signature: verifySignatureInput.optional(),
  /** Required for a key with an IP allowlist: without it the answer is IP_NOT_ALLOWED. */
  clientIp: z
    .string()
    .max(64)
    .refine((ip) => isIP(ip) !== 0, "must be an IPv4 or IPv6 address")
    .optional()
    .describe(
      "The address of the client the key came from, as the service behind the gateway saw it.",
    ),
});

export type VerifyRequest = z.input<typeof verifyBody>;

/** The verification answer of every transport. */
export function verifyAnswer(result: VerifyResult) {
  const key = result.key;
  const known = key && result.code !== "NOT_FOUND";
  return {
    valid: result.valid,
    code: result.code,
    keyId: known ? key.id : null,
    tenantId: known ? key.tenantId : null,
    ownerId: known ? key.ownerId : null,
    projectId: known ? key.projectId : null,
    name: known ? key.name : null,
    permissions: known ? key.permissions : [],
    expiresAt: known && key.expiresAt ? key.expiresAt.toISOString() : null,
    ratelimit: result.ratelimit ?? null,
    metadata: known ? key.metadata : null,
    credits: result.credits ?? null,
  };
}

export type VerifyAnswer = ReturnType<typeof verifyAnswer>;

/**
 * A signed-in caller verifies its own tenant's keys only; an anonymous service any key.
 * Synchronous when verifyKey is (see there); bad input throws.
 */
export function verifyForCaller(deps: Deps, actor: Actor, raw: VerifyRequest): Now<VerifyAnswer> {
  const result = checkForCaller(deps, actor, raw);
  return result instanceof Promise ? result.then(verifyAnswer) : verifyAnswer(result);
}

/**
 * verifyForCaller before the answer is made (counted and measured the same): for a transport
 * that keeps the answers which depend on the key alone (see answerDependsOnKeyAlone).
 */
export function checkForCaller(deps: Deps, actor: Actor, raw: VerifyRequest): Now<VerifyResult> {
  const started = performance.now();
  const input = parseInput(verifyBody, raw);
  const tenantId = actor.kind === "user" || actor.kind === "apiKey" ? actor.tenantId : undefined;
  const signature = input.signature && {
    header: input.signature.header,
    method: input.signature.method,
    pathAndQuery: input.signature.path,
    bodySha256: input.signature.bodySha256 ?? EMPTY_BODY_SHA256,
  };
  const result = verifyKey(deps, input.key, {
    permissions: input.permissions,
    tenantId,
    signature,
    clientIp: input.clientIp ?? null,
  });
  return result instanceof Promise
    ? result.then((settled) => counted(deps, settled, started))
    : counted(deps, result, started);
}

/**
 * A valid answer with no rate limit and no credits to report is made of the key's fields only:
 * the same for every such verification of one cache entry (entries are never changed in place;
 * a change replaces the entry).
 */
export function answerDependsOnKeyAlone(result: VerifyResult): result is VerifyResult & {
  key: CachedKey;
} {
  return result.valid && result.key !== undefined && !result.ratelimit && !result.credits;
}

function counted(deps: Deps, result: VerifyResult, started: number): VerifyResult {
  // Counted per key and outcome: what usage charts show. Unknown keys belong to no one.
  if (result.key && result.code !== "NOT_FOUND")
    deps.usage.record(result.key.id, result.key.tenantId, result.code);
  deps.metrics.verified(result.code, (performance.now() - started) / 1000);
  return result;
}
