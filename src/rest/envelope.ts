// Vendor response envelopes. Each maps Keygate's AppError codes to the statuses and
// messages its vendor documents; unexpected errors become the vendor's 500 without detail.
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { AppError, type ErrorCode } from "../errors.ts";

type ErrorMap = Partial<Record<ErrorCode, [ContentfulStatusCode, string]>>;

/** What most vendors answer; each envelope overrides where its vendor documents otherwise. */
function errorMap(overrides: ErrorMap = {}): ErrorMap {
  return {
    BAD_REQUEST: [400, "Bad Request"],
    VALIDATION_FAILED: [400, "Bad Request"],
    PAYLOAD_TOO_LARGE: [413, "Payload Too Large"],
    UNAUTHENTICATED: [401, "Unauthorized"],
    INVALID_TOKEN: [401, "Unauthorized"],
    INVALID_SIGNATURE: [401, "Unauthorized"],
    FORBIDDEN: [403, "Forbidden"],
    RATE_LIMITED: [429, "Too Many Requests"],
    ...overrides,
  };
}

function statusAndMessage(error: unknown, map: ErrorMap): [ContentfulStatusCode, string, AppError | undefined] {
  if (!(error instanceof AppError)) return [500, "Internal Server Error", undefined];
  const mapped = map[error.code];
  if (mapped) return [mapped[0], mapped[1], error];
  if (error.status === 404) return [404, "Not Found", error];
  if (error.status === 409) return [409, "Conflict", error];
  if (error.status < 500) return [error.status as ContentfulStatusCode, error.message, error];
  return [500, "Internal Server Error", error];
}

function retryAfter(c: Context, error: AppError | undefined) {
  if (error?.retryAfter !== undefined) c.header("Retry-After", String(error.retryAfter));
}

/** Kotani Pay (seeds 000, 001): `{ success, message, data }`. */
export function kotaniOk(c: Context, message: string, data: Record<string, unknown> = {}, status: ContentfulStatusCode = 200) {
  return c.json({ success: true, message, data }, status);
}

// Kotani documents 403 "Unauthorized" for a missing or bad credential, 404 for a bad API key.
const kotaniErrors = errorMap({
  UNAUTHENTICATED: [403, "Unauthorized"],
  INVALID_TOKEN: [403, "Unauthorized"],
  INVALID_SIGNATURE: [403, "Unauthorized"],
  FORBIDDEN: [403, "Unauthorized"],
  KEY_NOT_FOUND: [404, "Invalid Api Key"],
});

export function kotaniError(c: Context, error: unknown) {
  const [status, message, app] = statusAndMessage(error, kotaniErrors);
  retryAfter(c, app);
  return c.json({ success: false, message, data: {} }, status);
}

/** Yativo (seed 002): `{ success, message, ... }`; errors add the stable code and the bad fields. */
const yativoErrors = errorMap({
  VALIDATION_FAILED: [400, "Validation failed"],
  UNAUTHENTICATED: [401, "Unauthenticated"],
  INVALID_TOKEN: [401, "Unauthenticated"],
  INVALID_SIGNATURE: [401, "Unauthenticated"],
});

export function yativoError(c: Context, error: unknown) {
  const [status, message, app] = statusAndMessage(error, yativoErrors);
  retryAfter(c, app);
  const body: Record<string, unknown> = { success: false, message, error: { code: app?.code ?? "INTERNAL" } };
  if (app?.fields.length) body.errors = Object.fromEntries(app.fields.map((f) => [f.field, [f.message]]));
  return c.json(body, status);
}

/** Extractor (seed 003): a Quarkus-style `{ status, error, message }`. */
const extractorErrors = errorMap();

export function extractorError(c: Context, error: unknown) {
  const [status, title, app] = statusAndMessage(error, extractorErrors);
  retryAfter(c, app);
  return c.json({ status, error: title, message: app && status < 500 ? app.message : title }, status);
}

/** Company project keys (seed 004): `{ success, code, errorMessage }` with the HTTP status as code. */
const companyErrors = errorMap({ PROJECT_NOT_FOUND: [404, "No project exists with the specified ID."] });

export function companyError(c: Context, error: unknown) {
  const [status, title, app] = statusAndMessage(error, companyErrors);
  retryAfter(c, app);
  const detail = app && status === 400 ? app.message : title;
  return c.json({ success: false, code: status, errorMessage: detail }, status);
}

/** Keygate's own routes: `{ error: { code, message, fields } }`, the AppError as it is. */
export function keygateError(c: Context, error: unknown) {
  if (error instanceof AppError && error.status < 500) {
    retryAfter(c, error);
    return c.json({ error: { code: error.code, message: error.message, fields: error.fields } }, error.status as ContentfulStatusCode);
  }
  const requestId = (c.get as (key: string) => string | undefined)("requestId");
  return c.json({ error: { code: "INTERNAL", message: "internal error", requestId } }, 500);
}
