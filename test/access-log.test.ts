// The access log formats its lines itself (src/access-log.ts): they must be byte for byte what
// pino writes for the same fields, on the logger's own stream, and no client value may break
// out of its field or its line.
import { Writable } from "node:stream";
import { afterEach, describe, expect, it, vi } from "vitest";
import { AccessLog } from "../src/access-log.ts";
import { createLogger } from "../src/logger.ts";

function capture(level = "info") {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { lines, logger: createLogger({ level, destination }) };
}

afterEach(() => {
  vi.useRealTimers();
});

describe("the access log", () => {
  it("writes the line pino writes for the same fields, on the logger's stream", () => {
    vi.useFakeTimers({ now: new Date("2026-12-07T10:11:12.345Z"), toFake: ["Date"] });
    const { lines, logger } = capture();
    const facts = {
      requestId: "req-1",
      tenantId: "8b1c1f0e-2b7a-4d2e-9d7e-1c2b3a4d5e6f",
      keyId: "7a1c1f0e-2b7a-4d2e-9d7e-1c2b3a4d5e6f",
    };
    new AccessLog(logger).write(
      facts,
      AccessLog.request("GET", "/v1/keys/:id", "/v1/keys/7a1c"),
      200,
      performance.now() - 12.3456,
    );
    expect(lines).toHaveLength(1);
    const ours = lines[0] ?? "";
    const { durationMs } = JSON.parse(ours);
    expect(durationMs).toBeGreaterThanOrEqual(12.34);
    expect(Math.round(durationMs * 100)).toBe(durationMs * 100);
    logger.info(
      {
        requestId: facts.requestId,
        method: "GET",
        route: "/v1/keys/:id",
        path: "/v1/keys/7a1c",
        status: 200,
        durationMs,
        tenantId: facts.tenantId,
        keyId: facts.keyId,
      },
      "request",
    );
    expect(lines[1]).toBe(ours);
    expect(JSON.parse(ours)).toMatchObject({
      level: 30,
      time: "2026-12-07T10:11:12.345Z",
      service: "keygate",
      msg: "request",
    });
  });

  it("leaves out the tenant and key of an anonymous request, like pino leaves out undefined", () => {
    const { lines, logger } = capture();
    new AccessLog(logger).write(
      { requestId: "req-2" },
      AccessLog.request("POST", "/v1/keys/verify", "/v1/keys/verify"),
      200,
      0,
    );
    const line = JSON.parse(lines[0] ?? "");
    expect(line).not.toHaveProperty("tenantId");
    expect(line).not.toHaveProperty("keyId");
    expect(line.requestId).toBe("req-2");
  });

  it("keeps a client's path and method inside their fields, on one line", () => {
    const { lines, logger } = capture();
    const path = '/x","status":500,"msg":"forged"}\n{"level":60,"msg":"\u2028';
    new AccessLog(logger).write(
      { requestId: "req-3" },
      AccessLog.request('GE"T', "*", path),
      404,
      0,
    );
    expect(lines).toHaveLength(1);
    expect(lines[0]?.split("\n")).toEqual([expect.any(String), ""]);
    const line = JSON.parse(lines[0] ?? "");
    expect(line).toMatchObject({ path, method: 'GE"T', status: 404, msg: "request" });
  });

  it("writes nothing above the info level, and follows a level changed at run time", () => {
    const { lines, logger } = capture("warn");
    const access = new AccessLog(logger);
    const request = AccessLog.request("GET", "/healthz", "/healthz");
    access.write({ requestId: "quiet" }, request, 200, 0);
    expect(lines).toHaveLength(0);
    logger.level = "info";
    access.write({ requestId: "loud" }, request, 200, 0);
    expect(lines.map((l) => JSON.parse(l).requestId)).toEqual(["loud"]);
  });
});
