// Kotani's guide, Method 1, in a real browser against the real server process: sign in through
// the mail's link, generate an integrator-level key, copy it, leave the page and see it masked,
// verify and revoke it; a user-bound key with zero permissions, a scope assigned in the
// dashboard; an RSA key pair and its public key downloaded; a member invited. Every main page
// is screenshotted (test-output/dashboard/) and checked with axe-core.
import { spawnSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { projectRoot } from "../../src/db/migrate.ts";
import { testSecrets } from "../helpers/harness.ts";
import { processEnvironment, type ProcessEnvironment } from "../helpers/server-process.ts";
import {
  chromiumAvailable,
  CHROMIUM,
  freePort,
  type Gateway,
  launchBrowser,
  linkFromOutbox,
  mailCount,
  screenshot,
  seriousViolations,
  startGateway,
} from "./browser.ts";

const OWNER = "owner@dashboard.test";
// Generous: two cores shared with other work; nothing here is timed.
const WAIT = { timeout: 30_000 };

// CI installs chromium (.ci/run); elsewhere the file says it was skipped and why.
const required = Boolean(process.env.CI);
if (!chromiumAvailable && required)
  throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
const maybe = chromiumAvailable ? describe : describe.skip;

let environment: ProcessEnvironment;
let server: Gateway;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let base: string;
/** Script errors and CSP refusals seen by the page; expected 401s of a signed-out refresh aside. */
const problems: string[] = [];

async function verify(key: string, permissions?: string[]) {
  const response = await fetch(`${base}/v1/keys/verify`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ key, ...(permissions ? { permissions } : {}) }),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as { valid: boolean; code: string };
}

async function check(name: string, target: Page = page) {
  await screenshot(target, name);
  expect(await seriousViolations(target), `axe on ${name}`).toEqual([]);
}

async function clipboard(): Promise<string> {
  return page.evaluate(() => navigator.clipboard.readText());
}

async function goTo(label: string, heading: string | RegExp = label) {
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: label }).click();
  await page.getByRole("heading", { level: 1, name: heading }).waitFor(WAIT);
}

maybe("dashboard: Kotani's Method 1 in chromium", { timeout: 240_000 }, () => {
  beforeAll(async () => {
    const build = spawnSync(process.execPath, ["dashboard/scripts/ensure-built.mjs"], {
      cwd: projectRoot,
      encoding: "utf8",
    });
    if (build.status !== 0)
      throw new Error(`dashboard build failed:\n${build.stdout}${build.stderr}`);
    environment = await processEnvironment("keygate-dashboard");
    const port = await freePort();
    const env = {
      ...environment.env,
      ...testSecrets,
      PORT: String(port),
      PUBLIC_URL: `http://localhost:${port}`,
      ADMIN_EMAIL: OWNER,
    };
    server = await startGateway(env);
    base = `http://localhost:${port}`;
    browser = await launchBrowser();
    context = await browser.newContext({
      viewport: { width: 1280, height: 860 },
      acceptDownloads: true,
    });
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
    page = await context.newPage();
    page.setDefaultTimeout(30_000);
    page.on("pageerror", (error) => problems.push(`pageerror: ${error.message}`));
    page.on("console", (message) => {
      const text = message.text();
      if (message.type() !== "error") return;
      if (/Failed to load resource: the server responded with a status of 401/.test(text)) return;
      problems.push(`console: ${text}`);
    });
  }, 240_000);

  // A failed step leaves its picture behind, to see what the browser saw.
  afterEach(async (ctx) => {
    if (ctx.task.result?.state === "fail" && page)
      await screenshot(page, `failed-${ctx.task.name.slice(0, 40).replace(/\W+/g, "-")}`).catch(
        () => {},
      );
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await environment?.cleanup();
  });

  it("signs in through the link in the mail and lands on API Keys", async () => {
    await page.goto(`${base}/dashboard`);
    await page.getByRole("heading", { name: "Sign in to Keygate" }).waitFor(WAIT);
    expect(new URL(page.url()).pathname).toBe("/dashboard/sign-in");
    await check("sign-in");
    const seen = await mailCount(environment.dataDir);
    await page.getByLabel("Email").fill(OWNER);
    await page.getByRole("button", { name: "Email me a sign-in link" }).click();
    await page
      .getByRole("status")
      .getByText(/sign-in link is on its way/)
      .waitFor(WAIT);

    const link = await linkFromOutbox(environment.dataDir, seen);
    expect(link.startsWith(`${base}/api/v3/auth/verify?hash=`)).toBe(true);
    // The link's page hands a sign-in that started in the dashboard back to the dashboard.
    await page.goto(link);
    await page.waitForURL(/\/dashboard\/sign-in\/confirm\?hash=/, WAIT);
    // The account the link signs in to is named before the click (login CSRF).
    await page.getByRole("button", { name: `Sign in as ${OWNER}` }).waitFor(WAIT);
    await check("sign-in-confirm");
    await page.getByRole("button", { name: `Sign in as ${OWNER}` }).click();
    await page.getByRole("heading", { level: 1, name: "API Keys" }).waitFor(WAIT);
    expect(new URL(page.url()).pathname).toBe("/dashboard/keys");
    await page.getByText("No keys yet").waitFor(WAIT);
    await check("api-keys-empty");

    // No token where a script could read it: memory only, and an HttpOnly cookie.
    const storage = await page.evaluate(() => ({
      local: localStorage.length,
      session: sessionStorage.length,
      cookie: document.cookie,
    }));
    expect(storage).toEqual({ local: 0, session: 0, cookie: "" });
    const [cookie] = (await context.cookies()).filter((c) => c.name === "kg_dashboard_refresh");
    expect(cookie).toMatchObject({
      httpOnly: true,
      sameSite: "Strict",
      path: "/dashboard/session",
    });
  });

  let integratorKey = "";
  it("generates an integrator-level key, copies it, and after leaving the page shows it masked only", async () => {
    await page.getByRole("button", { name: "Generate New Key" }).click();
    const form = page.getByRole("form", { name: "Generate New Key" });
    expect(await form.getByLabel(/integrator-level/).isChecked()).toBe(true);
    await form.getByLabel("Name").fill("Production backend");
    await form.getByRole("button", { name: "Generate" }).click();
    await page.getByText("It will not be shown again after you leave this page.").waitFor(WAIT);
    integratorKey = await page.getByLabel("Key", { exact: true }).inputValue();
    expect(integratorKey).toMatch(/^kg_[A-Za-z0-9]{24}_[A-Za-z0-9]{6}$/);
    await page.getByRole("button", { name: "Copy key" }).click();
    await page.getByText("Copied.").waitFor(WAIT);
    expect(await clipboard()).toBe(integratorKey);
    await check("api-keys-new-key");

    expect((await verify(integratorKey)).code).toBe("VALID");

    await goTo("Projects");
    await goTo("API Keys");
    const row = page.getByRole("row", { name: /Production backend/ });
    await row.waitFor(WAIT);
    await row.getByText(/^kg_.*…/).waitFor(WAIT);
    expect(await page.content()).not.toContain(integratorKey);
    await check("api-keys");
  });

  it("keeps the session across a reload", async () => {
    await page.reload();
    await page.getByRole("heading", { level: 1, name: "API Keys" }).waitFor(WAIT);
    await page.getByRole("row", { name: /Production backend/ }).waitFor(WAIT);
    expect(await page.content()).not.toContain(integratorKey);
  });

  it("revokes the key after a confirmation, and verification fails", async () => {
    const row = page.getByRole("row", { name: /Production backend/ });
    await row.getByRole("button", { name: "Revoke" }).click();
    const dialog = page.getByRole("dialog", { name: /Revoke Production backend/ });
    await dialog.waitFor(WAIT);
    await check("api-keys-revoke-dialog");
    await dialog.getByRole("button", { name: "Revoke key" }).click();
    await row.getByText("REVOKED").waitFor(WAIT);
    expect(await verify(integratorKey)).toMatchObject({ valid: false, code: "REVOKED" });
  });

  let userBoundKey = "";
  it("a user-bound key starts with zero permissions; a scope assigned in the dashboard makes it VALID", async () => {
    await page.getByRole("button", { name: "Generate New Key" }).click();
    const form = page.getByRole("form", { name: "Generate New Key" });
    await form.getByLabel(/user-bound/).check();
    await form.getByLabel("Name").fill("Deposits only");
    await form.getByRole("button", { name: "Generate" }).click();
    await page.getByText("It will not be shown again after you leave this page.").waitFor(WAIT);
    const key = await page.getByLabel("Key", { exact: true }).inputValue();
    userBoundKey = key;
    await page.getByRole("button", { name: "Copy key" }).click();
    await page.getByText("Copied.").waitFor(WAIT);
    expect(await clipboard()).toBe(key);
    expect(await verify(key, ["deposits:write"])).toMatchObject({
      valid: false,
      code: "INSUFFICIENT_PERMISSIONS",
    });

    await page.getByRole("link", { name: "Deposits only" }).click();
    await page.getByRole("heading", { level: 1, name: "Deposits only" }).waitFor(WAIT);
    expect(await page.content()).not.toContain(key);
    await page.getByLabel("Permissions").fill("deposits:write");
    await page.getByRole("button", { name: "Save changes" }).click();
    await page.getByRole("status").getByText("Saved.").waitFor(WAIT);
    expect(await verify(key, ["deposits:write"])).toMatchObject({ valid: true, code: "VALID" });
    expect((await verify(key, ["withdrawals:write"])).code).toBe("INSUFFICIENT_PERMISSIONS");
    // The key's usage chart by outcome: counts reach the database in batches every few seconds.
    const chart = page.getByRole("img", { name: /Verifications by outcome/ });
    const legend = page.locator(".legend");
    await expect
      .poll(
        async () => {
          await page.reload();
          await page.getByRole("heading", { level: 1, name: "Deposits only" }).waitFor(WAIT);
          await legend.waitFor(WAIT);
          return ((await legend.textContent()) ?? "").replace(/\s+/g, " ");
        },
        { timeout: 90_000, interval: 1_000 },
      )
      .toMatch(/INSUFFICIENT_PERMISSIONS 2.*VALID 1|VALID 1.*INSUFFICIENT_PERMISSIONS 2/);
    await chart.waitFor(WAIT);
    await check("key-page");
  });

  it("disables and enables the key on its page, then rotates it: the successor shown once", async () => {
    const details = page.locator("dl.details");
    await page.getByRole("button", { name: "Disable" }).click();
    await details.getByText("DISABLED").waitFor(WAIT);
    expect((await verify(userBoundKey, ["deposits:write"])).code).toBe("DISABLED");
    await page.getByRole("button", { name: "Enable" }).click();
    await details.getByText("ACTIVE").waitFor(WAIT);
    expect((await verify(userBoundKey, ["deposits:write"])).code).toBe("VALID");

    await page.getByRole("button", { name: "Rotate" }).click();
    const dialog = page.getByRole("dialog", { name: /Rotate Deposits only/ });
    await dialog.getByLabel("The old key keeps working for").selectOption("0");
    await dialog.getByRole("button", { name: "Rotate key" }).click();
    await page.getByText("It will not be shown again after you leave this page.").waitFor(WAIT);
    const successor = await page.getByLabel("Key", { exact: true }).inputValue();
    expect(successor).not.toBe(userBoundKey);
    expect((await verify(successor, ["deposits:write"])).code).toBe("VALID");
    expect((await verify(userBoundKey, ["deposits:write"])).valid).toBe(false);
  });

  it("creates a project, generates an RSA key pair and downloads its public key", async () => {
    await goTo("Projects");
    await check("projects-empty");
    await page.getByLabel("Project name").fill("Payments");
    await page.getByRole("button", { name: "Create project" }).click();
    await page.getByRole("link", { name: "Payments" }).click();
    await page.getByRole("heading", { level: 1, name: "Payments" }).waitFor(WAIT);
    await page.getByLabel("Type").selectOption("TRANSACTION_RSA");
    await page.getByLabel("RSA key size").selectOption("3072");
    await page.getByLabel("Key name").fill("Signing pair");
    await page.getByRole("button", { name: "Generate key pair" }).click();
    await page
      .getByText("It will not be shown again after you leave this page.")
      .waitFor({ timeout: 120_000 });
    const privateKey = await page.getByLabel("Private key", { exact: true }).inputValue();
    expect(privateKey).toContain("-----BEGIN ENCRYPTED PRIVATE KEY-----");
    expect(await page.getByLabel("Passphrase", { exact: true }).inputValue()).not.toBe("");
    await check("project-new-key-pair");

    const row = page.getByRole("row", { name: /Signing pair/ });
    await row.waitFor(WAIT);
    const [download] = await Promise.all([
      page.waitForEvent("download", WAIT),
      row.getByRole("button", { name: "Download public key" }).click(),
    ]);
    const file = await download.path();
    const pem = await readFile(file!, "utf8");
    expect(pem).toMatch(/^-----BEGIN PUBLIC KEY-----\n[\s\S]+\n-----END PUBLIC KEY-----\n?$/);
    expect(download.suggestedFilename()).toMatch(/\.pem$/);

    await goTo("Projects");
    await page.getByRole("link", { name: "Payments" }).waitFor(WAIT);
    expect(await page.content()).not.toContain(privateKey.split("\n")[1]);
    await check("projects");
  });

  it("invites a member and sees them in Team", async () => {
    await goTo("Team");
    const seen = await mailCount(environment.dataDir);
    await page
      .getByRole("form", { name: "Invite a member" })
      .getByLabel("Email")
      .fill("teammate@dashboard.test");
    await page.getByRole("button", { name: "Invite" }).click();
    const row = page.getByRole("row", { name: /teammate@dashboard\.test/ });
    await row.waitFor(WAIT);
    expect(await row.getByLabel("Role of teammate@dashboard.test").inputValue()).toBe("MEMBER");
    await row.getByRole("cell", { name: "INVITED" }).waitFor(WAIT);
    await row
      .getByRole("textbox", { name: "Permissions of teammate@dashboard.test" })
      .fill("deposits:write");
    await row.getByRole("button", { name: "Save" }).click();
    await row.getByRole("status").getByText("Saved.").waitFor(WAIT);
    // The invitation went out by mail, with a link to the dashboard's confirmation page.
    const invitation = await linkFromOutbox(
      environment.dataDir,
      seen,
      /https?:\/\/[^\s"<>]+\/dashboard\/sign-in\/confirm\?hash=[A-Za-z0-9_-]+/,
    );
    expect(invitation.startsWith(`${base}/dashboard/sign-in/confirm?hash=`)).toBe(true);
    await check("team");
  });

  it("shows the audit log with filters, and the settings", async () => {
    await goTo("Audit log");
    await page.getByRole("cell", { name: "key.revoke" }).first().waitFor(WAIT);
    await page.getByLabel("Action").fill("key.");
    await page.getByRole("button", { name: "Apply filters" }).click();
    await page.getByRole("cell", { name: "key.create" }).first().waitFor(WAIT);
    await check("audit-log");
    await goTo("Settings");
    await page.getByLabel("Tenant name").waitFor(WAIT);
    expect(await page.getByLabel("Tenant name").inputValue()).toBe("Default");
    await check("settings");
  });

  it("works at a phone width", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole("button", { name: "Menu" }).click();
    await page
      .getByRole("navigation", { name: "Main" })
      .getByRole("link", { name: "API Keys" })
      .click();
    await page.getByRole("heading", { level: 1, name: "API Keys" }).waitFor(WAIT);
    // Two rows since the rotation: the successor and its predecessor.
    await page
      .getByRole("row", { name: /Deposits only/ })
      .first()
      .waitFor(WAIT);
    await check("api-keys-phone");
    await page.setViewportSize({ width: 1280, height: 860 });
  });

  it("ran without script errors or Content-Security-Policy refusals", () => {
    expect(problems).toEqual([]);
  });

  it("signs out: the session ends, and a reload asks to sign in again", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign in to Keygate" }).waitFor(WAIT);
    await page.reload();
    await page.getByRole("heading", { name: "Sign in to Keygate" }).waitFor(WAIT);
    expect(new URL(page.url()).pathname).toBe("/dashboard/sign-in");
    await page.goto(`${base}/dashboard/keys`);
    await page.getByRole("heading", { name: "Sign in to Keygate" }).waitFor(WAIT);
  });
});
