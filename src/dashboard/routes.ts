// The dashboard on the gateway's own origin: its session endpoint, the hand-over of sign-in
// links that started in it, and its built files.
import { Hono } from "hono";
import type { AppEnv } from "../app.ts";
import type { Deps } from "../deps.ts";
import { MAGIC_LINK_PATH } from "../modules/sign-in/magic-link.ts";
import { dashboardAssetRoutes } from "./assets.ts";
import { dashboardSessionRoutes, redirectDashboardSignIn } from "./session.ts";

/** Mount before the vendor routes: the sign-in link's GET falls through to them unless redirected. */
export function dashboardRoutes(deps: Deps, distDir?: string) {
  const app = new Hono<AppEnv>();
  app.get(MAGIC_LINK_PATH, redirectDashboardSignIn);
  app.route("/", dashboardSessionRoutes(deps));
  app.route("/", dashboardAssetRoutes(distDir));
  return app;
}
