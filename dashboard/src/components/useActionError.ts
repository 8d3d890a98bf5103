// The error of a page's last action (a mutation from a button), and the reload of the page's
// query after it.
import { useState } from "react";
import type { OperationContext } from "urql";

type Result = { error?: unknown };

export function useActionError(reload: (context?: Partial<OperationContext>) => void) {
  const [error, setError] = useState<unknown>(null);
  const refetch = () => reload({ requestPolicy: "network-only" });
  /** Keeps the result's error, if any, and reloads. */
  const report = (result: Result) => {
    if (result.error) setError(result.error);
    refetch();
  };
  /** Clears the last error, awaits the action, then reports it. */
  const run = async <R extends Result>(action: Promise<R>): Promise<R> => {
    setError(null);
    const result = await action;
    report(result);
    return result;
  };
  return { error, setError, refetch, report, run };
}
