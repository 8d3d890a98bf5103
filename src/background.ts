// Work that runs after the answer has gone out (mail, batched writes). Tracked so
// that shutdown and tests can wait for it; failures are logged, never thrown at callers.
import type { Logger } from "./logger.ts";

export class Background {
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly logger: Logger) {}

  /**
   * Runs `fn` once the request's response has been sent in full (`responseSent`, from the
   * request's RequestMeta; at once outside a request): nothing it does, not even a lookup, can
   * change the answer's timing.
   */
  run(name: string, fn: () => Promise<void>, responseSent?: () => Promise<void>): void {
    const sent = responseSent?.() ?? Promise.resolve();
    const job: Promise<void> = sent
      .then(() => new Promise<void>((resolve) => setImmediate(resolve)))
      .then(fn)
      .catch((error) => this.logger.error({ err: error, task: name }, "background task failed"))
      .finally(() => this.pending.delete(job));
    this.pending.add(job);
  }

  async idle(): Promise<void> {
    while (this.pending.size) await Promise.all([...this.pending]);
  }
}
