// What every service receives: configuration, database, logger, mail and rate limits.
// No HTTP, no GraphQL.
import type { Config } from "./config.ts";
import type { Database, Prisma } from "./db/client.ts";
import type { Logger } from "./logger.ts";
import type { Mailer } from "./mail/mailer.ts";
import type { Limiters } from "./rate-limit/limiters.ts";
import type { Background } from "./background.ts";
import type { KeyRuntime } from "./modules/keys/runtime.ts";
import type { UsageRecorder } from "./modules/usage/recorder.ts";
import type { Metrics } from "./metrics.ts";

export interface Deps {
  config: Config;
  db: Database;
  prisma: Prisma;
  logger: Logger;
  mailer: Mailer;
  limiters: Limiters;
  background: Background;
  keys: KeyRuntime;
  usage: UsageRecorder;
  metrics: Metrics;
}

/** Facts about the request a service may record (audit) or limit on; never needed for its logic. */
export interface RequestMeta {
  ip?: string | null;
  userAgent?: string | null;
  requestId?: string | null;
  /** Settles once the request's response is sent in full (Background.run waits for it). */
  responseSent?: () => Promise<void>;
}
