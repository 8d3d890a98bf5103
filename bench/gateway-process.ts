// A gateway process for the bench (both halves): `node --import tsx src/main.ts`, its standard
// output and error written to a file rather than a pipe. Through a pipe, every request's access
// log line would be read by the bench process, which is also the load generator, and charged to
// the gateway's throughput. The file is read back on demand (from where the last read stopped),
// keeping only the lines the bench waits for.
import { spawn } from "node:child_process";
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import path from "node:path";
import { projectRoot } from "../src/db/migrate.ts";

export interface Gateway {
  url: string;
  pid: number;
  /** The kept lines so far. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts a gateway and resolves once it listens. `--import tsx`, not the tsx CLI: the CLI would
 * run the server in a grandchild, whose RSS and CPU are the ones to read.
 */
export async function launchGateway(
  env: Record<string, string | undefined>,
  logFile: string,
  keep: RegExp,
  /** Flags for node itself (e.g. `--cpu-prof`, which NODE_OPTIONS does not admit). */
  nodeFlags: string[] = [],
): Promise<Gateway> {
  const log = new GatewayLog(logFile, keep);
  const child = spawn(
    process.execPath,
    [...nodeFlags, "--import", "tsx", path.join(projectRoot, "src", "main.ts")],
    {
      env,
      stdio: ["ignore", log.fd, log.fd],
    },
  );
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const url = await log.waitFor(/"url":"(http:\/\/[^"]+)".*"keygate listening"/, exited);
  return {
    url,
    pid: child.pid ?? 0,
    output: () => log.text(),
    async stop() {
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        await exited;
      }
      log.close();
    },
  };
}

const READ_SLICE_BYTES = 16 * 1024 * 1024;

class GatewayLog {
  /** Give this to spawn's stdio for standard output and error. */
  readonly fd: number;
  private readonly reader: number;
  private offset = 0;
  /** The bytes after the last newline read so far. */
  private partial = Buffer.alloc(0);
  private kept = "";

  constructor(
    file: string,
    private readonly keep: RegExp,
  ) {
    this.fd = openSync(file, "w");
    this.reader = openSync(file, "r");
  }

  /** Every kept line written so far. */
  text(): string {
    const size = fstatSync(this.reader).size;
    // In slices: at info level a busy gateway's access log grows by hundreds of MiB between two
    // reads, past the longest string V8 can make (one bench run died of it).
    while (size > this.offset) {
      const chunk = Buffer.alloc(Math.min(size - this.offset, READ_SLICE_BYTES));
      const read = readSync(this.reader, chunk, 0, chunk.length, this.offset);
      if (read === 0) break;
      this.offset += read;
      const data = Buffer.concat([this.partial, chunk.subarray(0, read)]);
      // Whole lines only: the rest (perhaps half a UTF-8 character) waits for the next slice.
      const end = data.lastIndexOf(0x0a);
      this.partial = Buffer.from(data.subarray(end + 1));
      if (end < 0) continue;
      for (const line of data.toString("utf8", 0, end).split("\n"))
        if (this.keep.test(line)) this.kept += `${line}\n`;
    }
    return this.kept;
  }

  /** Resolves with the first capture of `pattern` in a kept line; rejects if `exited` comes first. */
  async waitFor(pattern: RegExp, exited: Promise<unknown>, ms = 120_000): Promise<string> {
    let gone = false;
    void exited.then(() => (gone = true));
    const deadline = Date.now() + ms;
    for (;;) {
      const found = pattern.exec(this.text())?.[1];
      if (found !== undefined) return found;
      if (gone || Date.now() > deadline)
        throw new Error(
          `gateway ${gone ? "exited" : "timed out"}: ${this.text()}${this.partial.toString("utf8")}`,
        );
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  close(): void {
    closeSync(this.fd);
    closeSync(this.reader);
  }
}
