// Serves the built dashboard (dashboard/dist, from `npm run build -w dashboard`) at /dashboard:
// files by their extension's type, Vite's hashed assets cached for a year, any other path the
// single-page app's index.html (never cached, so a new build is picked up at once).
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Hono, type Context } from "hono";
import type { AppEnv } from "../app.ts";
import { DASHBOARD_BASE } from "./session.ts";

export const DEFAULT_DIST_DIR = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "..",
  "..",
  "dashboard",
  "dist",
);

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".map": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".webp": "image/webp",
  ".woff2": "font/woff2",
  ".woff": "font/woff",
  ".txt": "text/plain; charset=utf-8",
};

/** The console talks to its own origin only, runs no inline script and is never framed. */
export const DASHBOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

const securityHeaders = {
  "Content-Security-Policy": DASHBOARD_CSP,
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "no-referrer",
};

interface Asset {
  body: Uint8Array;
  type: string;
}

/** `stats.reads` counts files read from disk (tests show the cache holds one entry a file). */
export function dashboardAssetRoutes(
  distDir: string = DEFAULT_DIST_DIR,
  stats: { reads: number } = { reads: 0 },
) {
  const app = new Hono<AppEnv>();
  // Files do not change under a running gateway (a build replaces them all, index.html included):
  // read once, then from memory. Misses are not remembered, so a build made later is found.
  const cache = new Map<string, Asset>();

  async function load(requested: string): Promise<Asset | null> {
    const file = path.join(distDir, requested);
    if (!file.startsWith(distDir + path.sep)) return null;
    // Keyed by the file, not the path asked for: `assets//x.js`, `assets///x.js`... are one entry,
    // so no spelling of a path can make the cache grow beyond the files of the build.
    const relative = path.relative(distDir, file);
    const hit = cache.get(relative);
    if (hit) return hit;
    try {
      if (!(await stat(file)).isFile()) return null;
      stats.reads += 1;
      const asset = {
        body: new Uint8Array(await readFile(file)),
        type: CONTENT_TYPES[path.extname(file).toLowerCase()] ?? "application/octet-stream",
      };
      if (relative !== "index.html") cache.set(relative, asset);
      return asset;
    } catch {
      return null;
    }
  }

  const notBuilt = (c: Context<AppEnv>) =>
    c.text(
      "The dashboard is not built: run `npm run build -w dashboard` (npm install does it).",
      503,
      { "Cache-Control": "no-store" },
    );

  async function serve(c: Context<AppEnv>) {
    let relative: string;
    try {
      relative = decodeURIComponent(c.req.path.slice(DASHBOARD_BASE.length)).replace(/^\/+/, "");
    } catch {
      return c.text("Bad Request", 400);
    }
    if (relative.includes("\0") || relative.split("/").some((part) => part === ".."))
      return c.text("Not Found", 404);
    const hasExtension = path.extname(relative) !== "";
    if (relative && hasExtension) {
      const asset = await load(relative);
      if (!asset) return c.text("Not Found", 404, { "Cache-Control": "no-store" });
      const immutable = relative.startsWith("assets/");
      return c.body(asset.body as Uint8Array<ArrayBuffer>, 200, {
        "Content-Type": asset.type,
        "Cache-Control": immutable ? "public, max-age=31536000, immutable" : "no-cache",
        "X-Content-Type-Options": "nosniff",
        ...(asset.type.startsWith("text/html") ? securityHeaders : {}),
      });
    }
    // A page of the single-page app: its index.html, which routes in the browser.
    const index = await load("index.html");
    if (!index) return notBuilt(c);
    return c.body(index.body as Uint8Array<ArrayBuffer>, 200, {
      "Content-Type": index.type,
      "Cache-Control": "no-cache",
      ...securityHeaders,
    });
  }

  app.get(DASHBOARD_BASE, serve);
  app.get(`${DASHBOARD_BASE}/*`, serve);
  return app;
}
