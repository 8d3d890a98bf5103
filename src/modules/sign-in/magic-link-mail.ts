// The sign-in mail: plain text and HTML.
import { escapeHtml } from "../../html.ts";
import type { MailMessage } from "../../mail/mailer.ts";

export function magicLinkMail(to: string, link: string, ttlSeconds: number): MailMessage {
  const minutes = Math.round(ttlSeconds / 60);
  return {
    to,
    subject: "Your Keygate sign-in link",
    text: `Sign in to Keygate by opening this link:\n\n${link}\n\nIt works once and expires in ${minutes} minutes. If you did not ask for it, ignore this mail.\n`,
    html: `<!doctype html><html><body style="font-family:sans-serif">
<p>Sign in to Keygate:</p>
<p><a href="${escapeHtml(link)}" style="display:inline-block;padding:10px 16px;background:#1f6feb;color:#fff;text-decoration:none;border-radius:6px">Sign in to Keygate</a></p>
<p>Or copy this address into your browser:<br><code>${escapeHtml(link)}</code></p>
<p>The link works once and expires in ${minutes} minutes. If you did not ask for it, ignore this mail.</p>
</body></html>`,
  };
}
