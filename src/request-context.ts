// Per-request facts that code deep in the stack (error masking, logs) needs without
// threading them through every call.
import { AsyncLocalStorage } from "node:async_hooks";

export interface RequestFacts {
  requestId: string;
  tenantId?: string;
  keyId?: string;
}

export const requestStore = new AsyncLocalStorage<RequestFacts>();

export function currentRequestId(): string | undefined {
  return requestStore.getStore()?.requestId;
}
