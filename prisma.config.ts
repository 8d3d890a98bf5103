// Prisma 7 reads its settings here. Only `prisma generate` uses the CLI on our
// machines; migrations run through the WASM schema engine (src/db/migrate.ts).
import { defineConfig } from "prisma/config";

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
});
