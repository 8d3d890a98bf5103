// An async action run from a form or button: busy while it runs, its error kept.
import { useCallback, useState } from "react";

export function useBusyAction() {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  // One function for the component's life: an effect may depend on it.
  const run = useCallback(async (work: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await work();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }, []);
  return { error, setError, busy, run };
}
