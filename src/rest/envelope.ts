// Vendor response envelopes. Each maps Keygate's AppError codes to the statuses and
// messages its vendor documents.
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { AppError, type ErrorCode } from "../errors.ts";

/** Kotani Pay: `{ success, message, data }`. */
export function kotaniOk(c: Context, message: string, data: Record<string, unknown> = {}, status: ContentfulStatusCode = 200) {
  return c.json({ success: true, message, data }, status);
}

const kotaniErrors: Partial<Record<ErrorCode, [ContentfulStatusCode, string]>> = {
  BAD_REQUEST: [400, "Bad Request"],
  VALIDATION_FAILED: [400, "Bad Request"],
  PAYLOAD_TOO_LARGE: [413, "Payload Too Large"],
  UNAUTHENTICATED: [401, "Unauthorized"],
  INVALID_TOKEN: [401, "Unauthorized"],
  INVALID_SIGNATURE: [401, "Unauthorized"],
  FORBIDDEN: [403, "Unauthorized"],
  KEY_NOT_FOUND: [404, "Invalid Api Key"],
  RATE_LIMITED: [429, "Too Many Requests"],
};

export function kotaniError(c: Context, error: unknown) {
  if (error instanceof AppError) {
    const [status, message] = kotaniErrors[error.code] ?? [error.status === 404 ? 404 : 500, error.status === 404 ? "Not Found" : "Internal Server Error"];
    if (error.retryAfter !== undefined) c.header("Retry-After", String(error.retryAfter));
    return c.json({ success: false, message, data: {} }, status);
  }
  return c.json({ success: false, message: "Internal Server Error", data: {} }, 500);
}
