// The strict-text check (src/storable-text.ts) against JSON.parse of the same 1 MiB body, in the
// same process and run: the check runs before authentication on every JSON route and on GraphQL
// variables, so it must cost no more than a small multiple of the parse that precedes it.
// Run alone with `npx tsx bench/input-cost.ts`; `npm run bench` runs it first and prints its table.
import { pathToFileURL } from "node:url";
import { findUnstorable, MAX_JSON_DEPTH } from "../src/storable-text.ts";

const MiB = 1024 * 1024;

/** `{"a":[unit(0),unit(1),...]}` just over 1 MiB. */
function arrayBody(unit: (i: number) => string): string {
  const parts: string[] = [];
  let size = 8;
  for (let i = 0; size < MiB; i++) {
    const part = unit(i);
    parts.push(part);
    size += part.length + 1;
  }
  return `{"a":[${parts.join(",")}]}`;
}

/** Objects nested 30 levels deep (within the limit, so the check walks all of it), repeated to 1 MiB. */
function nestedBody(): string {
  let object = '{"leaf":"x","n":1}';
  for (let level = 0; level < MAX_JSON_DEPTH - 3; level++)
    object = `{"k${level}":${object},"s":"v${level}","n":${level}}`;
  return `{"a":[${Array(Math.ceil(MiB / object.length))
    .fill(object)
    .join(",")}]}`;
}

export const bodies: { title: string; text: string }[] = [
  { title: "1 MiB array of numbers", text: arrayBody((i) => String((i * 7919) % 100000)) },
  { title: "1 MiB array of short strings", text: arrayBody((i) => `"s${i % 10000}"`) },
  { title: "1 MiB of objects nested 30 deep", text: nestedBody() },
  { title: "1 MiB array of emoji strings", text: arrayBody((i) => `"😀${i % 10}"`) },
];

// The check as it was before (a path string and a tuple per value), kept to show what changed.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding NUL is the point.
const unstorable = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
function previousCheck(value: unknown, path: string): void {
  const pending: [unknown, string, number][] = [[value, path, 0]];
  while (pending.length) {
    const [item, at, depth] = pending.pop()!;
    if (typeof item === "string") {
      if (unstorable.test(item)) throw new Error(at);
    } else if (item && typeof item === "object") {
      if (depth >= MAX_JSON_DEPTH) throw new Error(at);
      const entries = Array.isArray(item)
        ? item.map((v, i) => [String(i), v] as const)
        : Object.entries(item);
      for (const [key, child] of entries) {
        if (unstorable.test(key)) throw new Error(at);
        pending.push([child, `${at}.${key}`, depth + 1]);
      }
    }
  }
}

function median(run: () => void, times: number): number {
  for (let i = 0; i < 3; i++) run();
  const samples: number[] = [];
  for (let i = 0; i < times; i++) {
    const started = performance.now();
    run();
    samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  const middle = samples[Math.floor(samples.length / 2)];
  if (middle === undefined) throw new Error("median of no samples");
  return middle;
}

export interface InputCostRow {
  title: string;
  bytes: number;
  parseMs: number;
  checkMs: number;
  previousMs: number;
}

export function measureInputCost(times = 21): InputCostRow[] {
  return bodies.map(({ title, text }) => {
    const value = JSON.parse(text) as unknown;
    if (findUnstorable(value, "body")) throw new Error(`${title}: the clean body fails the check`);
    return {
      title,
      bytes: Buffer.byteLength(text),
      parseMs: median(() => JSON.parse(text), times),
      checkMs: median(() => findUnstorable(value, "body"), times),
      previousMs: median(() => previousCheck(value, "body"), Math.max(5, Math.floor(times / 4))),
    };
  });
}

export function inputCostTable(rows: InputCostRow[]): string {
  const lines = [
    "| body | bytes | JSON.parse ms | check ms | check / JSON.parse | previous check ms | previous / JSON.parse |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.title} | ${r.bytes} | ${r.parseMs.toFixed(2)} | ${r.checkMs.toFixed(2)} | ${(r.checkMs / r.parseMs).toFixed(2)} | ${r.previousMs.toFixed(1)} | ${(r.previousMs / r.parseMs).toFixed(1)} |`,
    );
  }
  return lines.join("\n");
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  console.log(`\nStrict-text check against JSON.parse, median of 21 runs, same process\n`);
  console.log(inputCostTable(measureInputCost()));
}
