// Shared pieces of the REST adapters: request facts and strict JSON bodies.
import type { IncomingMessage } from "node:http";
import type { Context } from "hono";
import type { RequestMeta } from "../deps.ts";
import { AppError } from "../errors.ts";
import { clientIp } from "./client-ip.ts";

export function requestMeta(c: Context): RequestMeta {
  return {
    ip: clientIp(c),
    userAgent: c.req.header("user-agent") ?? null,
    requestId: (c.get as (key: string) => string | undefined)("requestId") ?? null,
  };
}

export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * The raw body as text. On the Node server it is read straight from the socket stream:
 * going through the fetch Request's body stream costs more than verifying a key.
 */
export async function readBodyText(c: Context): Promise<string> {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  const cached = Object.keys((c.req as unknown as { bodyCache: object }).bodyCache ?? {}).length > 0;
  if (!incoming || cached || incoming.readableDidRead || incoming.readableEnded) return c.req.text();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of incoming as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new AppError("PAYLOAD_TOO_LARGE", "body: too large");
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** The body as a JSON object; anything else is a 400 naming the problem. */
export async function readJsonObject(c: Context): Promise<Record<string, unknown>> {
  const text = await readBodyText(c);
  if (!text.trim()) return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new AppError("BAD_REQUEST", "body: invalid JSON", { fields: [{ field: "body", message: "invalid JSON" }] });
  }
  if (!value || typeof value !== "object" || Array.isArray(value)) {
    throw new AppError("BAD_REQUEST", "body: must be a JSON object", { fields: [{ field: "body", message: "must be a JSON object" }] });
  }
  assertStorableText(value, "body");
  return value as Record<string, unknown>;
}

export function wantsHtml(c: Context): boolean {
  const accept = c.req.header("accept") ?? "";
  return /text\/html/i.test(accept);
}

export function wantsJson(c: Context): boolean {
  const accept = c.req.header("accept") ?? "";
  return /application\/json/i.test(accept) && !/text\/html/i.test(accept);
}

/** No request of any route needs more. */
export const MAX_JSON_DEPTH = 32;

/** NUL, or half of a UTF-16 surrogate pair: text PostgreSQL cannot store. */
const unstorable = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Strict input: every string in a request must be text PostgreSQL can store, or the
 * request is a 400 naming the field, instead of a database error halfway through a write.
 */
export function assertStorableText(value: unknown, path: string): void {
  const bad = (at: string, message: string) => new AppError("BAD_REQUEST", `${at}: ${message}`, { fields: [{ field: at, message }] });
  // Iterative, with a depth bound: a hostile body may nest arrays thousands deep.
  const pending: [unknown, string, number][] = [[value, path, 0]];
  while (pending.length) {
    const [item, at, depth] = pending.pop()!;
    if (typeof item === "string") {
      if (unstorable.test(item)) throw bad(at, "contains a NUL character or an unpaired surrogate");
    } else if (item && typeof item === "object") {
      if (depth >= MAX_JSON_DEPTH) throw bad(at, `nested deeper than ${MAX_JSON_DEPTH} levels`);
      const entries = Array.isArray(item) ? item.map((v, i) => [String(i), v] as const) : Object.entries(item);
      for (const [key, child] of entries) {
        if (unstorable.test(key)) throw bad(at, "contains a NUL character or an unpaired surrogate");
        pending.push([child, `${at}.${key}`, depth + 1]);
      }
    }
  }
}

/** The same check for GraphQL source text, whose string literals may spell such characters as escapes. */
export function assertStorableQuery(query: string): void {
  assertStorableText(query, "query");
  if (/\\u0000|\\u[dD][89a-fA-F][0-9a-fA-F]{2}/.test(query)) {
    throw new AppError("BAD_REQUEST", "query: escapes a NUL character or a surrogate", { fields: [{ field: "query", message: "escapes a NUL character or a surrogate" }] });
  }
}
