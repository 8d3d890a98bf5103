// `npm run dev`: the gateway with reload on change (tsx watch) and the dashboard with hot
// reload (Vite on :5173, proxying the gateway's routes, so the console keeps one origin).
// Open http://localhost:5173/dashboard/. Sign-in links point at the Vite server too
// (PUBLIC_URL defaults to it here), so they come back to the hot-reloading console.
import { spawn, spawnSync } from "node:child_process";
import { watch } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const dashboard = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const root = path.dirname(dashboard);
const port = process.env.PORT ?? "4000";
const vitePort = process.env.DASHBOARD_PORT ?? "5173";
const publicUrl = process.env.PUBLIC_URL ?? `http://localhost:${vitePort}`;

// Typed documents first, then again whenever an operation or the schema changes (Node's own
// recursive watch: codegen's --watch needs a native module the install does not carry).
const codegen = () =>
  spawnSync(
    path.join(root, "node_modules", ".bin", "graphql-codegen"),
    ["--config", "codegen.ts"],
    {
      cwd: dashboard,
      stdio: "inherit",
    },
  );
codegen();
let pending;
const regenerate = (_event, file) => {
  if (file && String(file).split(path.sep).includes("gql")) return;
  clearTimeout(pending);
  pending = setTimeout(codegen, 300);
};
const watchers = [
  watch(path.join(dashboard, "src"), { recursive: true }, regenerate),
  watch(path.join(root, "schema.graphql"), regenerate),
];

const children = [
  spawn(path.join(root, "node_modules", ".bin", "tsx"), ["watch", "src/main.ts"], {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, PORT: port, PUBLIC_URL: publicUrl },
  }),
  spawn(path.join(root, "node_modules", ".bin", "vite"), [], {
    cwd: dashboard,
    stdio: "inherit",
    env: {
      ...process.env,
      KEYGATE_GATEWAY_URL: `http://127.0.0.1:${port}`,
      DASHBOARD_PORT: vitePort,
    },
  }),
];

let stopping = false;
function stop(signal) {
  if (stopping) return;
  stopping = true;
  for (const watcher of watchers) watcher.close();
  clearTimeout(pending);
  for (const child of children) if (child.exitCode === null) child.kill(signal);
}
process.on("SIGINT", () => stop("SIGINT"));
process.on("SIGTERM", () => stop("SIGTERM"));
for (const child of children)
  child.on("exit", (code) => {
    stop("SIGTERM");
    process.exitCode ||= code ?? 0;
  });
