// Typed documents from the gateway's committed schema: a schema change that breaks an operation
// of the dashboard fails `npm run typecheck` (root), which CI runs.
import type { CodegenConfig } from "@graphql-codegen/cli";

const config: CodegenConfig = {
  schema: "../schema.graphql",
  documents: ["src/**/*.{ts,tsx}", "!src/gql/**"],
  ignoreNoDocuments: false,
  generates: {
    "src/gql/": {
      preset: "client",
      presetConfig: { fragmentMasking: false },
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        strictScalars: true,
        scalars: {
          DateTime: "string",
          EmailAddress: "string",
          Int64: "number | string",
          JSON: "unknown",
          UUID: "string",
        },
      },
    },
  },
};

export default config;
