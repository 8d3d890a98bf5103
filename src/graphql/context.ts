// The GraphQL context: the services' dependencies, the authenticated actor and request facts.
import type { Actor } from "../access/actor.ts";
import type { Deps, RequestMeta } from "../deps.ts";

export interface GraphQLContext {
  deps: Deps;
  actor: Actor;
  requestId: string;
  ip: string | null;
  userAgent: string | null;
  /** Settles once the response is sent in full; absent outside a server (yoga.fetch in tests). */
  responseSent?: () => Promise<void>;
}

/** The request facts a service records (audit) or limits on. */
export function requestMetaOf(ctx: GraphQLContext): RequestMeta {
  return {
    ip: ctx.ip,
    userAgent: ctx.userAgent,
    requestId: ctx.requestId,
    responseSent: ctx.responseSent,
  };
}
