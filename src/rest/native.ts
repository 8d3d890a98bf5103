// Keygate's own REST routes: the verification fast path for the services behind the gateway,
// and the process checks. Each route is declared with its request and response schemas.
import { z } from "zod";
import type { Deps } from "../deps.ts";
import { verifyCodes } from "../modules/keys/verify.ts";
import { verifyBody, verifyForCaller } from "../modules/keys/verify-request.ts";
import { actorOf } from "./actor.ts";
import { keygateEnvelope, verifyAnswerHeaders } from "./envelope.ts";
import { readJsonObject } from "./http.ts";
import { component, defineRoute, mountRoutes, routeGroup } from "./route.ts";

const verifyAnswerSchema = component(
  "VerifyAnswer",
  z.object({
    valid: z.boolean(),
    code: z.enum(verifyCodes),
    keyId: z.string().nullable(),
    tenantId: z.string().nullable(),
    ownerId: z.string().nullable(),
    projectId: z.string().nullable(),
    name: z.string().nullable(),
    permissions: z.array(z.string()),
    expiresAt: z.iso.datetime().nullable(),
    ratelimit: z
      .object({ limit: z.number().int(), remaining: z.number().int(), reset: z.number().int() })
      .nullable(),
    metadata: z.record(z.string(), z.unknown()).nullable(),
    credits: z.object({ remaining: z.number().int() }).nullable(),
  }),
);

// Always 200 with `valid` and `code`: the caller decides what a bad key means for its request.
const verify = defineRoute({
  method: "post",
  path: "/v1/keys/verify",
  operationId: "verifyKey",
  summary: "Verify a key (for the services behind the gateway)",
  description:
    "Always 200 with valid and code. The bearer credential is optional: without one any key is verified; a caller signed in to a tenant sees only its tenant's keys. When the key has rate limits the answer carries RateLimit-Limit, RateLimit-Remaining and RateLimit-Reset headers (and Retry-After when RATE_LIMITED).",
  security: ["bearer"],
  anonymous: true,
  signing: ["keygate"],
  request: { body: verifyBody },
  responses: {
    200: {
      description: "verification result",
      json: verifyAnswerSchema,
      headers: ["RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "Retry-After"],
    },
  },
  handler: async (c, deps) => {
    const actor = await actorOf(deps, c);
    const answer: z.infer<typeof verifyAnswerSchema> = await verifyForCaller(
      deps,
      actor,
      (await readJsonObject(c)) as never,
    );
    verifyAnswerHeaders(c, answer);
    return c.json(answer);
  },
});

export const nativeApi = routeGroup("Keygate", keygateEnvelope, [verify]);

export const nativeRoutes = (deps: Deps) => mountRoutes(deps, nativeApi);

const readiness = z.object({ status: z.enum(["ready", "unavailable"]), database: z.string() });

const healthz = defineRoute({
  method: "get",
  path: "/healthz",
  operationId: "liveness",
  summary: "Process up",
  responses: { 200: { description: "up", json: z.object({ status: z.literal("ok") }) } },
  handler: (c) => c.json({ status: "ok" as const }),
});

const readyz = defineRoute({
  method: "get",
  path: "/readyz",
  operationId: "readiness",
  summary: "Database answers",
  responses: {
    200: { description: "ready", json: readiness },
    503: { description: "unavailable", json: readiness },
  },
  handler: async (c, deps) => {
    try {
      await deps.db.ping();
      return c.json({ status: "ready", database: deps.db.kind } satisfies z.infer<
        typeof readiness
      >);
    } catch {
      return c.json(
        { status: "unavailable", database: deps.db.kind } satisfies z.infer<typeof readiness>,
        503,
      );
    }
  },
});

/** How long /health waits for the database before calling it down. */
const HEALTH_TIMEOUT_MS = 3000;

const indicator = z.object({ status: z.enum(["up", "down"]), message: z.string().optional() });
const indicators = z.record(z.string(), indicator);
const terminusHealth = component(
  "HealthCheckResult",
  z.object({
    status: z.enum(["ok", "error"]),
    info: indicators,
    error: indicators,
    details: indicators,
  }),
);

/** The database answers a ping in time, or the reason it did not (no driver detail). */
async function databaseIndicator(deps: Deps): Promise<z.infer<typeof indicator>> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      deps.db.ping(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error("timeout")), HEALTH_TIMEOUT_MS);
      }),
    ]);
    return { status: "up" };
  } catch (error) {
    const timedOut = error instanceof Error && error.message === "timeout";
    return {
      status: "down",
      message: timedOut
        ? `no answer within ${HEALTH_TIMEOUT_MS} ms`
        : "the database did not answer",
    };
  } finally {
    clearTimeout(timer);
  }
}

// Kotani's document puts health at the root, in the shape of NestJS terminus.
const health = defineRoute({
  method: "get",
  path: "/health",
  operationId: "health",
  summary: "Health of the gateway's components (NestJS terminus shape)",
  responses: {
    200: { description: "every component is up", json: terminusHealth },
    503: { description: "a component is down: it is listed under `error`", json: terminusHealth },
  },
  handler: async (c, deps) => {
    const database = await databaseIndicator(deps);
    const up = database.status === "up";
    const answer: z.infer<typeof terminusHealth> = {
      status: up ? "ok" : "error",
      info: up ? { database } : {},
      error: up ? {} : { database },
      details: { database },
    };
    c.header("Cache-Control", "no-store");
    return c.json(answer, up ? 200 : 503);
  },
});

export const healthApi = routeGroup("Health", keygateEnvelope, [healthz, readyz, health]);

export const healthRoutes = (deps: Deps) => mountRoutes(deps, healthApi);
