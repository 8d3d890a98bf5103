// The console's shell: the session gate, the left sidebar and the page for the path.
import { useEffect, useMemo, useState, useSyncExternalStore } from "react";
import { Provider, useQuery } from "urql";
import { createClient } from "./client.ts";
import { ErrorMessage, Loading } from "./components/ui.tsx";
import { graphql } from "./gql/index.ts";
import { AuditPage } from "./pages/Audit.tsx";
import { KeyPage } from "./pages/KeyPage.tsx";
import { KeysPage } from "./pages/Keys.tsx";
import { ProjectPage } from "./pages/ProjectPage.tsx";
import { ProjectsPage } from "./pages/Projects.tsx";
import { SettingsPage } from "./pages/Settings.tsx";
import { ConfirmSignIn, SignInPage } from "./pages/SignIn.tsx";
import { TeamPage } from "./pages/Team.tsx";
import { Link, match, navigate, useLocation } from "./router.tsx";
import { refresh, session, signOut, subscribe, switchTenant } from "./session.ts";

const ViewerQuery = graphql(`
  query DashboardViewer {
    viewer {
      id
      email
      name
      role
      permissions
      tenant {
        id
        name
      }
    }
  }
`);

export type Viewer = NonNullable<ReturnType<typeof useViewer>>;
export function useViewer() {
  const [{ data }] = useQuery({ query: ViewerQuery, requestPolicy: "cache-first" });
  return data?.viewer ?? null;
}

const MembershipsQuery = graphql(`
  query DashboardMemberships {
    memberships {
      current
      role
      userId
      tenant {
        id
        name
      }
    }
  }
`);

/** Shown only to a person who belongs to several tenants. */
function TenantSwitcher() {
  const [{ data }] = useQuery({ query: MembershipsQuery });
  const [error, setError] = useState<unknown>(null);
  const memberships = data?.memberships ?? [];
  if (memberships.length < 2) return null;
  const current = memberships.find((m) => m.current);
  return (
    <div className="tenant-switch">
      <label htmlFor="tenant-switch">Tenant</label>
      <select
        id="tenant-switch"
        value={current?.tenant.id ?? ""}
        onChange={async (e) => {
          setError(null);
          try {
            await switchTenant(e.target.value);
            navigate("/keys");
          } catch (err) {
            setError(err);
          }
        }}
      >
        {memberships.map((m) => (
          <option key={m.tenant.id} value={m.tenant.id}>
            {m.tenant.name} ({m.role.toLowerCase()})
          </option>
        ))}
      </select>
      <ErrorMessage error={error} />
    </div>
  );
}

const NAV = [
  { to: "/keys", label: "API Keys" },
  { to: "/projects", label: "Projects" },
  { to: "/team", label: "Team" },
  { to: "/audit", label: "Audit log" },
  { to: "/settings", label: "Settings" },
];

function Page({ path }: { path: string }) {
  let params: Record<string, string> | null;
  if (path === "/" || path === "/keys") return <KeysPage />;
  if ((params = match("/keys/:id", path))) return <KeyPage id={params.id ?? ""} />;
  if (path === "/projects") return <ProjectsPage />;
  if ((params = match("/projects/:id", path))) return <ProjectPage id={params.id ?? ""} />;
  if (path === "/team") return <TeamPage />;
  if (path === "/audit") return <AuditPage />;
  if (path === "/settings") return <SettingsPage />;
  return (
    <section>
      <h1>Not found</h1>
      <p>
        There is no page here. <Link to="/keys">Back to API Keys</Link>
      </p>
    </section>
  );
}

function Shell({ path }: { path: string }) {
  const [{ data, fetching, error }] = useQuery({ query: ViewerQuery });
  const [menuOpen, setMenuOpen] = useState(false);
  const viewer = data?.viewer;
  return (
    <div className="shell">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand">Keygate</span>
        <button
          type="button"
          className="menu-toggle"
          aria-expanded={menuOpen}
          aria-controls="sidebar"
          onClick={() => setMenuOpen((open) => !open)}
        >
          Menu
        </button>
        <span className="who">
          {viewer ? (
            <>
              <span>{viewer.email}</span> <span className="muted">· {viewer.tenant.name}</span>
            </>
          ) : null}
        </span>
        <button type="button" onClick={() => void signOut().then(() => navigate("/sign-in"))}>
          Sign out
        </button>
      </header>
      <nav id="sidebar" className={menuOpen ? "sidebar open" : "sidebar"} aria-label="Main">
        <ul>
          {NAV.map((item) => {
            const active =
              path === item.to ||
              path.startsWith(`${item.to}/`) ||
              (path === "/" && item.to === "/keys");
            return (
              <li key={item.to}>
                <Link
                  to={item.to}
                  aria-current={active ? "page" : undefined}
                  onClick={() => setMenuOpen(false)}
                >
                  {item.label}
                </Link>
              </li>
            );
          })}
        </ul>
        <TenantSwitcher />
      </nav>
      <main id="main" tabIndex={-1}>
        {fetching && !data ? <Loading /> : null}
        <ErrorMessage error={error} />
        {viewer ? <Page path={path} /> : null}
        {data && !viewer ? (
          <p role="alert">This session cannot use the dashboard. Sign out and sign in again.</p>
        ) : null}
      </main>
    </div>
  );
}

export function App() {
  const { path } = useLocation();
  const state = useSyncExternalStore(subscribe, session);
  // A new client (and cache) for each signed-in user: switching tenants leaves nothing behind.
  const userId = state?.userId;
  // biome-ignore lint/correctness/useExhaustiveDependencies: keyed by the user on purpose
  const client = useMemo(createClient, [userId]);
  const [restoring, setRestoring] = useState(true);
  const [restoreError, setRestoreError] = useState<unknown>(null);

  // Only once, at load: later refreshes are scheduled by the session module.
  useEffect(() => {
    if (window.location.pathname.startsWith("/dashboard/sign-in")) return setRestoring(false);
    refresh()
      .catch((error: unknown) => setRestoreError(error))
      .finally(() => setRestoring(false));
  }, []);

  useEffect(() => {
    if (!restoring && !state && !path.startsWith("/sign-in"))
      navigate("/sign-in", { replace: true });
  }, [restoring, state, path]);

  if (path === "/sign-in/confirm") return <ConfirmSignIn />;
  if (path.startsWith("/sign-in")) return <SignInPage />;
  if (restoring) return <Loading what="Restoring your session" />;
  if (restoreError) return <ErrorMessage error={restoreError} />;
  if (!state) return null;
  return (
    <Provider value={client}>
      <Shell path={path} />
    </Provider>
  );
}
