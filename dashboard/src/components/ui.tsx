// Small building blocks shared by the pages: states (loading, empty, not found, error), copy and
// download, the once-only secret box and a confirmation dialog.
import { type ReactNode, useEffect, useId, useRef, useState } from "react";
import type { CombinedError } from "urql";
import { Link } from "../router.tsx";

export function errorText(error: CombinedError | Error | unknown): string {
  if (!error) return "";
  const combined = error as CombinedError;
  if (combined.graphQLErrors?.length)
    return combined.graphQLErrors.map((e) => e.message).join("; ");
  if (combined.networkError) return `Network error: ${combined.networkError.message}`;
  return error instanceof Error ? error.message : String(error);
}

export function ErrorMessage({ error }: { error: CombinedError | Error | unknown }) {
  if (!error) return null;
  return (
    <p className="error" role="alert">
      {errorText(error)}
    </p>
  );
}

export function Loading({ what = "Loading" }: { what?: string }) {
  return (
    <p className="muted" aria-live="polite">
      {what}…
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="empty">{children}</div>;
}

/** A page's subject that does not exist, with a link back to its list. */
export function NotFound({
  what,
  back,
  backLabel,
}: {
  what: string;
  back: string;
  backLabel: string;
}) {
  return (
    <Empty>
      <p>No such {what}.</p>
      <Link to={back}>Back to {backLabel}</Link>
    </Empty>
  );
}

export function formatDate(value: string | null | undefined): string {
  if (!value) return "—";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : date.toLocaleString();
}

export function CopyButton({ value, label }: { value: string; label: string }) {
  const [copied, setCopied] = useState<"no" | "yes" | "failed">("no");
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setCopied("yes");
    } catch {
      setCopied("failed");
    }
  };
  return (
    <>
      <button type="button" onClick={copy}>
        {label}
      </button>
      <span className="muted" aria-live="polite">
        {copied === "yes"
          ? " Copied."
          : copied === "failed"
            ? " Copy failed: select the text."
            : ""}
      </span>
    </>
  );
}

export function download(filename: string, text: string, type = "text/plain") {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1_000);
}

/** A secret shown once: read-only, with copy (and optional download). */
export function SecretField({
  label,
  value,
  filename,
}: {
  label: string;
  value: string;
  filename?: string;
}) {
  const id = useId();
  const multiline = value.includes("\n");
  return (
    <div className="secret">
      <label htmlFor={id}>{label}</label>
      {multiline ? (
        <textarea id={id} readOnly value={value} rows={6} spellCheck={false} />
      ) : (
        <input
          id={id}
          readOnly
          value={value}
          spellCheck={false}
          onFocus={(e) => e.target.select()}
        />
      )}
      <div className="row">
        <CopyButton value={value} label={`Copy ${label.toLowerCase()}`} />
        {filename ? (
          <button type="button" onClick={() => download(filename, value)}>
            Download {label.toLowerCase()}
          </button>
        ) : null}
      </div>
    </div>
  );
}

export function OnceNotice({ children }: { children: ReactNode }) {
  return (
    <section className="once" aria-label="Shown once">
      <p className="warning" role="status">
        <strong>Copy it now.</strong> It will not be shown again after you leave this page.
      </p>
      {children}
    </section>
  );
}

/** A modal confirmation (native <dialog>: focus trapped, Escape cancels). */
export function ConfirmButton({
  label,
  title,
  body,
  confirmLabel,
  onConfirm,
  danger = true,
  disabled,
  children,
}: {
  label: string;
  title: string;
  body: ReactNode;
  confirmLabel: string;
  onConfirm: () => Promise<unknown> | unknown;
  danger?: boolean;
  disabled?: boolean;
  children?: ReactNode;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const [busy, setBusy] = useState(false);
  useEffect(() => () => dialog.current?.close(), []);
  const confirm = async () => {
    setBusy(true);
    try {
      await onConfirm();
    } finally {
      setBusy(false);
      dialog.current?.close();
    }
  };
  return (
    <>
      <button
        type="button"
        className={danger ? "danger" : undefined}
        disabled={disabled}
        onClick={() => dialog.current?.showModal()}
      >
        {label}
      </button>
      <dialog ref={dialog} aria-labelledby={titleId}>
        <h2 id={titleId}>{title}</h2>
        <div>{body}</div>
        {children}
        <div className="row">
          <button type="button" onClick={() => dialog.current?.close()}>
            Cancel
          </button>
          <button
            type="button"
            className={danger ? "danger" : "primary"}
            onClick={confirm}
            disabled={busy}
          >
            {confirmLabel}
          </button>
        </div>
      </dialog>
    </>
  );
}

export function parseList(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

export function optionalInt(text: string): number | null {
  if (!text.trim()) return null;
  const n = Number(text);
  return Number.isInteger(n) ? n : Number.NaN;
}
