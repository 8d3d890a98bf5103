// Metrics that change on every verification, kept in plain numbers and handed to prom-client
// only when /metrics is scraped. prom-client's own inc() and observe() build a label object, hash
// it and (for a histogram) turn the bucket bound into a string on every call: about a microsecond
// per verification in a CPU profile under load, for a request whose whole budget is a few dozen.
import type { Counter, Registry } from "prom-client";

/** Counts by label value; `publishTo`'s counter catches up with them on each scrape. */
export class HotCounts<L extends string> {
  private readonly counts = new Map<string, number>();
  private readonly published = new Map<string, number>();

  constructor(private readonly label: L) {}

  add(value: string): void {
    this.counts.set(value, (this.counts.get(value) ?? 0) + 1);
  }

  /** For the counter's `collect`: adds what was counted since the last scrape. */
  publishTo(counter: Counter<L>): void {
    for (const [value, count] of this.counts) {
      const delta = count - (this.published.get(value) ?? 0);
      if (delta > 0) counter.inc({ [this.label]: value } as Record<L, string>, delta);
      this.published.set(value, count);
    }
  }
}

/** One count without labels, published the same way. */
export class HotCount {
  value = 0;
  private published = 0;

  publishTo(counter: Counter<string>): void {
    if (this.value > this.published) counter.inc(this.value - this.published);
    this.published = this.value;
  }
}

interface MetricValue {
  labels: Record<string, string | number>;
  value: number;
  metricName: string;
}

/**
 * A histogram without labels whose observe() is a bucket search and three additions. Registered
 * on a prom-client registry as a metric of its own: the registry asks get() for the same shape
 * prom-client's Histogram gives (cumulative `_bucket` values with `le`, then `_sum`, `_count`), so
 * the exposition text is identical.
 */
export class HotHistogram {
  readonly type = "histogram";
  readonly aggregator = "sum";
  private readonly counts: Float64Array;
  private sum = 0;
  private count = 0;

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly upperBounds: readonly number[],
    registry: Registry,
  ) {
    this.counts = new Float64Array(upperBounds.length);
    registry.registerMetric(this as never);
  }

  observe(value: number): void {
    const bounds = this.upperBounds;
    let i = 0;
    while (i < bounds.length && value > (bounds[i] as number)) i++;
    // Above the last bound: counted in +Inf (the total) only.
    if (i < bounds.length) this.counts[i] = (this.counts[i] ?? 0) + 1;
    this.sum += value;
    this.count += 1;
  }

  get(): { name: string; help: string; type: string; aggregator: string; values: MetricValue[] } {
    const values: MetricValue[] = [];
    const bucket = `${this.name}_bucket`;
    let cumulative = 0;
    this.upperBounds.forEach((le, i) => {
      cumulative += this.counts[i] ?? 0;
      values.push({ labels: { le }, value: cumulative, metricName: bucket });
    });
    values.push(
      { labels: { le: "+Inf" }, value: this.count, metricName: bucket },
      { labels: {}, value: this.sum, metricName: `${this.name}_sum` },
      { labels: {}, value: this.count, metricName: `${this.name}_count` },
    );
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values,
    };
  }

  reset(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }
}
