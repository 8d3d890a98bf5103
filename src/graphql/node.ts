// Relay's Node interface (from @pothos/plugin-relay) and `node(id:)`. Ids are random UUIDs,
// unique across every table, so an object's `id` is its global id as it stands (see the relay
// options in ./builder.ts). Each domain registers how to find its objects with `nodeLoader`,
// through the same service finder as its own query, so node(id:) applies the same tenant and
// project scoping: a foreign id answers null, exactly like an unknown one.
import { brandWithType } from "@pothos/core";
import { AppError } from "../errors.ts";
import { builder } from "./builder.ts";
import type { GraphQLContext } from "./context.ts";

export const NodeInterface = builder.nodeInterfaceRef();

/** The caller's object with this id, or null: a service finder, never a lookup of its own. */
export type NodeLoader = (ctx: GraphQLContext, id: string) => Promise<object | null>;

const loaders = new Map<string, NodeLoader>();

/** Lets node(id:) answer objects of `typename` (an object type implementing Node). */
export function nodeLoader(typename: string, load: NodeLoader): void {
  if (loaders.has(typename)) throw new Error(`node loader for ${typename} registered twice`);
  loaders.set(typename, load);
}

async function loadNode(ctx: GraphQLContext, id: string): Promise<object | null> {
  const found = await Promise.all(
    [...loaders].map(async ([typename, load]) => {
      try {
        const value = await load(ctx, id);
        if (value) brandWithType(value, typename as never);
        return value;
      } catch (error) {
        // A caller that may not read one kind of object (no keys:read, say) gets null for it,
        // as for an id it cannot see: node(id:) does not reveal what an id would have been.
        if (error instanceof AppError && error.code === "FORBIDDEN") return null;
        throw error;
      }
    }),
  );
  return found.find((value) => value !== null) ?? null;
}

builder.queryField("node", (t) =>
  t.field({
    type: NodeInterface,
    nullable: true,
    authScopes: { authenticated: true },
    description:
      "The object with this id, under the same rules as the query for its type; null for an unknown id and for another tenant's.",
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => loadNode(ctx, id),
  }),
);
