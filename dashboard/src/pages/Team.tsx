// Team: the tenant's members with roles and permissions, invitations by email, role changes
// and removal.
import { type FormEvent, useState } from "react";
import { useMutation, useQuery } from "urql";
import { useViewer } from "../App.tsx";
import { DataTable } from "../components/DataTable.tsx";
import { SelectField, TextField } from "../components/fields.tsx";
import { useActionError } from "../components/useActionError.ts";
import { ConfirmButton, ErrorMessage, formatDate, Loading, parseList } from "../components/ui.tsx";
import { graphql } from "../gql/index.ts";
import type { Role } from "../gql/graphql.ts";

const TeamQuery = graphql(`
  query DashboardTeam {
    tenant {
      id
      users {
        id
        email
        name
        role
        status
        grantedPermissions
        lastLoginAt
        invitedAt
      }
    }
  }
`);

const InviteMember = graphql(`
  mutation DashboardInviteMember($input: InviteMemberInput!) {
    inviteMember(input: $input) {
      id
      email
      role
      status
    }
  }
`);

const UpdateMember = graphql(`
  mutation DashboardUpdateMember($input: UpdateMemberInput!) {
    updateMember(input: $input) {
      id
      role
      grantedPermissions
    }
  }
`);

const RemoveMember = graphql(`
  mutation DashboardRemoveMember($id: ID!) {
    removeMember(id: $id) {
      id
      status
    }
  }
`);

const ROLES: Role[] = ["OWNER", "ADMIN", "MEMBER"];

/** A member's granted permissions, edited in place. */
function MemberPermissions({
  email,
  granted,
  onSave,
}: {
  email: string;
  granted: string[];
  onSave: (permissions: string[]) => Promise<boolean>;
}) {
  const [value, setValue] = useState(granted.join(" "));
  const [saved, setSaved] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setSaved(await onSave(parseList(value)));
  };
  return (
    <form className="row" onSubmit={submit} aria-label={`Permissions of ${email}`}>
      <input
        className="inline"
        aria-label={`Permissions of ${email}`}
        placeholder="none"
        value={value}
        onChange={(e) => {
          setValue(e.target.value);
          setSaved(false);
        }}
      />
      <button type="submit">Save</button>
      <span role="status">{saved ? "Saved." : ""}</span>
    </form>
  );
}

export function TeamPage() {
  const viewer = useViewer();
  const admin = viewer?.role === "OWNER" || viewer?.role === "ADMIN";
  const [{ data, fetching, error }, reload] = useQuery({ query: TeamQuery });
  const [, invite] = useMutation(InviteMember);
  const [, update] = useMutation(UpdateMember);
  const [, remove] = useMutation(RemoveMember);
  const [email, setEmail] = useState("");
  const [name, setName] = useState("");
  const [role, setRole] = useState<Role>("MEMBER");
  const [permissions, setPermissions] = useState("");
  const [inviteError, setInviteError] = useState<unknown>(null);
  const [invited, setInvited] = useState<string | null>(null);
  const { error: actionError, refetch, report, run } = useActionError(reload);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setInviteError(null);
    setInvited(null);
    const scopes = parseList(permissions);
    const result = await invite({
      input: {
        email,
        name: name || undefined,
        role,
        permissions: role === "MEMBER" && scopes.length ? scopes : undefined,
      },
    });
    if (result.error) return setInviteError(result.error);
    setInvited(email);
    setEmail("");
    setName("");
    setPermissions("");
    refetch();
  };

  const users = (data?.tenant.users ?? []).filter((u) => u.status !== "REMOVED");
  return (
    <section>
      <h1>Team</h1>
      {admin ? (
        <form className="card" onSubmit={submit} aria-label="Invite a member">
          <h2>Invite a member</h2>
          <div className="grid">
            <TextField
              id="invite-email"
              label="Email"
              type="email"
              required
              value={email}
              onChange={setEmail}
            />
            <TextField id="invite-name" label="Name" value={name} onChange={setName} />
            <SelectField
              id="invite-role"
              label="Role"
              value={role}
              onChange={(value) => setRole(value as Role)}
            >
              {ROLES.map((r) => (
                <option key={r}>{r}</option>
              ))}
            </SelectField>
            {role === "MEMBER" ? (
              <TextField
                id="invite-permissions"
                label="Permissions"
                placeholder="none"
                value={permissions}
                onChange={setPermissions}
              />
            ) : null}
          </div>
          <ErrorMessage error={inviteError} />
          <div className="row">
            <button className="primary" type="submit">
              Invite
            </button>
            <span role="status">{invited ? `Invitation sent to ${invited}.` : ""}</span>
          </div>
        </form>
      ) : null}
      <ErrorMessage error={error} />
      <ErrorMessage error={actionError} />
      {fetching && !data ? <Loading what="Loading the team" /> : null}
      {users.length ? (
        <DataTable
          caption="Members"
          columns={["Email", "Name", "Role", "Permissions", "Status", "Last sign-in"]}
          actions
        >
          {users.map((user) => (
            <tr key={user.id}>
              <td>{user.email}</td>
              <td>{user.name ?? "—"}</td>
              <td>
                {admin && user.id !== viewer?.id ? (
                  <select
                    aria-label={`Role of ${user.email}`}
                    value={user.role}
                    onChange={(e) =>
                      run(update({ input: { id: user.id, role: e.target.value as Role } }))
                    }
                  >
                    {ROLES.map((r) => (
                      <option key={r}>{r}</option>
                    ))}
                  </select>
                ) : (
                  user.role
                )}
              </td>
              <td>
                {user.role !== "MEMBER" ? (
                  "* (all)"
                ) : admin && user.id !== viewer?.id ? (
                  <MemberPermissions
                    email={user.email}
                    granted={user.grantedPermissions}
                    onSave={async (permissions) =>
                      !(await run(update({ input: { id: user.id, permissions } }))).error
                    }
                  />
                ) : (
                  user.grantedPermissions.join(", ") || <span className="muted">none</span>
                )}
              </td>
              <td>{user.status}</td>
              <td>{formatDate(user.lastLoginAt)}</td>
              <td>
                {admin && user.id !== viewer?.id ? (
                  <ConfirmButton
                    label="Remove"
                    title={`Remove ${user.email}?`}
                    body={<p>Their sessions end and their user-bound keys are revoked.</p>}
                    confirmLabel="Remove member"
                    onConfirm={async () => report(await remove({ id: user.id }))}
                  />
                ) : null}
              </td>
            </tr>
          ))}
        </DataTable>
      ) : null}
    </section>
  );
}
