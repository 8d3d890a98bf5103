import { SignJWT, UnsecuredJWT } from "jose";
import { describe, expect, it } from "vitest";
import { gql, hashOf, outboxLinks, seedTenant, seedUser } from "../helpers/harness.ts";
import { useHarness, withTenant } from "../helpers/fixtures.ts";

const h = useHarness();
const acme = withTenant(h, "Acme");

const refresh =
  "mutation($t: String!) { refreshSession(refreshToken: $t) { accessToken refreshToken sessionId } }";
const viewer = "{ viewer { email } }";

async function signInFresh(): Promise<{
  email: string;
  accessToken: string;
  refreshToken: string;
  sessionId: string;
}> {
  const { user } = await seedUser(h.deps, acme.tenant.id, "MEMBER");
  await gql(h, "mutation($e: EmailAddress!) { requestMagicLink(email: $e) { message } }", {
    e: user.email,
  });
  const links = await outboxLinks(h.deps);
  const result = await gql(
    h,
    "mutation($h: String!) { verify(hash: $h) { accessToken refreshToken sessionId } }",
    { h: hashOf(links.at(-1)!) },
  );
  expect(result.errors).toBeUndefined();
  return { email: user.email, ...result.data!.verify };
}

describe("refresh-token rotation", () => {
  it("rotates R1 -> R2 -> R3; replaying R1 ends the whole family", async () => {
    const s = await signInFresh();
    const r2 = await gql(h, refresh, { t: s.refreshToken });
    expect(r2.errors).toBeUndefined();
    const r3 = await gql(h, refresh, { t: r2.data!.refreshSession.refreshToken });
    expect(r3.errors).toBeUndefined();
    expect(r3.data!.refreshSession.sessionId).toBe(s.sessionId);
    expect((await gql(h, viewer, {}, r3.data!.refreshSession.accessToken)).data!.viewer.email).toBe(
      s.email,
    );

    const replay = await gql(h, refresh, { t: s.refreshToken });
    expect(replay.status).toBe(401);
    expect(replay.errors![0]!.extensions!.code).toBe("INVALID_TOKEN");

    for (const t of [r2.data!.refreshSession.refreshToken, r3.data!.refreshSession.refreshToken]) {
      expect((await gql(h, refresh, { t })).status).toBe(401);
    }
    for (const token of [
      s.accessToken,
      r2.data!.refreshSession.accessToken,
      r3.data!.refreshSession.accessToken,
    ]) {
      expect((await gql(h, viewer, {}, token)).status).toBe(401);
    }
    const session = await h.deps.prisma.session.findUniqueOrThrow({ where: { id: s.sessionId } });
    expect(session.revokeReason).toBe("refresh token reuse");
    const audit = await h.deps.prisma.auditEvent.count({
      where: { targetId: s.sessionId, action: "session.reuse_detected" },
    });
    expect(audit).toBe(1);
  });

  it("answers a retry of the newest rotation within the grace window with the very same pair", async () => {
    const s = await signInFresh();
    const first = await gql(h, refresh, { t: s.refreshToken });
    const retry = await gql(h, refresh, { t: s.refreshToken });
    expect(first.errors).toBeUndefined();
    expect(retry.errors).toBeUndefined();
    // Nothing new is minted: the retry cannot displace the token the first call handed out.
    expect(retry.data!.refreshSession).toEqual(first.data!.refreshSession);
    expect(
      (await gql(h, viewer, {}, retry.data!.refreshSession.accessToken)).data!.viewer.email,
    ).toBe(s.email);
    const next = await gql(h, refresh, { t: first.data!.refreshSession.refreshToken });
    expect(next.errors).toBeUndefined();
    expect(
      await h.deps.prisma.refreshToken.count({ where: { sessionId: s.sessionId, usedAt: null } }),
    ).toBe(1);
    expect(
      await h.deps.prisma.auditEvent.count({
        where: { targetId: s.sessionId, action: "session.refresh_retry" },
      }),
    ).toBe(1);
  });

  it("a replay of R1 inside the grace window does not take the session from the victim (regression)", async () => {
    const s = await signInFresh();
    // The victim rotates R1 -> R2; the attacker replays R1 within the window.
    const victim = await gql(h, refresh, { t: s.refreshToken });
    const attacker = await gql(h, refresh, { t: s.refreshToken });
    expect(attacker.data!.refreshSession.refreshToken).toBe(
      victim.data!.refreshSession.refreshToken,
    );
    // The victim's R2 still works, and once it has been used the old R1 is a reuse that ends the family.
    const victimNext = await gql(h, refresh, { t: victim.data!.refreshSession.refreshToken });
    expect(victimNext.errors).toBeUndefined();
    const late = await gql(h, refresh, { t: s.refreshToken });
    expect(late.status).toBe(401);
    expect(
      await h.deps.prisma.auditEvent.count({
        where: { targetId: s.sessionId, action: "session.reuse_detected" },
      }),
    ).toBe(1);
    expect((await gql(h, viewer, {}, victimNext.data!.refreshSession.accessToken)).status).toBe(
      401,
    );
  });

  it("rotates refresh tokens over the Kotani REST route, from any of the documented carriers", async () => {
    const s = await signInFresh();
    const viaBearer = await h.app.request("/api/v3/auth/refresh-token", {
      headers: { authorization: `Bearer ${s.refreshToken}` },
    });
    expect(viaBearer.status).toBe(200);
    const b1 = await viaBearer.json();
    expect(b1).toMatchObject({ success: true, message: "ok" });
    const viaQuery = await h.app.request(
      `/api/v3/auth/refresh-token?refresh_token=${encodeURIComponent(b1.data.refresh_token)}`,
    );
    const b2 = await viaQuery.json();
    expect(viaQuery.status).toBe(200);
    const viaHeader = await h.app.request("/api/v3/auth/refresh-token", {
      headers: { refresh_token: b2.data.refresh_token },
    });
    expect(viaHeader.status).toBe(200);
    const missing = await h.app.request("/api/v3/auth/refresh-token");
    expect(missing.status).toBe(400);
    const bogus = await h.app.request("/api/v3/auth/refresh-token", {
      headers: { authorization: "Bearer kgr_bogus" },
    });
    expect(bogus.status).toBe(403);
    expect(await bogus.json()).toEqual({
      success: false,
      error_code: 403,
      message: "Unauthorized",
      data: {},
    });
  });

  it("refuses to refresh a session past its absolute or idle lifetime", async () => {
    const a = await signInFresh();
    await h.deps.prisma.session.update({
      where: { id: a.sessionId },
      data: { expiresAt: new Date(Date.now() - 1) },
    });
    expect((await gql(h, refresh, { t: a.refreshToken })).status).toBe(401);
    const b = await signInFresh();
    const idle = new Date(Date.now() - (h.deps.config.sessionIdleTtlSeconds + 1) * 1000);
    await h.deps.prisma.session.update({ where: { id: b.sessionId }, data: { lastUsedAt: idle } });
    expect((await gql(h, refresh, { t: b.refreshToken })).status).toBe(401);
    expect((await gql(h, viewer, {}, b.accessToken)).status).toBe(401);
  });
});

describe("logout and session revocation", () => {
  it("logout ends the session: its access and refresh tokens stop working", async () => {
    const s = await signInFresh();
    const out = await gql(h, "mutation { logout { id revokedAt current } }", {}, s.accessToken);
    expect(out.errors).toBeUndefined();
    expect(out.data!.logout.id).toBe(s.sessionId);
    expect((await gql(h, viewer, {}, s.accessToken)).status).toBe(401);
    expect((await gql(h, refresh, { t: s.refreshToken })).status).toBe(401);
  });

  it("lets a member revoke only their own sessions; another's answers like an unknown id", async () => {
    const mine = await signInFresh();
    const other = await signInFresh();
    const revoke = "mutation($id: ID!) { revokeSession(id: $id) { id revokedAt } }";
    const foreign = await gql(h, revoke, { id: other.sessionId }, mine.accessToken);
    const unknown = await gql(
      h,
      revoke,
      { id: "00000000-0000-4000-8000-000000000000" },
      mine.accessToken,
    );
    expect(foreign.errors![0]!.extensions).toEqual(unknown.errors![0]!.extensions);
    expect(foreign.errors![0]!.extensions!.code).toBe("SESSION_NOT_FOUND");
    expect((await gql(h, viewer, {}, other.accessToken)).data!.viewer.email).toBe(other.email);
    // An owner may end any session of the tenant.
    const byOwner = await gql(h, revoke, { id: other.sessionId }, acme.token);
    expect(byOwner.errors).toBeUndefined();
    expect((await gql(h, viewer, {}, other.accessToken)).status).toBe(401);
    // Another tenant's owner may not.
    const globex = await seedTenant(h.deps, "Globex");
    const cross = await gql(h, revoke, { id: mine.sessionId }, globex.token);
    expect(cross.errors![0]!.extensions!.code).toBe("SESSION_NOT_FOUND");
  });
});

describe("forged access tokens", () => {
  it("rejects alg none, a foreign key, expiry by one second and a wrong audience with 401", async () => {
    const s = await signInFresh();
    const { config } = h.deps;
    const claims = { tid: acme.tenant.id, sid: s.sessionId, kind: "session" };
    const sub = (await h.deps.prisma.user.findFirstOrThrow({ where: { email: s.email } })).id;
    const now = Math.floor(Date.now() / 1000);
    const sign = (key: Uint8Array, opts: { aud?: string; exp?: number } = {}) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: "HS256" })
        .setSubject(sub)
        .setIssuer(config.jwtIssuer)
        .setAudience(opts.aud ?? config.jwtAudience)
        .setJti(crypto.randomUUID())
        .setIssuedAt(now - 10)
        .setExpirationTime(opts.exp ?? now + 600)
        .sign(key);
    const genuine = await sign(config.jwtSecret);
    expect((await gql(h, viewer, {}, genuine)).data!.viewer.email).toBe(s.email);

    const none = new UnsecuredJWT(claims)
      .setSubject(sub)
      .setIssuer(config.jwtIssuer)
      .setAudience(config.jwtAudience)
      .setJti("x")
      .setExpirationTime(now + 600)
      .encode();
    const otherKey = await sign(
      new TextEncoder().encode("another-secret-another-secret-another-secret"),
    );
    const expired = await sign(config.jwtSecret, { exp: now - 1 });
    const wrongAudience = await sign(config.jwtSecret, { aud: "someone-else" });
    for (const token of [none, otherKey, expired, wrongAudience]) {
      const result = await gql(h, viewer, {}, token);
      expect(result.status).toBe(401);
      expect(result.errors![0]!.extensions!.code).toBe("UNAUTHENTICATED");
    }
  });
});
