// The audit log: the tenant's events, newest first, filtered by action, actor, target and time.
import { type FormEvent, useState } from "react";
import { useQuery } from "urql";
import { DataTable } from "../components/DataTable.tsx";
import { Empty, ErrorMessage, formatDate, Loading } from "../components/ui.tsx";
import { graphql } from "../gql/index.ts";

const AuditQuery = graphql(`
  query DashboardAudit(
    $action: String
    $actorId: ID
    $targetId: ID
    $from: DateTime
    $to: DateTime
    $after: String
  ) {
    auditEvents(
      first: 50
      after: $after
      action: $action
      actorId: $actorId
      targetId: $targetId
      from: $from
      to: $to
    ) {
      edges {
        node {
          id
          action
          actorType
          actorId
          targetType
          targetId
          ip
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

interface Filters {
  action?: string;
  actorId?: string;
  targetId?: string;
  from?: string;
  to?: string;
}

export function AuditPage() {
  const [form, setForm] = useState({ action: "", actorId: "", targetId: "", from: "", to: "" });
  const [filters, setFilters] = useState<Filters>({});
  const [after, setAfter] = useState<string | null>(null);
  const [{ data, fetching, error }] = useQuery({
    query: AuditQuery,
    variables: { ...filters, after },
  });
  const apply = (event: FormEvent) => {
    event.preventDefault();
    setAfter(null);
    setFilters({
      action: form.action.trim() || undefined,
      actorId: form.actorId.trim() || undefined,
      targetId: form.targetId.trim() || undefined,
      from: form.from ? new Date(form.from).toISOString() : undefined,
      to: form.to ? new Date(form.to).toISOString() : undefined,
    });
  };
  const field = (key: keyof typeof form) => ({
    value: form[key],
    onChange: (e: { target: { value: string } }) => setForm({ ...form, [key]: e.target.value }),
  });
  const events = data?.auditEvents.edges ?? [];
  return (
    <section>
      <h1>Audit log</h1>
      <form className="filters card" onSubmit={apply} aria-label="Filter the audit log">
        <div className="field">
          <label htmlFor="audit-action">Action</label>
          <input id="audit-action" placeholder="key. or key.revoke" {...field("action")} />
        </div>
        <div className="field">
          <label htmlFor="audit-actor">Actor id</label>
          <input id="audit-actor" {...field("actorId")} />
        </div>
        <div className="field">
          <label htmlFor="audit-target">Target id</label>
          <input id="audit-target" {...field("targetId")} />
        </div>
        <div className="field">
          <label htmlFor="audit-from">From</label>
          <input id="audit-from" type="datetime-local" {...field("from")} />
        </div>
        <div className="field">
          <label htmlFor="audit-to">To</label>
          <input id="audit-to" type="datetime-local" {...field("to")} />
        </div>
        <div className="field">
          <button className="primary" type="submit">
            Apply filters
          </button>
        </div>
      </form>
      <ErrorMessage error={error} />
      {fetching && !data ? <Loading what="Loading events" /> : null}
      {data && events.length === 0 ? (
        <Empty>
          <p>No events match.</p>
        </Empty>
      ) : null}
      {events.length ? (
        <DataTable caption="Audit events" columns={["When", "Action", "Actor", "Target", "IP"]}>
          {events.map(({ node }) => (
            <tr key={node.id}>
              <td>{formatDate(node.createdAt)}</td>
              <td>{node.action}</td>
              <td>
                {node.actorType}
                {node.actorId ? <code> {node.actorId}</code> : null}
              </td>
              <td>
                {node.targetType ?? ""}
                {node.targetId ? <code> {node.targetId}</code> : null}
              </td>
              <td>{node.ip ?? "—"}</td>
            </tr>
          ))}
        </DataTable>
      ) : null}
      <div className="row">
        {data?.auditEvents.pageInfo.hasNextPage ? (
          <button
            type="button"
            onClick={() => setAfter(data.auditEvents.pageInfo.endCursor ?? null)}
          >
            Older events
          </button>
        ) : null}
        {after ? (
          <button type="button" onClick={() => setAfter(null)}>
            Newest events
          </button>
        ) : null}
      </div>
    </section>
  );
}
