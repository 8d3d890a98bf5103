// The pages a browser sees for a sign-in link. The first only asks for a click:
// mail scanners fetch links with GET/HEAD, and those must consume nothing.
import { escapeHtml } from "../html.ts";
const page = (title: string, body: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="no-referrer"><title>${title}</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#1f2328}
button{font-size:1rem;padding:.6rem 1.2rem;border:0;border-radius:6px;background:#1f6feb;color:#fff;cursor:pointer}
pre{background:#f6f8fa;padding:1rem;overflow:auto;border-radius:6px}</style></head>
<body>${body}</body></html>`;

/**
 * `account`: whom the link signs in (describeMagicLink), named before the click so that a link
 * somebody else requested is seen for what it is; absent for HEAD, which sends no page.
 */
export function confirmPage(
  action: string,
  hash: string,
  account?: { email: string; tenantName: string },
): string {
  const whom = account
    ? `<p>This link signs in to <strong>${escapeHtml(account.tenantName)}</strong> as <strong>${escapeHtml(account.email)}</strong>. Go on only if this is your address and you asked for the link: a link somebody else sends you signs you in to their account.</p>\n`
    : "";
  return page(
    "Sign in to Keygate",
    `<h1>Sign in to Keygate</h1>
${whom}<p>Press the button to finish signing in. The link works once.</p>
<form method="post" action="${escapeHtml(action)}">
<input type="hidden" name="hash" value="${escapeHtml(hash)}">
<button type="submit">Sign in</button>
</form>`,
  );
}

export function signedInPage(data: Record<string, unknown>): string {
  return page(
    "Signed in",
    `<h1>You are signed in</h1>
<p>Copy your tokens now: they are not shown again.</p>
<pre>${escapeHtml(JSON.stringify(data, null, 2))}</pre>`,
  );
}

export function failedPage(message: string): string {
  return page(
    "Sign-in failed",
    `<h1>Sign-in failed</h1><p>${escapeHtml(message)}</p><p>Request a new link and try again.</p>`,
  );
}

/** Headers for every page and answer that carries or leads to a credential. */
export const noStoreHeaders = {
  "Cache-Control": "no-store",
  Pragma: "no-cache",
  "Referrer-Policy": "no-referrer",
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  "Content-Security-Policy":
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
};
