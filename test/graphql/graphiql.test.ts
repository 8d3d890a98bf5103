// GraphiQL without internet, through real HTTP: the page references nothing outside the gateway,
// and every script, style and editor worker it needs loads from the gateway itself.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useHarness } from "../helpers/fixtures.ts";
import { listen, type Listening } from "../helpers/listen.ts";

/** Every URL an HTML page makes the browser load or link to (src, href, url(), import). */
function referencedUrls(html: string): string[] {
  const found = new Set<string>();
  for (const pattern of [/\b(?:src|href)\s*=\s*["']?([^"'\s>]+)/gi, /url\(\s*["']?([^"')]+)/gi]) {
    for (const match of html.matchAll(pattern)) found.add(match[1]!);
  }
  return [...found];
}

describe("GraphiQL enabled (development)", () => {
  const h = useHarness({ GRAPHIQL: "true" });
  let server: Listening;
  let page = "";

  beforeAll(async () => {
    server = await listen(h);
    const response = await fetch(`${server.url}/graphql`, { headers: { accept: "text/html" } });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/html");
    page = await response.text();
  });
  afterAll(async () => {
    await server?.close();
  });

  it("references no other origin", () => {
    expect(page).not.toMatch(/https?:\/\//i);
    expect(page).not.toMatch(/(?:src|href)\s*=\s*["']?\/\//i);
    const urls = referencedUrls(page);
    expect(urls.length).toBeGreaterThanOrEqual(4);
    for (const url of urls) expect(url, url).toMatch(/^\/graphiql\/[\w.-]+$/);
  });

  it("loads every asset it references from the gateway", async () => {
    const types: Record<string, string> = {};
    for (const url of referencedUrls(page)) {
      const response = await fetch(`${server.url}${url}`);
      expect(response.status, url).toBe(200);
      const body = await response.arrayBuffer();
      expect(body.byteLength, url).toBeGreaterThan(0);
      types[url] = response.headers.get("content-type") ?? "";
    }
    expect(types["/graphiql/graphiql.css"]).toContain("text/css");
    expect(types["/graphiql/graphiql.js"]).toContain("javascript");
    const bundle = await (await fetch(`${server.url}/graphiql/graphiql.js`)).text();
    expect(bundle).toContain("renderYogaGraphiQL");
    // The stylesheet pulls in nothing from elsewhere either (fonts, images).
    const css = await (await fetch(`${server.url}/graphiql/graphiql.css`)).text();
    expect(css).not.toMatch(/url\(\s*["']?https?:/i);
    expect(css).not.toMatch(/@import\s+(?:url\()?["']?https?:/i);
  });

  it("starts Monaco's editor workers from the gateway too", async () => {
    const setup = await (await fetch(`${server.url}/graphiql/setup.js`)).text();
    expect(setup).toContain("MonacoEnvironment");
    const workers = [...setup.matchAll(/"([\w.-]+\.worker\.js)"/g)].map((m) => m[1]!);
    expect(new Set(workers)).toEqual(
      new Set(["json.worker.js", "graphql.worker.js", "editor.worker.js"]),
    );
    for (const worker of workers) {
      const response = await fetch(`${server.url}/graphiql/${worker}`);
      expect(response.status, worker).toBe(200);
      expect((await response.text()).length, worker).toBeGreaterThan(1000);
    }
  });

  it("passes the endpoint in a JSON element, not inline script, and escapes it", () => {
    const options = /<script type="application\/json" id="graphiql-options">(.*?)<\/script>/s.exec(
      page,
    );
    expect(JSON.parse(options![1]!)).toMatchObject({ endpoint: "/graphql", title: "Keygate" });
    const scripts = [...page.matchAll(/<script(?![^>]*application\/json)[^>]*>(.*?)<\/script>/gs)];
    expect(scripts.length).toBe(3);
    for (const script of scripts) expect(script[1]!.trim()).toBe("");
  });

  it("sends compressed assets to clients that accept gzip, and 404 for anything else", async () => {
    const response = await fetch(`${server.url}/graphiql/graphiql.js`, {
      headers: { "accept-encoding": "gzip" },
    });
    expect(response.headers.get("content-encoding")).toBe("gzip");
    expect((await response.text()).length).toBeGreaterThan(1_000_000);
    expect((await fetch(`${server.url}/graphiql/..%2Fpackage.json`)).status).toBe(404);
    expect((await fetch(`${server.url}/graphiql/nope.js`)).status).toBe(404);
  });
});

describe("GraphiQL disabled (production)", () => {
  const h = useHarness({ GRAPHIQL: "false" });
  let server: Listening;
  beforeAll(async () => {
    server = await listen(h);
  });
  afterAll(async () => {
    await server?.close();
  });

  it("serves neither the page nor its assets", async () => {
    const page = await fetch(`${server.url}/graphql`, { headers: { accept: "text/html" } });
    expect(await page.text()).not.toContain("graphiql");
    expect((await fetch(`${server.url}/graphiql/graphiql.js`)).status).toBe(404);
  });
});
