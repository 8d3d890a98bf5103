// The hot-path metrics (src/hot-metrics.ts) render exactly what prom-client's own Counter and
// Histogram render for the same observations, scrape after scrape.
import { Counter, Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { HotCount, HotCounts, HotHistogram } from "../src/hot-metrics.ts";

const BUCKETS = [0.0001, 0.001, 0.01, 0.5];
const HELP = "Time to verify one key";

describe("hot-path metrics", () => {
  it("a HotHistogram's exposition is prom-client's Histogram's, byte for byte", async () => {
    const theirs = new Registry();
    const ours = new Registry();
    const reference = new Histogram({
      name: "t_seconds",
      help: HELP,
      buckets: BUCKETS,
      registers: [theirs],
    });
    const hot = new HotHistogram("t_seconds", HELP, BUCKETS, ours);
    // On a bound, between bounds, below the first and above the last (+Inf only).
    expect(await ours.metrics()).toBe(await theirs.metrics());
    const values = [0, 0.0001, 0.00011, 0.001, 0.2, 0.5, 0.7, 3, 0.00005];
    for (const [i, value] of values.entries()) {
      reference.observe(value);
      hot.observe(value);
      if (i % 4 === 0) expect(await ours.metrics()).toBe(await theirs.metrics());
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await ours.metrics()).toMatch(/^t_seconds_bucket\{le="0\.01"\} 5$/m);
    expect(await ours.metrics()).toMatch(/^t_seconds_bucket\{le="\+Inf"\} 9$/m);
  });

  it("counts reach their counters on each scrape, once each", async () => {
    const registry = new Registry();
    const codes = new HotCounts("code");
    const hits = new HotCount();
    const byCode: Counter<"code"> = new Counter({
      name: "t_codes_total",
      help: "codes",
      labelNames: ["code"] as const,
      registers: [registry],
      collect: () => codes.publishTo(byCode),
    });
    const total: Counter = new Counter({
      name: "t_hits_total",
      help: "hits",
      registers: [registry],
      collect: () => hits.publishTo(total),
    });
    codes.add("VALID");
    codes.add("VALID");
    codes.add("REVOKED");
    hits.value += 3;
    let text = await registry.metrics();
    expect(text).toMatch(/^t_codes_total\{code="VALID"\} 2$/m);
    expect(text).toMatch(/^t_codes_total\{code="REVOKED"\} 1$/m);
    expect(text).toMatch(/^t_hits_total 3$/m);
    // A scrape with nothing new adds nothing; new counts add only themselves.
    text = await registry.metrics();
    expect(text).toMatch(/^t_codes_total\{code="VALID"\} 2$/m);
    expect(text).toMatch(/^t_hits_total 3$/m);
    codes.add("VALID");
    codes.add("EXPIRED");
    hits.value += 1;
    text = await registry.metrics();
    expect(text).toMatch(/^t_codes_total\{code="VALID"\} 3$/m);
    expect(text).toMatch(/^t_codes_total\{code="EXPIRED"\} 1$/m);
    expect(text).toMatch(/^t_hits_total 4$/m);
  });
});
