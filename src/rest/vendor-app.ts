// The frame every REST adapter shares: a Hono sub-app whose errors use its envelope
// (the vendor's, or Keygate's own), and the authenticated caller.
import { Hono, type Context } from "hono";
import type { AppEnv } from "../app.ts";
import { requireTenantActor, type TenantActor } from "../access/actor.ts";
import type { Deps } from "../deps.ts";
import { AppError } from "../errors.ts";
import { actorOf } from "./actor.ts";

export function vendorApp(deps: Deps, envelope: (c: Context, error: unknown) => Response) {
  const app = new Hono<AppEnv>();
  app.onError((error, c) => {
    if (!(error instanceof AppError) || error.status >= 500) deps.logger.error({ err: error, requestId: c.get("requestId") }, "unexpected error");
    return envelope(c, error);
  });
  return app;
}

/** The signed-in user or API key behind the request; anonymous callers are UNAUTHENTICATED. */
export async function tenantActorOf(deps: Deps, c: Context): Promise<TenantActor> {
  return requireTenantActor(await actorOf(deps, c));
}
