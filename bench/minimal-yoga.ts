// The bench's GraphQL floor: a minimal graphql-yoga server on node:http answering `{ __typename }`.
// Prints "listening <port>" once it accepts connections. With the argument `no-body-limit`, yoga's
// own request-body limit is off, as on the gateway (which limits bodies before yoga): without it
// yoga pipes every body through a counting TransformStream.
import { createServer } from "node:http";
import { createSchema, createYoga } from "graphql-yoga";

const yoga = createYoga({
  schema: createSchema({ typeDefs: "type Query { ok: Boolean }", resolvers: {} }),
  logging: false,
  graphiql: false,
  ...(process.argv.includes("no-body-limit") ? { maxRequestBodySize: false as const } : {}),
});
const server = createServer(yoga);
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  console.log(`listening ${typeof address === "object" && address ? address.port : 0}`);
});
