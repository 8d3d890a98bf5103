// Log lines to standard output wait up to 50 ms to be written together (src/logger.ts). A real
// process: none may be lost when it exits at once, and a line must not wait for the next one.
import { spawn } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { projectRoot } from "../src/db/migrate.ts";

function run(code: string, onLine?: (line: string, child: ReturnType<typeof spawn>) => void) {
  const logger = path.join(projectRoot, "src", "logger.ts");
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      "--input-type=module",
      "-e",
      `import { createLogger } from ${JSON.stringify(logger)};\n${code}`,
    ],
    { cwd: projectRoot, stdio: ["ignore", "pipe", "inherit"] },
  );
  let out = "";
  child.stdout.on("data", (chunk: Buffer) => {
    out += chunk;
    if (onLine) for (const line of out.split("\n").slice(0, -1)) onLine(line, child);
  });
  return new Promise<{ code: number | null; lines: string[] }>((resolve) =>
    child.once("close", (code) => resolve({ code, lines: out.split("\n").filter(Boolean) })),
  );
}

describe("log lines on standard output", () => {
  it("are all written when the process exits right after logging them", async () => {
    const { code, lines } = await run(`
      const logger = createLogger({ level: "info" });
      for (let i = 0; i < 5000; i++) logger.info({ i }, "line");
      process.exit(3);
    `);
    expect(code).toBe(3);
    expect(lines.map((line) => JSON.parse(line).i)).toEqual([...Array(5000).keys()]);
  });

  it("are written within the batch delay while the process goes on", async () => {
    let seenWhileAlive = false;
    const { lines } = await run(
      `
      const logger = createLogger({ level: "info" });
      logger.info("alone");
      setTimeout(() => {}, 10_000);
    `,
      (line, child) => {
        if (JSON.parse(line).msg === "alone" && child.exitCode === null) {
          seenWhileAlive = true;
          child.kill();
        }
      },
    );
    expect(seenWhileAlive).toBe(true);
    expect(lines).toHaveLength(1);
  });
});
