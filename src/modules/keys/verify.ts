// Key verification: the hot path of every request behind the gateway. Shape and
// checksum first (no database), then a cached lookup by SHA-256, then status, owner,
// expiry, permissions, a secure key's signature, and the key's own rate limits.
// Nothing is charged until every check has passed.
import type { Deps } from "../../deps.ts";
import { grantsAll } from "../../access/permissions.ts";
import { wellFormedKey } from "../../crypto/key-format.ts";
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
  /** The key's tenant is suspended or deleted. */
  "TENANT_SUSPENDED",
  /** The key has an IP allowlist and the client's address is outside it, or was not given. */
  "IP_NOT_ALLOWED",
  /** The key's credits are spent (until its next refill, if it has one). */
  "USAGE_EXCEEDED",
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
  /** When the key has credits and this verification reached them: what is left. */
  credits?: { remaining: number } | null;
}

const fail = (code: VerifyCode, key?: CachedKey): VerifyResult => ({ valid: false, code, key });

export function keyShapeOk(token: string): boolean {
  return wellFormedKey(token) || looksLikeJwt(token);
}

export interface VerifyOptions {
  permissions?: string[];
  /** The caller's tenant: another tenant's key answers NOT_FOUND. */
  tenantId?: string;
  /** The signature of the request a secure key came with, as the service behind the gateway saw it. */
  signature?: SignedRequest;
  /**
   * The address of the client the key came from. A key with an IP allowlist answers
   * IP_NOT_ALLOWED when it is outside the list or not given.
   */
  clientIp?: string | null;
  /**
   * false: the caller checks the second factor itself (a bearer request's signature, an
   * exchange's secret) and charges afterwards with chargeKey. Internal callers only.
   */
  charge?: boolean;
}

/** A value now, or a promise of it (see verifyKey). */
export type Now<T> = T | Promise<T>;

/**
 * Verifies a key. `tenantId`: when the caller belongs to a tenant, another tenant's key
 * answers NOT_FOUND, exactly like an unknown one.
 *
 * The answer comes synchronously when it needs no I/O (a cached key with nothing to charge, a
 * malformed one, most refusals): the services behind the gateway make this call on every
 * request, and a chain of async functions costs more there than the checks themselves.
 * Callers `await` it either way.
 */
export function verifyKey(
  deps: Deps,
  token: string,
  options: VerifyOptions = {},
): Now<VerifyResult> {
  if (typeof token !== "string" || token.length > 4096) return fail("MALFORMED");
  if (looksLikeJwt(token)) return verifyJwtKey(deps, token, options);
  if (!wellFormedKey(token)) return fail("MALFORMED");
  const hash = sha256Hex(token);
  const cached = deps.keys.cached(hash);
  if (cached) return checkFound(deps, cached, options);
  return deps.keys.load(hash).then((key) => checkFound(deps, key, options));
}

async function verifyJwtKey(
  deps: Deps,
  token: string,
  options: VerifyOptions,
): Promise<VerifyResult> {
  const check = await checkKeyJwt(deps.config, token);
  if (!check.ok) return fail(check.reason);
  return checkFound(deps, await deps.keys.lookup(sha256Hex(token)), options);
}

function checkFound(deps: Deps, key: CachedKey | null, options: VerifyOptions): Now<VerifyResult> {
  if (!key || (options.tenantId && key.tenantId !== options.tenantId)) return fail("NOT_FOUND");
  return checkKeyState(deps, key, options);
}

/**
 * Everything after the lookup; shared with exchange tokens, which reference a key by id.
 * `charge: false` when a second factor (secret, signature) must pass before the request
 * spends the key's limits and counts as use: the caller charges it afterwards.
 */
export function checkKeyState(
  deps: Deps,
  key: CachedKey,
  options: Omit<VerifyOptions, "tenantId"> = {},
): Now<VerifyResult> {
  if (key.status === "REVOKED" || key.status === "DELETED") return fail("REVOKED", key);
  if (!key.tenantActive) return fail("TENANT_SUSPENDED", key);
  // A disabled owner disables every key bound to them.
  if (key.status === "DISABLED" || !key.ownerActive) return fail("DISABLED", key);
  if (key.expiresAt && key.expiresAt.getTime() <= Date.now()) return fail("EXPIRED", key);
  if (key.ipAllow && !(options.clientIp && key.ipAllow(options.clientIp)))
    return fail("IP_NOT_ALLOWED", key);
  if (options.permissions?.length && !grantsAll(key.permissions, options.permissions)) {
    return fail("INSUFFICIENT_PERMISSIONS", key);
  }
  if (options.charge === false) return { valid: true, code: "VALID", key, ratelimit: null };
  if (key.kind === "SECURE_API_KEY") {
    // Checked before anything is charged: whoever saw only the key cannot spend its limits.
    if (!options.signature?.header) return fail("SIGNATURE_REQUIRED", key);
    return checkSignatureThenCharge(deps, key, options.signature);
  }
  return chargeKey(deps, key);
}

async function checkSignatureThenCharge(
  deps: Deps,
  key: CachedKey,
  signature: SignedRequest,
): Promise<VerifyResult> {
  try {
    await verifySignature(deps, key.id, keySecret(deps, key), signature);
  } catch (error) {
    if (
      error instanceof AppError &&
      (error.code === "INVALID_SIGNATURE" || error.code === "UNAUTHENTICATED")
    )
      return fail("INVALID_SIGNATURE", key);
    throw error;
  }
  return chargeKey(deps, key);
}

/**
 * Spends one request of the key's own limits, then one of its credits, and records the use
 * (in the next batch). Synchronous for a key with neither: nothing to spend, nothing to wait for.
 */
export function chargeKey(deps: Deps, key: CachedKey): Now<VerifyResult> {
  if (
    !key.rateLimitPerMinute &&
    !key.rateLimitPerHour &&
    !key.rateLimitPerDay &&
    key.creditsRemaining === null
  ) {
    deps.keys.touch(key);
    return { valid: true, code: "VALID", key, ratelimit: null, credits: null };
  }
  return spendLimitsAndCredits(deps, key);
}

async function spendLimitsAndCredits(deps: Deps, key: CachedKey): Promise<VerifyResult> {
  let ratelimit: RateLimitState | null;
  try {
    ratelimit = await consumeKeyLimits(deps, key);
  } catch (error) {
    if (error instanceof AppError && error.code === "RATE_LIMITED") {
      return {
        valid: false,
        code: "RATE_LIMITED",
        key,
        ratelimit: { limit: error.limit ?? 0, remaining: 0, reset: error.retryAfter ?? 1 },
      };
    }
    throw error;
  }
  let credits: { remaining: number } | null = null;
  if (key.creditsRemaining !== null) {
    const remaining = await spendCredit(deps, key.id);
    if (remaining === null)
      return { valid: false, code: "USAGE_EXCEEDED", key, ratelimit, credits: { remaining: 0 } };
    credits = { remaining };
  }
  deps.keys.touch(key);
  return { valid: true, code: "VALID", key, ratelimit, credits };
}

// Whether the key's refill is due at $2: a whole interval since its last refill (or creation).
const REFILL_DUE = `("creditsRefillAmount" IS NOT NULL AND "creditsRefillInterval" IS NOT NULL
  AND COALESCE("creditsRefilledAt", "createdAt") + CASE "creditsRefillInterval"
    WHEN 'DAY' THEN interval '1 day' ELSE interval '1 month' END <= $2::timestamptz)`;

/**
 * One credit, spent in the database so that every instance shares the count: one conditional
 * statement, which PostgreSQL re-checks against the latest row when requests race, so N credits
 * admit exactly N verifications. A due refill resets the count to the refill amount first, in the
 * same statement. Null: nothing left.
 */
async function spendCredit(deps: Deps, keyId: string): Promise<number | null> {
  const rows = await deps.prisma.$queryRawUnsafe<{ creditsRemaining: number }[]>(
    `UPDATE "ApiKey" SET
       "creditsRemaining" = CASE WHEN ${REFILL_DUE} THEN "creditsRefillAmount" ELSE "creditsRemaining" END - 1,
       "creditsRefilledAt" = CASE WHEN ${REFILL_DUE} THEN $2::timestamptz ELSE "creditsRefilledAt" END
     WHERE id = $1::uuid AND "creditsRemaining" IS NOT NULL
       AND CASE WHEN ${REFILL_DUE} THEN "creditsRefillAmount" ELSE "creditsRemaining" END > 0
     RETURNING "creditsRemaining"`,
    keyId,
    new Date(),
  );
  const row = rows[0];
  return row ? Number(row.creditsRemaining) : null;
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
    let state: Awaited<ReturnType<typeof deps.limiters.consumeCustom>>;
    try {
      state = await deps.limiters.consumeCustom(name, { points, durationSeconds }, key.id);
    } catch (error) {
      if (error instanceof AppError && error.code === "RATE_LIMITED")
        deps.metrics.rateLimitDecisions.inc({ window: name, decision: "refused" });
      throw error;
    }
    deps.metrics.rateLimitDecisions.inc({ window: name, decision: "allowed" });
    if (!tightest || state.remaining < tightest.remaining) {
      tightest = { limit: state.limit, remaining: state.remaining, reset: state.resetSeconds };
    }
  }
  return tightest;
}
