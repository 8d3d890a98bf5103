// The dashboard's session endpoint and file serving, through the Hono app: the refresh token
// only ever in an HttpOnly, SameSite=Strict, path-scoped cookie; CSRF header required; refresh
// rotates; sign-out ends the session; the mail's link comes back to the dashboard only when
// the sign-in started there; built files with their types and cache headers, SPA fallback.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dashboardAssetRoutes } from "../../src/dashboard/assets.ts";
import { useHarness, withTenant } from "../helpers/fixtures.ts";
import { gql, hashOf, outboxLinks } from "../helpers/harness.ts";

const h = useHarness();
const acme = withTenant(h, "Acme");
const globex = withTenant(h, "Globex");
const initech = withTenant(h, "Initech");
const CSRF = { "x-keygate-dashboard": "1", "content-type": "application/json" };

function post(route: string, body: unknown, headers: Record<string, string> = CSRF) {
  return h.app.request(`/dashboard/session/${route}`, {
    method: "POST",
    headers,
    body: JSON.stringify(body),
  });
}

/** The Set-Cookie header for `name`, parsed into its value and attributes. */
function cookieOf(response: Response, name: string) {
  const line = response.headers.getSetCookie().find((c) => c.startsWith(`${name}=`));
  if (!line) return null;
  const [pair, ...attributes] = line.split(/;\s*/);
  return {
    value: pair!.slice(name.length + 1),
    attributes: attributes.map((a) => a.toLowerCase()),
  };
}

/** Asks for a link through the dashboard and returns its hash and the marker cookie. */
async function linkThroughDashboard(email: string) {
  const before = (await outboxLinks(h.deps)).length;
  const response = await post("link", { email });
  expect(response.status).toBe(200);
  const links = await outboxLinks(h.deps);
  expect(links.length).toBe(before + 1);
  return { link: links.at(-1)!, marker: cookieOf(response, "kg_dashboard_signin") };
}

async function signInThroughDashboard() {
  const { link } = await linkThroughDashboard(acme.owner.email);
  const response = await post("confirm", { hash: hashOf(link) });
  expect(response.status).toBe(200);
  return { response, body: (await response.json()) as Record<string, string> };
}

describe("dashboard session endpoint", () => {
  it("refuses every request without the CSRF header, or from another origin", async () => {
    for (const route of ["link", "link-account", "confirm", "refresh", "switch", "sign-out"]) {
      const bare = await post(route, {}, { "content-type": "application/json" });
      expect(bare.status).toBe(403);
      expect((await bare.json()).error.fields[0].field).toBe("x-keygate-dashboard");
      const foreign = await post(route, {}, { ...CSRF, origin: "https://evil.example" });
      expect(foreign.status).toBe(403);
      const crossSite = await post(route, {}, { ...CSRF, "sec-fetch-site": "cross-site" });
      expect(crossSite.status).toBe(403);
    }
  });

  it("names the bad field of a bad body with a 400, never a 500", async () => {
    const noEmail = await post("link", { email: 42 });
    expect(noEmail.status).toBe(400);
    expect(JSON.stringify(await noEmail.json())).toContain("email");
    const noHash = await post("confirm", {});
    expect(noHash.status).toBe(400);
    expect(JSON.stringify(await noHash.json())).toContain("hash");
    const notJson = await h.app.request("/dashboard/session/confirm", {
      method: "POST",
      headers: CSRF,
      body: "{",
    });
    expect(notJson.status).toBe(400);
    expect((await post("confirm", { hash: "x".repeat(43) })).status).toBe(401);
  });

  it("confirms a link: the access token in the body, the refresh token only in a narrow HttpOnly cookie", async () => {
    const { response, body } = await signInThroughDashboard();
    expect(Object.keys(body).sort()).toEqual([
      "accessToken",
      "accessTokenExpiresAt",
      "sessionId",
      "userId",
    ]);
    expect(JSON.stringify(body)).not.toContain("kgr_");
    const cookie = cookieOf(response, "kg_dashboard_refresh")!;
    expect(cookie.value).toMatch(/^kgr_/);
    expect(cookie.attributes).toEqual(
      expect.arrayContaining(["path=/dashboard/session", "httponly", "samesite=strict", "secure"]),
    );
    expect(response.headers.get("cache-control")).toBe("no-store");
    const viewer = await gql(h, "{ viewer { email } }", {}, body.accessToken);
    expect(viewer.data?.viewer.email).toBe(acme.owner.email);
  });

  it("refresh rotates the cookie; a used one replayed after its successor ends the session", async () => {
    const { response } = await signInThroughDashboard();
    const first = cookieOf(response, "kg_dashboard_refresh")!.value;
    const refreshed = await post(
      "refresh",
      {},
      { ...CSRF, cookie: `kg_dashboard_refresh=${first}` },
    );
    expect(refreshed.status).toBe(200);
    const second = cookieOf(refreshed, "kg_dashboard_refresh")!.value;
    expect(second).not.toBe(first);
    const { accessToken } = (await refreshed.json()) as { accessToken: string };
    expect((await gql(h, "{ viewer { id } }", {}, accessToken)).data?.viewer).not.toBeNull();
    expect((await post("refresh", {})).status).toBe(401);
    const third = await post("refresh", {}, { ...CSRF, cookie: `kg_dashboard_refresh=${second}` });
    expect(third.status).toBe(200);
    const replay = await post("refresh", {}, { ...CSRF, cookie: `kg_dashboard_refresh=${first}` });
    expect(replay.status).toBe(401);
    expect(cookieOf(replay, "kg_dashboard_refresh")!.attributes).toContain("max-age=0");
  });

  it("sign-out ends the session: its access token and its cookie stop working", async () => {
    const { response, body } = await signInThroughDashboard();
    const refresh = cookieOf(response, "kg_dashboard_refresh")!.value;
    const out = await post(
      "sign-out",
      {},
      {
        ...CSRF,
        cookie: `kg_dashboard_refresh=${refresh}`,
        authorization: `Bearer ${body.accessToken}`,
      },
    );
    expect(out.status).toBe(200);
    expect(cookieOf(out, "kg_dashboard_refresh")!.attributes).toContain("max-age=0");
    expect((await gql(h, "{ viewer { id } }", {}, body.accessToken)).status).toBe(401);
    const again = await post("refresh", {}, { ...CSRF, cookie: `kg_dashboard_refresh=${refresh}` });
    expect(again.status).toBe(401);
  });

  it("sign-out with only the cookie (the access token expired) ends the session too", async () => {
    const { response, body } = await signInThroughDashboard();
    const refresh = cookieOf(response, "kg_dashboard_refresh")!.value;
    const out = await post("sign-out", {}, { ...CSRF, cookie: `kg_dashboard_refresh=${refresh}` });
    expect(out.status).toBe(200);
    const session = await h.deps.prisma.session.findUniqueOrThrow({
      where: { id: body.sessionId },
    });
    expect(session.revokedAt).not.toBeNull();
  });

  it("switches tenants: a new session in the other tenant, its refresh token only in the cookie", async () => {
    const added = await gql(
      h,
      "mutation($input: AddUserInput!) { addUser(input: $input) { id } }",
      { input: { email: acme.owner.email, role: "ADMIN" } },
      globex.token,
    );
    expect(added.errors).toBeUndefined();
    const { response, body } = await signInThroughDashboard();
    const bearer = { ...CSRF, authorization: `Bearer ${body.accessToken}` };
    const badId = await post("switch", { tenantId: "nope" }, bearer);
    expect(badId.status).toBe(404);
    expect((await post("switch", { tenantId: globex.tenant.id }, CSRF)).status).toBe(401);
    const switched = await post("switch", { tenantId: globex.tenant.id }, bearer);
    expect(switched.status).toBe(200);
    const next = (await switched.json()) as Record<string, string>;
    expect(JSON.stringify(next)).not.toContain("kgr_");
    expect(next.userId).toBe(added.data!.addUser.id);
    const cookie = cookieOf(switched, "kg_dashboard_refresh")!;
    expect(cookie.value).not.toBe(cookieOf(response, "kg_dashboard_refresh")!.value);
    expect(cookie.attributes).toEqual(expect.arrayContaining(["httponly", "samesite=strict"]));
    const seen = await gql(h, "{ viewer { tenant { id } } }", {}, next.accessToken);
    expect(seen.data?.viewer.tenant.id).toBe(globex.tenant.id);
    // The session it left is over.
    expect((await gql(h, "{ viewer { id } }", {}, body.accessToken)).status).toBe(401);
  });

  it("names a link's account before anything is consumed, so a link somebody else requested is seen for what it is (login CSRF)", async () => {
    // The attack: Initech's owner asks for a link to their own account and sends it to a victim,
    // whose click would sign the victim's browser into Initech's account.
    const { link } = await linkThroughDashboard(initech.owner.email);
    const hash = hashOf(link);
    const named = await post("link-account", { hash });
    expect(named.status).toBe(200);
    expect(await named.json()).toEqual({
      email: initech.owner.email,
      tenantName: "Initech",
      purpose: "SIGN_IN",
    });
    // Named again: naming consumes nothing, in the dashboard or on the link's own page.
    expect((await post("link-account", { hash })).status).toBe(200);
    const url = new URL(link);
    const page = await h.app.request(`${url.pathname}${url.search}`, {
      headers: { accept: "text/html" },
    });
    expect(page.status).toBe(200);
    const text = await page.text();
    expect(text).toContain(`as <strong>${initech.owner.email}</strong>`);
    expect(text).toContain("a link somebody else sends you signs you in to their account");

    const signedIn = await post("confirm", { hash });
    expect(signedIn.status).toBe(200);
    // Spent: named like an unknown link, and the link's page says so before any click.
    for (const gone of [hash, "x".repeat(43)]) {
      const again = await post("link-account", { hash: gone });
      expect(again.status).toBe(401);
      expect((await again.json()).error.code).toBe("INVALID_TOKEN");
    }
    const spentPage = await h.app.request(`${url.pathname}${url.search}`, {
      headers: { accept: "text/html" },
    });
    expect(spentPage.status).toBe(401);
    expect(await spentPage.text()).toContain("invalid, expired or already used");
    const noHash = await post("link-account", {});
    expect(noHash.status).toBe(400);
    expect(JSON.stringify(await noHash.json())).toContain("hash");
  });

  it("names an invitation's tenant and address, and the invitation stays open", async () => {
    const email = `invitee-${Date.now()}@initech.test`;
    const before = (await outboxLinks(h.deps)).length;
    const invited = await gql(
      h,
      `mutation($input: InviteMemberInput!) { inviteMember(input: $input) { id } }`,
      { input: { email, permissions: ["keys:read"] } },
      initech.token,
    );
    expect(invited.errors).toBeUndefined();
    const invitation = (await outboxLinks(h.deps)).slice(before).at(-1)!;
    const named = await post("link-account", { hash: hashOf(invitation) });
    expect(await named.json()).toEqual({ email, tenantName: "Initech", purpose: "INVITATION" });
    const member = await h.deps.prisma.user.findUniqueOrThrow({
      where: { id: invited.data!.inviteMember.id },
    });
    expect(member.joinedAt).toBeNull();
    expect((await post("confirm", { hash: hashOf(invitation) })).status).toBe(200);
  });

  it("sends the mail's link back to the dashboard only in the browser where the sign-in started there", async () => {
    // Another address: the per-address link limit (5 per 15 minutes) is spent on acme's owner.
    const { link, marker } = await linkThroughDashboard(globex.owner.email);
    expect(marker!.attributes).toEqual(
      expect.arrayContaining(["path=/api/v3/auth/verify", "httponly", "samesite=lax"]),
    );
    const url = new URL(link);
    const inDashboardBrowser = await h.app.request(`${url.pathname}${url.search}`, {
      headers: { accept: "text/html", cookie: `kg_dashboard_signin=${marker!.value}` },
    });
    expect(inDashboardBrowser.status).toBe(303);
    expect(inDashboardBrowser.headers.get("location")).toBe(
      `/dashboard/sign-in/confirm?hash=${encodeURIComponent(hashOf(link))}`,
    );
    // Elsewhere (another browser, a mail scanner, a JSON client) the link's own page, unconsumed.
    const elsewhere = await h.app.request(`${url.pathname}${url.search}`, {
      headers: { accept: "text/html" },
    });
    expect(elsewhere.status).toBe(200);
    expect(await elsewhere.text()).toContain("Press the button to finish signing in");
    const json = await h.app.request(`${url.pathname}${url.search}`, {
      headers: { accept: "application/json", cookie: "kg_dashboard_signin=1" },
    });
    expect(json.status).toBe(200);
    expect((await json.json()).data.refresh_token).toMatch(/^kgr_/);
  });
});

describe("dashboard files", () => {
  let dist: string;
  let app: Hono;
  beforeAll(async () => {
    dist = await mkdtemp(path.join(os.tmpdir(), "keygate-dist-"));
    await mkdir(path.join(dist, "assets"));
    await writeFile(path.join(dist, "index.html"), "<!doctype html><title>console</title>");
    await writeFile(path.join(dist, "assets", "index-abc123.js"), "console.log(1)");
    await writeFile(path.join(dist, "assets", "index-abc123.css"), "body{}");
    await writeFile(path.join(dist, "..", `${path.basename(dist)}-outside-secret.txt`), "secret");
    app = new Hono().route("/", dashboardAssetRoutes(dist) as never);
  });
  afterAll(async () => {
    await rm(dist, { recursive: true, force: true });
    await rm(`${dist}-outside-secret.txt`, { force: true });
  });

  it("serves hashed assets with their types, cached for a year", async () => {
    const js = await app.request("/dashboard/assets/index-abc123.js");
    expect(js.status).toBe(200);
    expect(js.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(js.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    const css = await app.request("/dashboard/assets/index-abc123.css");
    expect(css.headers.get("content-type")).toBe("text/css; charset=utf-8");
  });

  it("answers every page with index.html, uncached, under a strict CSP", async () => {
    for (const page of [
      "/dashboard",
      "/dashboard/",
      "/dashboard/keys",
      "/dashboard/projects/123",
    ]) {
      const response = await app.request(page);
      expect(response.status).toBe(200);
      expect(await response.text()).toContain("<title>console</title>");
      expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(response.headers.get("cache-control")).toBe("no-cache");
      expect(response.headers.get("content-security-policy")).toContain("script-src 'self'");
      expect(response.headers.get("x-frame-options")).toBe("DENY");
    }
  });

  it("a missing file is a 404, not the page; nothing outside dist is served", async () => {
    expect((await app.request("/dashboard/assets/missing.js")).status).toBe(404);
    for (const probe of [
      `/dashboard/../${path.basename(dist)}-outside-secret.txt`,
      `/dashboard/%2e%2e/${path.basename(dist)}-outside-secret.txt`,
      `/dashboard/assets/%2e%2e%2f%2e%2e%2f${path.basename(dist)}-outside-secret.txt`,
      "/dashboard/%00.js",
    ]) {
      const response = await app.request(probe);
      expect(await response.text()).not.toContain("secret");
    }
  });

  it("reads each file once, however its path is spelled (no cache growth by spelling)", async () => {
    // An attack that worked: `assets//x.js`, `assets///x.js`, `assets%2F%2Fx.js`... each kept
    // another full copy of the file in memory.
    const stats = { reads: 0 };
    const counted = new Hono().route("/", dashboardAssetRoutes(dist, stats) as never);
    for (let slashes = 1; slashes <= 40; slashes += 1) {
      const spelled = `/dashboard/assets${"/".repeat(slashes)}index-abc123.js`;
      const response = await counted.request(spelled);
      expect(response.status).toBe(200);
      expect(await response.text()).toBe("console.log(1)");
      await counted.request(`/dashboard/assets${"%2F".repeat(slashes)}index-abc123.js`);
    }
    expect(stats.reads).toBe(1);
  });

  it("says how to build it when dist is missing", async () => {
    const empty = new Hono().route("/", dashboardAssetRoutes(path.join(dist, "nope")) as never);
    const response = await empty.request("/dashboard/keys");
    expect(response.status).toBe(503);
    expect(await response.text()).toContain("npm run build -w dashboard");
  });
});
