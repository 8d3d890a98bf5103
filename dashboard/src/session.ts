// The signed-in state of the console. The access token lives in this module's memory only; the
// refresh token is an HttpOnly cookie of /dashboard/session that no script can read, so a reload
// asks that endpoint for a fresh access token. Every call carries the CSRF header it requires.
const SESSION = "/dashboard/session";
const HEADERS = { "content-type": "application/json", "x-keygate-dashboard": "1" };

export interface SessionState {
  accessToken: string;
  expiresAt: number;
  userId: string;
}

let current: SessionState | null = null;
let refreshing: Promise<SessionState | null> | null = null;
let timer: ReturnType<typeof setTimeout> | undefined;
const listeners = new Set<() => void>();

export class SessionError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code?: string,
  ) {
    super(message);
  }
}

function notify() {
  for (const listener of listeners) listener();
}

export function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function session(): SessionState | null {
  return current;
}

async function post(path: string, body: unknown, extra: Record<string, string> = {}) {
  const response = await fetch(`${SESSION}/${path}`, {
    method: "POST",
    credentials: "same-origin",
    headers: { ...HEADERS, ...extra },
    body: JSON.stringify(body ?? {}),
  });
  const data = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (!response.ok) {
    const error = (data.error ?? {}) as { message?: string; code?: string };
    throw new SessionError(
      error.message ?? `request failed (${response.status})`,
      response.status,
      error.code,
    );
  }
  return data;
}

function adopt(data: Record<string, unknown>): SessionState {
  const state = {
    accessToken: String(data.accessToken),
    expiresAt: Date.parse(String(data.accessTokenExpiresAt)),
    userId: String(data.userId),
  };
  current = state;
  clearTimeout(timer);
  // Refresh a minute before the access token expires.
  const wait = Math.max(5_000, state.expiresAt - Date.now() - 60_000);
  timer = setTimeout(() => void refresh(), wait);
  notify();
  return state;
}

export async function requestLink(email: string): Promise<string> {
  const data = await post("link", { email });
  return String(data.message ?? "");
}

/** Whom a sign-in or invitation link signs in; consumes nothing. */
export interface LinkAccount {
  email: string;
  tenantName: string;
  purpose: "SIGN_IN" | "INVITATION";
}

export async function linkAccount(hash: string): Promise<LinkAccount> {
  const data = await post("link-account", { hash });
  return {
    email: String(data.email),
    tenantName: String(data.tenantName),
    purpose: data.purpose === "INVITATION" ? "INVITATION" : "SIGN_IN",
  };
}

export async function confirm(hash: string): Promise<SessionState> {
  return adopt(await post("confirm", { hash }));
}

/** A fresh access token from the cookie; null when there is no session (signed out). */
export function refresh(): Promise<SessionState | null> {
  refreshing ??= post("refresh", {})
    .then(adopt)
    .catch((error: unknown) => {
      if (error instanceof SessionError && error.status >= 400 && error.status < 500) {
        current = null;
        clearTimeout(timer);
        notify();
        return null;
      }
      throw error;
    })
    .finally(() => {
      refreshing = null;
    });
  return refreshing;
}

/** Ends this session and opens one in another tenant of the person (the cookie follows). */
export async function switchTenant(tenantId: string): Promise<SessionState> {
  const token = current?.accessToken;
  return adopt(
    await post("switch", { tenantId }, token ? { authorization: `Bearer ${token}` } : {}),
  );
}

export async function signOut(): Promise<void> {
  const token = current?.accessToken;
  current = null;
  clearTimeout(timer);
  try {
    await post("sign-out", {}, token ? { authorization: `Bearer ${token}` } : {});
  } finally {
    notify();
  }
}

/** Forget the session without asking the server (it already said the token is dead). */
export function drop(): void {
  current = null;
  clearTimeout(timer);
  notify();
}
