// One key: its details (masked), edit permissions, limits, expiry and credits, disable/enable,
// rotate with a grace period (the successor shown once), revoke, usage by outcome, audit events.
import { type FormEvent, useMemo, useState } from "react";
import { useMutation, useQuery } from "urql";
import { DataTable } from "../components/DataTable.tsx";
import { SaveRow, SelectField, TextField } from "../components/fields.tsx";
import { LIMITS_ERROR, LimitFields, parseLimits } from "../components/LimitFields.tsx";
import { RevokeKeyButton, useRevokeKey } from "../components/RevokeKeyButton.tsx";
import { StatusBadge } from "../components/StatusBadge.tsx";
import { UsageChart } from "../components/UsageChart.tsx";
import { useActionError } from "../components/useActionError.ts";
import {
  ConfirmButton,
  ErrorMessage,
  formatDate,
  Loading,
  NotFound,
  OnceNotice,
  parseList,
  SecretField,
} from "../components/ui.tsx";
import { graphql } from "../gql/index.ts";
import type { UsageGranularity } from "../gql/graphql.ts";
import { Link } from "../router.tsx";
import { keyType, statusText } from "./keyFields.ts";

const KeyQuery = graphql(`
  query DashboardKey($id: ID!) {
    apiKey(id: $id) {
      id
      name
      description
      masked
      kind
      integratorLevel
      hasSecret
      status
      expired
      permissions
      createdAt
      lastUsedAt
      expiresAt
      revokedAt
      revokeReason
      owner {
        id
        email
      }
      project {
        id
        name
      }
      rateLimit {
        perMinute
        perHour
        perDay
      }
      credits {
        remaining
      }
    }
  }
`);

const UsageQuery = graphql(`
  query DashboardKeyUsage($id: ID!, $from: DateTime!, $to: DateTime!, $granularity: UsageGranularity!) {
    keyUsage(id: $id, from: $from, to: $to, granularity: $granularity) {
      from
      to
      points {
        bucket
        code
        count
      }
      totals {
        code
        count
      }
    }
  }
`);

const KeyAuditQuery = graphql(`
  query DashboardKeyAudit($targetId: ID!) {
    auditEvents(targetId: $targetId, first: 20) {
      edges {
        node {
          id
          action
          actorType
          actorId
          createdAt
        }
      }
    }
  }
`);

const UpdateKey = graphql(`
  mutation DashboardUpdateKey($input: UpdateKeyInput!) {
    updateKey(input: $input) {
      id
      name
      permissions
      expiresAt
      rateLimit {
        perMinute
        perHour
        perDay
      }
      credits {
        remaining
      }
    }
  }
`);

const DisableKey = graphql(`
  mutation DashboardDisableKey($id: ID!) {
    disableKey(id: $id) {
      id
      status
    }
  }
`);

const EnableKey = graphql(`
  mutation DashboardEnableKey($id: ID!) {
    enableKey(id: $id) {
      id
      status
    }
  }
`);

const RotateKey = graphql(`
  mutation DashboardRotateKey($id: ID!, $gracePeriodSeconds: Int) {
    rotateKey(id: $id, gracePeriodSeconds: $gracePeriodSeconds) {
      key
      ... on RotateSecureApiKeyPayload {
        secret
      }
      apiKey {
        id
        name
        masked
      }
    }
  }
`);

const RANGES: Record<string, { seconds: number; granularity: UsageGranularity; step: number }> = {
  "Last hour": { seconds: 3600, granularity: "MINUTE", step: 60 },
  "Last 24 hours": { seconds: 86_400, granularity: "HOUR", step: 3600 },
  "Last 7 days": { seconds: 7 * 86_400, granularity: "HOUR", step: 3600 },
  "Last 30 days": { seconds: 30 * 86_400, granularity: "DAY", step: 86_400 },
};

function toLocalInput(iso: string | null | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

type Key = NonNullable<NonNullable<ReturnType<typeof useKey>[0]["data"]>["apiKey"]>;
function useKey(id: string) {
  return useQuery({ query: KeyQuery, variables: { id } });
}

function EditForm({ apiKey, onSaved }: { apiKey: Key; onSaved: () => void }) {
  const [name, setName] = useState(apiKey.name);
  const [permissions, setPermissions] = useState(apiKey.permissions.join(" "));
  const [expiry, setExpiry] = useState(toLocalInput(apiKey.expiresAt));
  const [limits, setLimits] = useState({
    perMinute: String(apiKey.rateLimit.perMinute ?? ""),
    perHour: String(apiKey.rateLimit.perHour ?? ""),
    perDay: String(apiKey.rateLimit.perDay ?? ""),
    credits: String(apiKey.credits?.remaining ?? ""),
  });
  const [saved, setSaved] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [{ fetching }, update] = useMutation(UpdateKey);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setSaved(false);
    setError(null);
    const parsed = parseLimits(limits);
    if (!parsed) {
      setError(new Error(LIMITS_ERROR));
      return;
    }
    const remaining = parsed.credits;
    const result = await update({
      input: {
        id: apiKey.id,
        name,
        permissions: parseList(permissions),
        expiresAt: expiry ? new Date(expiry).toISOString() : null,
        rateLimit: parsed.rateLimit,
        credits: remaining === null ? null : { remaining },
      },
    });
    if (result.error) setError(result.error);
    else {
      setSaved(true);
      onSaved();
    }
  };
  return (
    <form className="card" onSubmit={submit} aria-label="Edit key">
      <h2>Edit</h2>
      <TextField id="edit-name" label="Name" required value={name} onChange={setName} />
      <TextField
        id="edit-permissions"
        label="Permissions"
        value={permissions}
        placeholder="none"
        aria-describedby="edit-permissions-help"
        onChange={setPermissions}
      >
        <small id="edit-permissions-help" className="muted">
          Scopes separated by spaces or commas. A user-bound key never gets more than its owner
          holds.
        </small>
      </TextField>
      <div className="grid">
        <TextField
          id="edit-expiry"
          label="Expires"
          type="datetime-local"
          value={expiry}
          onChange={setExpiry}
        />
        <LimitFields
          idPrefix="edit"
          creditsLabel="Credits (uses left)"
          value={limits}
          onChange={setLimits}
        />
      </div>
      <ErrorMessage error={error} />
      <SaveRow label="Save changes" busy={fetching} saved={saved} />
    </form>
  );
}

function Usage({ id }: { id: string }) {
  const [rangeName, setRangeName] = useState("Last 24 hours");
  const range = RANGES[rangeName] ?? { seconds: 86_400, granularity: "HOUR", step: 3600 };
  const vars = useMemo(() => {
    const to = new Date(Math.ceil(Date.now() / (range.step * 1000)) * range.step * 1000);
    const from = new Date(to.getTime() - range.seconds * 1000);
    return { id, from: from.toISOString(), to: to.toISOString(), granularity: range.granularity };
  }, [id, range]);
  const [{ data, error, fetching }] = useQuery({ query: UsageQuery, variables: vars });
  const usage = data?.keyUsage;
  return (
    <section className="card" aria-labelledby="usage-title">
      <h2 id="usage-title">Usage</h2>
      <SelectField id="usage-range" label="Range" value={rangeName} onChange={setRangeName}>
        {Object.keys(RANGES).map((name) => (
          <option key={name}>{name}</option>
        ))}
      </SelectField>
      <ErrorMessage error={error} />
      {fetching && !data ? <Loading what="Loading usage" /> : null}
      {usage ? (
        <>
          <p className="legend">
            {usage.totals.length ? (
              usage.totals.map((t) => (
                <span key={t.code}>
                  <strong>{t.code}</strong> {t.count}
                </span>
              ))
            ) : (
              <span className="muted">No verifications in this range.</span>
            )}
          </p>
          {usage.totals.length ? (
            <UsageChart
              points={usage.points}
              from={usage.from}
              to={usage.to}
              stepSeconds={range.step}
              label={`Verifications by outcome, ${rangeName.toLowerCase()}`}
            />
          ) : null}
        </>
      ) : null}
    </section>
  );
}

function KeyAudit({ id }: { id: string }) {
  const [{ data, error }] = useQuery({ query: KeyAuditQuery, variables: { targetId: id } });
  const events = data?.auditEvents.edges ?? [];
  return (
    <section className="card" aria-labelledby="key-audit-title">
      <h2 id="key-audit-title">Audit events</h2>
      {error ? (
        <p className="muted">The audit trail is for owners and admins.</p>
      ) : events.length === 0 ? (
        <p className="muted">No events.</p>
      ) : (
        <DataTable columns={["When", "Action", "Actor"]}>
          {events.map(({ node }) => (
            <tr key={node.id}>
              <td>{formatDate(node.createdAt)}</td>
              <td>{node.action}</td>
              <td>
                {node.actorType} {node.actorId ?? ""}
              </td>
            </tr>
          ))}
        </DataTable>
      )}
    </section>
  );
}

export function KeyPage({ id }: { id: string }) {
  const [{ data, fetching, error }, reload] = useKey(id);
  const [, disable] = useMutation(DisableKey);
  const [, enable] = useMutation(EnableKey);
  const [, rotate] = useMutation(RotateKey);
  const revoke = useRevokeKey();
  const [grace, setGrace] = useState("3600");
  const [rotated, setRotated] = useState<{
    key: string;
    secret: string | null;
    masked: string;
  } | null>(null);
  const { error: actionError, setError: setActionError, refetch, run } = useActionError(reload);
  if (fetching && !data) return <Loading what="Loading the key" />;
  if (error) return <ErrorMessage error={error} />;
  const apiKey = data?.apiKey;
  if (!apiKey) return <NotFound what="key" back="/keys" backLabel="API Keys" />;
  const live = apiKey.status === "ACTIVE" || apiKey.status === "DISABLED";
  return (
    <section>
      <p>
        <Link to="/keys">← API Keys</Link>
      </p>
      <h1>{apiKey.name}</h1>
      {rotated ? (
        <OnceNotice>
          <p>The successor key ({rotated.masked}):</p>
          <SecretField label="Key" value={rotated.key} />
          {rotated.secret ? <SecretField label="Secret" value={rotated.secret} /> : null}
        </OnceNotice>
      ) : null}
      <div className="card">
        <dl className="details">
          <dt>Key</dt>
          <dd>
            <code>{apiKey.masked}</code>
          </dd>
          <dt>Type</dt>
          <dd>{keyType(apiKey)}</dd>
          <dt>Owner</dt>
          <dd>{apiKey.owner?.email ?? "—"}</dd>
          <dt>Project</dt>
          <dd>
            {apiKey.project ? (
              <Link to={`/projects/${apiKey.project.id}`}>{apiKey.project.name}</Link>
            ) : (
              "—"
            )}
          </dd>
          <dt>Permissions</dt>
          <dd>{apiKey.permissions.length ? apiKey.permissions.join(", ") : "none"}</dd>
          <dt>Status</dt>
          <dd>
            <StatusBadge status={statusText(apiKey)} />
            {apiKey.revokeReason ? ` (${apiKey.revokeReason})` : ""}
          </dd>
          <dt>Created</dt>
          <dd>{formatDate(apiKey.createdAt)}</dd>
          <dt>Last used</dt>
          <dd>{formatDate(apiKey.lastUsedAt)}</dd>
          <dt>Expires</dt>
          <dd>{apiKey.expiresAt ? formatDate(apiKey.expiresAt) : "never"}</dd>
          <dt>Credits</dt>
          <dd>{apiKey.credits ? apiKey.credits.remaining : "unlimited"}</dd>
        </dl>
        <ErrorMessage error={actionError} />
        {live ? (
          <div className="row">
            {apiKey.status === "ACTIVE" ? (
              <button type="button" onClick={() => run(disable({ id }))}>
                Disable
              </button>
            ) : (
              <button type="button" onClick={() => run(enable({ id }))}>
                Enable
              </button>
            )}
            <ConfirmButton
              label="Rotate"
              title={`Rotate ${apiKey.name}?`}
              danger={false}
              body={<p>A successor with the same settings is issued and shown once.</p>}
              confirmLabel="Rotate key"
              onConfirm={async () => {
                setActionError(null);
                const r = await rotate({ id, gracePeriodSeconds: Number(grace) });
                if (r.error) setActionError(r.error);
                else if (r.data) {
                  const next = r.data.rotateKey;
                  setRotated({
                    key: next.key,
                    secret: "secret" in next ? next.secret : null,
                    masked: next.apiKey.masked,
                  });
                }
                refetch();
              }}
            >
              <SelectField
                id="rotate-grace"
                label="The old key keeps working for"
                value={grace}
                onChange={setGrace}
              >
                <option value="0">no time: it stops at once</option>
                <option value="3600">1 hour</option>
                <option value="86400">1 day</option>
                <option value="604800">7 days</option>
              </SelectField>
            </ConfirmButton>
            <RevokeKeyButton
              name={apiKey.name}
              masked={apiKey.masked}
              onConfirm={() => run(revoke(id))}
            />
          </div>
        ) : null}
      </div>
      {live ? <EditForm key={apiKey.id} apiKey={apiKey} onSaved={refetch} /> : null}
      <Usage id={id} />
      <KeyAudit id={id} />
    </section>
  );
}
