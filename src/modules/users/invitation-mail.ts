// The invitation mail: plain text and HTML. Opening the link accepts and signs in.
import { escapeHtml } from "../../html.ts";
import type { MailMessage } from "../../mail/mailer.ts";

export function invitationMail(
  to: string,
  {
    tenantName,
    inviter,
    link,
    ttlSeconds,
  }: {
    tenantName: string;
    inviter: string;
    link: string;
    ttlSeconds: number;
  },
): MailMessage {
  const days = Math.max(1, Math.round(ttlSeconds / 86_400));
  const what = `${inviter} invited you to join ${tenantName} on Keygate`;
  return {
    to,
    subject: `You are invited to ${tenantName} on Keygate`,
    text: `${what}.\n\nAccept and sign in by opening this link:\n\n${link}\n\nIt works once and expires in ${days} days. If you do not want to join, ignore this mail.\n`,
    html: `<!doctype html><html><body style="font-family:sans-serif">
<p>${escapeHtml(what)}.</p>
<p><a href="${escapeHtml(link)}" style="display:inline-block;padding:10px 16px;background:#1f6feb;color:#fff;text-decoration:none;border-radius:6px">Accept the invitation</a></p>
<p>Or copy this address into your browser:<br><code>${escapeHtml(link)}</code></p>
<p>The link works once and expires in ${days} days. If you do not want to join, ignore this mail.</p>
</body></html>`,
  };
}
