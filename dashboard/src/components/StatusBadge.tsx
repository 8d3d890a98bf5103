// A status word styled by its value (`status status-active`, `status status-revoked`, …).
export function StatusBadge({ status }: { status: string }) {
  return <span className={`status status-${status.toLowerCase()}`}>{status}</span>;
}
