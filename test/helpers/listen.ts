// Serves a harness's app on a real HTTP port, as main.ts does, for tests that must see the
// transport (response timing, sockets) rather than app.request.
import { createServer } from "node:http";
import { getRequestListener, type ServerType } from "@hono/node-server";
import { requestListener } from "../../src/server.ts";
import type { Harness } from "./harness.ts";

export interface Listening {
  url: string;
  server: ServerType;
  close(): Promise<void>;
}

/** With the harness's deps: main.ts's own listener (the fast paths, then Hono). */
export async function listen(
  h: Pick<Harness, "app"> & Partial<Pick<Harness, "deps" | "yoga">>,
): Promise<Listening> {
  const server: ServerType = createServer(
    h.deps
      ? requestListener(h.deps, h.app.fetch, h.yoga)
      : (getRequestListener(h.app.fetch) as Parameters<typeof createServer>[1]),
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  };
}

/** A GraphQL call over HTTP. */
export async function httpGql(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  token?: string,
  headers: Record<string, string> = {},
) {
  const response = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as {
    data?: Record<string, any> | null;
    errors?: { message: string; extensions?: Record<string, any> }[];
  };
  return { status: response.status, ...body };
}

/** A JSON POST over HTTP. */
export async function httpPost(
  url: string,
  path: string,
  body: unknown,
  token?: string,
  headers: Record<string, string> = {},
) {
  const response = await fetch(`${url}${path}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}
