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
import { AccessLog } from "./access-log.ts";
import { type VerifyAnswer, verifyForCaller } from "./modules/keys/verify-request.ts";
import { plainAnonymousPost, requestIdOf, type Handler } from "./fast-path.ts";
import { type HeaderSink, keygateErrorReply, verifyAnswerHeaders } from "./rest/envelope.ts";
import { parseJsonObject } from "./storable-text.ts";

export const VERIFY_PATH = "/v1/keys/verify";

/** Whether the fast path may answer this request exactly as the Hono route would. */
export function fastVerifyApplies(req: IncomingMessage): boolean {
  return plainAnonymousPost(req, VERIFY_PATH);
}

/** Wraps `next` (Hono's listener): the verify route is answered here, every other request there. */
export function withFastVerify(deps: Deps, next: Handler): Handler {
  const access = new AccessLog(deps.logger);
  const request = AccessLog.request("POST", VERIFY_PATH, VERIFY_PATH);
  return (req, res) => {
    if (!fastVerifyApplies(req)) return next(req, res);
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      // A small body comes in one chunk: no copy to join it.
      const text = (chunks.length === 1 ? chunks[0] : Buffer.concat(chunks))?.toString("utf8");
      answer(deps, access, request, req, res, text ?? "");
    });
    req.on("error", () => res.destroy());
  };
}

/** The answer being built; a header sink for the same helpers the Hono route uses. */
class Reply implements HeaderSink {
  status = 200;
  payload: unknown;
  constructor(readonly headers: Record<string, string>) {}
  header(name: string, value: string): void {
    this.headers[name] = value;
  }
}

function answer(
  deps: Deps,
  access: AccessLog,
  request: string,
  req: IncomingMessage,
  res: ServerResponse,
  text: string,
): void {
  const started = performance.now();
  const requestId = requestIdOf(req.headers["x-request-id"]);
  // Verification defers no work and has no caller to name: the log line's facts are the id.
  const facts = { requestId };
  const reply = new Reply({ "x-request-id": requestId, "content-type": "application/json" });
  const send = () => {
    const body = JSON.stringify(reply.payload);
    reply.headers["content-length"] = String(Buffer.byteLength(body));
    res.writeHead(reply.status, reply.headers);
    res.end(body);
    access.write(facts, request, reply.status, started);
  };
  // Most verifications are answered synchronously (verifyKey): no promise is made for them.
  let pending: Promise<VerifyAnswer> | undefined;
  try {
    const result = verifyForCaller(deps, anonymous, parseJsonObject(text) as never);
    if (result instanceof Promise) pending = result;
    else answered(reply, result);
  } catch (error) {
    failed(deps, reply, requestId, error);
  }
  if (!pending) {
    send();
    return;
  }
  void pending
    .then(
      (result) => answered(reply, result),
      (error) => failed(deps, reply, requestId, error),
    )
    .then(send);
}

function answered(reply: Reply, result: VerifyAnswer): void {
  verifyAnswerHeaders(reply, result);
  reply.payload = result;
}

function failed(deps: Deps, reply: Reply, requestId: string, error: unknown): void {
  // Hono's error handler logs the unexpected; here it is ours to log.
  if (!(error instanceof AppError && error.status < 500))
    deps.logger.error({ err: error, requestId }, "unexpected error");
  const { status, body } = keygateErrorReply(reply, error, () => requestId);
  reply.status = status;
  reply.payload = body;
}
