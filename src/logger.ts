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

/** How long a line may wait for others before it is written, and how much may wait. */
const BATCH_MS = 50;
const BATCH_BYTES = 64 * 1024;

/**
 * Standard output, written asynchronously and in batches: a synchronous write per line (pino's
 * default) cost the verification route half its throughput, and even asynchronous, a write per
 * line or per event-loop turn (each a thread-pool request and a wake-up of the loop when it
 * completes) cost a hot verification about an eighth of its CPU. Lines wait here up to
 * BATCH_MS, or until BATCH_BYTES are waiting, and go to sonic-boom as one buffer; lines written
 * while a write is in flight go out with the next one. At exit, what is left is written
 * synchronously; only a SIGKILL can lose the last lines (at most BATCH_MS of them and a write).
 *
 * In sonic-boom's buffer mode, with each batch encoded here once: its default mode measures the
 * byte length of the whole pending batch on every write, which flattens and copies up to 16 KiB
 * each time while a write is in flight.
 */
let sharedStdout: pino.DestinationStream | undefined;
function stdout(): pino.DestinationStream {
  if (!sharedStdout) {
    const boom = pino.destination({ dest: 1, sync: false, contentMode: "buffer" });
    const writeBuffer = boom.write.bind(boom) as unknown as (batch: Buffer) => boolean;
    let lines: string[] = [];
    let waiting = 0;
    let timer: NodeJS.Timeout | undefined;
    const flush = () => {
      clearTimeout(timer);
      timer = undefined;
      if (!lines.length) return;
      const batch = lines.length === 1 ? (lines[0] as string) : lines.join("");
      lines = [];
      waiting = 0;
      try {
        writeBuffer(Buffer.from(batch));
      } catch {
        // Standard output is gone (sonic-boom destroyed): a log line must not crash the gateway.
      }
    };
    // pino's own exit hook flushed sonic-boom before this one runs: flush the waiting lines, then again.
    process.once("exit", () => {
      flush();
      try {
        boom.flushSync();
      } catch {
        // Nothing left to write to.
      }
    });
    sharedStdout = {
      write(line: string) {
        lines.push(line);
        waiting += line.length;
        if (waiting >= BATCH_BYTES) flush();
        // Unref'd: waiting lines never keep the process alive; the exit hook writes them.
        else timer ??= setTimeout(flush, BATCH_MS).unref();
      },
    };
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
