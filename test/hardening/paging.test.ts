// Malformed Relay cursors and paging arguments are the client's mistake: no connection field
// may answer INTERNAL. The connection fields are found in the built schema, and reached from
// Query through fields without required arguments, so a new connection cannot escape.
import {
  getNamedType,
  isNonNullType,
  isObjectType,
  type GraphQLField,
  type GraphQLObjectType,
} from "graphql";
import { beforeAll, describe, expect, it } from "vitest";
import { schema } from "../../src/graphql/schema.ts";
import { gql } from "../helpers/harness.ts";
import { useHarness, withTenant } from "../helpers/fixtures.ts";

const h = useHarness();
const admin = withTenant(h, "Paging", { platformAdmin: true });
withTenant(h, "PagingOther");
let token: string;

const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");
const b64url = (text: string) => Buffer.from(text, "utf8").toString("base64url");

interface ConnectionField {
  /** e.g. "Query.apiKeys", "Project.keys" */
  name: string;
  field: GraphQLField<unknown, unknown>;
  /** Wraps the connection selection into a query from the root. */
  wrap: (selection: string) => string;
}

function isConnection(field: GraphQLField<unknown, unknown>): boolean {
  const type = getNamedType(field.type);
  if (!isObjectType(type)) return false;
  const fields = type.getFields();
  return (
    Boolean(fields.edges && fields.pageInfo) &&
    field.args.some((a) => a.name === "first") &&
    field.args.some((a) => a.name === "after")
  );
}

const requiresArgs = (field: GraphQLField<unknown, unknown>) =>
  field.args.some((a) => isNonNullType(a.type) && a.defaultValue === undefined);

/** Every connection field of every object type reachable from Query, with a path to it. */
function connectionFields(): { found: ConnectionField[]; unreachable: string[] } {
  const query = schema.getQueryType()!;
  const paths = new Map<string, (selection: string) => string>([[query.name, (s) => `{ ${s} }`]]);
  const queue: GraphQLObjectType[] = [query];
  while (queue.length) {
    const type = queue.shift()!;
    const wrap = paths.get(type.name)!;
    for (const field of Object.values(type.getFields())) {
      if (requiresArgs(field)) continue;
      const target = getNamedType(field.type);
      if (!isObjectType(target)) continue;
      let next: GraphQLObjectType;
      let inner: (s: string) => string;
      if (isConnection(field)) {
        next = getNamedType(target.getFields().edges!.type) as GraphQLObjectType;
        next = getNamedType(next.getFields().node!.type) as GraphQLObjectType;
        inner = (s) => wrap(`${field.name}(first: 2) { edges { node { ${s} } } }`);
      } else {
        next = target;
        inner = (s) => wrap(`${field.name} { ${s} }`);
      }
      if (!isObjectType(next) || paths.has(next.name)) continue;
      paths.set(next.name, inner);
      queue.push(next);
    }
  }
  const found: ConnectionField[] = [];
  const unreachable: string[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith("__")) continue;
    for (const field of Object.values(type.getFields())) {
      if (!isConnection(field)) continue;
      const wrap = paths.get(type.name);
      if (!wrap) unreachable.push(`${type.name}.${field.name}`);
      else found.push({ name: `${type.name}.${field.name}`, field, wrap: (s) => wrap(s) });
    }
  }
  return { found, unreachable };
}

/** Cursors a client could send by mistake or on purpose, in every shape Pothos produces. */
function malformedCursors(realCursor: string | null): string[] {
  const cursors = [
    "zzz",
    "",
    "%%%",
    b64("garbage!!"),
    b64url("garbage!!"),
    b64("GPC:S:not-a-uuid"),
    b64("GPC:S:"),
    b64("GPC:N:not-a-number"),
    b64("GPC:N:1e400"),
    b64("GPC:J:{not json"),
    b64('GPC:J:{"id":"not-a-uuid"}'),
    b64("GPC:J:[1,2,3]"),
    b64("GPC:X:whatever"),
    b64("GPC:I:not-a-bigint"),
    b64("GPC:D:yesterday"),
    b64("GPC:B:%%%"),
    b64("GPC:O:{not json"),
    b64("GPC:Z:"),
    b64('GPC:T:["S:a","N:1"]'),
    b64("GPC:S:00000000-0000-4000-8000-000000000000\n"),
    b64("GPC:"),
    b64("OffsetConnection:-5"),
    b64("OffsetConnection:abc"),
    b64("OffsetConnection:99999999999999999999999"),
    b64("OffsetConnection:1e400"),
    b64("OffsetConnection:"),
    b64(`GPC:S:${"a".repeat(10_000)}`),
  ];
  if (realCursor) {
    const decoded = Buffer.from(realCursor, "base64").toString("utf8");
    const prefix = decoded.slice(0, decoded.lastIndexOf(":") + 1);
    cursors.push(
      b64(`${prefix}not-a-uuid`),
      b64(`${prefix}00000000-0000-4000-8000-000000000000x`),
      b64(`${prefix}-1`),
      realCursor.slice(0, -2),
    );
  }
  return cursors;
}

interface Paging {
  first?: number;
  last?: number;
  after?: string;
  before?: string;
}

const pagingArgs: Paging[] = [
  { first: -1 },
  { last: -1 },
  { first: 2147483647 },
  { last: 2147483647 },
  { first: -2147483648 },
  { first: 0 },
  { last: 0 },
  { first: 1, last: 1 },
  { first: 1, after: "zzz", last: 1, before: "zzz" },
];

/** Literal arguments, as a client writes them in the document. */
const literal = (paging: Paging) =>
  Object.entries(paging)
    .map(([name, value]) => `${name}: ${JSON.stringify(value)}`)
    .join(", ");

beforeAll(async () => {
  token = admin.token;
  // Something in every connection: projects, keys in a project, API keys, audit events, tenants.
  for (const name of ["One", "Two", "Three"]) {
    const project = (
      await gql(
        h,
        "mutation($n: String!) { createProject(input: { name: $n }) { id } }",
        { n: name },
        token,
      )
    ).data!.createProject;
    for (let i = 0; i < 3; i++) {
      const key = await gql(
        h,
        "mutation($p: ID!) { generateProjectKey(input: { projectId: $p }) { id } }",
        { p: project.id },
        token,
      );
      expect(key.errors).toBeUndefined();
    }
  }
});

describe("paging arguments of every connection", () => {
  const { found, unreachable } = connectionFields();

  it("finds the connection fields of the schema, each reachable from Query", () => {
    expect(unreachable).toEqual([]);
    const names = found.map((c) => c.name);
    for (const known of [
      "Query.apiKeys",
      "Query.auditEvents",
      "Query.projects",
      "Query.tenants",
      "Project.keys",
    ])
      expect(names).toContain(known);
  });

  it("still asks anonymous callers to sign in first, whatever their cursor", async () => {
    for (const c of found.filter((c) => c.name.startsWith("Query."))) {
      const result = await gql(
        h,
        c.wrap(`${c.field.name}(first: 1, after: "zzz") { edges { cursor } }`),
      );
      expect(result.errors?.[0]?.extensions?.code, c.name).toBe("UNAUTHENTICATED");
    }
  });

  it.each(found.map((c) => [c.name, c] as const))(
    "%s never answers INTERNAL to malformed cursors or paging",
    async (_name, connection) => {
      const { field, wrap } = connection;
      const selection = "{ edges { cursor } pageInfo { hasNextPage startCursor endCursor } }";
      const select = (args: string) => wrap(`${field.name}(${args}) ${selection}`);
      /** Through variables, so that values reach the resolvers whatever the document limits say. */
      const viaVariables = (paging: Paging) =>
        gql(
          h,
          `query($first: Int, $last: Int, $after: String, $before: String) ${wrap(`${field.name}(first: $first, last: $last, after: $after, before: $before) ${selection}`)}`,
          { ...paging },
          token,
        );

      const first = await gql(h, select("first: 2"), {}, token);
      expect(first.errors, JSON.stringify(first.errors)).toBeUndefined();
      const realCursor = JSON.stringify(first.data).match(/"endCursor":"([^"]+)"/)?.[1] ?? null;
      expect(realCursor, `${connection.name} has data to page through`).not.toBeNull();
      // The cursors a connection issues are accepted back: the paging check knows their shape.
      for (const paging of [
        { first: 2, after: realCursor! },
        { last: 1, before: realCursor! },
      ]) {
        const next = await viaVariables(paging);
        expect(
          next.errors,
          `${connection.name}(${literal(paging)}) ${JSON.stringify(next.errors)}`,
        ).toBeUndefined();
      }

      const attempts: Paging[] = [...pagingArgs];
      for (const cursor of malformedCursors(realCursor))
        attempts.push({ first: 2, after: cursor }, { last: 2, before: cursor });
      const internal: string[] = [];
      const unexplained: string[] = [];
      const judge = (
        label: string,
        result: Awaited<ReturnType<typeof gql>>,
        literalDocument: boolean,
      ) => {
        const codes = (result.errors ?? []).map((e) => e.extensions?.code);
        if (codes.includes("INTERNAL") || result.status >= 500)
          internal.push(`${label.slice(0, 120)} → ${JSON.stringify(result.errors)}`);
        else if (codes.every((c) => c === "VALIDATION_FAILED")) return;
        // A document the limits refuse before execution (the query cost of a huge literal
        // `first`) answers without data; its values never reach a resolver.
        else if (literalDocument && result.data == null && codes.every((c) => c === undefined))
          return;
        else unexplained.push(`${label.slice(0, 120)} → ${JSON.stringify(result.errors)}`);
      };
      for (const paging of attempts) {
        judge(`variables ${JSON.stringify(paging)}`, await viaVariables(paging), false);
        judge(`literal ${literal(paging)}`, await gql(h, select(literal(paging)), {}, token), true);
      }
      expect(internal, `${connection.name} answered INTERNAL`).toEqual([]);
      expect(
        unexplained,
        `${connection.name}: a client's paging mistake is VALIDATION_FAILED`,
      ).toEqual([]);
    },
  );
});
