import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../src/crypto/tokens.ts";
import { gql, hashOf, outboxLinks, seedUser } from "../helpers/harness.ts";
import { useHarness, withTenant } from "../helpers/fixtures.ts";

const h = useHarness();
const acme = withTenant(h, "Acme");

const request = "mutation($email: EmailAddress!) { requestMagicLink(email: $email) { message } }";
const verify =
  "mutation($hash: String!) { verify(hash: $hash) { userId sessionId tokenId accessToken refreshToken accessTokenExpiresAt } }";

/** A new member's address: the per-address rate limit is 5 links per 15 minutes. */
async function newEmail(): Promise<string> {
  return (await seedUser(h.deps, acme.tenant.id, "MEMBER")).user.email;
}

async function freshLink(email?: string): Promise<string> {
  email ??= await newEmail();
  const before = (await outboxLinks(h.deps)).length;
  const result = await gql(h, request, { email });
  expect(result.errors).toBeUndefined();
  const links = await outboxLinks(h.deps);
  expect(links.length).toBe(before + 1);
  return links[links.length - 1]!;
}

describe("magic-link sign-in", () => {
  it("mails a link built from PUBLIC_URL whose token opens a session", async () => {
    const link = await freshLink(acme.owner.email);
    expect(link.startsWith(`${h.deps.config.publicUrl}/api/v3/auth/verify?hash=`)).toBe(true);
    const hash = hashOf(link);
    expect(Buffer.from(hash, "base64url").length).toBeGreaterThanOrEqual(16);

    // Stored only as its SHA-256.
    const rows = await h.deps.prisma.magicLink.findMany({ where: { email: acme.owner.email } });
    expect(rows.map((r) => r.tokenHash)).toContain(sha256Hex(hash));
    expect(JSON.stringify(rows)).not.toContain(hash);

    const result = await gql(h, verify, { hash });
    expect(result.errors).toBeUndefined();
    const tokens = result.data!.verify;
    expect(tokens.userId).toBe(acme.owner.id);
    const viewer = await gql(
      h,
      "{ viewer { email sessions { id current } } }",
      {},
      tokens.accessToken,
    );
    expect(viewer.data!.viewer.email).toBe(acme.owner.email);
    expect(viewer.data!.viewer.sessions).toContainEqual({ id: tokens.sessionId, current: true });

    const again = await gql(h, verify, { hash });
    expect(again.status).toBe(401);
    expect(again.errors![0]!.extensions!.code).toBe("INVALID_TOKEN");
    const audit = await h.deps.prisma.auditEvent.findMany({
      where: { tenantId: acme.tenant.id, action: "auth.sign_in" },
    });
    expect(audit.length).toBeGreaterThan(0);
  });

  it("expires links after the configured lifetime", async () => {
    const hash = hashOf(await freshLink());
    await h.deps.prisma.magicLink.update({
      where: { tokenHash: sha256Hex(hash) },
      data: { expiresAt: new Date(Date.now() - 1000) },
    });
    const result = await gql(h, verify, { hash });
    expect(result.errors![0]!.extensions!.code).toBe("INVALID_TOKEN");
  });

  it("retires older unused links when a new one is requested", async () => {
    const email = await newEmail();
    const older = hashOf(await freshLink(email));
    const newer = hashOf(await freshLink(email));
    expect((await gql(h, verify, { hash: older })).errors![0]!.extensions!.code).toBe(
      "INVALID_TOKEN",
    );
    expect((await gql(h, verify, { hash: newer })).errors).toBeUndefined();
  });

  it("lets exactly one of 20 concurrent verifies of one token succeed", async () => {
    const hash = hashOf(await freshLink());
    const results = await Promise.all(Array.from({ length: 20 }, () => gql(h, verify, { hash })));
    const ok = results.filter((r) => !r.errors);
    expect(ok).toHaveLength(1);
    expect(results.filter((r) => r.errors?.[0]!.extensions?.code === "INVALID_TOKEN")).toHaveLength(
      19,
    );
    const sessions = await h.deps.prisma.session.count({
      where: { id: ok[0]!.data!.verify.sessionId },
    });
    expect(sessions).toBe(1);
  });

  it("answers known and unknown emails identically", async () => {
    const send = (email: string) =>
      h.app.request("/api/v3/auth/login", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email }),
      });
    const knownEmail = await newEmail();
    const known = await send(knownEmail);
    const unknown = await send("nobody-here@acme.test");
    expect(known.status).toBe(200);
    expect(unknown.status).toBe(known.status);
    const knownBody = await known.text();
    expect(await unknown.text()).toBe(knownBody);
    expect(JSON.parse(knownBody)).toEqual({
      success: true,
      message: "login magic link sent to your email",
      data: {},
    });
    const headers = (r: Response) =>
      [...r.headers.entries()].filter(([k]) => k !== "x-request-id" && k !== "date");
    expect(headers(unknown)).toEqual(headers(known));
    const gqlKnown = await gql(h, request, { email: knownEmail });
    const gqlUnknown = await gql(h, request, { email: "nobody-else@acme.test" });
    expect(gqlUnknown).toEqual(gqlKnown);
    await outboxLinks(h.deps);
  });

  it("rate-limits requests per email, known or not", async () => {
    const email = "limited@nowhere.test";
    const codes: (string | undefined)[] = [];
    for (let i = 0; i < 6; i++)
      codes.push((await gql(h, request, { email })).errors?.[0]!.extensions?.code);
    expect(codes.slice(0, 5)).toEqual([undefined, undefined, undefined, undefined, undefined]);
    expect(codes[5]).toBe("RATE_LIMITED");
    const rest = await h.app.request("/api/v3/auth/login", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email }),
    });
    expect(rest.status).toBe(429);
    expect(Number(rest.headers.get("retry-after"))).toBeGreaterThan(0);
  });

  it("rejects malformed addresses naming the field", async () => {
    const rest = await h.app.request("/api/v3/auth/login", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "not-an-address" }),
    });
    expect(rest.status).toBe(400);
    expect(await rest.json()).toEqual({
      success: false,
      error_code: 400,
      message: "Bad Request",
      data: { errors: [{ field: "email", message: "must be an email address" }] },
    });
    const broken = await h.app.request("/api/v3/auth/login", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{",
    });
    expect(broken.status).toBe(400);
  });
});

describe("the link in a browser", () => {
  const browser = { accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8" };

  it("shows a confirmation page on GET and HEAD, consuming nothing, then signs in once on POST", async () => {
    const link = await freshLink();
    const path = link.slice(h.deps.config.publicUrl.length);
    for (let i = 0; i < 3; i++) {
      const get = await h.app.request(path, { headers: browser });
      expect(get.status).toBe(200);
      expect(get.headers.get("cache-control")).toBe("no-store");
      const html = await get.text();
      expect(html).toContain('<form method="post" action="/api/v3/auth/verify">');
      const head = await h.app.request(path, { method: "HEAD", headers: browser });
      expect(head.status).toBe(200);
    }
    const link_ = await h.deps.prisma.magicLink.findUnique({
      where: { tokenHash: sha256Hex(hashOf(link)) },
    });
    expect(link_!.consumedAt).toBeNull();

    const post = () =>
      h.app.request("/api/v3/auth/verify", {
        method: "POST",
        headers: { ...browser, "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ hash: hashOf(link) }).toString(),
      });
    const first = await post();
    expect(first.status).toBe(200);
    const page = await first.text();
    expect(page).toContain("You are signed in");
    expect(page).toContain("refresh_token");
    const second = await post();
    expect(second.status).toBe(401);
    expect(await second.text()).toContain("Sign-in failed");
  });

  it("gives JSON clients the documented envelope on GET", async () => {
    const link = await freshLink();
    const response = await h.app.request(link.slice(h.deps.config.publicUrl.length), {
      headers: { accept: "application/json" },
    });
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(body).toMatchObject({ success: true, message: "ok" });
    expect(Object.keys(body.data).sort()).toEqual([
      "refresh_token",
      "session_id",
      "token",
      "token_id",
      "user_id",
    ]);
    const replay = await h.app.request(link.slice(h.deps.config.publicUrl.length), {
      headers: { accept: "application/json" },
    });
    // Kotani documents 403 "Unauthorized" for a credential it refuses.
    expect(replay.status).toBe(403);
    expect(await replay.json()).toEqual({
      success: false,
      error_code: 403,
      message: "Unauthorized",
      data: {},
    });
  });
});
