// The GraphQL context: the services' dependencies, the authenticated actor and request facts.
import type { Actor } from "../auth/actor.ts";
import type { Deps } from "../deps.ts";

export interface GraphQLContext {
  deps: Deps;
  actor: Actor;
  requestId: string;
  ip: string | null;
  userAgent: string | null;
}
