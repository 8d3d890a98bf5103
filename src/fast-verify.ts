// POST /v1/keys/verify served straight from node:http, before Hono: the route every service
// behind the gateway calls once per request. Same service code (verifyForCaller), same answers,
// headers, body limits, JSON strictness and usage counting as the Hono route in rest/native.ts;
// only the cost of the general router, the fetch Request/Response objects and the middleware
// chain is gone. Only the plain case is served here: an anonymous call (no Authorization, no
// signature header), no Origin (no CORS), and a declared Content-Length within the small-body
// budget. Everything else, including every other route, falls through to Hono unchanged.
import type { IncomingMessage, ServerResponse } from "node:http";
import { anonymous } from "./access/actor.ts";
import type { Deps } from "./deps.ts";
import { AppError } from "./errors.ts";
import { accessLogger, type Logger } from "./logger.ts";
import { verifyForCaller } from "./modules/keys/verify-request.ts";
import {
  logRequest,
  nodeRequestFacts,
  plainAnonymousPost,
  requestIdOf,
  type Handler,
} from "./fast-path.ts";
import { requestStore } from "./request-context.ts";
import { parseJsonObject } from "./storable-text.ts";

export const VERIFY_PATH = "/v1/keys/verify";

/** Whether the fast path may answer this request exactly as the Hono route would. */
export function fastVerifyApplies(req: IncomingMessage): boolean {
  return plainAnonymousPost(req, VERIFY_PATH);
}

/** Wraps `next` (Hono's listener): the verify route is answered here, every other request there. */
export function withFastVerify(deps: Deps, next: Handler): Handler {
  const access = accessLogger(deps.logger);
  return (req, res) => {
    if (!fastVerifyApplies(req)) return next(req, res);
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      void answer(deps, access, req, res, body.toString("utf8"));
    });
    req.on("error", () => res.destroy());
  };
}

async function answer(
  deps: Deps,
  access: Logger,
  req: IncomingMessage,
  res: ServerResponse,
  text: string,
) {
  const started = performance.now();
  const requestId = requestIdOf(req.headers["x-request-id"]);
  const facts = nodeRequestFacts(requestId, res);
  const headers: Record<string, string> = {
    "x-request-id": requestId,
    "content-type": "application/json",
  };
  let status = 200;
  let payload: unknown;
  await requestStore.run(facts, async () => {
    try {
      const result = await verifyForCaller(deps, anonymous, parseJsonObject(text) as never);
      if (result.ratelimit) {
        headers["RateLimit-Limit"] = String(result.ratelimit.limit);
        headers["RateLimit-Remaining"] = String(result.ratelimit.remaining);
        headers["RateLimit-Reset"] = String(result.ratelimit.reset);
        if (result.code === "RATE_LIMITED") headers["Retry-After"] = String(result.ratelimit.reset);
      }
      payload = result;
    } catch (error) {
      if (error instanceof AppError && error.status < 500) {
        status = error.status;
        if (error.retryAfter !== undefined) {
          headers["Retry-After"] = String(error.retryAfter);
          if (error.code === "RATE_LIMITED") {
            if (error.limit !== undefined) headers["RateLimit-Limit"] = String(error.limit);
            headers["RateLimit-Remaining"] = "0";
            headers["RateLimit-Reset"] = String(error.retryAfter);
          }
        }
        payload = { error: { code: error.code, message: error.message, fields: error.fields } };
      } else {
        deps.logger.error({ err: error, requestId }, "unexpected error");
        status = 500;
        payload = { error: { code: "INTERNAL", message: "internal error", requestId } };
      }
    }
  });
  const body = JSON.stringify(payload);
  headers["content-length"] = String(Buffer.byteLength(body));
  res.writeHead(status, headers);
  res.end(body);
  logRequest(access, facts, {
    method: "POST",
    route: VERIFY_PATH,
    path: VERIFY_PATH,
    status,
    started,
  });
}
