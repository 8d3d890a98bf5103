// What every service receives: configuration, database and logger. No HTTP, no GraphQL.
import type { Config } from "./config.ts";
import type { Database, Prisma } from "./db/client.ts";
import type { Logger } from "./logger.ts";

export interface Deps {
  config: Config;
  db: Database;
  prisma: Prisma;
  logger: Logger;
}
