// Large bodies cost CPU before any handler can refuse them (reading, JSON.parse, the strict-text
// walk). Anonymous callers get a small per-IP budget of them; authenticated callers are limited
// by their credential's own limits. Credentials are checked, not merely present: a made-up
// Authorization header must not buy an unlimited budget.
import type { Context } from "hono";
import { actorOf } from "./rest/actor.ts";
import { clientIp } from "./rest/client-ip.ts";
import { keygateError } from "./rest/envelope.ts";
import type { Deps } from "./deps.ts";
import { AppError } from "./errors.ts";

/** Past this size a body counts against the anonymous budget (no route's anonymous request needs it). */
export const LARGE_BODY_BYTES = 64 * 1024;

async function authenticated(deps: Deps, c: Context): Promise<boolean> {
  if (!c.req.header("authorization")) return false;
  try {
    // Remembered on the context: the route does not authenticate (or charge a key) twice.
    return (await actorOf(deps, c)).kind !== "anonymous";
  } catch (error) {
    if (error instanceof AppError) return false;
    throw error;
  }
}

/** Undefined when the request may go on; otherwise the 429 (with Retry-After) to answer. */
export async function spendLargeBodyBudget(deps: Deps, c: Context): Promise<Response | undefined> {
  if (await authenticated(deps, c)) return undefined;
  try {
    await deps.limiters.consume("largeAnonymousBodyIp", clientIp(c) ?? "unknown");
    return undefined;
  } catch (error) {
    if (error instanceof AppError && error.code === "RATE_LIMITED") return keygateError(c, error);
    throw error;
  }
}

/**
 * A body of undeclared length (chunked, or a Request built in tests), read into memory up to
 * `maxSize` so its size is known; the handlers then read the buffered copy.
 */
export async function bufferBody(c: Context, maxSize: number): Promise<number | "too large"> {
  const body = c.req.raw.body;
  if (!body) return 0;
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > maxSize) {
      await reader.cancel().catch(() => {});
      return "too large";
    }
    chunks.push(value);
  }
  c.req.raw = new Request(c.req.raw, { body: Buffer.concat(chunks, size) });
  return size;
}
