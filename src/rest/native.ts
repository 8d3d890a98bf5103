// Keygate's own REST routes: the verification fast path for the services behind the gateway.
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../app.ts";
import type { Deps } from "../deps.ts";
import { AppError } from "../errors.ts";
import { verifyKey, type VerifyResult } from "../modules/keys/verify.ts";
import { parseInput } from "../modules/validation.ts";
import { actorOf } from "./actor.ts";
import { readJsonObject } from "./http.ts";

export const verifyBody = z.object({
  key: z.string().min(1, "is required").max(4096),
  permissions: z.array(z.string().max(200)).max(100).optional(),
});

/** The verification answer shared by REST and GraphQL. */
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
  };
}

export function nativeRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();
  app.onError((error, c) => {
    if (error instanceof AppError && error.status < 500) {
      if (error.retryAfter !== undefined) c.header("Retry-After", String(error.retryAfter));
      return c.json({ error: { code: error.code, message: error.message, fields: error.fields } }, error.status as 400);
    }
    deps.logger.error({ err: error, requestId: c.get("requestId") }, "unexpected error");
    return c.json({ error: { code: "INTERNAL", message: "internal error", requestId: c.get("requestId") } }, 500);
  });

  // Always 200 with `valid` and `code`: the caller decides what a bad key means for its request.
  app.post("/v1/keys/verify", async (c) => {
    const actor = await actorOf(deps, c);
    const body = parseInput(verifyBody, await readJsonObject(c));
    const tenantId = actor.kind === "user" || actor.kind === "apiKey" ? actor.tenantId : undefined;
    const result = await verifyKey(deps, body.key, { permissions: body.permissions, tenantId });
    return c.json(verifyAnswer(result));
  });

  return app;
}
