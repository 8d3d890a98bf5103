// The dashboard's build: served by the gateway at /dashboard from dist/. `npm run dev` (root)
// runs Vite with hot reload and proxies the gateway's routes, so the console keeps one origin.
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const gateway = process.env.KEYGATE_GATEWAY_URL ?? "http://127.0.0.1:4000";
const proxied = { target: gateway, changeOrigin: false, xfwd: true };

export default defineConfig({
  base: "/dashboard/",
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
    // No inline <script> or data: module preload: the gateway's CSP allows 'self' only.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
  server: {
    port: Number(process.env.DASHBOARD_PORT ?? 5173),
    strictPort: true,
    proxy: {
      "/graphql": proxied,
      "/dashboard/session": proxied,
      "/api": proxied,
      "/v1": proxied,
      "/healthz": proxied,
      "/readyz": proxied,
    },
  },
});
