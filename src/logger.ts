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

/**
 * Standard output, written asynchronously: a synchronous write per line (pino's default) costs
 * the verification route half its throughput. Lines written while a write is in flight go out
 * together with the next one; pino flushes what is left synchronously when the process exits.
 * Only a SIGKILL can lose the last lines.
 *
 * In sonic-boom's buffer mode, with each line encoded here once: its default mode measures the
 * byte length of the whole pending batch on every line, which flattens and copies up to 16 KiB
 * per line while a write is in flight (about a tenth of a hot verification's CPU was logging).
 */
let sharedStdout: pino.DestinationStream | undefined;
function stdout(): pino.DestinationStream {
  if (!sharedStdout) {
    const boom = pino.destination({ dest: 1, sync: false, contentMode: "buffer" });
    const writeBuffer = boom.write.bind(boom) as unknown as (line: Buffer) => boolean;
    sharedStdout = { write: (line: string) => writeBuffer(Buffer.from(line)) };
  }
  return sharedStdout;
}

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
    options.destination ?? stdout(),
  );
}

/**
 * The logger of the one-line-per-request access log. Its lines hold only fixed fields (ids,
 * method, route, path without the query, status, duration), never a value a client chose to
 * hide, so it skips redaction, which costs three times the rest of the line.
 */
export function accessLogger(logger: Logger): Logger {
  return logger.child({}, { redact: [] });
}
