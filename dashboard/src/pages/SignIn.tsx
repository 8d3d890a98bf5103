// Sign-in by magic link: the address, then the link from the mail, which comes back here when
// the sign-in started here, and a click that consumes it (mail scanners only fetch, never click).
import { type FormEvent, useEffect, useState } from "react";
import { ErrorMessage } from "../components/ui.tsx";
import { useBusyAction } from "../components/useBusyAction.ts";
import { navigate, useLocation } from "../router.tsx";
import { confirm, type LinkAccount, linkAccount, requestLink } from "../session.ts";

export function SignInPage() {
  const [email, setEmail] = useState("");
  const [sent, setSent] = useState<string | null>(null);
  const { error, busy, run } = useBusyAction();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    await run(async () => setSent(await requestLink(email)));
  };
  return (
    <main className="centered" id="main">
      <h1>Sign in to Keygate</h1>
      {sent ? (
        <div role="status">
          <p>{sent}</p>
          <p>
            Open the link in the mail <strong>in this browser</strong>: it brings you back here. The
            link works once and expires soon.
          </p>
          <button type="button" onClick={() => setSent(null)}>
            Use another address
          </button>
        </div>
      ) : (
        <form onSubmit={submit}>
          <label htmlFor="email">Email</label>
          <input
            id="email"
            type="email"
            autoComplete="email"
            required
            value={email}
            onChange={(e) => setEmail(e.target.value)}
          />
          <button className="primary" type="submit" disabled={busy}>
            Email me a sign-in link
          </button>
          <ErrorMessage error={error} />
        </form>
      )}
    </main>
  );
}

export function ConfirmSignIn() {
  const { search } = useLocation();
  const hash = search.get("hash") ?? "";
  const { error, busy, run } = useBusyAction();
  // Whom the link signs in, shown before the click: a link somebody else requested would sign
  // this browser into their account (login CSRF), and its address says so.
  const [account, setAccount] = useState<LinkAccount | null>(null);
  useEffect(() => {
    if (hash) void run(async () => setAccount(await linkAccount(hash)));
  }, [hash, run]);
  const go = () =>
    run(async () => {
      await confirm(hash);
      navigate("/keys", { replace: true });
    });
  return (
    <main className="centered" id="main">
      <h1>Sign in to Keygate</h1>
      {!hash ? (
        <p role="alert">This link is incomplete. Request a new one.</p>
      ) : account ? (
        <>
          <p>
            {account.purpose === "INVITATION" ? "Join " : "Sign in to "}
            <strong>{account.tenantName}</strong> as <strong>{account.email}</strong>.
          </p>
          <p>
            Go on only if this is your address and you asked for this link: a link somebody else
            sends you signs you in to their account. The link works once.
          </p>
          <button className="primary" type="button" onClick={go} disabled={busy}>
            {account.purpose === "INVITATION" ? "Join" : "Sign in"} as {account.email}
          </button>
        </>
      ) : error ? null : (
        <p role="status">Checking the link…</p>
      )}
      <ErrorMessage error={error} />
      {error ? (
        <p>
          <a href="/dashboard/sign-in">Request a new link</a>
        </p>
      ) : null}
    </main>
  );
}
