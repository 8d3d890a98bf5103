// Environment → typed config, validated once at start with one message per bad value.
import { randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";

const port = z.coerce.number().int().min(0).max(65535);
const seconds = z.coerce.number().int().positive();

const envSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  PORT: port.default(4000),
  HOST: z.string().min(1).default("127.0.0.1"),
  DATA_DIR: z.string().min(1).default("./data"),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "must be a postgresql:// URL")
    .optional(),
  PUBLIC_URL: z.url().optional(),
  JWT_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  ENCRYPTION_KEY: z.string().optional(),
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//, "must be an smtp:// or smtps:// URL")
    .optional(),
  MAIL_FROM: z.string().min(3).default("Keygate <no-reply@keygate.local>"),
  ADMIN_EMAIL: z.email().default("admin@example.com"),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, "must be a redis:// URL")
    .optional(),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  MAGIC_LINK_TTL_SECONDS: seconds.default(900),
  ACCESS_TOKEN_TTL_SECONDS: seconds.default(3600),
  SESSION_ABSOLUTE_TTL_SECONDS: seconds.default(30 * 24 * 3600),
  SESSION_IDLE_TTL_SECONDS: seconds.default(7 * 24 * 3600),
  /** Minute usage rows older than this are deleted (hours: 90 days, days: kept). */
  USAGE_RETENTION_DAYS: z.coerce.number().int().min(1).max(31).default(7),
  USAGE_COUNTING: z.enum(["on", "off"]).default("on"),
  /** Days before expiry a reminder goes out; 0 sends none. */
  EXPIRY_REMINDER_DAYS: z.coerce.number().int().min(0).max(365).default(7),
  /** Keys held by each instance's lookup cache (memory per entry: README, "Cache sizing"). */
  KEY_CACHE_SIZE: z.coerce.number().int().min(1).max(10_000_000).default(250_000),
  /** Lifetime of a cached key while change notices reach the instance (5 s while they cannot). */
  KEY_CACHE_TTL_SECONDS: z.coerce.number().int().min(1).max(3600).default(300),
  /** Bearer token that GET /metrics requires; unset (and no METRICS_ADDRESS): no /metrics. */
  METRICS_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
  /** host:port of a separate listener that serves only GET /metrics, without a token. */
  METRICS_ADDRESS: z
    .string()
    .regex(/^(\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}$/, "must be host:port")
    .optional(),
  GRAPHIQL: z.enum(["true", "false"]).optional(),
  INTROSPECTION: z.enum(["true", "false"]).optional(),
  CORS_ORIGINS: z
    .string()
    .transform((value) =>
      value
        .split(",")
        .map((o) => o.trim())
        .filter(Boolean),
    )
    .superRefine((origins, ctx) => {
      for (const origin of origins) {
        if (!isOrigin(origin))
          ctx.addIssue({
            code: "custom",
            message: `${JSON.stringify(origin)} is not an origin (scheme://host[:port], no path, no wildcard)`,
          });
      }
    })
    .optional(),
});

/** An exact origin as browsers send it: `https://app.example.com`, `http://localhost:3000`. */
function isOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    // Exact origins only: URL accepts `*` in a host name, a browser never sends one.
    return (
      (url.protocol === "https:" || url.protocol === "http:") &&
      url.origin === value &&
      !value.includes("*")
    );
  } catch {
    return false;
  }
}

function hostPort(value: string): { host: string; port: number } {
  const colon = value.lastIndexOf(":");
  return {
    host: value.slice(0, colon).replace(/^\[|\]$/g, ""),
    port: Number(value.slice(colon + 1)),
  };
}

export interface EncryptionKey {
  version: number;
  key: Buffer;
}

export interface Config {
  env: "development" | "production" | "test";
  port: number;
  host: string;
  dataDir: string;
  databaseUrl?: string;
  publicUrl: string;
  jwtSecret: Uint8Array;
  /** First entry is the current key; the others still decrypt older rows. */
  encryptionKeys: EncryptionKey[];
  smtpUrl?: string;
  mailFrom: string;
  adminEmail: string;
  redisUrl?: string;
  logLevel: string;
  magicLinkTtlSeconds: number;
  accessTokenTtlSeconds: number;
  sessionAbsoluteTtlSeconds: number;
  sessionIdleTtlSeconds: number;
  /** Days minute usage rows are kept (hour rows 90 days, day rows for good). */
  usageRetentionDays: number;
  /** Off: verifications are not counted (the benchmark's comparison run). */
  usageCounting: boolean;
  /** Days before expiry the owners hear about a key; 0: no reminders. */
  expiryReminderDays: number;
  keyCacheSize: number;
  keyCacheTtlSeconds: number;
  metricsToken?: string;
  metricsAddress?: { host: string; port: number };
  graphiql: boolean;
  introspection: boolean;
  /** Browser origins allowed to call the gateway (CORS): CORS_ORIGINS plus PUBLIC_URL's own. */
  corsOrigins: string[];
  /** Where JWTs say they come from and whom they are for. */
  jwtIssuer: string;
  jwtAudience: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/** `ENCRYPTION_KEY`: one 32-byte key (base64 or hex), or `v2:<key>,v1:<key>` with the current version first. */
export function parseEncryptionKeys(value: string): EncryptionKey[] {
  const parts = value
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean);
  if (parts.length === 0) throw new Error("ENCRYPTION_KEY: is empty");
  const seen = new Set<number>();
  return parts.map((part) => {
    const match = /^v(\d+):(.+)$/.exec(part);
    const version = match ? Number(match[1]) : 1;
    const material = match?.[2] ?? part;
    if (parts.length > 1 && !match)
      throw new Error("ENCRYPTION_KEY: with several keys each must be written v<N>:<key>");
    const key = /^[0-9a-f]{64}$/i.test(material)
      ? Buffer.from(material, "hex")
      : Buffer.from(material, "base64");
    if (key.length !== 32)
      throw new Error(
        `ENCRYPTION_KEY: key v${version} must be 32 bytes (base64 or 64 hex characters)`,
      );
    if (seen.has(version)) throw new Error(`ENCRYPTION_KEY: version v${version} appears twice`);
    seen.add(version);
    return { version, key };
  });
}

interface DevSecrets {
  JWT_SECRET: string;
  ENCRYPTION_KEY: string;
}

/** Development only: secrets generated once and kept in DATA_DIR so restarts keep sessions and ciphertexts readable. */
async function devSecrets(dataDir: string, warn: (message: string) => void): Promise<DevSecrets> {
  const file = path.join(dataDir, "dev-secrets.json");
  try {
    return JSON.parse(await readFile(file, "utf8")) as DevSecrets;
  } catch {
    const secrets: DevSecrets = {
      JWT_SECRET: randomBytes(48).toString("base64url"),
      ENCRYPTION_KEY: randomBytes(32).toString("base64"),
    };
    await mkdir(dataDir, { recursive: true });
    await writeFile(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
    await chmod(file, 0o600);
    warn(
      `JWT_SECRET/ENCRYPTION_KEY not set: generated development secrets into ${file} (mode 0600). Set them in production.`,
    );
    return secrets;
  }
}

export async function loadConfig(
  env: Record<string, string | undefined> = process.env,
  warn: (message: string) => void = (m) => console.warn(m),
): Promise<Config> {
  // Empty strings count as unset: `FOO= npm start` must not fail validation.
  const cleaned = Object.fromEntries(
    Object.entries(env).filter(([, v]) => v !== undefined && v !== ""),
  );
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`));
  }
  const e = parsed.data;
  const problems: string[] = [];
  const production = e.NODE_ENV === "production";
  if (production && !e.JWT_SECRET) problems.push("JWT_SECRET: required when NODE_ENV=production");
  if (production && !e.ENCRYPTION_KEY)
    problems.push("ENCRYPTION_KEY: required when NODE_ENV=production");
  if (problems.length) throw new ConfigError(problems);

  const dataDir = path.resolve(e.DATA_DIR);
  // Either variable missing (development only, checked above): both fall back to the generated pair.
  const generated = e.JWT_SECRET && e.ENCRYPTION_KEY ? undefined : await devSecrets(dataDir, warn);
  const jwtSecret = e.JWT_SECRET ?? generated?.JWT_SECRET ?? "";
  const encryptionKey = e.ENCRYPTION_KEY ?? generated?.ENCRYPTION_KEY ?? "";
  let encryptionKeys: EncryptionKey[] = [];
  try {
    encryptionKeys = parseEncryptionKeys(encryptionKey);
  } catch (error) {
    throw new ConfigError([(error as Error).message]);
  }
  const publicUrl = (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, "");
  return {
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    dataDir,
    databaseUrl: e.DATABASE_URL,
    publicUrl,
    jwtSecret: new TextEncoder().encode(jwtSecret),
    encryptionKeys,
    smtpUrl: e.SMTP_URL,
    mailFrom: e.MAIL_FROM,
    adminEmail: e.ADMIN_EMAIL.toLowerCase(),
    redisUrl: e.REDIS_URL,
    logLevel: e.LOG_LEVEL,
    magicLinkTtlSeconds: e.MAGIC_LINK_TTL_SECONDS,
    accessTokenTtlSeconds: e.ACCESS_TOKEN_TTL_SECONDS,
    sessionAbsoluteTtlSeconds: e.SESSION_ABSOLUTE_TTL_SECONDS,
    sessionIdleTtlSeconds: e.SESSION_IDLE_TTL_SECONDS,
    usageRetentionDays: e.USAGE_RETENTION_DAYS,
    usageCounting: e.USAGE_COUNTING === "on",
    expiryReminderDays: e.EXPIRY_REMINDER_DAYS,
    keyCacheSize: e.KEY_CACHE_SIZE,
    keyCacheTtlSeconds: e.KEY_CACHE_TTL_SECONDS,
    metricsToken: e.METRICS_TOKEN,
    metricsAddress: e.METRICS_ADDRESS ? hostPort(e.METRICS_ADDRESS) : undefined,
    graphiql: e.GRAPHIQL ? e.GRAPHIQL === "true" : !production,
    introspection: e.INTROSPECTION ? e.INTROSPECTION === "true" : !production,
    corsOrigins: [...new Set([new URL(publicUrl).origin, ...(e.CORS_ORIGINS ?? [])])],
    jwtIssuer: publicUrl,
    jwtAudience: "keygate",
  };
}
