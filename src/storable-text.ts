// Strict input shared by every transport: text PostgreSQL cannot store (NUL, half of a UTF-16
// surrogate pair) and nesting no route needs are refused as the client's mistake, naming the field.
import { AppError } from "./errors.ts";

/** No request of any route needs more. */
export const MAX_JSON_DEPTH = 32;

export const UNSTORABLE_MESSAGE = "contains a NUL character or an unpaired surrogate";

// A character class test is a native scan; only strings it flags pay for the exact check.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding NUL is the point.
const suspect = /[\u0000\ud800-\udfff]/;

/** Whether PostgreSQL can store the string (text and jsonb refuse NUL and lone surrogates). */
export function isStorable(text: string): boolean {
  return (
    !suspect.test(text) ||
    (!text.includes("\u0000") && (text as unknown as { isWellFormed(): boolean }).isWellFormed())
  );
}

interface Problem {
  /** Keys from the offending value up to the root (built only on failure). */
  at: string[];
  message: string;
}

// Recursive on purpose: the depth is bounded by MAX_JSON_DEPTH, and nothing is allocated
// while everything is fine (the previous walk built a path string and a tuple per value and
// cost 15 to 30 times JSON.parse on large arrays).
function problemIn(value: unknown, depth: number): Problem | undefined {
  if (typeof value === "string")
    return isStorable(value) ? undefined : { at: [], message: UNSTORABLE_MESSAGE };
  if (value === null || typeof value !== "object") return undefined;
  if (depth >= MAX_JSON_DEPTH)
    return { at: [], message: `nested deeper than ${MAX_JSON_DEPTH} levels` };
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (item === null || (typeof item !== "object" && typeof item !== "string")) continue;
      const problem = problemIn(item, depth + 1);
      if (problem) {
        problem.at.push(String(i));
        return problem;
      }
    }
    return undefined;
  }
  // for...in allocates no key array (Object.keys did, and cost a third of the walk on objects).
  for (const key in value) {
    if (!isStorable(key)) return { at: [], message: UNSTORABLE_MESSAGE };
    const item: unknown = (value as Record<string, unknown>)[key];
    if (item === null || (typeof item !== "object" && typeof item !== "string")) continue;
    const problem = problemIn(item, depth + 1);
    if (problem) {
      problem.at.push(key);
      return problem;
    }
  }
  return undefined;
}

/** The first unstorable string or too deep value under `path`, as the dotted path and a message. */
export function findUnstorable(
  value: unknown,
  path: string,
): { field: string; message: string } | undefined {
  const problem = problemIn(value, 0);
  if (!problem) return undefined;
  return { field: [path, ...problem.at.reverse()].join("."), message: problem.message };
}

/**
 * Strict input: every string in a request must be text PostgreSQL can store, or the request
 * is a 400 naming the field, instead of a database error halfway through a write.
 */
export function assertStorableText(value: unknown, path: string): void {
  const problem = findUnstorable(value, path);
  if (problem) {
    throw new AppError("BAD_REQUEST", `${problem.field}: ${problem.message}`, {
      fields: [problem],
    });
  }
}

/**
 * A request body as a JSON object, strictly: empty is `{}`, anything but an object, or text
 * PostgreSQL cannot store, is a 400 naming the problem. Every JSON route reads its body here.
 */
export function parseJsonObject(text: string): Record<string, unknown> {
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
