// Builds the dashboard (codegen from schema.graphql, then Vite) unless dist/ is current.
// `npm install` runs it (postinstall) and `npm start` runs it with --if-missing.
//   node dashboard/scripts/ensure-built.mjs [--if-missing] [--force]
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const dashboard = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const root = path.dirname(dashboard);
const dist = path.join(dashboard, "dist");
const stampFile = path.join(dist, ".build-stamp");
const args = new Set(process.argv.slice(2));

function files(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== "gql" && entry.name !== "node_modules") out.push(...files(full));
    } else out.push(full);
  }
  return out;
}

function sourceStamp() {
  const hash = createHash("sha256");
  const inputs = [
    ...files(path.join(dashboard, "src")),
    ...["index.html", "vite.config.ts", "codegen.ts", "package.json", "tsconfig.json"].map((f) =>
      path.join(dashboard, f),
    ),
    path.join(root, "schema.graphql"),
  ].sort();
  for (const file of inputs) {
    if (!existsSync(file) || !statSync(file).isFile()) continue;
    hash.update(path.relative(root, file)).update("\0").update(readFileSync(file)).update("\0");
  }
  return hash.digest("hex");
}

const lockDir = path.join(dashboard, ".build-lock");

function current() {
  const built = existsSync(path.join(dist, "index.html"));
  if (args.has("--if-missing") && built) return true;
  if (args.has("--force")) return false;
  return built && existsSync(stampFile) && readFileSync(stampFile, "utf8") === sourceStamp();
}

// One build at a time (test files may ask at once): the others wait, then find it current.
const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
const deadline = Date.now() + 300_000;
for (;;) {
  if (!existsSync(lockDir) && current()) process.exit(0);
  try {
    mkdirSync(lockDir);
    break;
  } catch (error) {
    if (error.code !== "EEXIST") throw error;
    // A lock older than the deadline was left by a killed build.
    if (Date.now() - statSync(lockDir).mtimeMs > 300_000)
      rmSync(lockDir, { recursive: true, force: true });
    if (Date.now() > deadline) throw new Error(`dashboard: ${lockDir} held too long`);
    sleep(250);
  }
}
process.on("exit", () => rmSync(lockDir, { recursive: true, force: true }));
const stamp = sourceStamp();

const bin = (name) => path.join(root, "node_modules", ".bin", name);
if (!existsSync(bin("vite")) || !existsSync(bin("graphql-codegen"))) {
  console.warn(
    "dashboard: build tools missing (installed without dev dependencies?); /dashboard answers 503 until `npm run build -w dashboard`",
  );
  process.exit(0);
}
console.log("dashboard: building (codegen from schema.graphql, then vite build)");
for (const [name, argv] of [
  ["graphql-codegen", ["--config", "codegen.ts"]],
  ["vite", ["build", "--logLevel", "warn"]],
]) {
  const result = spawnSync(bin(name), argv, { cwd: dashboard, stdio: "inherit" });
  if (result.status !== 0) {
    console.error(`dashboard: ${name} failed`);
    process.exit(result.status ?? 1);
  }
}
writeFileSync(stampFile, stamp);
console.log("dashboard: built into dashboard/dist");
