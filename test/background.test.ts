// Background.run defers work until the request's response is sent (given by the transport in
// RequestMeta.responseSent), so that nothing it does can change the answer's timing.
import { describe, expect, it } from "vitest";
import { Background } from "../src/background.ts";
import { createLogger } from "../src/logger.ts";

const quiet = createLogger({ level: "silent" });

describe("background work", () => {
  it("starts only once the response is sent", async () => {
    const background = new Background(quiet);
    let send!: () => void;
    const sent = new Promise<void>((resolve) => {
      send = resolve;
    });
    let ran = false;
    background.run(
      "probe",
      async () => {
        ran = true;
      },
      () => sent,
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(ran).toBe(false);
    send();
    await background.idle();
    expect(ran).toBe(true);
  });

  it("starts at once outside a request, and logs a failure instead of throwing it", async () => {
    const lines: string[] = [];
    const logger = createLogger({
      level: "info",
      destination: { write: (line: string) => lines.push(line) } as never,
    });
    const background = new Background(logger);
    background.run("failing", async () => {
      throw new Error("mail server down");
    });
    await background.idle();
    expect(lines.map((line) => JSON.parse(line))).toEqual([
      expect.objectContaining({ task: "failing", msg: "background task failed" }),
    ]);
  });
});
