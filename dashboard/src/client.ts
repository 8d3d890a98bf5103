// The GraphQL client: urql over the gateway's /graphql with the in-memory access token. A 401
// (expired token) refreshes once through the cookie and retries; a second 401 signs out.
import { Client, cacheExchange, fetchExchange } from "urql";
import { drop, refresh, session } from "./session.ts";

async function authedFetch(input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> {
  const send = (token: string | undefined) => {
    const headers = new Headers(init.headers);
    if (token) headers.set("authorization", `Bearer ${token}`);
    return fetch(input, { ...init, headers, credentials: "omit" });
  };
  const first = await send(session()?.accessToken);
  if (first.status !== 401) return first;
  const renewed = await refresh().catch(() => null);
  if (!renewed) return first;
  const second = await send(renewed.accessToken);
  if (second.status === 401) drop();
  return second;
}

export function createClient(): Client {
  return new Client({
    url: "/graphql",
    exchanges: [cacheExchange, fetchExchange],
    fetch: authedFetch,
    // yoga's CSRF prevention refuses GET queries without its header: POST everything.
    preferGetMethod: false,
    requestPolicy: "cache-and-network",
  });
}
