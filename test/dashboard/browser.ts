// Playwright (playwright-core) on Debian's chromium for the dashboard's browser tests: the
// launch flags, the accessibility check (axe-core) and the screenshots' folder.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile } from "node:fs/promises";
import { createServer } from "node:net";
import path from "node:path";
import AxeBuilder from "@axe-core/playwright";
import { chromium, type Browser, type Page } from "playwright-core";
import { projectRoot } from "../../src/db/migrate.ts";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const chromiumAvailable = existsSync(CHROMIUM);

/** Screenshots go here (gitignored). */
export const OUTPUT_DIR = path.join(projectRoot, "test-output", "dashboard");

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** A free port on the loopback, so PUBLIC_URL (the mail's links) can name it before the start. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address
          ? resolve(address.port)
          : reject(new Error("no port")),
      );
    });
  });
}

export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(OUTPUT_DIR, { recursive: true });
  const file = path.join(OUTPUT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** axe-core's serious and critical violations on the page, as "rule: target" lines. */
export async function seriousViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).analyze();
  return results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .flatMap((v) => v.nodes.map((n) => `${v.id} (${v.impact}): ${n.target.join(" ")}`));
}

/** The sign-in link of the first mail after `seen` in DATA_DIR/outbox, decoded from quoted-printable. */
export async function linkFromOutbox(
  dataDir: string,
  seen: number,
  pattern = /https?:\/\/[^\s"<>]+\/api\/v3\/auth\/verify\?hash=[A-Za-z0-9_-]+/,
): Promise<string> {
  const outbox = path.join(dataDir, "outbox");
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const files = (await readdir(outbox).catch(() => [] as string[])).sort();
    if (files.length > seen) {
      const text = (await readFile(path.join(outbox, files.at(-1)!), "utf8"))
        .replace(/=\r?\n/g, "")
        .replace(/=3D/g, "=");
      const match = pattern.exec(text);
      if (match) return match[0];
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("no mail with a link in the outbox");
}

export async function mailCount(dataDir: string): Promise<number> {
  return (await readdir(path.join(dataDir, "outbox")).catch(() => [] as string[])).length;
}

export interface Gateway {
  url: string;
  output: () => string;
  stop(): Promise<void>;
}

/**
 * The real gateway process (`src/main.ts`), like test/helpers/server-process.ts, but with a start
 * deadline fit for a loaded two-core machine next to a browser build.
 */
export async function startGateway(
  env: Record<string, string>,
  deadlineMs = 150_000,
): Promise<Gateway> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", path.join(projectRoot, "src", "main.ts")],
    {
      cwd: projectRoot,
      env: { ...process.env, HOST: "127.0.0.1", LOG_LEVEL: "info", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
    });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`gateway did not start:\n${out}`));
    }, deadlineMs);
    child.stdout!.on("data", () => {
      const match = /"msg":"keygate listening"/.test(out)
        ? /"url":"(http:\/\/[^"]+)"/.exec(out)
        : null;
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited with ${code}:\n${out}`));
    });
  });
  return { url, output: () => out, stop };
}
