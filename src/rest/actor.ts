// The caller of a Hono request, authenticated once and remembered for the request.
import { requireTenantActor, type Actor, type TenantActor } from "../access/actor.ts";
import { authenticate } from "../access/authenticate.ts";
import {
  KOTANI_SIGNATURE_HEADERS,
  kotaniSignedContent,
  SIGNATURE_HEADER,
  withKotaniSigning,
} from "../access/signature.ts";
import type { Deps } from "../deps.ts";
import { noteActor } from "../request-context.ts";
import { clientIp } from "./client-ip.ts";
import type { RestContext } from "./route.ts";

export interface ActorOptions {
  /** The route accepts Kotani's x-timestamp, x-nonce, x-signature from secure keys. */
  kotaniSigning?: boolean;
}

/** The request carries any of Kotani's signing headers (and not Keygate-Signature, which wins). */
export function hasKotaniSigning(c: RestContext): boolean {
  if (c.req.header(SIGNATURE_HEADER)) return false;
  return Object.values(KOTANI_SIGNATURE_HEADERS).some((name) => c.req.header(name) !== undefined);
}

export async function actorOf(
  deps: Deps,
  c: RestContext,
  options: ActorOptions = {},
): Promise<Actor> {
  const known = c.get("actor");
  if (known) return known;
  const url = new URL(c.req.url);
  const run = () =>
    authenticate(deps, {
      authorization: c.req.header("authorization") ?? null,
      signature: c.req.header(SIGNATURE_HEADER) ?? null,
      method: c.req.method,
      pathAndQuery: `${url.pathname}${url.search}`,
      clientIp: clientIp(c),
      // Hono caches the body, so the route can still read it afterwards.
      body: async () => new Uint8Array(await c.req.arrayBuffer()),
    });
  const actor =
    options.kotaniSigning && hasKotaniSigning(c)
      ? await withKotaniSigning(
          {
            timestamp: c.req.header(KOTANI_SIGNATURE_HEADERS.timestamp) ?? null,
            nonce: c.req.header(KOTANI_SIGNATURE_HEADERS.nonce) ?? null,
            signature: c.req.header(KOTANI_SIGNATURE_HEADERS.signature) ?? null,
            content: async () =>
              kotaniSignedContent(
                c.req.method,
                url.pathname,
                c.req.method === "GET" || c.req.method === "HEAD" ? "" : await c.req.text(),
              ),
          },
          run,
        )
      : await run();
  c.set("actor", actor);
  noteActor(c.get("facts"), actor);
  return actor;
}

/** The signed-in user or API key behind the request; anonymous callers are UNAUTHENTICATED. */
export async function tenantActorOf(
  deps: Deps,
  c: RestContext,
  options: ActorOptions = {},
): Promise<TenantActor> {
  return requireTenantActor(await actorOf(deps, c, options));
}
