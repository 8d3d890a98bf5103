// Structured logs. Secrets never reach a log line: known secret-bearing paths are redacted.
import pino, { type Logger } from "pino";

export type { Logger };

const redactPaths = [
  "authorization",
  "*.authorization",
  "req.headers.authorization",
  "req.headers.cookie",
  "headers.authorization",
  "*.key",
  "*.apiKey",
  "*.api_key",
  "*.secret",
  "*.apiSecret",
  "*.api_secret",
  "*.token",
  "*.refreshToken",
  "*.refresh_token",
  "*.hash",
  "*.passphrase",
  "*.privateKey",
  "*.password",
];

export function createLogger(options: {
  level: string;
  destination?: pino.DestinationStream;
}): Logger {
  return pino(
    {
      level: options.level,
      base: { service: "keygate" },
      redact: { paths: redactPaths, censor: "[redacted]" },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination,
  );
}
