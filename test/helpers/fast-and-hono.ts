// Two servers over one harness, for comparing the node:http fast paths with Hono: the gateway's
// own listener (fast paths, then Hono, whose calls are counted) and Hono alone. Registers its
// beforeAll/afterAll; read the fields inside tests.
import { createServer, type Server } from "node:http";
import { getRequestListener } from "@hono/node-server";
import { afterAll, beforeAll } from "vitest";
import { requestListener } from "../../src/server.ts";
import type { Harness } from "./harness.ts";

export interface FastAndHono {
  fastUrl: string;
  honoUrl: string;
  /** Requests the gateway's listener handed to Hono. */
  honoCalls: number;
  /** Closes this server with the others after the file. */
  track(server: Server): void;
  /** Serves another listener on a free port, closed with the others; its URL. */
  serve(listener: Parameters<typeof createServer>[1]): Promise<string>;
}

export function useFastAndHono(h: Harness, options: { graphql?: boolean } = {}): FastAndHono {
  const servers: Server[] = [];
  const serve = async (listener: Parameters<typeof createServer>[1]): Promise<string> => {
    const server = createServer(listener);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    const address = server.address();
    return `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  };
  const state: FastAndHono = {
    fastUrl: "",
    honoUrl: "",
    honoCalls: 0,
    track: (server) => servers.push(server),
    serve,
  };
  beforeAll(async () => {
    const counted = (request: Request, env: unknown) => {
      state.honoCalls++;
      return h.app.fetch(request, env as never);
    };
    state.fastUrl = await serve(
      requestListener(h.deps, counted, options.graphql ? h.yoga : undefined),
    );
    state.honoUrl = await serve(getRequestListener(h.app.fetch) as never);
  });
  afterAll(async () => {
    for (const server of servers) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
  return state;
}
