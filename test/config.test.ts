import { mkdtemp, readFile, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, parseEncryptionKeys } from "../src/config.ts";

const tmp = () => mkdtemp(path.join(os.tmpdir(), "keygate-config-"));

describe("configuration", () => {
  it("names every bad value at once", async () => {
    const error = await loadConfig({
      PORT: "http",
      DATABASE_URL: "mysql://x",
      ADMIN_EMAIL: "nope",
      DATA_DIR: await tmp(),
    }).catch((e) => e);
    expect(error).toBeInstanceOf(ConfigError);
    const text = (error as ConfigError).problems.join("\n");
    expect(text).toMatch(/PORT/);
    expect(text).toMatch(/DATABASE_URL: must be a postgresql:\/\/ URL/);
    expect(text).toMatch(/ADMIN_EMAIL/);
  });

  it("refuses to start in production without secrets", async () => {
    const error = await loadConfig({ NODE_ENV: "production", DATA_DIR: await tmp() }).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      "JWT_SECRET: required when NODE_ENV=production",
      "ENCRYPTION_KEY: required when NODE_ENV=production",
    ]);
  });

  it("generates development secrets once, mode 0600, and reuses them", async () => {
    const dir = await tmp();
    const warnings: string[] = [];
    const first = await loadConfig({ DATA_DIR: dir }, (m) => warnings.push(m));
    const second = await loadConfig({ DATA_DIR: dir }, (m) => warnings.push(m));
    expect(warnings).toHaveLength(1);
    expect(Buffer.from(first.jwtSecret).equals(Buffer.from(second.jwtSecret))).toBe(true);
    expect(first.encryptionKeys[0]!.key.equals(second.encryptionKeys[0]!.key)).toBe(true);
    const file = path.join(dir, "dev-secrets.json");
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(file, "utf8"))).toHaveProperty("JWT_SECRET");
  });

  it("applies defaults and production switches", async () => {
    const dir = await tmp();
    const base = {
      DATA_DIR: dir,
      JWT_SECRET: "x".repeat(32),
      ENCRYPTION_KEY: Buffer.alloc(32, 1).toString("base64"),
    };
    const dev = await loadConfig(base);
    expect(dev).toMatchObject({
      port: 4000,
      host: "127.0.0.1",
      publicUrl: "http://localhost:4000",
      graphiql: true,
      introspection: true,
    });
    const prod = await loadConfig({
      ...base,
      NODE_ENV: "production",
      PUBLIC_URL: "https://keys.example.com/",
    });
    expect(prod).toMatchObject({
      graphiql: false,
      introspection: false,
      publicUrl: "https://keys.example.com",
    });
  });

  it("parses versioned encryption keys, current first", () => {
    const k1 = Buffer.alloc(32, 1).toString("base64");
    const k2 = Buffer.alloc(32, 2).toString("hex");
    expect(parseEncryptionKeys(`v2:${k2},v1:${k1}`).map((k) => k.version)).toEqual([2, 1]);
    expect(() => parseEncryptionKeys("c2hvcnQ=")).toThrow(/32 bytes/);
    expect(() => parseEncryptionKeys(`v1:${k1},v1:${k1}`)).toThrow(/twice/);
  });
});
