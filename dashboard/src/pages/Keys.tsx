// API Keys: the list (masked), filters, Generate New Key, the new key shown once, Revoke.
import { type FormEvent, useId, useState } from "react";
import { useMutation, useQuery } from "urql";
import { useViewer } from "../App.tsx";
import { DataTable } from "../components/DataTable.tsx";
import { SelectField, TextField } from "../components/fields.tsx";
import { LIMITS_ERROR, LimitFields, parseLimits } from "../components/LimitFields.tsx";
import { RevokeKeyButton, useRevokeKey } from "../components/RevokeKeyButton.tsx";
import { Sparkline } from "../components/Sparkline.tsx";
import { StatusBadge } from "../components/StatusBadge.tsx";
import { useActionError } from "../components/useActionError.ts";
import { useBusyAction } from "../components/useBusyAction.ts";
import {
  Empty,
  ErrorMessage,
  Loading,
  OnceNotice,
  SecretField,
  formatDate,
  parseList,
} from "../components/ui.tsx";
import { graphql } from "../gql/index.ts";
import type { KeyKind, KeyStatus } from "../gql/graphql.ts";
import { Link } from "../router.tsx";
import { keyType, statusText } from "./keyFields.ts";

const KeysQuery = graphql(`
  query DashboardKeys($status: KeyStatus, $kind: KeyKind, $after: String) {
    apiKeys(first: 25, after: $after, status: $status, kind: $kind) {
      totalCount
      edges {
        node {
            id
            name
            masked
            kind
            integratorLevel
            hasSecret
            status
            expired
            permissions
            createdAt
            lastUsedAt
            owner {
              id
              email
            }
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

const KeyFormOptions = graphql(`
  query KeyFormOptions {
    tenant {
      id
      users {
        id
        email
        name
        role
      }
    }
    projects(first: 100) {
      edges {
        node {
          id
          name
        }
      }
    }
  }
`);

const GenerateKey = graphql(`
  mutation DashboardGenerateKey($input: GenerateApiKeyInput!) {
    generateApiKey(input: $input) {
      key
      apiKey {
        id
        name
        masked
      }
    }
  }
`);

const GenerateSecureKey = graphql(`
  mutation DashboardGenerateSecureKey($input: GenerateApiKeyInput!) {
    generateSecureApiKey(input: $input) {
      key
      secret
      apiKey {
        id
        name
        masked
      }
    }
  }
`);

export const SetCredits = graphql(`
  mutation DashboardSetCredits($input: UpdateKeyInput!) {
    updateKey(input: $input) {
      id
      credits {
        remaining
        refillAmount
        refillInterval
      }
    }
  }
`);

interface Created {
  name: string;
  masked: string;
  key: string;
  secret?: string;
}

function GenerateForm({
  onCreated,
  onCancel,
}: {
  onCreated: (c: Created) => void;
  onCancel: () => void;
}) {
  const viewer = useViewer();
  const admin = viewer?.role === "OWNER" || viewer?.role === "ADMIN";
  const [{ data: options }] = useQuery({ query: KeyFormOptions });
  const [type, setType] = useState<"integrator" | "user">(admin ? "integrator" : "user");
  const [ownerId, setOwnerId] = useState("");
  const [name, setName] = useState("");
  const [permissions, setPermissions] = useState("");
  const [expiry, setExpiry] = useState("");
  const [limitsText, setLimitsText] = useState({
    perMinute: "",
    perHour: "",
    perDay: "",
    credits: "",
  });
  const [secure, setSecure] = useState(false);
  const [projectId, setProjectId] = useState("");
  const { error, setError, busy, run } = useBusyAction();
  const [, generate] = useMutation(GenerateKey);
  const [, generateSecure] = useMutation(GenerateSecureKey);
  const [, setKeyCredits] = useMutation(SetCredits);
  const ids = { type: useId(), perms: useId() };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    const parsed = parseLimits(limitsText);
    if (!parsed) {
      setError(new Error(LIMITS_ERROR));
      return;
    }
    const { rateLimit: limits, credits: creditCount } = parsed;
    const scopes = parseList(permissions);
    const input = {
      name,
      ownerId: type === "user" ? ownerId || viewer?.id : undefined,
      // User-bound keys start with zero permissions unless some are given.
      permissions: scopes.length ? scopes : type === "user" ? [] : undefined,
      expiresAt: expiry ? new Date(expiry).toISOString() : undefined,
      rateLimit: Object.values(limits).some((v) => v !== null) ? limits : undefined,
      projectId: projectId || undefined,
    };
    await run(async () => {
      const result = secure ? await generateSecure({ input }) : await generate({ input });
      if (result.error) throw result.error;
      const payload =
        result.data && "generateSecureApiKey" in result.data
          ? result.data.generateSecureApiKey
          : result.data && "generateApiKey" in result.data
            ? result.data.generateApiKey
            : null;
      if (!payload) throw new Error("no key in the answer");
      if (creditCount !== null) {
        const set = await setKeyCredits({
          input: { id: payload.apiKey.id, credits: { remaining: creditCount } },
        });
        if (set.error) throw set.error;
      }
      onCreated({
        name: payload.apiKey.name,
        masked: payload.apiKey.masked,
        key: payload.key,
        secret: "secret" in payload ? (payload.secret as string) : undefined,
      });
    });
  };

  const users = options?.tenant.users ?? [];
  return (
    <form className="card" onSubmit={submit} aria-label="Generate New Key">
      <h2>Generate New Key</h2>
      <fieldset>
        <legend id={ids.type}>Key type</legend>
        <label className="choice">
          <input
            type="radio"
            name="key-type"
            value="integrator"
            checked={type === "integrator"}
            disabled={!admin}
            onChange={() => setType("integrator")}
          />
          integrator-level{" "}
          <span className="muted">— bound to no user; full access (*) unless you narrow it</span>
        </label>
        <label className="choice">
          <input
            type="radio"
            name="key-type"
            value="user"
            checked={type === "user"}
            onChange={() => setType("user")}
          />
          user-bound <span className="muted">— tied to a user; starts with zero permissions</span>
        </label>
      </fieldset>
      {type === "user" && admin ? (
        <SelectField id="key-owner" label="Owner" value={ownerId} onChange={setOwnerId}>
          <option value="">Me ({viewer?.email})</option>
          {users
            .filter((u) => u.id !== viewer?.id)
            .map((u) => (
              <option key={u.id} value={u.id}>
                {u.email}
              </option>
            ))}
        </SelectField>
      ) : null}
      <TextField
        id="key-name"
        label="Name"
        required
        maxLength={200}
        value={name}
        onChange={setName}
      />
      <TextField
        id="key-permissions"
        label="Permissions"
        aria-describedby={ids.perms}
        placeholder={type === "integrator" ? "* (everything)" : "none"}
        value={permissions}
        onChange={setPermissions}
      >
        <small id={ids.perms} className="muted">
          Scopes separated by spaces or commas, e.g. <code>deposits:write transactions:read</code>.
        </small>
      </TextField>
      <div className="grid">
        <TextField
          id="key-expiry"
          label="Expires"
          type="datetime-local"
          value={expiry}
          onChange={setExpiry}
        />
        <SelectField id="key-project" label="Project" value={projectId} onChange={setProjectId}>
          <option value="">None</option>
          {(options?.projects.edges ?? []).map(({ node }) => (
            <option key={node.id} value={node.id}>
              {node.name}
            </option>
          ))}
        </SelectField>
        <LimitFields
          idPrefix="key"
          creditsLabel="Credits (uses)"
          value={limitsText}
          onChange={setLimitsText}
        />
      </div>
      <label className="choice">
        <input type="checkbox" checked={secure} onChange={(e) => setSecure(e.target.checked)} />
        Secure key <span className="muted">— with a signing secret for signed requests</span>
      </label>
      <ErrorMessage error={error} />
      <div className="row">
        <button className="primary" type="submit" disabled={busy}>
          Generate
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

export function KeysPage() {
  const [status, setStatus] = useState<KeyStatus | "">("");
  const [kind, setKind] = useState<KeyKind | "">("");
  const [after, setAfter] = useState<string | null>(null);
  const [showForm, setShowForm] = useState(false);
  const [created, setCreated] = useState<Created | null>(null);
  const [{ data, fetching, error }, reload] = useQuery({
    query: KeysQuery,
    variables: { status: status || null, kind: kind || null, after },
  });
  const revoke = useRevokeKey();
  const { error: actionError, run } = useActionError(reload);
  const edges = data?.apiKeys.edges ?? [];

  return (
    <section>
      <div className="page-head">
        <h1>API Keys</h1>
        {!showForm ? (
          <button
            className="primary"
            type="button"
            onClick={() => {
              setShowForm(true);
              setCreated(null);
            }}
          >
            Generate New Key
          </button>
        ) : null}
      </div>
      {created ? (
        <OnceNotice>
          <p>
            New key <strong>{created.name}</strong> ({created.masked}):
          </p>
          <SecretField label="Key" value={created.key} />
          {created.secret ? <SecretField label="Secret" value={created.secret} /> : null}
          <button type="button" onClick={() => setCreated(null)}>
            I have copied it
          </button>
        </OnceNotice>
      ) : null}
      {showForm ? (
        <GenerateForm
          onCancel={() => setShowForm(false)}
          onCreated={(c) => {
            setCreated(c);
            setShowForm(false);
            reload({ requestPolicy: "network-only" });
          }}
        />
      ) : null}
      <div className="filters">
        <SelectField
          id="filter-status"
          label="Status"
          value={status}
          onChange={(value) => {
            setStatus(value as KeyStatus | "");
            setAfter(null);
          }}
        >
          <option value="">All</option>
          <option value="ACTIVE">Active</option>
          <option value="DISABLED">Disabled</option>
          <option value="REVOKED">Revoked</option>
        </SelectField>
        <SelectField
          id="filter-kind"
          label="Kind"
          value={kind}
          onChange={(value) => {
            setKind(value as KeyKind | "");
            setAfter(null);
          }}
        >
          <option value="">All</option>
          <option value="API_KEY">API key</option>
          <option value="SECURE_API_KEY">Secure key</option>
          <option value="PROJECT_KEY">Project key</option>
        </SelectField>
      </div>
      <ErrorMessage error={error} />
      <ErrorMessage error={actionError} />
      {fetching && !data ? <Loading what="Loading keys" /> : null}
      {data && edges.length === 0 ? (
        <Empty>
          <p>No keys{status || kind ? " match these filters" : " yet"}.</p>
          {!status && !kind ? (
            <p>
              Click <strong>Generate New Key</strong> to create your first one.
            </p>
          ) : null}
        </Empty>
      ) : null}
      {data && edges.length > 0 ? (
        <p className="muted" aria-live="polite">
          {data.apiKeys.totalCount} {data.apiKeys.totalCount === 1 ? "key" : "keys"}
        </p>
      ) : null}
      {edges.length > 0 ? (
        <DataTable
          caption="API keys"
          columns={[
            "Name",
            "Key",
            "Type",
            "Owner",
            "Permissions",
            "Status",
            "Created",
            "Last used",
            "Usage (24 h)",
          ]}
          actions
        >
          {edges.map(({ node: key }) => (
            <tr key={key.id} data-key-id={key.id}>
              <td>
                <Link to={`/keys/${key.id}`}>{key.name}</Link>
              </td>
              <td>
                <code>{key.masked}</code>
              </td>
              <td>{keyType(key)}</td>
              <td>{key.owner?.email ?? "—"}</td>
              <td>
                {key.permissions.length ? (
                  key.permissions.join(", ")
                ) : (
                  <span className="muted">none</span>
                )}
              </td>
              <td>
                <StatusBadge status={statusText(key)} />
              </td>
              <td>{formatDate(key.createdAt)}</td>
              <td>{formatDate(key.lastUsedAt)}</td>
              <td>
                <Sparkline id={key.id} label={key.name} />
              </td>
              <td>
                {key.status === "ACTIVE" || key.status === "DISABLED" ? (
                  <RevokeKeyButton
                    name={key.name}
                    masked={key.masked}
                    onConfirm={() => run(revoke(key.id))}
                  />
                ) : null}
              </td>
            </tr>
          ))}
        </DataTable>
      ) : null}
      {data?.apiKeys.pageInfo.hasNextPage ? (
        <button type="button" onClick={() => setAfter(data.apiKeys.pageInfo.endCursor ?? null)}>
          Next page
        </button>
      ) : null}
      {after ? (
        <button type="button" onClick={() => setAfter(null)}>
          First page
        </button>
      ) : null}
    </section>
  );
}
