// Settings: the tenant's name and the prefix of its new keys (owners and admins), and the
// signed-in person's sessions.
import { type FormEvent, useState } from "react";
import { useMutation, useQuery } from "urql";
import { DataTable } from "../components/DataTable.tsx";
import { SaveRow, TextField } from "../components/fields.tsx";
import { ErrorMessage, formatDate, Loading } from "../components/ui.tsx";
import { graphql } from "../gql/index.ts";

const SettingsQuery = graphql(`
  query DashboardSettings {
    tenant {
      id
      name
      keyPrefix
    }
    viewer {
      id
      role
      sessions {
        id
        current
        createdAt
        lastUsedAt
        userAgent
        revokedAt
      }
    }
  }
`);

const UpdateTenant = graphql(`
  mutation DashboardUpdateTenant($input: UpdateTenantInput!) {
    updateTenant(input: $input) {
      id
      name
      keyPrefix
    }
  }
`);

function TenantForm({
  name,
  keyPrefix,
  canEdit,
}: {
  name: string;
  keyPrefix: string;
  canEdit: boolean;
}) {
  const [tenantName, setTenantName] = useState(name);
  const [prefix, setPrefix] = useState(keyPrefix);
  const [saved, setSaved] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [{ fetching }, update] = useMutation(UpdateTenant);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setSaved(false);
    setError(null);
    const result = await update({ input: { name: tenantName, keyPrefix: prefix } });
    if (result.error) setError(result.error);
    else setSaved(true);
  };
  return (
    <form className="card" onSubmit={submit} aria-label="Tenant settings">
      <h2>Tenant</h2>
      <TextField
        id="tenant-name"
        label="Tenant name"
        required
        disabled={!canEdit}
        value={tenantName}
        onChange={setTenantName}
      />
      <TextField
        id="tenant-prefix"
        label="Key prefix"
        required
        disabled={!canEdit}
        aria-describedby="tenant-prefix-help"
        value={prefix}
        onChange={setPrefix}
      >
        <small id="tenant-prefix-help" className="muted">
          Keys issued from now on start with it; existing keys keep theirs.
        </small>
      </TextField>
      <ErrorMessage error={error} />
      {canEdit ? (
        <SaveRow label="Save settings" busy={fetching} saved={saved} />
      ) : (
        <p className="muted">Owners and admins change these.</p>
      )}
    </form>
  );
}

export function SettingsPage() {
  const [{ data, fetching, error }] = useQuery({ query: SettingsQuery });
  if (fetching && !data) return <Loading what="Loading settings" />;
  const canEdit = data?.viewer?.role === "OWNER" || data?.viewer?.role === "ADMIN";
  return (
    <section>
      <h1>Settings</h1>
      <ErrorMessage error={error} />
      {data ? (
        <TenantForm
          key={data.tenant.id}
          name={data.tenant.name}
          keyPrefix={data.tenant.keyPrefix}
          canEdit={canEdit}
        />
      ) : null}
      {data?.viewer ? (
        <section className="card" aria-labelledby="sessions-title">
          <h2 id="sessions-title">Your sessions</h2>
          <DataTable columns={["Started", "Last used", "Browser", "State"]}>
            {data.viewer.sessions.slice(0, 20).map((s) => (
              <tr key={s.id}>
                <td>{formatDate(s.createdAt)}</td>
                <td>{formatDate(s.lastUsedAt)}</td>
                <td>{s.userAgent ?? "—"}</td>
                <td>{s.current ? "this session" : s.revokedAt ? "ended" : "active"}</td>
              </tr>
            ))}
          </DataTable>
        </section>
      ) : null}
    </section>
  );
}
