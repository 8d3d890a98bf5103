// Keygate's own REST routes: the verification fast path for the services behind the gateway.
import type { Deps } from "../deps.ts";
import { verifyForCaller } from "../modules/keys/verify-request.ts";
import { actorOf } from "./actor.ts";
import { keygateError } from "./envelope.ts";
import { readJsonObject } from "./http.ts";
import { vendorApp } from "./vendor-app.ts";

export function nativeRoutes(deps: Deps) {
  const app = vendorApp(deps, keygateError);

  // Always 200 with `valid` and `code`: the caller decides what a bad key means for its request.
  app.post("/v1/keys/verify", async (c) => {
    const actor = await actorOf(deps, c);
    return c.json(await verifyForCaller(deps, actor, (await readJsonObject(c)) as never));
  });

  return app;
}
