// One project: rename, delete, its keys (project API keys masked, key pairs by their public
// half, downloadable), and generating one: the key, or the private key and passphrase, shown once.
import { type FormEvent, useState } from "react";
import { useMutation, useQuery } from "urql";
import { DataTable } from "../components/DataTable.tsx";
import { SelectField, TextField } from "../components/fields.tsx";
import { RevokeKeyButton, useRevokeKey } from "../components/RevokeKeyButton.tsx";
import { StatusBadge } from "../components/StatusBadge.tsx";
import { useActionError } from "../components/useActionError.ts";
import {
  ConfirmButton,
  download,
  Empty,
  ErrorMessage,
  formatDate,
  Loading,
  NotFound,
  OnceNotice,
  parseList,
  SecretField,
} from "../components/ui.tsx";
import { graphql } from "../gql/index.ts";
import type { ProjectKeyType } from "../gql/graphql.ts";
import { Link, navigate } from "../router.tsx";

const ProjectQuery = graphql(`
  query DashboardProject($id: ID!) {
    project(id: $id) {
      id
      name
      description
      createdAt
      keys(first: 50) {
        edges {
          node {
            id
            name
            type
            status
            masked
            algorithm
            fingerprint
            publicKey
            createdAt
            expiresAt
          }
        }
      }
    }
  }
`);

const UpdateProject = graphql(`
  mutation DashboardUpdateProject($input: UpdateProjectInput!) {
    updateProject(input: $input) {
      id
      name
      description
    }
  }
`);

const DeleteProject = graphql(`
  mutation DashboardDeleteProject($id: ID!) {
    deleteProject(id: $id) {
      id
      deletedAt
    }
  }
`);

const GenerateProjectKey = graphql(`
  mutation DashboardGenerateProjectKey($input: GenerateProjectKeyInput!) {
    generateProjectKey(input: $input) {
      id
      type
      ... on GenerateProjectApiKeyPayload {
        keyValue
      }
      ... on GenerateKeyPairPayload {
        publicKey
        encryptedPrivateKey
        passphrase
      }
    }
  }
`);

interface Created {
  name: string;
  keyValue?: string;
  publicKey?: string;
  privateKey?: string;
  passphrase?: string | null;
}

const TYPE_NAMES: Record<ProjectKeyType, string> = {
  API_KEY: "Project API key",
  TRANSACTION_RSA: "RSA key pair",
  FILE_CONTENT_PGP: "PGP key pair",
};

function fileName(name: string, suffix: string) {
  return `${name.replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^-+|-+$/g, "") || "key"}${suffix}`;
}

function GenerateForm({
  projectId,
  onCreated,
}: {
  projectId: string;
  onCreated: (c: Created) => void;
}) {
  const [type, setType] = useState<ProjectKeyType>("API_KEY");
  const [name, setName] = useState("");
  const [permissions, setPermissions] = useState("");
  const [rsaBits, setRsaBits] = useState("4096");
  const [pgpAlgorithm, setPgpAlgorithm] = useState<"CURVE25519" | "RSA_4096">("CURVE25519");
  const [passphrase, setPassphrase] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [{ fetching }, generate] = useMutation(GenerateProjectKey);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    const result = await generate({
      input: {
        projectId,
        type,
        name: name || undefined,
        permissions: type === "API_KEY" ? parseList(permissions) : undefined,
        rsaBits: type === "TRANSACTION_RSA" ? Number(rsaBits) : undefined,
        pgpAlgorithm: type === "FILE_CONTENT_PGP" ? pgpAlgorithm : undefined,
        passphrase: type !== "API_KEY" && passphrase ? passphrase : undefined,
      },
    });
    if (result.error || !result.data) return setError(result.error ?? new Error("no answer"));
    const payload = result.data.generateProjectKey;
    onCreated({
      name: name || TYPE_NAMES[type],
      keyValue: "keyValue" in payload ? payload.keyValue : undefined,
      publicKey: "publicKey" in payload ? payload.publicKey : undefined,
      privateKey: "encryptedPrivateKey" in payload ? payload.encryptedPrivateKey : undefined,
      passphrase: "passphrase" in payload ? payload.passphrase : undefined,
    });
    setPassphrase("");
  };
  const pair = type !== "API_KEY";
  return (
    <form className="card" onSubmit={submit} aria-label="Generate a project key">
      <h2>Generate a project key or key pair</h2>
      <div className="grid">
        <SelectField
          id="pk-type"
          label="Type"
          value={type}
          onChange={(value) => setType(value as ProjectKeyType)}
        >
          <option value="API_KEY">Project API key</option>
          <option value="TRANSACTION_RSA">RSA key pair (transactions)</option>
          <option value="FILE_CONTENT_PGP">PGP key pair (file contents)</option>
        </SelectField>
        <TextField id="pk-name" label="Key name" maxLength={200} value={name} onChange={setName} />
        {type === "API_KEY" ? (
          <TextField
            id="pk-permissions"
            label="Permissions"
            placeholder="none"
            value={permissions}
            onChange={setPermissions}
          />
        ) : null}
        {type === "TRANSACTION_RSA" ? (
          <SelectField id="pk-bits" label="RSA key size" value={rsaBits} onChange={setRsaBits}>
            <option value="4096">4096 bits</option>
            <option value="3072">3072 bits</option>
          </SelectField>
        ) : null}
        {type === "FILE_CONTENT_PGP" ? (
          <SelectField
            id="pk-pgp"
            label="PGP algorithm"
            value={pgpAlgorithm}
            onChange={(value) => setPgpAlgorithm(value as "CURVE25519" | "RSA_4096")}
          >
            <option value="CURVE25519">Curve25519</option>
            <option value="RSA_4096">RSA 4096</option>
          </SelectField>
        ) : null}
        {pair ? (
          <TextField
            id="pk-passphrase"
            label="Passphrase (optional)"
            type="password"
            autoComplete="new-password"
            aria-describedby="pk-passphrase-help"
            value={passphrase}
            onChange={setPassphrase}
          >
            <small id="pk-passphrase-help" className="muted">
              Left empty, Keygate generates one and shows it once.
            </small>
          </TextField>
        ) : null}
      </div>
      <ErrorMessage error={error} />
      <button className="primary" type="submit" disabled={fetching}>
        {fetching ? "Generating…" : pair ? "Generate key pair" : "Generate project key"}
      </button>
    </form>
  );
}

export function ProjectPage({ id }: { id: string }) {
  const [{ data, fetching, error }, reload] = useQuery({ query: ProjectQuery, variables: { id } });
  const [, update] = useMutation(UpdateProject);
  const [, remove] = useMutation(DeleteProject);
  const revoke = useRevokeKey();
  const [rename, setRename] = useState<string | null>(null);
  const [created, setCreated] = useState<Created | null>(null);
  const { error: actionError, setError: setActionError, refetch, report } = useActionError(reload);
  if (fetching && !data) return <Loading what="Loading the project" />;
  if (error) return <ErrorMessage error={error} />;
  const project = data?.project;
  if (!project) return <NotFound what="project" back="/projects" backLabel="Projects" />;
  const keys = project.keys.edges.map((e) => e.node);
  const submitRename = async (event: FormEvent) => {
    event.preventDefault();
    if (rename === null) return;
    setActionError(null);
    const r = await update({ input: { id, name: rename } });
    if (r.error) setActionError(r.error);
    else setRename(null);
  };
  return (
    <section>
      <p>
        <Link to="/projects">← Projects</Link>
      </p>
      <div className="page-head">
        <h1>{project.name}</h1>
        <div className="row">
          <button type="button" onClick={() => setRename(project.name)}>
            Rename
          </button>
          <ConfirmButton
            label="Delete project"
            title={`Delete ${project.name}?`}
            body={<p>The project and its keys stop working.</p>}
            confirmLabel="Delete project"
            onConfirm={async () => {
              const r = await remove({ id });
              if (r.error) setActionError(r.error);
              else navigate("/projects");
            }}
          />
        </div>
      </div>
      {rename !== null ? (
        <form className="card row" onSubmit={submitRename} aria-label="Rename project">
          <label htmlFor="rename">New name</label>
          <input id="rename" required value={rename} onChange={(e) => setRename(e.target.value)} />
          <button className="primary" type="submit">
            Save name
          </button>
          <button type="button" onClick={() => setRename(null)}>
            Cancel
          </button>
        </form>
      ) : null}
      <ErrorMessage error={actionError} />
      {created ? (
        <OnceNotice>
          <p>
            <strong>{created.name}</strong>
          </p>
          {created.keyValue ? <SecretField label="Key" value={created.keyValue} /> : null}
          {created.privateKey ? (
            <SecretField
              label="Private key"
              value={created.privateKey}
              filename={fileName(created.name, ".private.pem")}
            />
          ) : null}
          {created.passphrase ? (
            <SecretField label="Passphrase" value={created.passphrase} />
          ) : null}
          {created.publicKey ? (
            <p className="muted">The public key stays available below.</p>
          ) : null}
        </OnceNotice>
      ) : null}
      <GenerateForm
        projectId={id}
        onCreated={(c) => {
          setCreated(c);
          refetch();
        }}
      />
      <h2>Keys</h2>
      {keys.length === 0 ? (
        <Empty>
          <p>No keys in this project yet.</p>
        </Empty>
      ) : (
        <DataTable
          caption={`Keys of ${project.name}`}
          columns={["Name", "Type", "Key / fingerprint", "Status", "Created", "Expires"]}
          actions
        >
          {keys.map((key) => (
            <tr key={key.id}>
              <td>{key.name}</td>
              <td>
                {TYPE_NAMES[key.type]}
                {key.algorithm ? ` (${key.algorithm})` : ""}
              </td>
              <td>
                <code>{key.masked ?? key.fingerprint ?? "—"}</code>
              </td>
              <td>
                <StatusBadge status={key.status} />
              </td>
              <td>{formatDate(key.createdAt)}</td>
              <td>{formatDate(key.expiresAt)}</td>
              <td>
                <div className="row">
                  {key.publicKey ? (
                    <button
                      type="button"
                      onClick={() =>
                        download(
                          fileName(key.name, key.type === "FILE_CONTENT_PGP" ? ".asc" : ".pem"),
                          key.publicKey ?? "",
                          "application/x-pem-file",
                        )
                      }
                    >
                      Download public key
                    </button>
                  ) : null}
                  {key.status === "ACTIVE" ? (
                    <RevokeKeyButton
                      name={key.name}
                      onConfirm={async () => report(await revoke(key.id))}
                    />
                  ) : null}
                </div>
              </td>
            </tr>
          ))}
        </DataTable>
      )}
    </section>
  );
}
