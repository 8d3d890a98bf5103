// Audit events of project, tenant and user changes carry the client IP and the request id,
// like key events do.
import { describe, expect, it } from "vitest";
import { useHarness, withTenant } from "../helpers/fixtures.ts";

const h = useHarness();
const admin = withTenant(h, "AuditMeta", { platformAdmin: true });
const ip = "203.0.113.77";

/** Through the whole app, as from a socket at `ip`, with the caller's request id. */
async function call(requestId: string, query: string, variables: Record<string, unknown> = {}) {
  const response = await h.app.request(
    "/graphql",
    {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${admin.token}`,
        "x-request-id": requestId,
      },
      body: JSON.stringify({ query, variables }),
    },
    { incoming: { socket: { remoteAddress: ip } } },
  );
  expect(response.headers.get("x-request-id")).toBe(requestId);
  const body = (await response.json()) as { data?: Record<string, any>; errors?: unknown[] };
  expect(body.errors).toBeUndefined();
  return body.data!;
}

async function eventOf(action: string, targetId: string) {
  return h.deps.prisma.auditEvent.findFirstOrThrow({
    where: { action, targetId },
    orderBy: { createdAt: "desc" },
  });
}

describe("audit events of projects, tenants and users", () => {
  it("record the IP and the request id of the GraphQL request", async () => {
    const stamp = Date.now();
    const created = (
      await call(
        `req-project-create-${stamp}`,
        'mutation { createProject(input: { name: "Audited" }) { id } }',
      )
    ).createProject;
    await call(
      `req-project-update-${stamp}`,
      'mutation($id: ID!) { updateProject(input: { id: $id, name: "Renamed" }) { id } }',
      { id: created.id },
    );
    await call(
      `req-project-delete-${stamp}`,
      "mutation($id: ID!) { deleteProject(id: $id) { id } }",
      { id: created.id },
    );
    const user = (
      await call(
        `req-user-add-${stamp}`,
        "mutation($e: EmailAddress!) { addUser(input: { email: $e, role: MEMBER }) { id } }",
        { e: `audited-${stamp}@example.test` },
      )
    ).addUser;
    const tenant = (
      await call(
        `req-tenant-create-${stamp}`,
        'mutation($e: EmailAddress!) { createTenant(input: { name: "Audited Co", ownerEmail: $e }) { tenant { id } } }',
        {
          e: `owner-${stamp}@audited.test`,
        },
      )
    ).createTenant.tenant;

    const expected: [string, string, string][] = [
      ["project.create", created.id, `req-project-create-${stamp}`],
      ["project.update", created.id, `req-project-update-${stamp}`],
      ["project.delete", created.id, `req-project-delete-${stamp}`],
      ["user.add", user.id, `req-user-add-${stamp}`],
      ["tenant.create", tenant.id, `req-tenant-create-${stamp}`],
    ];
    for (const [action, targetId, requestId] of expected) {
      expect(await eventOf(action, targetId), action).toMatchObject({ action, ip, requestId });
    }
  });
});
