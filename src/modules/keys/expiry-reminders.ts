// Expiry reminders: a periodic job mails the people responsible for an ACTIVE key or key pair
// that expires within EXPIRY_REMINDER_DAYS. Each reminder is claimed with one conditional
// UPDATE (`"expiryReminderSentAt" IS NULL` → now()) before any mail goes out, so among any
// number of instances and restarts exactly one claims it, once. A mail that fails after the
// claim is logged and not retried: at most once, never twice.
import type { Deps } from "../../deps.ts";
import { escapeHtml } from "../../html.ts";
import type { MailMessage } from "../../mail/mailer.ts";

const RUN_EVERY_MS = 5 * 60_000;

interface ClaimedKey {
  id: string;
  tenantId: string;
  name: string;
  kind: string;
  ownerId: string | null;
  expiresAt: Date;
}

interface ClaimedPair {
  id: string;
  tenantId: string;
  name: string;
  expiresAt: Date;
}

export interface ReminderRun {
  keys: number;
  keyPairs: number;
  mails: number;
}

// Keys of a deleted tenant are dead: nobody needs a reminder about them.
const liveTenant = `NOT EXISTS (SELECT 1 FROM "Tenant" t WHERE t.id = x."tenantId" AND t."deletedAt" IS NOT NULL)`;

/** Claims what is due and mails it. Safe to run concurrently on any number of instances. */
export async function sendExpiryReminders(deps: Deps, now = new Date()): Promise<ReminderRun> {
  const days = deps.config.expiryReminderDays;
  if (days <= 0) return { keys: 0, keyPairs: 0, mails: 0 };
  const until = new Date(now.getTime() + days * 24 * 3600_000);
  const keys = await deps.prisma.$queryRawUnsafe<ClaimedKey[]>(
    `UPDATE "ApiKey" x SET "expiryReminderSentAt" = now()
     WHERE x."status" = 'ACTIVE' AND x."expiryReminderSentAt" IS NULL
       AND x."expiresAt" > $1::timestamptz AND x."expiresAt" <= $2::timestamptz AND ${liveTenant}
     RETURNING x.id, x."tenantId", x.name, x.kind::text AS kind, x."ownerId", x."expiresAt"`,
    now.toISOString(),
    until.toISOString(),
  );
  const pairs = await deps.prisma.$queryRawUnsafe<ClaimedPair[]>(
    `UPDATE "KeyPair" x SET "expiryReminderSentAt" = now()
     WHERE x."status" = 'ACTIVE' AND x."expiryReminderSentAt" IS NULL
       AND x."expiresAt" > $1::timestamptz AND x."expiresAt" <= $2::timestamptz AND ${liveTenant}
     RETURNING x.id, x."tenantId", x.name, x."expiresAt"`,
    now.toISOString(),
    until.toISOString(),
  );
  let mails = 0;
  const admins = new Map<string, string[]>();
  const adminsOf = async (tenantId: string) => {
    let emails = admins.get(tenantId);
    if (!emails) {
      const users = await deps.prisma.user.findMany({
        where: {
          tenantId,
          role: { in: ["OWNER", "ADMIN"] },
          disabledAt: null,
          removedAt: null,
        },
        select: { email: true },
        orderBy: { email: "asc" },
      });
      emails = users.map((u) => u.email);
      admins.set(tenantId, emails);
    }
    return emails;
  };
  const send = (to: string[], subject: Subject, context: Record<string, unknown>) => {
    for (const address of to) {
      deps.mailer.send(reminderMail(address, subject, deps.config.publicUrl), {
        mail: "expiry-reminder",
        ...context,
      });
      mails += 1;
    }
  };
  for (const key of keys) {
    let to: string[];
    if (key.ownerId) {
      const owner = await deps.prisma.user.findFirst({
        where: { id: key.ownerId, tenantId: key.tenantId, disabledAt: null, removedAt: null },
        select: { email: true },
      });
      to = owner ? [owner.email] : [];
    } else {
      to = await adminsOf(key.tenantId);
    }
    send(
      to,
      { what: key.kind === "PROJECT_KEY" ? "project key" : "API key", ...key },
      { keyId: key.id },
    );
  }
  for (const pair of pairs) {
    send(await adminsOf(pair.tenantId), { what: "key pair", ...pair }, { keyPairId: pair.id });
  }
  if (keys.length || pairs.length)
    deps.logger.info(
      { keys: keys.length, keyPairs: pairs.length, mails },
      "expiry reminders claimed and queued",
    );
  return { keys: keys.length, keyPairs: pairs.length, mails };
}

interface Subject {
  what: string;
  id: string;
  name: string;
  expiresAt: Date;
}

export function reminderMail(to: string, s: Subject, publicUrl: string): MailMessage {
  const when = new Date(s.expiresAt).toISOString();
  return {
    to,
    subject: `Keygate: ${s.what} "${s.name.slice(0, 80)}" expires ${when.slice(0, 10)}`,
    text: `The ${s.what} "${s.name}" (id ${s.id}) expires at ${when}.\n\nAfter that it no longer verifies. Rotate it or create a new one before then: ${publicUrl}\n`,
    html: `<!doctype html><html><body style="font-family:sans-serif">
<p>The ${escapeHtml(s.what)} <strong>${escapeHtml(s.name)}</strong> (id <code>${escapeHtml(s.id)}</code>) expires at ${escapeHtml(when)}.</p>
<p>After that it no longer verifies. Rotate it or create a new one before then: <a href="${escapeHtml(publicUrl)}">${escapeHtml(publicUrl)}</a></p>
</body></html>`,
  };
}

export interface ExpiryReminderJob {
  stop(): Promise<void>;
}

/** Runs once now and then every few minutes; the timer never holds the process open. */
export function startExpiryReminders(deps: Deps): ExpiryReminderJob {
  let running: Promise<unknown> = Promise.resolve();
  const run = () => {
    running = sendExpiryReminders(deps).catch((error) =>
      deps.logger.warn({ err: error }, "expiry reminders failed; the next run retries"),
    );
  };
  if (deps.config.expiryReminderDays <= 0) return { stop: async () => {} };
  run();
  const timer = setInterval(run, RUN_EVERY_MS);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
