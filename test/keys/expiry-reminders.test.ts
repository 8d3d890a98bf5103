import { describe, expect, it } from "vitest";
import { openDatabase } from "../../src/db/client.ts";
import type { Deps } from "../../src/deps.ts";
import type { MailMessage } from "../../src/mail/mailer.ts";
import { sendExpiryReminders } from "../../src/modules/keys/expiry-reminders.ts";
import { generateKeyFor, seedUser } from "../helpers/harness.ts";
import { serverUrl } from "../helpers/databases.ts";
import { useHarness, withTenant } from "../helpers/fixtures.ts";

const h = useHarness();
const acme = withTenant(h, "Acme");

/** A second "instance": the same database, its own mailer. */
function instance(): { deps: Deps; sent: MailMessage[] } {
  const sent: MailMessage[] = [];
  return {
    sent,
    deps: { ...h.deps, mailer: { send: (m) => void sent.push(m), idle: async () => {} } },
  };
}

const inDays = (days: number) => new Date(Date.now() + days * 86400_000).toISOString();

describe("expiry reminders", () => {
  it("two instances running at once send one reminder per key, to the right people", async () => {
    const admin = await seedUser(h.deps, acme.tenant.id, "ADMIN");
    const member = await seedUser(h.deps, acme.tenant.id, "MEMBER", [
      "keys:read",
      "keys:write",
      "transactions:read",
    ]);
    const integrator = await generateKeyFor(h, acme.token, {
      name: "integrator <soon>",
      expiresAt: inDays(3),
    });
    const own = await generateKeyFor(h, member.token, {
      name: "member soon",
      permissions: ["transactions:read"],
      expiresAt: inDays(6),
    });
    const later = await generateKeyFor(h, acme.token, { name: "later", expiresAt: inDays(30) });
    const never = await generateKeyFor(h, acme.token, { name: "never" });
    const revoked = await generateKeyFor(h, acme.token, { name: "revoked", expiresAt: inDays(2) });
    await h.deps.prisma.apiKey.update({
      where: { id: revoked.apiKey.id },
      data: { status: "REVOKED" },
    });
    const project = await h.deps.prisma.project.create({
      data: { tenantId: acme.tenant.id, name: "p" },
    });
    const pair = await h.deps.prisma.keyPair.create({
      data: {
        tenantId: acme.tenant.id,
        projectId: project.id,
        name: "signing pair",
        type: "RSA",
        algorithm: "RSA-4096",
        publicKey: "-----BEGIN PUBLIC KEY-----",
        fingerprint: "ff",
        privateKeyCiphertext: "x",
        privateKeyKeyVersion: 1,
        expiresAt: new Date(inDays(1)),
      },
    });

    const a = instance();
    const b = instance();
    const runs = await Promise.all([
      sendExpiryReminders(a.deps),
      sendExpiryReminders(b.deps),
      sendExpiryReminders(a.deps),
    ]);
    expect(runs.reduce((n, r) => n + r.keys, 0)).toBe(2);
    expect(runs.reduce((n, r) => n + r.keyPairs, 0)).toBe(1);
    const mails = [...a.sent, ...b.sent];
    const about = (text: string) => mails.filter((m) => m.text.includes(text)).map((m) => m.to);
    const admins = [acme.owner.email, admin.user.email].sort();
    expect(about(integrator.apiKey.id).sort()).toEqual(admins);
    expect(about(own.apiKey.id)).toEqual([member.user.email]);
    expect(about(pair.id).sort()).toEqual(admins);
    expect(mails).toHaveLength(5);
    for (const id of [later.apiKey.id, never.apiKey.id, revoked.apiKey.id])
      expect(about(id)).toEqual([]);
    // The name is escaped in HTML.
    const html = mails.find((m) => m.text.includes(integrator.apiKey.id))!.html;
    expect(html).toContain("integrator &lt;soon&gt;");
    expect(html).not.toContain("<soon>");

    // A restart (a new instance on the same database) sends nothing again.
    const c = instance();
    expect(await sendExpiryReminders(c.deps)).toEqual({ keys: 0, keyPairs: 0, mails: 0 });
    expect(c.sent).toEqual([]);
    const claimed = await h.deps.prisma.apiKey.findUniqueOrThrow({
      where: { id: integrator.apiKey.id },
    });
    expect(claimed.expiryReminderSentAt).toBeInstanceOf(Date);
  });

  it("EXPIRY_REMINDER_DAYS=0 sends none", async () => {
    await generateKeyFor(h, acme.token, { name: "soon again", expiresAt: inDays(1) });
    const d = instance();
    const off = { ...d.deps, config: { ...h.deps.config, expiryReminderDays: 0 } };
    expect(await sendExpiryReminders(off)).toEqual({ keys: 0, keyPairs: 0, mails: 0 });
    expect(d.sent).toEqual([]);
    expect((await sendExpiryReminders(d.deps)).keys).toBe(1);
  });

  it.runIf(process.env.DATABASE_URL)(
    "PostgreSQL: two instances with their own connections claim each key once",
    async () => {
      const rows = await h.deps.prisma.$queryRawUnsafe<{ name: string }[]>(
        "SELECT current_database() AS name",
      );
      const url = serverUrl(process.env.DATABASE_URL!, rows[0]!.name);
      const other = await openDatabase({ kind: "postgres", url });
      try {
        const keys = await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            generateKeyFor(h, acme.token, { name: `pg ${i}`, expiresAt: inDays(2) }),
          ),
        );
        const a = instance();
        const b = instance();
        const second = { ...b.deps, db: other, prisma: other.prisma };
        await Promise.all([
          sendExpiryReminders(a.deps),
          sendExpiryReminders(second),
          sendExpiryReminders(a.deps),
          sendExpiryReminders(second),
        ]);
        const mails = [...a.sent, ...b.sent];
        const admins = await h.deps.prisma.user.findMany({
          where: { tenantId: acme.tenant.id, role: { in: ["OWNER", "ADMIN"] } },
        });
        for (const { apiKey } of keys) {
          const to = mails.filter((m) => m.text.includes(apiKey.id)).map((m) => m.to);
          expect(to.sort()).toEqual(admins.map((u) => u.email).sort());
        }
      } finally {
        await other.close();
      }
    },
  );
});
