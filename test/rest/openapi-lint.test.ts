// Redocly's recommended ruleset on the document the gateway serves: no errors, no warnings.
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useHarness } from "../helpers/fixtures.ts";
import { type Listening, listen } from "../helpers/listen.ts";

const run = promisify(execFile);
const redocly = path.resolve("node_modules/.bin/redocly");

const h = useHarness();
let server: Listening;
let dir: string;
beforeAll(async () => {
  server = await listen(h);
  dir = await mkdtemp(path.join(os.tmpdir(), "keygate-openapi-lint-"));
});
afterAll(async () => {
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface LintReport {
  totals: { errors: number; warnings: number; ignored: number };
  problems: { ruleId: string; severity: string; message: string; location: unknown }[];
}

async function lint(document: unknown): Promise<LintReport> {
  const file = path.join(dir, `openapi-${Date.now()}.json`);
  await writeFile(file, JSON.stringify(document));
  // Exit code 1 when there are errors: the JSON report is on stdout either way.
  const result = await run(
    redocly,
    ["lint", "--extends", "recommended", "--format", "json", file],
    {
      cwd: dir,
      env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true" },
      maxBuffer: 16 * 1024 * 1024,
    },
  ).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? "" }));
  return JSON.parse(result.stdout) as LintReport;
}

describe("the served OpenAPI document under Redocly's recommended rules", () => {
  it("has no errors and no warnings", async () => {
    const document = await (await fetch(`${server.url}/openapi.json`)).json();
    const report = await lint(document);
    expect(
      report.problems.map((p) => `${p.severity} ${p.ruleId}: ${p.message}`),
      JSON.stringify(report.problems, null, 2).slice(0, 4000),
    ).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
  }, 120_000);

  it("would report what the issue found: no servers, public operations without security, no operationId", async () => {
    const document = await (await fetch(`${server.url}/openapi.json`)).json();
    delete document.servers;
    delete document.paths["/api/v3/auth/login"].post.security;
    delete document.paths["/api/v3/auth/login"].post.operationId;
    const report = await lint(document);
    const rules = report.problems.map((p) => p.ruleId);
    expect(rules).toEqual(
      expect.arrayContaining(["no-empty-servers", "security-defined", "operation-operationId"]),
    );
    expect(report.totals.errors).toBeGreaterThanOrEqual(2);
  }, 120_000);
});
