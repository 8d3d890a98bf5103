// GraphiQL from the gateway itself: yoga's default page loads its bundle from a CDN and stays a
// blank "Loading" page on a machine without internet. The page rendered here references only
// /graphiql/* on this origin, served from @graphql-yoga/render-graphiql's bundle (the same
// GraphiQL yoga ships). The 9 MB bundle is loaded on the first request for it, never at start.
import { promisify } from "node:util";
import { gzip as gzipCallback } from "node:zlib";
import { Hono } from "hono";
import type { GraphiQLOptions } from "graphql-yoga";

export const GRAPHIQL_ASSET_PREFIX = "/graphiql";

const gzip = promisify(gzipCallback);

interface Asset {
  type: string;
  body: Buffer;
  gzip: Buffer;
}

type Bundle = typeof import("@graphql-yoga/render-graphiql/graphiql");

// Monaco asks for a worker by label; these are the ones GraphiQL's editors use.
const WORKERS: Record<string, keyof Bundle> = {
  "editor.worker.js": "editorWorkerService",
  "json.worker.js": "jsonWorker",
  "graphql.worker.js": "graphqlWorker",
};

// Before the bundle: Monaco reads this when it starts its workers, from this origin.
const SETUP_JS = `self.MonacoEnvironment = {
  globalAPI: false,
  getWorkerUrl: function (_moduleId, label) {
    var file = { json: "json.worker.js", graphql: "graphql.worker.js" }[label] || "editor.worker.js";
    return "${GRAPHIQL_ASSET_PREFIX}/" + file;
  },
};
`;

// After the bundle: the options travel in a JSON script element, so the page has no inline script.
const INIT_JS = `YogaGraphiQL.renderYogaGraphiQL(
  document.querySelector("#root"),
  JSON.parse(document.getElementById("graphiql-options").textContent),
);
`;

let assets: Promise<Map<string, Asset>> | undefined;

async function asset(type: string, content: string | Buffer): Promise<Asset> {
  const body = typeof content === "string" ? Buffer.from(content) : content;
  return { type, body, gzip: await gzip(body) };
}

async function loadAssets(): Promise<Map<string, Asset>> {
  const bundle: Bundle = await import("@graphql-yoga/render-graphiql/graphiql");
  const js = "text/javascript; charset=utf-8";
  const files: [string, string, string | Buffer][] = [
    ["graphiql.css", "text/css; charset=utf-8", bundle.css],
    ["graphiql.js", js, bundle.js],
    ["setup.js", js, SETUP_JS],
    ["init.js", js, INIT_JS],
    ...Object.entries(WORKERS).map(([file, name]): [string, string, string] => [
      file,
      js,
      bundle[name],
    ]),
  ];
  const [, iconType, iconData] = /^data:([^;,]+);base64,(.*)$/s.exec(bundle.favicon) ?? [];
  if (iconType && iconData) files.push(["favicon.ico", iconType, Buffer.from(iconData, "base64")]);
  const built = await Promise.all(
    files.map(async ([file, type, content]) => [file, await asset(type, content)] as const),
  );
  return new Map(built);
}

const escapeJsonForHtml = (value: unknown) =>
  JSON.stringify(value).replace(/</g, "\\u003c").replace(/>/g, "\\u003e").replace(/&/g, "\\u0026");

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

/** yoga's `renderGraphiQL`: the page, with every asset on this origin. */
export function renderGraphiQLPage(options: GraphiQLOptions): string {
  const title = escapeHtml(options.title ?? "GraphiQL");
  const at = (file: string) => `${GRAPHIQL_ASSET_PREFIX}/${file}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${title}</title>
<link rel="icon" href="${at("favicon.ico")}">
<link rel="stylesheet" href="${at("graphiql.css")}">
</head>
<body id="body" class="no-focus-outline">
<noscript>You need to enable JavaScript to run this app.</noscript>
<div id="root"></div>
<script type="application/json" id="graphiql-options">${escapeJsonForHtml(options)}</script>
<script src="${at("setup.js")}"></script>
<script src="${at("graphiql.js")}"></script>
<script src="${at("init.js")}"></script>
</body>
</html>
`;
}

/** GET /graphiql/:asset: GraphiQL's files, when GraphiQL is enabled (404 otherwise). */
export function graphiqlRoutes(enabled: boolean) {
  const app = new Hono();
  app.get(`${GRAPHIQL_ASSET_PREFIX}/:asset`, async (c) => {
    if (!enabled) return c.notFound();
    assets ??= loadAssets().catch((error: unknown) => {
      assets = undefined;
      throw error;
    });
    const found = (await assets).get(c.req.param("asset"));
    if (!found) return c.notFound();
    const gzip = /\bgzip\b/.test(c.req.header("accept-encoding") ?? "");
    const body = gzip ? found.gzip : found.body;
    return c.body(new Uint8Array(body), 200, {
      "content-type": found.type,
      "cache-control": "public, max-age=3600",
      vary: "accept-encoding",
      ...(gzip ? { "content-encoding": "gzip" } : {}),
    });
  });
  return app;
}
