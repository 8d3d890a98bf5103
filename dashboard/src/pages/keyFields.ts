// Fields are spelled out in each operation rather than shared as a fragment: the gateway's
// cost limit counts fragment spreads dearly.
export function keyType(key: { integratorLevel: boolean; kind: string; hasSecret: boolean }) {
  const base =
    key.kind === "PROJECT_KEY"
      ? "project"
      : key.integratorLevel
        ? "integrator-level"
        : "user-bound";
  return key.hasSecret ? `${base}, secure` : base;
}

export function statusText(key: { status: string; expired: boolean }) {
  return key.expired && key.status === "ACTIVE" ? "EXPIRED" : key.status;
}
