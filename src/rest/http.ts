// Shared pieces of the REST adapters: request facts and strict JSON bodies.
import type { IncomingMessage } from "node:http";
import type { RequestMeta } from "../deps.ts";
import { AppError } from "../errors.ts";
import { clientIp } from "./client-ip.ts";
import { parseJsonObject } from "../storable-text.ts";
import type { RestContext as Context } from "./route.ts";

export function requestMeta(c: Context): RequestMeta {
  return {
    ip: clientIp(c),
    userAgent: c.req.header("user-agent") ?? null,
    requestId: c.get("requestId") ?? null,
    responseSent: c.get("facts")?.responseSent,
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
  return parseJsonObject(await readBodyText(c));
}

/** The q-value the Accept header gives a media type (its most specific matching range), 0 when none. */
function quality(ranges: { type: string; q: number }[], type: string): number {
  const [major] = type.split("/");
  let best: { specificity: number; q: number } = { specificity: -1, q: 0 };
  for (const range of ranges) {
    const specificity =
      range.type === type ? 2 : range.type === `${major}/*` ? 1 : range.type === "*/*" ? 0 : -1;
    if (specificity > best.specificity) best = { specificity, q: range.q };
  }
  return best.q;
}

/**
 * The request prefers an HTML page to JSON: its Accept header ranks text/html (or XHTML) above
 * application/json. Browsers do; `Accept: *\/*`, a missing header and JSON clients do not.
 */
export function prefersHtml(c: Context): boolean {
  const accept = c.req.header("accept");
  if (!accept) return false;
  const ranges = accept.split(",").map((part) => {
    const [type = "", ...params] = part.trim().toLowerCase().split(";");
    const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)?.[1]).find(Boolean);
    const value = q === undefined ? 1 : Number(q);
    return { type: type.trim(), q: Number.isFinite(value) ? value : 0 };
  });
  const html = Math.max(quality(ranges, "text/html"), quality(ranges, "application/xhtml+xml"));
  return html > 0 && html > quality(ranges, "application/json");
}
