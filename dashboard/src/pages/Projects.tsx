// Projects: the list and a form to create one.
import { type FormEvent, useState } from "react";
import { useMutation, useQuery } from "urql";
import { DataTable } from "../components/DataTable.tsx";
import { TextField } from "../components/fields.tsx";
import { Empty, ErrorMessage, formatDate, Loading } from "../components/ui.tsx";
import { graphql } from "../gql/index.ts";
import { Link } from "../router.tsx";

const ProjectsQuery = graphql(`
  query DashboardProjects($after: String) {
    projects(first: 50, after: $after) {
      edges {
        node {
          id
          name
          description
          createdAt
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

const CreateProject = graphql(`
  mutation DashboardCreateProject($input: CreateProjectInput!) {
    createProject(input: $input) {
      id
      name
    }
  }
`);

export function ProjectsPage() {
  const [after, setAfter] = useState<string | null>(null);
  const [{ data, fetching, error }, reload] = useQuery({
    query: ProjectsQuery,
    variables: { after },
  });
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [createError, setCreateError] = useState<unknown>(null);
  const [{ fetching: creating }, create] = useMutation(CreateProject);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setCreateError(null);
    const result = await create({ input: { name, description: description || undefined } });
    if (result.error) return setCreateError(result.error);
    setName("");
    setDescription("");
    reload({ requestPolicy: "network-only" });
  };
  const edges = data?.projects.edges ?? [];
  return (
    <section>
      <h1>Projects</h1>
      <form className="card" onSubmit={submit} aria-label="Create project">
        <h2>Create a project</h2>
        <div className="grid">
          <TextField
            id="project-name"
            label="Project name"
            required
            maxLength={200}
            value={name}
            onChange={setName}
          />
          <TextField
            id="project-description"
            label="Description"
            value={description}
            onChange={setDescription}
          />
        </div>
        <ErrorMessage error={createError} />
        <button className="primary" type="submit" disabled={creating}>
          Create project
        </button>
      </form>
      <ErrorMessage error={error} />
      {fetching && !data ? <Loading what="Loading projects" /> : null}
      {data && edges.length === 0 ? (
        <Empty>
          <p>No projects yet. A project groups project keys and RSA/PGP key pairs.</p>
        </Empty>
      ) : null}
      {edges.length ? (
        <DataTable caption="Projects" columns={["Name", "Description", "Created"]}>
          {edges.map(({ node }) => (
            <tr key={node.id}>
              <td>
                <Link to={`/projects/${node.id}`}>{node.name}</Link>
              </td>
              <td>{node.description ?? "—"}</td>
              <td>{formatDate(node.createdAt)}</td>
            </tr>
          ))}
        </DataTable>
      ) : null}
      {data?.projects.pageInfo.hasNextPage ? (
        <button type="button" onClick={() => setAfter(data.projects.pageInfo.endCursor ?? null)}>
          Next page
        </button>
      ) : null}
    </section>
  );
}
