// Vendor response envelopes. Each maps Keygate's AppError codes to the statuses and
// messages its vendor documents; unexpected errors become the vendor's 500 without detail.
// Each is declared with the body it answers and every status it can produce, so the
// document of every route lists its errors from the same place that answers them.
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { z } from "zod";
import { AppError, errorStatus, type ErrorCode } from "../errors.ts";
import type { VerifyAnswer } from "../modules/keys/verify-request.ts";
import { component, type Envelope, type RestContext } from "./route.ts";

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

function statusAndMessage(
  error: unknown,
  map: ErrorMap,
): [ContentfulStatusCode, string, AppError | undefined] {
  if (!(error instanceof AppError)) return [500, "Internal Server Error", undefined];
  const mapped = map[error.code];
  if (mapped) return [mapped[0], mapped[1], error];
  if (error.status === 404) return [404, "Not Found", error];
  if (error.status === 409) return [409, "Conflict", error];
  if (error.status < 500) return [error.status as ContentfulStatusCode, error.message, error];
  return [500, "Internal Server Error", error];
}

/** Every status an envelope with this map can answer (any AppError, and the unexpected 500), with its messages. */
function statusesOf(map: ErrorMap): Record<number, string> {
  const messages = new Map<number, Set<string>>([[500, new Set(["Internal Server Error"])]]);
  for (const code of Object.keys(errorStatus) as ErrorCode[]) {
    const [status, message] = statusAndMessage(new AppError(code, code), map);
    messages.set(status, (messages.get(status) ?? new Set()).add(message));
  }
  return Object.fromEntries(
    [...messages]
      .sort(([a], [b]) => a - b)
      .map(([status, known]) => [status, [...known].join(" / ")]),
  );
}

/** Where the header helpers write: a Hono context, or the node:http fast path's header map. */
export interface HeaderSink {
  header(name: string, value: string): void;
}

/** The IETF draft's RateLimit-* headers (limit, what is left, seconds until the window resets). */
export function rateLimitHeaders(
  c: HeaderSink,
  state: { limit?: number; remaining: number; reset: number },
) {
  if (state.limit !== undefined) c.header("RateLimit-Limit", String(state.limit));
  c.header("RateLimit-Remaining", String(state.remaining));
  c.header("RateLimit-Reset", String(state.reset));
}

/** A verification answer's headers: its key's rate limit, and Retry-After when RATE_LIMITED. */
export function verifyAnswerHeaders(c: HeaderSink, answer: VerifyAnswer) {
  if (!answer.ratelimit) return;
  rateLimitHeaders(c, answer.ratelimit);
  if (answer.code === "RATE_LIMITED") c.header("Retry-After", String(answer.ratelimit.reset));
}

/** A 429 says when to come back: Retry-After, and the RateLimit-* headers of the spent window. */
export function retryAfter(c: HeaderSink, error: AppError | undefined) {
  if (error?.retryAfter === undefined) return;
  c.header("Retry-After", String(error.retryAfter));
  if (error.code === "RATE_LIMITED")
    rateLimitHeaders(c, { limit: error.limit, remaining: 0, reset: error.retryAfter });
}

/** Kotani Pay (seeds 000, 001): `{ success, message, data }`. */
export function kotaniOk<D extends Record<string, unknown>>(
  c: RestContext,
  message: string,
  data: D = {} as D,
  status: ContentfulStatusCode = 200,
) {
  return c.json({ success: true as const, message, data }, status);
}

/** A Kotani success body: `data` is the route's own. */
export const kotaniSuccess = <D extends z.ZodType>(data: D, message?: string) =>
  z.object({
    success: z.literal(true),
    message: message === undefined ? z.string() : z.literal(message),
    data,
  });

const kotaniFailure = component(
  "KotaniError",
  z.object({
    success: z.literal(false),
    message: z.string(),
    /** The HTTP status, as Kotani's SDK reads it. */
    error_code: z.number().int(),
    data: z.object({
      /** Validation errors: each offending field with its problem. */
      errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
      /** On a 429: seconds to wait (also in Retry-After). */
      retryAfter: z.number().int().optional(),
    }),
  }),
);

// Kotani documents 403 "Unauthorized" for a missing or bad credential, 404 for a bad API key;
// a request signature that does not hold (x-signature or Keygate-Signature) is a 401.
const kotaniErrors = errorMap({
  UNAUTHENTICATED: [403, "Unauthorized"],
  INVALID_TOKEN: [403, "Unauthorized"],
  INVALID_SIGNATURE: [401, "Invalid Signature"],
  FORBIDDEN: [403, "Unauthorized"],
  KEY_NOT_FOUND: [404, "Invalid Api Key"],
});

function kotaniError(c: RestContext, error: unknown) {
  const [status, title, app] = statusAndMessage(error, kotaniErrors);
  retryAfter(c, app);
  const data: z.infer<typeof kotaniFailure>["data"] = {};
  if (app?.fields.length)
    data.errors = app.fields.map(({ field, message }) => ({ field, message }));
  if (status === 429 && app?.retryAfter !== undefined) data.retryAfter = app.retryAfter;
  const body: z.infer<typeof kotaniFailure> = {
    success: false,
    message: title,
    error_code: status,
    data,
  };
  return c.json(body, status);
}

export const kotaniEnvelope: Envelope = {
  answer: kotaniError,
  body: kotaniFailure,
  statuses: statusesOf(kotaniErrors),
};

/** Yativo (seed 002): `{ success, message, ... }`; errors add the stable code and the bad fields. */
const yativoErrors = errorMap({
  VALIDATION_FAILED: [400, "Validation failed"],
  UNAUTHENTICATED: [401, "Unauthenticated"],
  INVALID_TOKEN: [401, "Unauthenticated"],
  INVALID_SIGNATURE: [401, "Unauthenticated"],
});

const yativoFailure = component(
  "YativoError",
  z.object({
    success: z.literal(false),
    message: z.string(),
    error: z.object({ code: z.string() }),
    /** The offending fields, each with its messages. */
    errors: z.record(z.string(), z.array(z.string())).optional(),
  }),
);

function yativoError(c: RestContext, error: unknown) {
  const [status, message, app] = statusAndMessage(error, yativoErrors);
  retryAfter(c, app);
  const body: z.infer<typeof yativoFailure> = {
    success: false,
    message,
    error: { code: app?.code ?? "INTERNAL" },
  };
  if (app?.fields.length)
    body.errors = Object.fromEntries(app.fields.map((f) => [f.field, [f.message]]));
  return c.json(body, status);
}

export const yativoEnvelope: Envelope = {
  answer: yativoError,
  body: yativoFailure,
  statuses: statusesOf(yativoErrors),
};

/** Extractor (seed 003): a Quarkus-style `{ status, error, message }`. */
const extractorErrors = errorMap();

const extractorFailure = component(
  "ExtractorError",
  z.object({ status: z.number().int(), error: z.string(), message: z.string() }),
);

function extractorError(c: RestContext, error: unknown) {
  const [status, title, app] = statusAndMessage(error, extractorErrors);
  retryAfter(c, app);
  const body: z.infer<typeof extractorFailure> = {
    status,
    error: title,
    message: app && status < 500 ? app.message : title,
  };
  return c.json(body, status);
}

export const extractorEnvelope: Envelope = {
  answer: extractorError,
  body: extractorFailure,
  statuses: statusesOf(extractorErrors),
};

/** Company project keys (seed 004): `{ success, code, errorMessage }` with the HTTP status as code. */
const companyErrors = errorMap({
  PROJECT_NOT_FOUND: [404, "No project exists with the specified ID."],
});

const companyFailure = component(
  "CompanyError",
  z.object({ success: z.literal(false), code: z.number().int(), errorMessage: z.string() }),
);

function companyError(c: RestContext, error: unknown) {
  const [status, title, app] = statusAndMessage(error, companyErrors);
  retryAfter(c, app);
  const detail = app && status === 400 ? app.message : title;
  const body: z.infer<typeof companyFailure> = {
    success: false,
    code: status,
    errorMessage: detail,
  };
  return c.json(body, status);
}

export const companyEnvelope: Envelope = {
  answer: companyError,
  body: companyFailure,
  statuses: statusesOf(companyErrors),
};

/** Keygate's own routes: `{ error: { code, message, fields } }`, the AppError as it is. */
export const keygateFailure = component(
  "NativeError",
  z.object({
    error: z.object({
      code: z.enum([...(Object.keys(errorStatus) as ErrorCode[])]),
      message: z.string(),
      fields: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
      /** On a 500 only: the id to quote when reporting it. */
      requestId: z.string().optional(),
    }),
  }),
);

export function keygateError(c: RestContext, error: unknown) {
  const reply = keygateErrorReply(c, error, () => c.get("requestId"));
  return c.json(reply.body, reply.status);
}

/**
 * Keygate's error status and body for any thrown value (an unexpected one is a 500 that quotes the
 * request id); a 429's headers go to `c`. Shared with the node:http fast path, which has no context.
 */
export function keygateErrorReply(
  c: HeaderSink,
  error: unknown,
  requestId: () => string | undefined,
): { status: ContentfulStatusCode; body: z.infer<typeof keygateFailure> } {
  if (error instanceof AppError && error.status < 500) {
    retryAfter(c, error);
    return {
      status: error.status as ContentfulStatusCode,
      body: { error: { code: error.code, message: error.message, fields: error.fields } },
    };
  }
  return {
    status: 500,
    body: { error: { code: "INTERNAL", message: "internal error", requestId: requestId() } },
  };
}

/** Each status with the codes that answer it. */
const keygateStatuses: Record<number, string> = {};
for (const [code, status] of Object.entries(errorStatus))
  keygateStatuses[status] = keygateStatuses[status] ? `${keygateStatuses[status]}, ${code}` : code;

export const keygateEnvelope: Envelope = {
  answer: keygateError,
  body: keygateFailure,
  statuses: keygateStatuses,
};

/** What the gateway itself may answer before any route runs: the body limit and the anonymous large-body budget. */
export const gatewayAnswers = {
  body: keygateFailure,
  statuses: { 413: "Payload Too Large (body limit)", 429: "Too Many Requests (large bodies)" },
};
