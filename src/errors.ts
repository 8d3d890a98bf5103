// One error type for every transport. Services throw AppError with a stable
// code; GraphQL, REST and the vendor envelopes only translate it.

export const errorStatus = {
  BAD_REQUEST: 400,
  VALIDATION_FAILED: 400,
  UNAUTHENTICATED: 401,
  INVALID_TOKEN: 401,
  INVALID_SIGNATURE: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  TENANT_NOT_FOUND: 404,
  USER_NOT_FOUND: 404,
  PROJECT_NOT_FOUND: 404,
  KEY_NOT_FOUND: 404,
  SESSION_NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  INTERNAL: 500,
} as const;

export type ErrorCode = keyof typeof errorStatus;

export interface FieldIssue {
  /** Dotted path of the offending input field, e.g. `input.email`. */
  field: string;
  message: string;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly fields: FieldIssue[];
  /** Seconds a rate-limited caller should wait. */
  readonly retryAfter?: number;
  /** The limit a rate-limited caller exceeded (requests per window), when known. */
  readonly limit?: number;

  constructor(
    code: ErrorCode,
    message: string,
    options: { fields?: FieldIssue[]; retryAfter?: number; limit?: number } = {},
  ) {
    super(message);
    this.name = "AppError";
    this.code = code;
    this.fields = options.fields ?? [];
    this.retryAfter = options.retryAfter;
    this.limit = options.limit;
  }

  get status(): number {
    return errorStatus[this.code];
  }

  static validation(field: string, message: string): AppError {
    return new AppError("VALIDATION_FAILED", `${field}: ${message}`, {
      fields: [{ field, message }],
    });
  }
}
