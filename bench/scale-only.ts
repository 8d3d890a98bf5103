// The PostgreSQL half of the bench alone (bench/scale.ts), with its own bare node:http baseline:
// `npx tsx bench/scale-only.ts` when only the multi-instance figures are wanted.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import autocannon from "autocannon";
import { runScaleBench } from "./scale.ts";

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = 50;
const baseline = spawn(
  process.execPath,
  [
    "-e",
    `const http = require("node:http");
  const body = JSON.stringify({ valid: true, code: "VALID" });
  const s = http.createServer((req, res) => { req.resume(); req.on("end", () => { res.writeHead(200, { "content-type": "application/json" }); res.end(body); }); });
  s.listen(0, "127.0.0.1", () => console.log("listening " + s.address().port));`,
  ],
  { stdio: ["ignore", "pipe", "inherit"] },
);
const port = await new Promise<string>((resolve) =>
  baseline.stdout.on("data", (d) => {
    const m = /listening (\d+)/.exec(String(d));
    if (m?.[1]) resolve(m[1]);
  }),
);
const url = `http://127.0.0.1:${port}/`;
const result = await autocannon({
  url,
  connections,
  duration: seconds,
  method: "POST",
  body: "{}",
});
console.log(`bare node:http baseline: ${Math.round(result.requests.average)} req/s`);
await runScaleBench({
  seconds,
  connections,
  secrets: {
    JWT_SECRET: "bench-jwt-secret-0123456789abcdef0123456789",
    ENCRYPTION_KEY: Buffer.alloc(32, 3).toString("base64"),
  },
  baselineRps: result.requests.average,
  baselineUrl: url,
  rounds: Number(process.env.BENCH_ROUNDS ?? 3),
  load: async () => ({ title: "", rps: 0, p50: 0, p99: 0, errors: 0 }),
  rssMiB: (pid) => {
    try {
      const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
      return kb ? Math.round(Number(kb) / 1024) : null;
    } catch {
      return null;
    }
  },
});
baseline.kill();
process.exit(0);
