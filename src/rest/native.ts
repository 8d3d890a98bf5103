// Keygate's own REST routes: the verification fast path for the services behind the gateway.
import { z } from "zod";
import type { Deps } from "../deps.ts";
import { verifyKey, type VerifyResult } from "../modules/keys/verify.ts";
import { parseInput } from "../modules/validation.ts";
import { actorOf } from "./actor.ts";
import { keygateError } from "./envelope.ts";
import { readJsonObject } from "./http.ts";
import { vendorApp } from "./vendor-app.ts";

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
  const app = vendorApp(deps, keygateError);

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
