// A gateway's standard output and error, written to a file rather than a pipe: through a pipe,
// every request's access log line would be read by the bench process, which is also the load
// generator, and charged to the gateway's throughput. Read back on demand (from where the last
// read stopped), keeping only the lines the bench waits for.
import { closeSync, fstatSync, openSync, readSync } from "node:fs";

export class GatewayLog {
  /** Give this to spawn's stdio for standard output and error. */
  readonly fd: number;
  private readonly reader: number;
  private offset = 0;
  private partial = "";
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
    if (size > this.offset) {
      const chunk = Buffer.alloc(size - this.offset);
      this.offset += readSync(this.reader, chunk, 0, chunk.length, this.offset);
      const lines = (this.partial + chunk.toString("utf8")).split("\n");
      this.partial = lines.pop() ?? "";
      for (const line of lines) if (this.keep.test(line)) this.kept += `${line}\n`;
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
        throw new Error(`gateway ${gone ? "exited" : "timed out"}: ${this.text()}${this.partial}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  close(): void {
    closeSync(this.fd);
    closeSync(this.reader);
  }
}
