// Imports every domain's GraphQL file (for its side effects on the builder) and builds the schema once.
import { lexicographicSortSchema, printSchema } from "graphql";
import { builder } from "./builder.ts";
import "./node.ts";
import "../modules/tenants/graphql.ts";
import "../modules/projects/graphql.ts";
import "../modules/sign-in/graphql.ts";
import "../modules/keys/graphql.ts";
import "../modules/project-keys/graphql.ts";
import "../modules/audit/graphql.ts";
import "../modules/users/graphql.ts";
import "../modules/usage/graphql.ts";

export const schema = builder.toSchema();

export function printSchemaSDL(): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
