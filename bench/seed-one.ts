// Profiling aid: seeds a tenant and one key into DATA_DIR / DATABASE_URL and prints the key.
import { loadConfig } from "../src/config.ts";
import { createLogger } from "../src/logger.ts";
import { generateApiKey } from "../src/modules/keys/service.ts";
import { createTenant } from "../src/modules/tenants/service.ts";
import { closeDeps, openDeps } from "../src/server.ts";

const deps = await openDeps(await loadConfig(process.env), createLogger({ level: "warn" }));
const { tenant, owner } = await createTenant(
  deps,
  { kind: "system" },
  { name: "Profile", ownerEmail: `profile-${Date.now()}@bench.test` },
);
const { key } = await generateApiKey(
  deps,
  {
    kind: "user",
    userId: owner.id,
    tenantId: tenant.id,
    email: owner.email,
    role: "OWNER",
    isPlatformAdmin: false,
    permissions: ["*"],
  },
  { name: "profile", permissions: ["transactions:read"] },
);
await closeDeps(deps);
console.log(key);
