// POST /graphql from an anonymous caller, handed from node:http straight to yoga's own Node
// handler, before Hono: the services behind the gateway call verifyKey this way on every request.
// Through Hono, the body became a fetch Request (a web stream that yoga wraps in another to
// count its bytes) and yoga's answer a foreign Response read back in chunks; served directly,
// verifyKey went from 0.27 to 0.53 of a minimal yoga server's throughput (npm run bench). Same schema, plugins, limits and errors as the Hono
// route in app.ts; only requests that route would treat as anonymous and pass through every
// middleware untouched are taken (fast-path.ts, plainAnonymousPost). Everything else, GET
// included, falls through to Hono.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { YogaServerInstance } from "graphql-yoga";
import { anonymous } from "./access/actor.ts";
import type { Deps } from "./deps.ts";
import { nodeRequestFacts, plainAnonymousPost, requestIdOf, type Handler } from "./fast-path.ts";
import type { GraphQLContext } from "./graphql/context.ts";
import type { ServerContext } from "./graphql/yoga.ts";
import { AccessLog } from "./access-log.ts";

export const GRAPHQL_PATH = "/graphql";

type NodeListener = (
  req: IncomingMessage,
  res: ServerResponse,
  context: ServerContext,
) => Promise<void> | void;

/** Wraps `next`: anonymous GraphQL POSTs are answered by yoga directly, everything else by `next`. */
export function withFastGraphQL(
  deps: Deps,
  yoga: YogaServerInstance<ServerContext, GraphQLContext>,
  next: Handler,
): Handler {
  const access = new AccessLog(deps.logger);
  const request = AccessLog.request("POST", GRAPHQL_PATH, GRAPHQL_PATH);
  // The yoga instance is itself a Node request listener (it takes a server context as a third argument).
  const listener = yoga as unknown as NodeListener;
  return (req, res) => {
    if (!plainAnonymousPost(req, GRAPHQL_PATH)) return next(req, res);
    const started = performance.now();
    const requestId = requestIdOf(req.headers["x-request-id"]);
    const facts = nodeRequestFacts(requestId, res);
    // Kept by yoga's own writeHead, which adds its headers to these.
    res.setHeader("x-request-id", requestId);
    // "close" follows "finish", and comes alone when the client leaves first: one line either way.
    res.once("close", () => access.write(facts, request, res.statusCode, started));
    void listener(req, res, {
      actor: anonymous,
      requestId,
      ip: req.socket.remoteAddress ?? null,
      responseSent: facts.responseSent,
    });
  };
}
