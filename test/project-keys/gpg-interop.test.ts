// PGP key pairs Keygate generates must work with the real GnuPG its integrators use (Debian's
// gpg 2.2 among them): gpg imports the public key, encrypts to it and checks Keygate-side
// signatures; gpg imports the passphrase-locked private key, decrypts and signs.
// The test needs the `gpg` binary and fails (never skips) without it.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import * as openpgp from "openpgp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gql } from "../helpers/harness.ts";
import { useHarness, withTenant } from "../helpers/fixtures.ts";

const run = promisify(execFile);

const h = useHarness();
const tenant = withTenant(h, "GpgInterop");
let token: string;
let projectId: string;
let gpgVersion = "";
const homes: string[] = [];

const generate = `mutation($input: GenerateProjectKeyInput!) { generateProjectKey(input: $input) {
  ... on GenerateKeyPairPayload { publicKey encryptedPrivateKey passphrase keyPair { algorithm fingerprint } }
} }`;

beforeAll(async () => {
  try {
    gpgVersion = (await run("gpg", ["--version"])).stdout.split("\n")[0]!;
  } catch (error) {
    throw new Error(
      `GnuPG is required for this test and \`gpg\` could not be run (${(error as Error).message}). ` +
        "Install it: apt-get update && apt-get install -y gnupg",
    );
  }
  token = tenant.token;
  projectId = (
    await gql(h, 'mutation { createProject(input: { name: "Files" }) { id } }', {}, token)
  ).data!.createProject.id;
}, 60_000);

afterAll(async () => {
  for (const home of homes) {
    await run("gpgconf", ["--homedir", home, "--kill", "gpg-agent"]).catch(() => {});
    await rm(home, { recursive: true, force: true });
  }
});

async function gnupgHome(): Promise<{
  home: string;
  gpg: (...args: string[]) => Promise<{ stdout: string; stderr: string }>;
}> {
  const home = await mkdtemp(path.join(os.tmpdir(), "kg-gpg-"));
  homes.push(home);
  // No cached passphrases: every use of the private key must present the passphrase.
  await writeFile(
    path.join(home, "gpg-agent.conf"),
    "default-cache-ttl 0\nmax-cache-ttl 0\nallow-loopback-pinentry\n",
  );
  const gpg = (...args: string[]) =>
    run("gpg", ["--batch", "--no-tty", "--homedir", home, "--trust-model", "always", ...args], {
      encoding: "utf8",
    }).catch((error: { stderr?: string; message: string }) => {
      throw new Error(
        `gpg ${args.join(" ")} failed (${gpgVersion}): ${error.stderr ?? error.message}`,
      );
    });
  return { home, gpg };
}

const cases = [
  { label: "the default (CURVE25519)", input: {} as Record<string, unknown> },
  { label: "RSA_4096", input: { pgpAlgorithm: "RSA_4096" } as Record<string, unknown> },
];

describe.each(cases)("GnuPG interoperability: $label", ({ input }) => {
  let g: {
    publicKey: string;
    encryptedPrivateKey: string;
    passphrase: string;
    keyPair: { algorithm: string; fingerprint: string };
  };
  let privateKey: openpgp.PrivateKey;
  let publicKey: openpgp.Key;

  beforeAll(async () => {
    const result = await gql(
      h,
      generate,
      { input: { projectId, type: "FILE_CONTENT_PGP", ...input } },
      token,
    );
    expect(result.errors).toBeUndefined();
    g = result.data!.generateProjectKey;
    publicKey = await openpgp.readKey({ armoredKey: g.publicKey });
    privateKey = await openpgp.decryptKey({
      privateKey: await openpgp.readPrivateKey({ armoredKey: g.encryptedPrivateKey }),
      passphrase: g.passphrase,
    });
  }, 120_000);

  it("is a v4 key with algorithms GnuPG 2.2 knows", () => {
    expect(publicKey.keyPacket.version).toBe(4);
    const algorithms = [publicKey.keyPacket, ...publicKey.subkeys.map((s) => s.keyPacket)].map(
      (p) => p.algorithm,
    );
    // 1 RSA, 18 ECDH, 22 EdDSA (legacy); never 25/27 (X25519/Ed25519 of RFC 9580).
    for (const algorithm of algorithms) expect([1, 18, 22]).toContain(algorithm);
  });

  it("gpg imports the public key, encrypts to it, and Keygate's private key decrypts", async () => {
    const { home, gpg } = await gnupgHome();
    await writeFile(path.join(home, "public.asc"), g.publicKey);
    await gpg("--import", path.join(home, "public.asc"));
    const listed = (await gpg("--with-colons", "--fingerprint", "--list-keys")).stdout;
    expect(listed).toContain(g.keyPair.fingerprint);

    const content = `payroll batch ${Date.now()}\nline two\n`;
    await writeFile(path.join(home, "plain.txt"), content);
    await gpg(
      "--recipient",
      g.keyPair.fingerprint,
      "--output",
      path.join(home, "plain.txt.gpg"),
      "--encrypt",
      path.join(home, "plain.txt"),
    );
    const binaryMessage = await readFile(path.join(home, "plain.txt.gpg"));
    const { data } = await openpgp.decrypt({
      message: await openpgp.readMessage({ binaryMessage }),
      decryptionKeys: privateKey,
      format: "binary",
    });
    expect(Buffer.from(data as Uint8Array).toString("utf8")).toBe(content);
  });

  it("a signature by Keygate's private key verifies with gpg", async () => {
    const { home, gpg } = await gnupgHome();
    await writeFile(path.join(home, "public.asc"), g.publicKey);
    await gpg("--import", path.join(home, "public.asc"));
    const content = "signed by the Keygate key\n";
    await writeFile(path.join(home, "signed.txt"), content);
    const signature = await openpgp.sign({
      message: await openpgp.createMessage({ binary: Buffer.from(content) }),
      signingKeys: privateKey,
      detached: true,
    });
    await writeFile(path.join(home, "signed.txt.asc"), signature as string);
    const verified = await gpg(
      "--status-fd",
      "1",
      "--verify",
      path.join(home, "signed.txt.asc"),
      path.join(home, "signed.txt"),
    );
    expect(verified.stdout).toMatch(/\[GNUPG:\] GOODSIG /);
    expect(verified.stdout).toContain(`VALIDSIG ${g.keyPair.fingerprint}`);

    await writeFile(path.join(home, "signed.txt"), `${content}tampered\n`);
    await expect(
      gpg("--verify", path.join(home, "signed.txt.asc"), path.join(home, "signed.txt")),
    ).rejects.toThrow(/BAD signature/);
  });

  it("gpg imports the passphrase-locked private key, decrypts what openpgp encrypted, and signs", async () => {
    const { home, gpg } = await gnupgHome();
    // From a file: a generated passphrase may begin with "-", which gpg's own argument parser
    // would not take as the value of --passphrase.
    await writeFile(path.join(home, "passphrase"), g.passphrase, { mode: 0o600 });
    await writeFile(path.join(home, "wrong-passphrase"), "wrong passphrase", { mode: 0o600 });
    const unlock = [
      "--pinentry-mode",
      "loopback",
      "--passphrase-file",
      path.join(home, "passphrase"),
    ];
    await writeFile(path.join(home, "private.asc"), g.encryptedPrivateKey);
    await gpg(...unlock, "--import", path.join(home, "private.asc"));
    expect((await gpg("--with-colons", "--fingerprint", "--list-secret-keys")).stdout).toContain(
      g.keyPair.fingerprint,
    );

    const content = `statement ${Date.now()}\n`;
    const encrypted = await openpgp.encrypt({
      message: await openpgp.createMessage({ binary: Buffer.from(content) }),
      encryptionKeys: publicKey,
      format: "binary",
    });
    await writeFile(path.join(home, "statement.gpg"), encrypted as Uint8Array);
    // The passphrase really locks the imported key (the agent caches none, see gnupgHome).
    await expect(
      gpg(
        "--pinentry-mode",
        "loopback",
        "--passphrase-file",
        path.join(home, "wrong-passphrase"),
        "--output",
        path.join(home, "x.txt"),
        "--decrypt",
        path.join(home, "statement.gpg"),
      ),
    ).rejects.toThrow(/Bad passphrase|decryption failed/i);
    await gpg(
      ...unlock,
      "--output",
      path.join(home, "statement.txt"),
      "--decrypt",
      path.join(home, "statement.gpg"),
    );
    expect(await readFile(path.join(home, "statement.txt"), "utf8")).toBe(content);

    const signed = "signed by gpg\n";
    await writeFile(path.join(home, "gpg-signed.txt"), signed);
    await gpg(
      ...unlock,
      "--local-user",
      g.keyPair.fingerprint,
      "--armor",
      "--output",
      path.join(home, "gpg-signed.txt.asc"),
      "--detach-sign",
      path.join(home, "gpg-signed.txt"),
    );
    const armoredSignature = await readFile(path.join(home, "gpg-signed.txt.asc"), "utf8");
    const check = async (text: string) => {
      const verification = await openpgp.verify({
        message: await openpgp.createMessage({ binary: Buffer.from(text) }),
        signature: await openpgp.readSignature({ armoredSignature }),
        verificationKeys: publicKey,
        expectSigned: true,
      });
      return verification.data;
    };
    await expect(check(signed)).resolves.toBeDefined();
    await expect(check(`${signed}tampered`)).rejects.toThrow();
  });
});
