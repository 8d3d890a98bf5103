// Key verification: the hot path of every request behind the gateway. Shape and
// checksum first (no database), then a cached lookup by SHA-256, then status, owner,
// expiry, permissions, a secure key's signature, and the key's own rate limits.
// Nothing is charged until every check has passed.
import type { Deps } from "../../deps.ts";
import { grantsAll } from "../../access/permissions.ts";
import { parseKey } from "../../crypto/key-format.ts";
import { sha256Hex } from "../../crypto/tokens.ts";
import { looksLikeJwt } from "../../access/access-token.ts";
import { AppError } from "../../errors.ts";
import { verifySignature, type SignedRequest } from "../../access/signature.ts";
import { checkKeyJwt } from "./jwt-key.ts";
import { keySecret } from "./key-secret.ts";
import type { CachedKey } from "./runtime.ts";

export const verifyCodes = [
  "VALID",
  "NOT_FOUND",
  "MALFORMED",
  "EXPIRED",
  "REVOKED",
  "DISABLED",
  "RATE_LIMITED",
  "INSUFFICIENT_PERMISSIONS",
  /** A secure key verified without the request's signature: its key alone proves nothing. */
  "SIGNATURE_REQUIRED",
  /** A secure key whose request signature is wrong, stale or replayed. */
  "INVALID_SIGNATURE",
] as const;
export type VerifyCode = (typeof verifyCodes)[number];

export interface RateLimitState {
  limit: number;
  remaining: number;
  /** Seconds until the tightest window resets. */
  reset: number;
}

export interface VerifyResult {
  valid: boolean;
  code: VerifyCode;
  key?: CachedKey;
  ratelimit?: RateLimitState | null;
}

const fail = (code: VerifyCode, key?: CachedKey): VerifyResult => ({ valid: false, code, key });

export function keyShapeOk(token: string): boolean {
  return parseKey(token).ok || looksLikeJwt(token);
}

/**
 * Verifies a key. `tenantId`: when the caller belongs to a tenant, another tenant's key
 * answers NOT_FOUND, exactly like an unknown one.
 */
export interface VerifyOptions {
  permissions?: string[];
  /** The caller's tenant: another tenant's key answers NOT_FOUND. */
  tenantId?: string;
  /** The signature of the request a secure key came with, as the service behind the gateway saw it. */
  signature?: SignedRequest;
  /**
   * false: the caller checks the second factor itself (a bearer request's signature, an
   * exchange's secret) and charges afterwards with chargeKey. Internal callers only.
   */
  charge?: boolean;
}

export async function verifyKey(
  deps: Deps,
  token: string,
  options: VerifyOptions = {},
): Promise<VerifyResult> {
  if (typeof token !== "string" || token.length > 4096) return fail("MALFORMED");
  if (looksLikeJwt(token)) {
    const check = await checkKeyJwt(deps.config, token);
    if (!check.ok) return fail(check.reason);
  } else if (!parseKey(token).ok) {
    return fail("MALFORMED");
  }
  const key = await deps.keys.lookup(sha256Hex(token));
  if (!key || (options.tenantId && key.tenantId !== options.tenantId)) return fail("NOT_FOUND");
  return checkKeyState(deps, key, options);
}

/**
 * Everything after the lookup; shared with exchange tokens, which reference a key by id.
 * `charge: false` when a second factor (secret, signature) must pass before the request
 * spends the key's limits and counts as use: the caller charges it afterwards.
 */
export async function checkKeyState(
  deps: Deps,
  key: CachedKey,
  options: Omit<VerifyOptions, "tenantId"> = {},
): Promise<VerifyResult> {
  if (key.status === "REVOKED" || key.status === "DELETED") return fail("REVOKED", key);
  // A disabled owner disables every key bound to them.
  if (key.status === "DISABLED" || !key.ownerActive) return fail("DISABLED", key);
  if (key.expiresAt && key.expiresAt.getTime() <= Date.now()) return fail("EXPIRED", key);
  if (options.permissions?.length && !grantsAll(key.permissions, options.permissions)) {
    return fail("INSUFFICIENT_PERMISSIONS", key);
  }
  if (options.charge === false) return { valid: true, code: "VALID", key, ratelimit: null };
  if (key.kind === "SECURE_API_KEY") {
    // Checked before anything is charged: whoever saw only the key cannot spend its limits.
    if (!options.signature?.header) return fail("SIGNATURE_REQUIRED", key);
    try {
      await verifySignature(deps, key.id, keySecret(deps, key), options.signature);
    } catch (error) {
      if (
        error instanceof AppError &&
        (error.code === "INVALID_SIGNATURE" || error.code === "UNAUTHENTICATED")
      )
        return fail("INVALID_SIGNATURE", key);
      throw error;
    }
  }
  return chargeKey(deps, key);
}

/** Spends one request of the key's own limits and records the use (in the next batch). */
export async function chargeKey(deps: Deps, key: CachedKey): Promise<VerifyResult> {
  let ratelimit: RateLimitState | null;
  try {
    ratelimit = await consumeKeyLimits(deps, key);
  } catch (error) {
    if (error instanceof AppError && error.code === "RATE_LIMITED") {
      return {
        valid: false,
        code: "RATE_LIMITED",
        key,
        ratelimit: { limit: 0, remaining: 0, reset: error.retryAfter ?? 1 },
      };
    }
    throw error;
  }
  deps.keys.touch(key.id);
  return { valid: true, code: "VALID", key, ratelimit };
}

async function consumeKeyLimits(deps: Deps, key: CachedKey): Promise<RateLimitState | null> {
  const windows: [string, number | null, number][] = [
    ["key-minute", key.rateLimitPerMinute, 60],
    ["key-hour", key.rateLimitPerHour, 3600],
    ["key-day", key.rateLimitPerDay, 86400],
  ];
  let tightest: RateLimitState | null = null;
  for (const [name, points, durationSeconds] of windows) {
    if (!points) continue;
    const state = await deps.limiters.consumeCustom(name, { points, durationSeconds }, key.id);
    if (!tightest || state.remaining < tightest.remaining) {
      tightest = { limit: state.limit, remaining: state.remaining, reset: state.resetSeconds };
    }
  }
  return tightest;
}
