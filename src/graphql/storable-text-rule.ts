// A validation rule: every string literal of an operation, once the lexer has decoded its
// escapes (\u0000, \u{0}, \u{00000}, block strings...), must be text PostgreSQL can store.
// Checking the parsed values instead of the source text covers every spelling of a character.
// `spec: false`: a 400 for every client, as for bad variables, not only for those that accept
// application/graphql-response+json (yoga's default for validation errors).
import { Kind, type ASTNode, type ValidationRule } from "graphql";
import { AppError } from "../errors.ts";
import { toGraphQLError } from "./errors.ts";
import { isStorable, UNSTORABLE_MESSAGE } from "../storable-text.ts";

/** The argument, input-field and variable names leading to a literal: `input.name`, `$filter.tags`. */
function fieldOf(ancestors: readonly (ASTNode | readonly ASTNode[] | undefined)[]): string {
  const names: string[] = [];
  for (const node of ancestors) {
    if (!node || Array.isArray(node) || !("kind" in node)) continue;
    const n = node as ASTNode;
    if (n.kind === Kind.ARGUMENT || n.kind === Kind.OBJECT_FIELD) names.push(n.name.value);
    else if (n.kind === Kind.VARIABLE_DEFINITION) names.push(`$${n.variable.name.value}`);
  }
  return names.join(".") || "query";
}

export const StorableTextRule: ValidationRule = (context) => ({
  StringValue(node, _key, parent, _path, ancestors) {
    if (isStorable(node.value)) return;
    const field = fieldOf([...ancestors, parent as ASTNode]);
    context.reportError(
      toGraphQLError(
        AppError.validation(field, UNSTORABLE_MESSAGE),
        { nodes: [node] },
        { status: 400, spec: false },
      ),
    );
  },
});
