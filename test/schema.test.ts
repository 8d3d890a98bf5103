import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { printSchemaSDL } from "../src/graphql/schema.ts";
import { diffMigrationsToSchema, projectRoot } from "../src/db/migrate.ts";

describe("committed artefacts", () => {
  it("schema.graphql is the schema printed from code (run `npm run schema:print` when this fails)", async () => {
    const committed = await readFile(path.join(projectRoot, "schema.graphql"), "utf8");
    expect(committed).toBe(printSchemaSDL());
  });

  it("prisma/migrations build exactly schema.prisma (run `npm run db:diff -- <name>` when this fails)", async () => {
    expect(await diffMigrationsToSchema()).toBe("");
  });
});
