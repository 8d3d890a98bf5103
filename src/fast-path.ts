// What the node:http fast paths (fast-verify.ts, fast-graphql.ts) share with the Hono app's first
// middleware (app.ts): which requests they may take, the request id and the request's facts
// (request-context.ts; the access log line is access-log.ts). One definition each, so a request
// answered before Hono is logged and identified exactly like one answered by it.
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { LARGE_BODY_BYTES } from "./body-budget.ts";
import type { RequestFacts } from "./request-context.ts";

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** An X-Request-Id a client may choose; anything else is replaced. */
export const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

export function requestIdOf(incoming: string | string[] | undefined): string {
  return typeof incoming === "string" && REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/**
 * A POST to `path` that Hono would treat as anonymous and that needs none of its middleware: no
 * Authorization or signature (the caller is anonymous), no Origin (no CORS), and a declared
 * Content-Length within the small-body budget (no chunked body to count, no large-body budget).
 */
export function plainAnonymousPost(req: IncomingMessage, path: string): boolean {
  if (req.method !== "POST" || req.url !== path) return false;
  const h = req.headers;
  if (h.authorization !== undefined || h["keygate-signature"] !== undefined) return false;
  if (h.origin !== undefined || h["transfer-encoding"] !== undefined) return false;
  const length = h["content-length"];
  if (length === undefined || !/^\d{1,6}$/.test(length)) return false;
  return Number(length) <= LARGE_BODY_BYTES;
}

/** The request's facts on the Node server: "response sent" is the socket's finish. */
export function nodeRequestFacts(requestId: string, res: ServerResponse): RequestFacts {
  // Made on first use only, and once: most requests defer nothing.
  let sent: Promise<void> | undefined;
  return {
    requestId,
    responseSent: () =>
      (sent ??= new Promise<void>((resolve) => {
        if (res.writableFinished || res.destroyed) return resolve();
        res.once("finish", () => resolve());
        res.once("close", () => resolve());
      })),
  };
}
