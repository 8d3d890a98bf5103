// The dashboard's GraphQL operations, as urql sends them (with __typename), pass the gateway's
// own validation: the committed schema and GraphQL Armor's limits (cost, depth, aliases). A
// schema change or a limit that would break a page of the console fails here, not in a browser.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { costLimitRule } from "@escape.tech/graphql-armor-cost-limit";
import { maxAliasesRule } from "@escape.tech/graphql-armor-max-aliases";
import { maxDepthRule } from "@escape.tech/graphql-armor-max-depth";
import { formatDocument } from "@urql/core";
import {
  buildSchema,
  type DocumentNode,
  type GraphQLError,
  Kind,
  type OperationDefinitionNode,
  specifiedRules,
  validate,
} from "graphql";
import { beforeAll, describe, expect, it } from "vitest";
import { projectRoot } from "../../src/db/migrate.ts";

let documents: [string, DocumentNode][] = [];
const schema = buildSchema(readFileSync(path.join(projectRoot, "schema.graphql"), "utf8"));

beforeAll(async () => {
  // Codegen from the schema as it is now (a no-op when the build is current).
  const build = spawnSync(process.execPath, ["dashboard/scripts/ensure-built.mjs"], {
    cwd: projectRoot,
    encoding: "utf8",
  });
  if (build.status !== 0)
    throw new Error(`dashboard codegen failed:\n${build.stdout}${build.stderr}`);
  // Imported by path at run time: the file is generated, so the root type-check never needs it.
  const generated = pathToFileURL(path.join(projectRoot, "dashboard/src/gql/graphql.ts")).href;
  const module = (await import(generated)) as Record<string, unknown>;
  documents = Object.entries(module)
    .filter(([name]) => name.endsWith("Document"))
    .map(([name, doc]) => [name, doc as DocumentNode]);
}, 180_000);

/** Violations of the rules the gateway runs (src/graphql/yoga.ts), or [] for a document that passes. */
function violations(document: DocumentNode, maxCost = 5000): string[] {
  const errors: string[] = [];
  const reject = [(_: unknown, error: GraphQLError) => errors.push(error.message)];
  const found = validate(schema, document, [
    ...specifiedRules,
    costLimitRule({ maxCost, onReject: reject, propagateOnRejection: false }),
    maxDepthRule({ n: 12, onReject: reject, propagateOnRejection: false }),
    maxAliasesRule({ n: 15, onReject: reject, propagateOnRejection: false }),
  ]);
  return [...errors, ...found.map((e) => e.message)];
}

describe("the dashboard's operations", () => {
  it("are generated, one document per operation of every page", () => {
    const names = documents.map(([name]) => name);
    for (const expected of [
      "DashboardViewerDocument",
      "DashboardKeysDocument",
      "DashboardGenerateKeyDocument",
      "DashboardRevokeKeyDocument",
      "DashboardUpdateKeyDocument",
      "DashboardProjectsDocument",
      "DashboardGenerateProjectKeyDocument",
      "DashboardTeamDocument",
      "DashboardInviteMemberDocument",
      "DashboardAuditDocument",
      "DashboardSettingsDocument",
    ])
      expect(names).toContain(expected);
  });

  it("pass the schema and the gateway's limits as urql sends them", () => {
    const failures = documents
      .map(([name, doc]) => [name, violations(formatDocument(doc))] as const)
      .filter(([, errors]) => errors.length > 0);
    expect(failures).toEqual([]);
  });

  it("would be caught: a document over the cost limit or off the schema fails the check", () => {
    const keys = documents.find(([name]) => name === "DashboardKeysDocument")?.[1];
    expect(keys).toBeDefined();
    expect(violations(formatDocument(keys!), 100).join()).toMatch(
      /Query Cost limit of 100 exceeded/,
    );
    const renamed = structuredClone(keys!) as unknown as { definitions: OperationDefinitionNode[] };
    const op = renamed.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION)!;
    (op.selectionSet.selections[0] as { name: { value: string } }).name.value = "apiKeyz";
    expect(violations(renamed as unknown as DocumentNode).join()).toMatch(/apiKeyz/);
  });
});
