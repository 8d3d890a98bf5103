// Outgoing mail through nodemailer: real SMTP when SMTP_URL is set, otherwise
// `.eml` files in DATA_DIR/outbox. Sending happens in the background so a
// request's timing never depends on it; `idle()` lets tests and shutdown wait.
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import nodemailer, { type Transporter } from "nodemailer";
import type { Config } from "../config.ts";
import type { Logger } from "../logger.ts";

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
}

export interface Mailer {
  /** Queues a message; never throws to the caller. */
  send(message: MailMessage, logContext?: Record<string, unknown>): void;
  /** Resolves when every queued message has been delivered or has failed. */
  idle(): Promise<void>;
  outboxDir?: string;
}

export function createMailer(
  config: Pick<Config, "smtpUrl" | "mailFrom" | "dataDir">,
  logger: Logger,
): Mailer {
  const outboxDir = config.smtpUrl ? undefined : path.join(config.dataDir, "outbox");
  const transport: Transporter = config.smtpUrl
    ? nodemailer.createTransport(config.smtpUrl)
    : nodemailer.createTransport({ streamTransport: true, buffer: true, newline: "unix" });
  const pending = new Set<Promise<void>>();

  async function deliver(message: MailMessage, logContext: Record<string, unknown>) {
    const info = await transport.sendMail({ from: config.mailFrom, ...message });
    if (outboxDir) {
      await mkdir(outboxDir, { recursive: true, mode: 0o700 });
      const file = path.join(
        outboxDir,
        `${new Date().toISOString().replace(/[:.]/g, "-")}-${info.messageId.replace(/[^\w.-]/g, "")}.eml`,
      );
      await writeFile(file, (info as unknown as { message: Buffer }).message, { mode: 0o600 });
      logger.info({ ...logContext, file }, "mail written to outbox");
    } else {
      logger.info({ ...logContext, messageId: info.messageId }, "mail sent");
    }
  }

  return {
    outboxDir,
    send(message, logContext = {}) {
      const job = deliver(message, logContext)
        .catch((error) => logger.error({ err: error, ...logContext }, "mail delivery failed"))
        .finally(() => pending.delete(job));
      pending.add(job);
    },
    async idle() {
      while (pending.size) await Promise.all([...pending]);
    },
  };
}
