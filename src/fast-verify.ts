// POST /v1/keys/verify served straight from node:http, before Hono: the route every service
// behind the gateway calls once per request. Same service code (checkForCaller, verifyAnswer),
// same answers, headers, body limits, JSON strictness and usage counting as the Hono route in
// rest/native.ts; only the cost of the general router, the fetch Request/Response objects and
// the middleware chain is gone. Only the plain case is served here: an anonymous call (no
// Authorization, no signature header), no Origin (no CORS), and a declared Content-Length within
// the small-body budget. Everything else, including every other route, falls through to Hono.
import type { IncomingMessage, ServerResponse } from "node:http";
import { anonymous } from "./access/actor.ts";
import type { Deps } from "./deps.ts";
import { AppError } from "./errors.ts";
import { AccessLog } from "./access-log.ts";
import {
  answerDependsOnKeyAlone,
  checkForCaller,
  verifyAnswer,
} from "./modules/keys/verify-request.ts";
import type { CachedKey } from "./modules/keys/runtime.ts";
import type { Now, VerifyResult } from "./modules/keys/verify.ts";
import { plainAnonymousPost, requestIdOf, type Handler } from "./fast-path.ts";
import { type HeaderSink, keygateErrorReply, verifyAnswerHeaders } from "./rest/envelope.ts";
import { parseJsonObject } from "./storable-text.ts";

export const VERIFY_PATH = "/v1/keys/verify";

/** Whether the fast path may answer this request exactly as the Hono route would. */
export function fastVerifyApplies(req: IncomingMessage): boolean {
  return plainAnonymousPost(req, VERIFY_PATH);
}

/** The request's response and body so far, kept on the request: its listeners need no closures. */
const RESPONSE = Symbol("keygate.verifyResponse");
const BODY = Symbol("keygate.verifyBody");
interface VerifyRequest extends IncomingMessage {
  [RESPONSE]: ServerResponse;
  [BODY]: Buffer | Buffer[] | undefined;
}

/** Wraps `next` (Hono's listener): the verify route is answered here, every other request there. */
export function withFastVerify(deps: Deps, next: Handler): Handler {
  const verifier = new FastVerifier(deps);
  // Made once: a closure per request costs its allocation and, under tsx (esbuild's keepNames),
  // a defineProperty for its name.
  function onData(this: VerifyRequest, chunk: Buffer): void {
    const held = this[BODY];
    if (held === undefined) this[BODY] = chunk;
    else if (Array.isArray(held)) held.push(chunk);
    else this[BODY] = [held, chunk];
  }
  function onEnd(this: VerifyRequest): void {
    const held = this[BODY];
    // A small body comes in one chunk: no copy to join it.
    const body =
      held === undefined ? "" : (Array.isArray(held) ? Buffer.concat(held) : held).toString("utf8");
    verifier.answer(this, this[RESPONSE], body);
  }
  function onError(this: VerifyRequest): void {
    this[RESPONSE].destroy();
  }
  return (req, res) => {
    if (!fastVerifyApplies(req)) return next(req, res);
    const request = req as VerifyRequest;
    request[RESPONSE] = res;
    request[BODY] = undefined;
    request.on("data", onData);
    request.on("end", onEnd);
    request.on("error", onError);
  };
}

/** A body ready to send: the text and its Content-Length. */
interface Prepared {
  text: string;
  length: string;
}

/** The headers of every answer here; Content-Length is added when the body is ready. */
function answerHeaders(requestId: string): Record<string, string> {
  return { "x-request-id": requestId, "content-type": "application/json" };
}

/** An answer's headers as a sink for the Hono route's helpers (RateLimit-*, Retry-After). */
class Reply implements HeaderSink {
  readonly headers: Record<string, string>;
  constructor(requestId: string) {
    this.headers = answerHeaders(requestId);
  }
  header(name: string, value: string): void {
    this.headers[name] = value;
  }
}

class FastVerifier {
  private readonly access: AccessLog;
  private readonly request = AccessLog.request("POST", VERIFY_PATH, VERIFY_PATH);
  /**
   * The body of each cache entry's valid answer (answerDependsOnKeyAlone), made on its first such
   * answer: serialising the answer was the largest piece of a hot verification after the socket
   * write. Weak: it goes when the cache lets the entry go, or replaces it after a change.
   */
  private readonly validBodies = new WeakMap<CachedKey, Prepared>();

  constructor(private readonly deps: Deps) {
    this.access = new AccessLog(deps.logger);
  }

  answer(req: IncomingMessage, res: ServerResponse, text: string): void {
    const started = performance.now();
    const requestId = requestIdOf(req.headers["x-request-id"]);
    let result: Now<VerifyResult>;
    try {
      result = checkForCaller(this.deps, anonymous, parseJsonObject(text) as never);
    } catch (error) {
      this.failed(res, requestId, started, error);
      return;
    }
    // Most verifications are answered synchronously (verifyKey): no promise is made for them.
    if (!(result instanceof Promise)) {
      this.answered(res, requestId, started, result);
      return;
    }
    result.then(
      (settled) => this.answered(res, requestId, started, settled),
      (error) => this.failed(res, requestId, started, error),
    );
  }

  private answered(res: ServerResponse, requestId: string, started: number, result: VerifyResult) {
    if (answerDependsOnKeyAlone(result)) {
      let body = this.validBodies.get(result.key);
      if (body === undefined) {
        body = prepared(verifyAnswer(result));
        this.validBodies.set(result.key, body);
      }
      this.write(res, requestId, started, 200, answerHeaders(requestId), body);
      return;
    }
    const answer = verifyAnswer(result);
    const reply = new Reply(requestId);
    verifyAnswerHeaders(reply, answer);
    this.write(res, requestId, started, 200, reply.headers, prepared(answer));
  }

  private failed(res: ServerResponse, requestId: string, started: number, error: unknown): void {
    // Hono's error handler logs the unexpected; here it is ours to log.
    if (!(error instanceof AppError && error.status < 500))
      this.deps.logger.error({ err: error, requestId }, "unexpected error");
    const reply = new Reply(requestId);
    const { status, body } = keygateErrorReply(reply, error, () => requestId);
    this.write(res, requestId, started, status, reply.headers, prepared(body));
  }

  private write(
    res: ServerResponse,
    requestId: string,
    started: number,
    status: number,
    headers: Record<string, string>,
    body: Prepared,
  ): void {
    headers["content-length"] = body.length;
    res.writeHead(status, headers);
    res.end(body.text);
    this.access.write({ requestId }, this.request, status, started);
  }
}

function prepared(payload: unknown): Prepared {
  const text = JSON.stringify(payload);
  return { text, length: String(Buffer.byteLength(text)) };
}
