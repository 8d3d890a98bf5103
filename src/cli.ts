// keygate CLI: migrate | tenant create | user add | keys list | keys revoke | members list |
// mail last | secrets reencrypt | schema print. Each command has --help.
import { readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { serverCommands, type CommandValues, type ServerCommand } from "./admin-commands.ts";
import { ConfigError, loadConfig, type Config } from "./config.ts";
import {
  controlSocketPath,
  ControlSocketUnavailable,
  sendControlCommand,
} from "./control-socket.ts";
import { DataDirLockedError } from "./db/data-dir-lock.ts";
import { projectRoot } from "./db/migrate.ts";
import type { Deps } from "./deps.ts";
import { AppError } from "./errors.ts";
import { createLogger } from "./logger.ts";
import { MAGIC_LINK_PATH } from "./modules/sign-in/magic-link.ts";
import { closeDeps, openDeps } from "./server.ts";

interface Command {
  usage: string;
  options: Record<string, { type: "string" | "boolean"; description: string }>;
  run(values: CommandValues): Promise<void>;
}

/** Quoted-printable to text: soft line breaks joined, `=XX` bytes decoded (`=3D` → `=`). */
function decodeQuotedPrintable(text: string): string {
  const joined = text.replace(/=\r?\n/g, "");
  const bytes: number[] = [];
  for (let i = 0; i < joined.length; i++) {
    const hex = joined.slice(i + 1, i + 3);
    if (joined[i] === "=" && /^[0-9A-F]{2}$/i.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(joined[i] ?? "", "utf8"));
    }
  }
  return Buffer.from(bytes).toString("utf8");
}

/** The newest sign-in link in DATA_DIR/outbox, or undefined. Mail files are named by time. */
async function lastSignInLink(dataDir: string): Promise<string | undefined> {
  const outbox = path.join(dataDir, "outbox");
  const files = (await readdir(outbox).catch(() => [] as string[]))
    .filter((f) => f.endsWith(".eml"))
    .sort()
    .reverse();
  const pattern = new RegExp(`https?://[^\\s"<>]+?${MAGIC_LINK_PATH}\\?hash=[A-Za-z0-9_%.~-]+`);
  for (const file of files) {
    const text = decodeQuotedPrintable(await readFile(path.join(outbox, file), "utf8"));
    const link = pattern.exec(text)?.[0];
    if (link) return link;
  }
  return undefined;
}

/** What the user reads when the embedded database is taken: who holds it and what to do. */
class CliError extends Error {}

let config: Config | undefined;
async function cliConfig(): Promise<Config> {
  config ??= await loadConfig(process.env, (m) => console.error(m));
  return config;
}

async function withDeps<T>(command: string, fn: (deps: Deps) => Promise<T>): Promise<T> {
  let deps: Deps;
  try {
    deps = await openDeps(
      await cliConfig(),
      createLogger({ level: "warn", destination: process.stderr as never }),
    );
  } catch (error) {
    if (!(error instanceof DataDirLockedError)) throw error;
    const { holder, dataDir } = error;
    throw new CliError(
      holder.role === "server"
        ? `cannot run "${command}" while a keygate server (PID ${holder.pid}) holds the embedded database ${dataDir}: stop the server first (kill -TERM ${holder.pid}), then run the command again`
        : `cannot run "${command}": another keygate command (PID ${holder.pid}) is using the embedded database ${dataDir}; run it again when that one has finished`,
      { cause: error },
    );
  }
  try {
    return await fn(deps);
  } finally {
    await closeDeps(deps);
  }
}

/** Runs on the database, or, while a server holds the embedded one, inside that server. */
async function runAnywhere(command: ServerCommand, values: CommandValues): Promise<string> {
  try {
    return await withDeps(command, (deps) => serverCommands[command](deps, values));
  } catch (error) {
    const cause = error instanceof CliError ? error.cause : undefined;
    if (!(cause instanceof DataDirLockedError) || cause.holder.role !== "server") throw error;
    const socket = controlSocketPath((await cliConfig()).dataDir);
    try {
      return await sendControlCommand(socket, command, values);
    } catch (sent) {
      if (!(sent instanceof ControlSocketUnavailable)) throw sent;
      throw new CliError(
        `the keygate server (PID ${cause.holder.pid}) holds the embedded database ${cause.dataDir} but its control socket does not answer (${sent.message}); stop the server (kill -TERM ${cause.holder.pid}) and run the command again`,
      );
    }
  }
}

const commands: Record<string, Command> = {
  migrate: {
    usage: "keygate migrate",
    options: {},
    async run() {
      // openDeps applies pending migrations; report what the database holds now.
      await withDeps("migrate", async (deps) => {
        const rows = await deps.prisma.$queryRawUnsafe<{ migration_name: string }[]>(
          'SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL ORDER BY migration_name',
        );
        console.log(
          `database is current (${deps.db.kind}): ${rows.map((r) => r.migration_name).join(", ")}`,
        );
      });
    },
  },
  "tenant create": {
    usage:
      "keygate tenant create --name <name> --owner-email <email> [--key-prefix kg] [--platform-admin]",
    options: {
      name: { type: "string", description: "tenant name" },
      "owner-email": { type: "string", description: "email of the tenant's OWNER" },
      "key-prefix": { type: "string", description: "prefix of the tenant's keys (default kg)" },
      "platform-admin": { type: "boolean", description: "make the owner a platform administrator" },
    },
    async run(values) {
      console.log(await runAnywhere("tenant create", values));
    },
  },
  "user add": {
    usage:
      "keygate user add --tenant <tenant id> --email <email> [--role OWNER|ADMIN|MEMBER] [--permissions a:b,c:d]",
    options: {
      tenant: { type: "string", description: "tenant id (uuid)" },
      email: { type: "string", description: "the user's email" },
      role: { type: "string", description: "OWNER, ADMIN or MEMBER (default MEMBER)" },
      permissions: { type: "string", description: "comma-separated permissions of a MEMBER" },
    },
    async run(values) {
      console.log(await runAnywhere("user add", values));
    },
  },
  "keys list": {
    usage: "keygate keys list --tenant <tenant id> [--status ACTIVE|DISABLED|REVOKED|DELETED]",
    options: {
      tenant: { type: "string", description: "tenant id (uuid)" },
      status: { type: "string", description: "only keys in this status" },
    },
    async run(values) {
      // One JSON line per key, newest first; keys are masked (prefix…last characters).
      const out = await runAnywhere("keys list", values);
      if (out) console.log(out);
    },
  },
  "keys revoke": {
    usage: "keygate keys revoke --tenant <tenant id> --id <key id> [--reason <text>]",
    options: {
      tenant: { type: "string", description: "tenant id (uuid)" },
      id: { type: "string", description: "key id (uuid)" },
      reason: { type: "string", description: "why (kept in the key and the audit trail)" },
    },
    async run(values) {
      console.log(await runAnywhere("keys revoke", values));
    },
  },
  "members list": {
    usage: "keygate members list --tenant <tenant id>",
    options: { tenant: { type: "string", description: "tenant id (uuid)" } },
    async run(values) {
      const out = await runAnywhere("members list", values);
      if (out) console.log(out);
    },
  },
  "mail last": {
    usage: "keygate mail last",
    options: {},
    async run() {
      // Reads the outbox only: works while a server runs, and touches no database.
      const dataDir = (await cliConfig()).dataDir;
      const link = await lastSignInLink(dataDir);
      if (!link)
        throw new CliError(
          `no sign-in link in ${path.join(dataDir, "outbox")} (with SMTP_URL set, mail is not kept there)`,
        );
      console.log(link);
    },
  },
  "secrets reencrypt": {
    usage: "keygate secrets reencrypt",
    options: {},
    async run() {
      // ENCRYPTION_KEY must list the new version first and the old ones after it: v2:<new>,v1:<old>.
      await withDeps("secrets reencrypt", async (deps) => {
        const { reencryptSecrets } = await import("./modules/keys/reencrypt.ts");
        const report = await reencryptSecrets(deps);
        console.log(JSON.stringify(report));
        const stale = Object.keys(report.remainingByVersion).filter(
          (v) => v !== `v${report.currentVersion}`,
        );
        console.log(
          stale.length
            ? `rows still under ${stale.join(", ")}`
            : `every secret is under v${report.currentVersion}: older ENCRYPTION_KEY versions can be retired`,
        );
      });
    },
  },
  "schema print": {
    usage: "keygate schema print [--write]",
    options: {
      write: { type: "boolean", description: "write schema.graphql instead of printing it" },
    },
    async run(values) {
      const { printSchemaSDL } = await import("./graphql/schema.ts");
      const sdl = printSchemaSDL();
      if (values.write) {
        await writeFile(path.join(projectRoot, "schema.graphql"), sdl);
        console.log("wrote schema.graphql");
      } else {
        process.stdout.write(sdl);
      }
    },
  },
};

function help(): string {
  return [
    "usage:",
    ...Object.values(commands).map((c) => `  ${c.usage}`),
    "",
    "Each command takes --help.",
  ].join("\n");
}

async function main(argv: string[]) {
  const name = [argv.slice(0, 2).join(" "), argv[0]].find((n) => n && commands[n]);
  if (!name) {
    console.log(help());
    process.exit(argv.length === 0 || argv[0] === "--help" || argv[0] === "-h" ? 0 : 2);
  }
  const command = commands[name];
  if (!command) throw new Error(`unknown command: ${name}`);
  const rest = argv.slice(name.split(" ").length);
  const { values } = parseArgs({
    args: rest,
    options: {
      ...Object.fromEntries(Object.entries(command.options).map(([k, o]) => [k, { type: o.type }])),
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    console.log(`usage: ${command.usage}`);
    for (const [k, o] of Object.entries(command.options))
      console.log(`  --${k.padEnd(16)} ${o.description}`);
    return;
  }
  await command.run(values as CommandValues);
}

// Exit as soon as the command is done: the WASM schema engine leaves a timer behind that
// would hold the process for several seconds after migrating.
main(process.argv.slice(2)).then(
  () => process.exit(0),
  (error) => {
    if (error instanceof ConfigError || error instanceof AppError || error instanceof CliError)
      console.error(error.message);
    else if ((error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS"))
      console.error(`${(error as Error).message}\n${help()}`);
    else console.error(error);
    process.exit(1);
  },
);
