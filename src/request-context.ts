// Per-request facts, made by whichever front answers the request (the Hono app's first
// middleware, or a node:http fast path) and handed on explicitly: to the access log line, to
// the Hono context (c.get("facts")), to GraphQL's server context and, through RequestMeta, to
// services that defer work. Not through AsyncLocalStorage: on Node 20, once any storage is in
// use, async hooks run for every promise and tick in the process, on every route; that cost a
// bare node:http server a tenth of its instructions per request (callgrind), more than any
// piece of a verification's own work.

export interface RequestFacts {
  requestId: string;
  tenantId?: string;
  keyId?: string;
  /** A promise that settles once the response has been handed to the client in full. */
  responseSent?: () => Promise<void>;
}

/** Puts the caller's tenant and key on the request's log line. */
export function noteActor(
  facts: RequestFacts | undefined,
  actor: { kind: string; tenantId?: string; keyId?: string },
): void {
  if (!facts) return;
  if (actor.tenantId) facts.tenantId = actor.tenantId;
  if (actor.keyId) facts.keyId = actor.keyId;
}
