// The caller's address as the socket saw it. X-Forwarded-For is ignored: trusting it
// would let any caller pick the address its rate limits are counted under.
import type { Context } from "hono";

export function clientIp(c: Context): string | null {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return env?.incoming?.socket?.remoteAddress ?? null;
}
