// The set-up most test files share: a harness on a fresh database, and tenants seeded in it.
//
//   const h = useHarness();                 // beforeAll: createHarness(), afterAll: close()
//   const acme = withTenant(h, "Acme");     // beforeAll: seedTenant(h.deps, "Acme")
//
// Both are called at the top level of a file (or of a describe) and return stand-ins that read
// through to the real objects once the hooks have run, so tests use them like plain values:
// `gql(h, ..., acme.token)`, `h.deps.prisma`, `acme.tenant.id`.
import { afterAll, beforeAll } from "vitest";
import { createHarness, seedTenant, type Harness } from "./harness.ts";

export type SeededTenant = Awaited<ReturnType<typeof seedTenant>>;

/** An object that forwards every property to `current()`, which exists only once beforeAll has run. */
function standIn<T extends object>(what: string, current: () => T | undefined): T {
  const target = (): T => {
    const value = current();
    if (value === undefined)
      throw new Error(`${what} is set up in beforeAll: use it inside a test or a hook`);
    return value;
  };
  return new Proxy({} as T, {
    get(_, property) {
      const value = target();
      const found = Reflect.get(value, property, value);
      return typeof found === "function" ? found.bind(value) : found;
    },
    has: (_, property) => Reflect.has(target(), property),
    ownKeys: () => Reflect.ownKeys(target()),
    getOwnPropertyDescriptor(_, property) {
      const descriptor = Reflect.getOwnPropertyDescriptor(target(), property);
      return descriptor && { ...descriptor, configurable: true };
    },
  });
}

/** A harness for the enclosing file or describe: created in beforeAll, closed in afterAll. */
export function useHarness(configOverrides: Record<string, string> = {}): Harness {
  let harness: Harness | undefined;
  beforeAll(async () => {
    harness = await createHarness(configOverrides);
  });
  afterAll(async () => {
    await harness?.close();
    harness = undefined;
  });
  return standIn("the harness", () => harness);
}

/** A tenant with its owner and the owner's session token, seeded in beforeAll (after the harness). */
export function withTenant(
  h: Harness,
  name = "Acme",
  options: { platformAdmin?: boolean } = {},
): SeededTenant {
  let seeded: SeededTenant | undefined;
  beforeAll(async () => {
    seeded = await seedTenant(h.deps, name, options);
  });
  return standIn(`tenant ${name}`, () => seeded);
}
