// End to end with a real SMTP server: request, receive, click, get tokens, call viewer.
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testSecrets } from "../helpers/harness.ts";
import {
  processEnvironment,
  startServerProcess,
  type ProcessEnvironment,
  type ServerProcess,
} from "../helpers/server-process.ts";

const inbox: { to: string[]; raw: string }[] = [];
let smtp: SMTPServer;
let gateway: ServerProcess;
let environment: ProcessEnvironment;

beforeAll(async () => {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ["AUTH", "STARTTLS"],
    logger: false,
    onData(stream, session, callback) {
      let raw = "";
      stream.on("data", (chunk) => (raw += chunk));
      stream.on("end", () => {
        inbox.push({ to: session.envelope.rcptTo.map((r) => r.address), raw });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, "127.0.0.1", () => resolve()));
  const port = (smtp.server.address() as AddressInfo).port;
  environment = await processEnvironment("keygate-smtp");
  const env: Record<string, string> = {
    ...environment.env,
    ...testSecrets,
    ADMIN_EMAIL: "root@smtp.test",
    SMTP_URL: `smtp://127.0.0.1:${port}`,
    MAIL_FROM: "Keygate <keys@smtp.test>",
    PUBLIC_URL: "http://gateway.example:4000",
  };
  gateway = await startServerProcess(env);
}, 60_000);

afterAll(async () => {
  await gateway?.stop();
  await new Promise<void>((resolve) => smtp.close(() => resolve()));
  await environment.cleanup();
});

function decodeQuotedPrintable(raw: string): string {
  return raw
    .replace(/=\r?\n/g, "")
    .replace(/=([0-9A-F]{2})/g, (_m, hex) => String.fromCharCode(parseInt(hex, 16)));
}

async function waitForMail(to: string): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const mail = inbox.find((m) => m.to.includes(to));
    if (mail) return decodeQuotedPrintable(mail.raw);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no mail for ${to}`);
}

describe("magic link over SMTP", () => {
  it("delivers a link that signs the user in", async () => {
    const login = await fetch(`${gateway.url}/api/v3/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "root@smtp.test" }),
    });
    expect(await login.json()).toEqual({
      success: true,
      message: "login magic link sent to your email",
      data: {},
    });

    const mail = await waitForMail("root@smtp.test");
    expect(mail).toMatch(/Subject: Your Keygate sign-in link/);
    expect(mail).toMatch(/Content-Type: text\/plain/);
    expect(mail).toMatch(/Content-Type: text\/html/);
    const link =
      /http:\/\/gateway\.example:4000\/api\/v3\/auth\/verify\?hash=([A-Za-z0-9_-]+)/.exec(mail);
    expect(link).not.toBeNull();

    // The link's host is PUBLIC_URL's; the test reaches the same path on the real server.
    const page = await fetch(`${gateway.url}/api/v3/auth/verify?hash=${link![1]}`, {
      headers: { accept: "text/html" },
    });
    expect(await page.text()).toContain("<form");
    const verified = await fetch(`${gateway.url}/api/v3/auth/verify`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ hash: link![1] }),
    });
    const body = await verified.json();
    expect(body.success).toBe(true);

    const viewer = await fetch(`${gateway.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${body.data.token}` },
      body: JSON.stringify({ query: "{ viewer { email role } }" }),
    });
    expect(await viewer.json()).toEqual({
      data: { viewer: { email: "root@smtp.test", role: "OWNER" } },
    });
    // The server never logs the link when real SMTP is configured.
    expect(gateway.output()).not.toContain(link![1]);
  });
});
