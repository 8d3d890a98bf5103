// GET /openapi.json: the OpenAPI 3.1 document of every REST route, generated from the routes'
// own declarations (request and response schemas next to each handler, see route.ts). GET /docs
// renders it with Swagger UI served from node_modules (no CDN).
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { Hono } from "hono";
import { companyApi } from "./company.ts";
import { gatewayAnswers } from "./envelope.ts";
import { extractorApi } from "./extractor.ts";
import { kotaniApi } from "./kotani.ts";
import { healthApi, nativeApi } from "./native.ts";
import {
  componentSchemas,
  operations,
  responseHeaders,
  type RouteGroup,
  signatureParameters,
} from "./route.ts";
import { yativoApi } from "./yativo.ts";

/** Every group of REST routes the app mounts; the document is made of their declarations. */
const restApis: RouteGroup[] = [
  healthApi,
  nativeApi,
  kotaniApi,
  yativoApi,
  extractorApi,
  companyApi,
];

export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const group of restApis) {
    for (const [route, methods] of Object.entries(operations(group, gatewayAnswers)))
      Object.assign((paths[route] ??= {}), methods);
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Keygate REST API",
      version: "0.1.0",
      // The package is private and unlicensed: say so rather than leave tools guessing.
      license: { name: "Proprietary", identifier: "LicenseRef-Proprietary" },
      description:
        "Keygate's native verification route and the vendor-compatible routes (Kotani Pay, Yativo, Extractor, company project keys). GraphQL is served at /graphql.",
    },
    // Relative: the gateway that serves this document (clients pass their own base URL).
    servers: [{ url: "/", description: "This gateway" }],
    components: {
      securitySchemes: {
        bearer: {
          type: "http",
          scheme: "bearer",
          description:
            "A session JWT, an exchange token, or an API key. Secure keys also sign each request: Keygate-Signature, or on the Kotani routes x-timestamp, x-nonce and x-signature.",
        },
        refreshToken: {
          type: "apiKey",
          in: "header",
          name: "refresh_token",
          description:
            "Or `Authorization: Bearer <refresh token>`, or the `refresh_token` query parameter.",
        },
      },
      parameters: signatureParameters,
      headers: responseHeaders,
      schemas: componentSchemas(),
    },
    paths,
  };
}

const swaggerDir = path.dirname(
  createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"),
);
const assets: Record<string, string> = {
  "swagger-ui.css": "text/css; charset=utf-8",
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
};

const docsPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Keygate REST API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css"></head>
<body><div id="docs"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body></html>`;

export function docsRoutes() {
  const app = new Hono();
  let cached: string | undefined;
  app.get("/openapi.json", (c) => {
    cached ??= JSON.stringify(openApiDocument());
    return c.body(cached, 200, { "content-type": "application/json; charset=utf-8" });
  });
  app.get("/docs", (c) => c.html(docsPage));
  app.get("/docs/init.js", (c) =>
    c.body('window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#docs" });', 200, {
      "content-type": "text/javascript; charset=utf-8",
    }),
  );
  app.get("/docs/:asset", async (c) => {
    const asset = c.req.param("asset");
    const type = assets[asset];
    if (!type) return c.notFound();
    const body = await readFile(path.join(swaggerDir, asset));
    return c.body(body, 200, { "content-type": type, "cache-control": "public, max-age=86400" });
  });
  return app;
}
