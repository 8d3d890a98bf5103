// Service inputs are validated with zod; the first offending field is named in the error.
import type { z } from "zod";
import { AppError } from "../errors.ts";

export function parseInput<S extends z.ZodType>(schema: S, raw: unknown): z.output<S> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const fields = result.error.issues.map((issue) => ({
    field: issue.path.length ? issue.path.join(".") : "input",
    message: issue.message,
  }));
  throw new AppError(
    "VALIDATION_FAILED",
    fields.map((f) => `${f.field}: ${f.message}`).join("; "),
    { fields },
  );
}
