// Shared pieces of the REST adapters: request facts and strict JSON bodies.
import type { IncomingMessage } from "node:http";
import type { RequestMeta } from "../deps.ts";
import { AppError } from "../errors.ts";
import { clientIp } from "./client-ip.ts";
import { assertStorableText } from "../storable-text.ts";
import type { RestContext as Context } from "./route.ts";

export function requestMeta(c: Context): RequestMeta {
  return {
    ip: clientIp(c),
    userAgent: c.req.header("user-agent") ?? null,
    requestId: c.get("requestId") ?? null,
  };
}

export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * The raw body as text. On the Node server it is read straight from the socket stream:
 * going through the fetch Request's body stream costs more than verifying a key.
 */
async function readBodyText(c: Context): Promise<string> {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  const cached =
    Object.keys((c.req as unknown as { bodyCache: object }).bodyCache ?? {}).length > 0;
  if (!incoming || cached || incoming.readableDidRead || incoming.readableEnded)
    return c.req.text();
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
    throw new AppError("BAD_REQUEST", "body: invalid JSON", {
      fields: [{ field: "body", message: "invalid JSON" }],
    });
  }
  if (!value || typeof value !== "object" || Array.isArray(value)) {
    throw new AppError("BAD_REQUEST", "body: must be a JSON object", {
      fields: [{ field: "body", message: "must be a JSON object" }],
    });
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
