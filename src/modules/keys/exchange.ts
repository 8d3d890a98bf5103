// Key + secret → a 60-minute bearer token carrying the key's permissions (seed 002).
import { signAccessToken } from "../../access/access-token.ts";
import { constantTimeEqual } from "../../crypto/tokens.ts";
import type { Deps, RequestMeta } from "../../deps.ts";
import { AppError } from "../../errors.ts";
import { recordAudit } from "../audit/service.ts";
import { keySecret } from "./key-secret.ts";
import { verifyKey } from "./verify.ts";

export const EXCHANGE_TOKEN_TTL_SECONDS = 3600;

export async function exchangeApiKey(
  deps: Deps,
  { apiKey, apiSecret }: { apiKey: string; apiSecret: string },
  meta: RequestMeta = {},
) {
  const invalid = () => new AppError("UNAUTHENTICATED", "invalid api key or secret");
  if (typeof apiKey !== "string" || typeof apiSecret !== "string" || apiSecret.length > 256)
    throw invalid();
  const result = await verifyKey(deps, apiKey, { charge: false, clientIp: meta.ip });
  if (!result.valid || !result.key || result.key.kind !== "SECURE_API_KEY") throw invalid();
  const key = result.key;
  // Wrong secrets are limited per key and caller, so that someone who only saw the key
  // cannot lock its owner out; exchanges themselves are limited per key.
  if (!constantTimeEqual(keySecret(deps, key), apiSecret)) {
    await deps.limiters.consume("exchangeFailure", `${key.id}:${meta.ip ?? "unknown"}`);
    throw invalid();
  }
  await deps.limiters.consume("exchangeKey", key.id);
  deps.keys.touch(key);
  const token = await signAccessToken(deps.config, {
    sub: key.id,
    tid: key.tenantId,
    kind: "exchange",
    perms: key.permissions,
    ttlSeconds: EXCHANGE_TOKEN_TTL_SECONDS,
  });
  await recordAudit(
    deps.prisma,
    { actorType: "API_KEY", actorId: key.id },
    {
      tenantId: key.tenantId,
      action: "key.exchange",
      targetType: "ApiKey",
      targetId: key.id,
      metadata: { tokenId: token.jti },
      ip: meta.ip,
      requestId: meta.requestId,
    },
  );
  return {
    accessToken: token.token,
    tokenType: "Bearer" as const,
    expiresIn: EXCHANGE_TOKEN_TTL_SECONDS,
    expiresAt: token.expiresAt,
    keyId: key.id,
    /** The permissions the token carries. */
    scopes: [...key.permissions],
  };
}
