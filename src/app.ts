// createApp(deps): the Hono app. It never listens; tests call app.request, main.ts serves it.
import type { ServerResponse } from "node:http";
import { Hono, type Context } from "hono";
import type { Deps } from "./deps.ts";
import { AppError } from "./errors.ts";
import { createGraphQLServer } from "./graphql/yoga.ts";
import { AccessLog } from "./access-log.ts";
import { requestIdOf } from "./fast-path.ts";
import { graphiqlRoutes } from "./graphql/graphiql.ts";
import { graphQLErrorBody } from "./graphql/errors.ts";
import type { RequestFacts } from "./request-context.ts";
import { clientIp } from "./rest/client-ip.ts";
import { kotaniRoutes } from "./rest/kotani.ts";
import { healthRoutes, nativeRoutes } from "./rest/native.ts";
import { yativoRoutes } from "./rest/yativo.ts";
import { extractorRoutes } from "./rest/extractor.ts";
import { companyRoutes } from "./rest/company.ts";
import { docsRoutes } from "./rest/openapi.ts";
import { actorOf } from "./rest/actor.ts";
import type { Actor } from "./access/actor.ts";
import { SIGNATURE_HEADER } from "./access/signature.ts";
import { MAX_BODY_BYTES } from "./rest/http.ts";
import { keygateError, retryAfter } from "./rest/envelope.ts";
import { corsMiddleware } from "./cors.ts";
import { bufferBody, LARGE_BODY_BYTES, spendLargeBodyBudget } from "./body-budget.ts";
import { dashboardRoutes } from "./dashboard/routes.ts";

export type AppEnv = { Variables: { requestId: string; facts: RequestFacts; actor?: Actor } };

/**
 * Yoga's answer as a Hono response. A JSON answer is copied into one built by Hono, which the
 * Node server writes at once; a foreign Response object is read through its body stream in
 * chunks (with a timer tick when the second read is not ready yet). Anything else (an event
 * stream, the GraphiQL page) is returned as it is.
 */
async function honoResponse(c: Context<AppEnv>, response: Response): Promise<Response> {
  const type = response.headers.get("content-type") ?? "";
  if (!/^application\/(graphql-response\+)?json\b/.test(type)) {
    response.headers.set("x-request-id", c.get("requestId"));
    return response;
  }
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  return c.body(await response.text(), response.status as 200, headers);
}

export function createApp(deps: Deps) {
  const yoga = createGraphQLServer(deps);
  const app = new Hono<AppEnv>();
  const access = new AccessLog(deps.logger);

  app.use("*", async (c, next) => {
    const requestId = requestIdOf(c.req.header("x-request-id"));
    c.set("requestId", requestId);
    const started = performance.now();
    // Work deferred "until after the answer" (Background.run) waits for this: on the Node
    // server the socket's finish, elsewhere (app.request) the handler's return. Made only when
    // asked for: most requests defer nothing, and a promise with two socket listeners is not free.
    const outgoing = (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;
    let handled = false;
    let release: (() => void) | undefined;
    let sent: Promise<void> | undefined;
    const responseSent = () =>
      (sent ??= new Promise<void>((resolve) => {
        if (outgoing) {
          if (outgoing.writableFinished || outgoing.destroyed) return resolve();
          outgoing.once("finish", () => resolve());
          outgoing.once("close", () => resolve());
        } else if (handled) resolve();
        else release = resolve;
      }));
    const facts: RequestFacts = { requestId, responseSent };
    // Set before the handler runs: a header added to a finished response makes
    // @hono/node-server rebuild it, which costs more than the whole handler.
    c.header("x-request-id", requestId);
    c.set("facts", facts);
    await next();
    handled = true;
    release?.();
    access.write(
      facts,
      AccessLog.request(c.req.method, c.req.routePath, c.req.path),
      c.res.status,
      started,
    );
  });

  // Before the body limits: a 413 or 429 must reach an allowed page readable, and preflights cost nothing.
  app.use("*", corsMiddleware(deps.config.corsOrigins));

  const tooLarge = (c: Context) =>
    c.json(
      { error: { code: "PAYLOAD_TOO_LARGE", message: `body larger than ${MAX_BODY_BYTES} bytes` } },
      413,
    );
  app.use("*", async (c, next) => {
    // Declared lengths are checked from the header alone; only chunked bodies are counted as they
    // are read (touching the Request body costs more than most handlers on the Node server).
    const length = c.req.header("content-length");
    let size = Number(length ?? 0);
    if (length === undefined) {
      // Off the Node server (app.request in tests) a body may come with neither header.
      const onNodeServer = Boolean((c.env as { incoming?: unknown } | undefined)?.incoming);
      if (!c.req.header("transfer-encoding") && onNodeServer) return next();
      const buffered = await bufferBody(c, MAX_BODY_BYTES);
      if (buffered === "too large") return tooLarge(c);
      size = buffered;
    }
    if (size > MAX_BODY_BYTES) return tooLarge(c);
    if (size > LARGE_BODY_BYTES) {
      const refused = await spendLargeBodyBudget(deps, c);
      if (refused) return refused;
    }
    return next();
  });

  app.route("/", healthRoutes(deps));

  app.on(["GET", "POST", "OPTIONS"], "/graphql", async (c) => {
    let actor: Actor;
    try {
      actor = await actorOf(deps, c);
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      retryAfter(c, error);
      return c.json(graphQLErrorBody(error), error.status as 401);
    }
    // A signed request's body was read to check the signature: hand yoga a fresh copy.
    const request = c.req.header(SIGNATURE_HEADER)
      ? new Request(c.req.raw.url, {
          method: c.req.method,
          headers: c.req.raw.headers,
          body: c.req.method === "GET" ? undefined : await c.req.arrayBuffer(),
        })
      : c.req.raw;
    const response = await yoga.fetch(request, {
      actor,
      requestId: c.get("requestId"),
      ip: clientIp(c),
      responseSent: c.get("facts").responseSent,
    });
    return honoResponse(c, response);
  });

  // The web console; before the vendor routes, whose sign-in link it may take over.
  app.route("/", dashboardRoutes(deps));
  app.route("/", nativeRoutes(deps));
  app.route("/", kotaniRoutes(deps));
  app.route("/", yativoRoutes(deps));
  app.route("/", extractorRoutes(deps));
  app.route("/", companyRoutes(deps));
  app.route("/", docsRoutes());
  app.route("/", graphiqlRoutes(deps.config.graphiql));

  app.notFound((c) => c.json({ error: { code: "NOT_FOUND", message: "no such route" } }, 404));
  app.onError((error, c) => {
    if (!(error instanceof AppError) || error.status >= 500)
      deps.logger.error({ err: error, requestId: c.get("requestId") }, "unexpected error");
    return keygateError(c, error);
  });

  return { app, yoga };
}
