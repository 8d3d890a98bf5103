// Per-request facts that code deep in the stack (error masking, logs) needs without
// threading them through every call.
import { AsyncLocalStorage } from "node:async_hooks";

export interface RequestFacts {
  requestId: string;
  tenantId?: string;
  keyId?: string;
  /** A promise that settles once the response has been handed to the client in full. */
  responseSent?: () => Promise<void>;
}

export const requestStore = new AsyncLocalStorage<RequestFacts>();

export function currentRequestId(): string | undefined {
  return requestStore.getStore()?.requestId;
}

/** Puts the caller's tenant and key on the request's log line. */
export function noteActor(actor: { kind: string; tenantId?: string; keyId?: string }): void {
  const facts = requestStore.getStore();
  if (!facts) return;
  if (actor.tenantId) facts.tenantId = actor.tenantId;
  if (actor.keyId) facts.keyId = actor.keyId;
}

/** The current request's "response sent" signal; none outside a request. */
export function currentResponseSent(): Promise<void> | undefined {
  return requestStore.getStore()?.responseSent?.();
}
