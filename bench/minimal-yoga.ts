// The bench's GraphQL floor: a minimal graphql-yoga server on node:http answering `{ __typename }`.
// Prints "listening <port>" once it accepts connections.
import { createServer } from "node:http";
import { createSchema, createYoga } from "graphql-yoga";

const yoga = createYoga({
  schema: createSchema({ typeDefs: "type Query { ok: Boolean }", resolvers: {} }),
  logging: false,
  graphiql: false,
});
const server = createServer(yoga);
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  console.log(`listening ${typeof address === "object" && address ? address.port : 0}`);
});
