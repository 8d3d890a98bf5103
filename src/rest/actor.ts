// The caller of a Hono request, authenticated once and remembered for the request.
import { requireTenantActor, type Actor, type TenantActor } from "../access/actor.ts";
import { authenticate } from "../access/authenticate.ts";
import { SIGNATURE_HEADER } from "../access/signature.ts";
import type { Deps } from "../deps.ts";
import { noteActor } from "../request-context.ts";
import { clientIp } from "./client-ip.ts";
import type { RestContext } from "./route.ts";

export async function actorOf(deps: Deps, c: RestContext): Promise<Actor> {
  const known = c.get("actor");
  if (known) return known;
  const url = new URL(c.req.url);
  const actor = await authenticate(deps, {
    authorization: c.req.header("authorization") ?? null,
    signature: c.req.header(SIGNATURE_HEADER) ?? null,
    method: c.req.method,
    pathAndQuery: `${url.pathname}${url.search}`,
    clientIp: clientIp(c),
    // Hono caches the body, so the route can still read it afterwards.
    body: async () => new Uint8Array(await c.req.arrayBuffer()),
  });
  c.set("actor", actor);
  noteActor(actor);
  return actor;
}

/** The signed-in user or API key behind the request; anonymous callers are UNAUTHENTICATED. */
export async function tenantActorOf(deps: Deps, c: RestContext): Promise<TenantActor> {
  return requireTenantActor(await actorOf(deps, c));
}
