// Issue 14: a change's PostgreSQL notice is sent from the transaction that makes the change, so
// other instances hear of it exactly when it commits and never when it rolls back (a process that
// died between a commit and a later publish used to leave them a revoked key until the cache TTL).
// A plain `pg` client LISTENs as another instance would. "No notice" is proved without waiting
// for a time: a marker NOTIFY committed afterwards arrives after anything committed before it.
// PostgreSQL only: the embedded database sends no notices.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { system } from "../../src/access/actor.ts";
import type { Deps } from "../../src/deps.ts";
import { revokeKey } from "../../src/modules/keys/service.ts";
import { PG_CHANNEL } from "../../src/modules/keys/notices.ts";
import { KeyRuntime } from "../../src/modules/keys/runtime.ts";
import { AppError } from "../../src/errors.ts";
import { serverUrl } from "../helpers/databases.ts";
import { generateKeyFor } from "../helpers/harness.ts";
import { useHarness, withTenant } from "../helpers/fixtures.ts";

interface Message {
  o?: string;
  n?: { t: string; ids?: string[] };
  marker?: number;
}

describe.runIf(process.env.DATABASE_URL)("change notices commit with their change", () => {
  const h = useHarness();
  const acme = withTenant(h, "Acme");
  let url: string;
  let listener: pg.Client;
  const messages: Message[] = [];
  const waiting = new Set<() => void>();
  let markers = 0;

  beforeAll(async () => {
    const rows = await h.deps.prisma.$queryRawUnsafe<{ name: string }[]>(
      "SELECT current_database() AS name",
    );
    url = serverUrl(process.env.DATABASE_URL!, rows[0]!.name);
    listener = new pg.Client({ connectionString: url });
    await listener.connect();
    listener.on("notification", (message) => {
      if (message.channel !== PG_CHANNEL || !message.payload) return;
      messages.push(JSON.parse(message.payload) as Message);
      for (const wake of waiting) wake();
    });
    await listener.query(`LISTEN ${PG_CHANNEL}`);
  });

  afterAll(async () => {
    await listener?.end();
  });

  /** Resolves once a received message matches (the test's timeout bounds the wait). */
  function arrival(match: (m: Message) => boolean): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        if (!messages.some(match)) return;
        waiting.delete(wake);
        resolve();
      };
      waiting.add(wake);
      wake();
    });
  }

  /** Commits a marker NOTIFY and waits for it: every notice committed before it has arrived. */
  async function settle(): Promise<void> {
    const marker = ++markers;
    await h.deps.db.prisma.$executeRawUnsafe(
      `SELECT pg_notify('${PG_CHANNEL}', $1)`,
      JSON.stringify({ marker }),
    );
    await arrival((m) => m.marker === marker);
  }

  const aboutKey = (id: string) => (m: Message) => m.n?.t === "keys" && !!m.n.ids?.includes(id);

  /**
   * Deps whose key runtime sends notices as a server's does (the harness's config has no
   * DATABASE_URL, so its own sends none); it does not listen, like the CLI's.
   */
  function instance(): { deps: Deps; runtime: KeyRuntime } {
    const runtime = new KeyRuntime(h.deps.db.prisma, h.deps.logger, { databaseUrl: url });
    return { deps: { ...h.deps, keys: runtime }, runtime };
  }

  it("a revocation is announced once, by its own transaction; a conflicting one not at all", async () => {
    const { apiKey } = await generateKeyFor(h, acme.token, { name: "revoked" });
    const { deps, runtime } = instance();
    // The system actor: the CLI's `keys revoke`.
    await revokeKey(deps, system, { id: apiKey.id, tenantId: acme.tenant.id });
    // stop() waits for whatever the runtime still sends after the commit (as the CLI does before
    // it exits): a second NOTIFY of the revocation would be committed before the marker.
    await runtime.stop();
    await settle();
    expect(messages.filter(aboutKey(apiKey.id))).toEqual([
      { o: runtime.notices.self, n: { t: "keys", ids: [apiKey.id] } },
    ]);

    const again = instance();
    await expect(
      revokeKey(again.deps, system, { id: apiKey.id, tenantId: acme.tenant.id }),
    ).rejects.toMatchObject({ code: "CONFLICT" });
    await again.runtime.stop();
    await settle();
    expect(messages.filter(aboutKey(apiKey.id))).toHaveLength(1);
  });

  it("the notice arrives when the change commits, not when it is announced", async () => {
    const { apiKey } = await generateKeyFor(h, acme.token, { name: "held" });
    const { deps, runtime } = instance();
    await runtime.transaction(deps.prisma, async (tx, announce) => {
      await tx.apiKey.update({ where: { id: apiKey.id }, data: { status: "REVOKED" } });
      await announce({ t: "keys", ids: [apiKey.id] });
      // Announced but not committed: a marker committed meanwhile arrives, the notice does not.
      await settle();
      expect(messages.some(aboutKey(apiKey.id))).toBe(false);
    });
    await arrival(aboutKey(apiKey.id));
    await runtime.stop();
  });

  it("a change that fails after announcing rolls back with its notice", async () => {
    const { apiKey } = await generateKeyFor(h, acme.token, { name: "kept" });
    const { deps, runtime } = instance();
    await expect(
      runtime.transaction(deps.prisma, async (tx, announce) => {
        await tx.apiKey.update({ where: { id: apiKey.id }, data: { status: "REVOKED" } });
        await announce({ t: "keys", ids: [apiKey.id] });
        throw new AppError("CONFLICT", "changed meanwhile");
      }),
    ).rejects.toMatchObject({ code: "CONFLICT" });
    await runtime.stop();
    await settle();
    expect(messages.some(aboutKey(apiKey.id))).toBe(false);
    const row = await h.deps.prisma.apiKey.findUniqueOrThrow({ where: { id: apiKey.id } });
    expect(row.status).toBe("ACTIVE");
  });

  it("a new key's notice is required: if PostgreSQL does not take it, the insert hook fails", async () => {
    // Another instance's key filter refuses a hash it never heard of: creating the key anyway
    // would leave it refused there until that instance rebuilds its filter.
    const broken = {
      $executeRawUnsafe: () => Promise.reject(new Error("connection lost")),
    } as unknown as Deps["prisma"];
    const failing = new KeyRuntime(broken, h.deps.logger, { databaseUrl: url });
    await expect(failing.keyCreated("f".repeat(64))).rejects.toThrow("connection lost");
    await failing.stop();

    const { runtime } = instance();
    await runtime.keyCreated("e".repeat(64));
    await arrival((m) => m.n?.t === "new" && m.o === runtime.notices.self);
    await runtime.stop();
  });

  it("a long list goes out in slices, all in the transaction", async () => {
    const ids = Array.from(
      { length: 250 },
      (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
    );
    const { deps, runtime } = instance();
    await runtime.transaction(deps.prisma, (_tx, announce) => announce({ t: "keys", ids }));
    await runtime.stop();
    await settle();
    const sent = messages
      .filter((m) => m.o === runtime.notices.self)
      .flatMap((m) => m.n?.ids ?? []);
    expect(sent).toEqual(ids);
  });
});
