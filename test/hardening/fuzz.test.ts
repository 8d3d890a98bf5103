// Property-based fuzzing of every REST route and every GraphQL mutation (fast-check).
//
// Property, for every generated request: the answer comes within a few seconds, its status is
// below 500, its body shows no stack trace, no source path and no Prisma message, a GraphQL answer
// carries no masked INTERNAL error, and nothing was logged at error level (an unexpected
// exception that an envelope turned into a polite 4xx still counts).
//
// Generated: JSON bodies (fc.json, fc.anything serialized, objects with the right field names
// and wrong types, huge strings, unicode, NUL bytes, deep nesting, raw JSON tricks), headers
// (Authorization, Content-Type, Accept, Keygate-Signature), query strings and GraphQL variables;
// each with and without valid credentials (owner session, platform admin, API keys, signed
// requests of a secure key).
//
// Reproduce a failure: fast-check prints the seed and path; rerun with FUZZ_SEED=<seed>.
// FUZZ_RUNS=<n> changes the number of runs per property (default 40); FUZZ_STATS=1 prints the
// statuses reached per route; FUZZ_IGNORE=<regex> tolerates failures whose description matches
// (to look past a known bug, e.g. FUZZ_IGNORE='0x00|FormData'), nothing is tolerated by default.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signRequest } from "../../src/access/signature.ts";
import { generateKey } from "../../src/crypto/key-format.ts";
import {
  generateKeyFor,
  generateSecureMutation,
  gql,
  seedUser,
  signIn,
} from "../helpers/harness.ts";
import { useHarness, withTenant } from "../helpers/fixtures.ts";
import {
  apiRoutes,
  appRoutes,
  rootFieldsOf,
  schemaArguments,
  schemaOperations,
} from "../helpers/surface.ts";

const RUNS = Number(process.env.FUZZ_RUNS ?? 40);
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;
const IGNORE = process.env.FUZZ_IGNORE ? new RegExp(process.env.FUZZ_IGNORE) : undefined;
const REQUEST_TIMEOUT_MS = 10_000;
const PROPERTY_TIMEOUT_MS = 120_000;

function options<T>(runs = RUNS): fc.Parameters<T> {
  return { numRuns: runs, ...(SEED !== undefined ? { seed: SEED } : {}) };
}

const h = useHarness({ LOG_LEVEL: "error" });
const owner = withTenant(h, "Fuzzed");
const admin = withTenant(h, "Platform", { platformAdmin: true });

/** Valid credentials, and real ids the generators mix in so that some requests reach the services. */
const real = {
  ownerToken: "",
  adminToken: "",
  memberToken: "",
  memberId: "",
  apiKey: "",
  jwtApiKey: "",
  secure: { key: "", secret: "" },
  exchangeToken: "",
  /** Ids that generated mutations may revoke, rotate or delete: never the credentials above. */
  ids: [] as string[],
  /** Users that disableUser and enableUser may find: never the member whose session is a credential above. */
  userIds: [] as string[],
  keys: [] as string[],
  /** Dead credentials: revoked and disabled keys, a revoked session, tampered tokens. */
  dead: [] as string[],
  victimSecure: { key: "", secret: "" },
  tenantNumbers: [] as number[],
  emails: [] as string[],
  projectId: "",
};

// ---------------------------------------------------------------------------------------------
// The property.

const LEAKS: [string, RegExp][] = [
  ["stack frame", /\bat [^\s"'`]+ \(/],
  ["node_modules path", /node_modules/],
  ["source file and line", /\.[cm]?[jt]s:\d+/],
  ["Prisma", /prisma/i],
  ["stack property", /"stack"\s*:/],
  ["source path", /\/src\/(?:modules|rest|auth|graphql|db|crypto)\//],
];

/** Every string inside a generated value (keys included), to strip echoes of the input from the body. */
function stringsOf(value: unknown, out: Set<string> = new Set()): Set<string> {
  if (typeof value === "string") out.add(value);
  else if (Array.isArray(value)) for (const v of value) stringsOf(v, out);
  else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      out.add(k);
      stringsOf(v, out);
    }
  }
  return out;
}

function escapeHtml(s: string) {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!,
  );
}

/** The body without the generated input it echoes (GraphQL quotes invalid values, pages echo the hash). */
function scrub(body: string, input: unknown): string {
  const strings = [...stringsOf(input)]
    .filter((s) => s.length >= 4)
    .sort((x, y) => y.length - x.length);
  let out = body;
  for (const s of strings) {
    const json = JSON.stringify(s).slice(1, -1);
    for (const form of [s, json, JSON.stringify(json).slice(1, -1), escapeHtml(s)]) {
      if (form.length >= 4 && out.includes(form)) out = out.split(form).join("");
    }
  }
  return out;
}

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms: ${what}`)),
        REQUEST_TIMEOUT_MS,
      );
    }),
  ]);
}

const clip = (s: string, n = 600) => (s.length > n ? `${s.slice(0, n)}… (${s.length} chars)` : s);

/** Real credentials shown by name in failure reports. */
function redact(s: string): string {
  const names: [string, string][] = [
    [real.ownerToken, "<owner session token>"],
    [real.adminToken, "<platform admin session token>"],
    [real.memberToken, "<member session token>"],
    [real.apiKey, "<owner's integrator API key>"],
    [real.jwtApiKey, "<owner's JWT-format API key>"],
    [real.exchangeToken, "<exchange token>"],
    [real.secure.key, "<secure key>"],
  ];
  let out = s;
  for (const [value, name] of names) if (value) out = out.split(value).join(name);
  return out;
}

/** Statuses seen per route (printed with FUZZ_STATS=1): shows which answers the generators reach. */
const stats: Record<string, Record<number, number>> = {};

interface Sent {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

/** Sends one generated request and throws (a property failure) unless the answer is safe. */
async function sendAndCheck(
  request: Sent,
  input: unknown,
): Promise<{ status: number; text: string }> {
  const logMark = h.logs.length;
  const what = `${request.method} ${clip(request.path, 200)}`;
  const response = await withTimeout(
    Promise.resolve(
      h.app.request(request.path, {
        method: request.method,
        headers: request.headers,
        body: request.body,
      }),
    ),
    what,
  );
  const text = await withTimeout(response.text(), what);
  await withTimeout(h.deps.background.idle(), `${what} (background work)`);
  const problems: string[] = [];
  if (response.status >= 500) problems.push(`status ${response.status}`);
  const scrubbed = scrub(text, [input, request.headers, request.path, request.body]);
  for (const [name, pattern] of LEAKS)
    if (pattern.test(scrubbed)) problems.push(`body shows a ${name} (${pattern})`);
  if (/"code":"INTERNAL"|Unexpected error\./.test(text))
    problems.push("body carries a masked INTERNAL error");
  const errors = h.logs.slice(logMark).filter((line) => /"level":(50|60)/.test(line));
  if (errors.length) {
    const summary = errors.map((line) => {
      try {
        const entry = JSON.parse(line);
        return `${entry.msg}: ${
          String(entry.err?.message ?? "")
            .split("\n")
            .filter(Boolean)
            .slice(-1)[0] ?? ""
        }`;
      } catch {
        return clip(line, 300);
      }
    });
    problems.push(`error logged: ${summary.join(" | ")}`);
  }
  const statKey = `${request.method} ${request.path.split("?")[0]}${request.path === "/graphql" && request.body ? ` ${/(?:mutation|query)[^{]*\{\s*(\w+)/.exec(request.body)?.[1] ?? ""}` : ""}`;
  const perRoute = (stats[statKey] ??= {});
  perRoute[response.status] = (perRoute[response.status] ?? 0) + 1;
  // FUZZ_IGNORE=<regex>: tolerate known failures (matched against the problem text) to look past them.
  if (problems.length && IGNORE?.test(problems.join(" "))) return { status: response.status, text };
  if (problems.length) {
    throw new Error(
      `${problems.join("; ")}\n  request: ${clip(redact(JSON.stringify(request)), 1200)}\n  answer: ${response.status} ${clip(text)}`,
    );
  }
  return { status: response.status, text };
}

// ---------------------------------------------------------------------------------------------
// Generators.

const specialStrings = [
  "",
  " ",
  "\u0000",
  "a\u0000b",
  "\ud800",
  "x\udfffy",
  "\uffff",
  "\u202e\u200b\ufeff",
  "😀👩‍👩‍👧‍👦",
  "é\u0301",
  "null",
  "undefined",
  "NaN",
  "true",
  "0",
  "-1",
  "1e309",
  "__proto__",
  "constructor",
  '\'; DROP TABLE "ApiKey"; --',
  "%00",
  "%zz",
  "../../etc/passwd",
  "${7*7}{{7*7}}",
  "<script>alert(1)</script>",
  "\r\n\t",
  "\\",
  '"',
  "kg_",
  "kgr_",
  "kg_test_",
  "00000000-0000-0000-0000-000000000000",
  "------------------------------------",
  "ffffffff-ffff-ffff-ffff-fffffffffff",
  "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF",
];

const hugeString = fc
  .tuple(
    fc.constantFrom(300, 2_100, 5_000, 70_000, 1_100_000),
    fc.constantFrom("a", "é", "😀", " ", "\u0000"),
  )
  .map(([n, ch]) => ch.repeat(ch === "a" ? n : Math.min(n, 70_000)));

const text: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme", maxLength: 20 }) },
  { weight: 3, arbitrary: fc.constantFrom(...specialStrings) },
  {
    weight: 1,
    arbitrary: fc.string({
      unit: fc.constantFrom("a", "\u0000", "\ud800", "\udc00", "é", " ", "\n"),
      maxLength: 8,
    }),
  },
  { weight: 1, arbitrary: hugeString },
);

/** A few levels of arrays in arrays, or a deep chain. */
const nestedArrays = fc.oneof(
  fc.integer({ min: 1, max: 1_500 }).map((depth) => {
    let v: unknown = [];
    for (let i = 0; i < depth; i++) v = [v];
    return v;
  }),
  fc.array(fc.array(fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 }), { maxLength: 3 }), {
    maxLength: 3,
  }),
);

/** Values of the wrong type for whatever field they land in. */
const junk: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 2, arbitrary: text },
  { weight: 1, arbitrary: fc.integer() },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      0,
      -1,
      1.5,
      -0,
      2 ** 31,
      2 ** 53,
      2 ** 64,
      Number.MAX_VALUE,
      Number.MIN_VALUE,
      1e21,
    ),
  },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: nestedArrays },
  { weight: 1, arbitrary: fc.dictionary(text, fc.jsonValue({ maxDepth: 1 }), { maxKeys: 4 }) },
);

/** Right type most of the time, anything at all otherwise. */
const mostly = <T>(arbitrary: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 7, arbitrary }, { weight: 1, arbitrary: junk });

/** One of these values (an enum, say) most of the time, any text otherwise. */
const mostlyOneOf = (...values: string[]) =>
  fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...values) }, { weight: 1, arbitrary: text });

/** An object with these field names, each optional, each right-ish or junk. */
function shaped(
  fields: Record<string, fc.Arbitrary<unknown>>,
): fc.Arbitrary<Record<string, unknown>> {
  const model = Object.fromEntries(Object.entries(fields).map(([k, a]) => [k, mostly(a)]));
  return fc.record(model, { requiredKeys: [] }) as fc.Arbitrary<Record<string, unknown>>;
}

const uuidArb = fc.uuid();
const idArb = () =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...real.ids) },
    { weight: 2, arbitrary: uuidArb },
    { weight: 2, arbitrary: text },
    { weight: 1, arbitrary: fc.stringMatching(/^[0-9a-fA-F-]{36}$/) },
  );
const emailArb = () =>
  fc.oneof(
    fc.emailAddress(),
    fc.constantFrom(...real.emails),
    text,
    text.map((s) => `${s}@example.test`),
    fc
      .tuple(fc.emailAddress(), fc.constantFrom("\u0000", "\ud800", "\u202e", " ", "é"))
      .map(([e, ch]) => e.replace("@", `${ch}@`)),
  );
/** Dates the DateTime scalar accepts (years 1 to 9999), past and future. */
const dateTyped = fc.oneof(
  fc
    .date({
      noInvalidDate: true,
      min: new Date("0001-01-01T00:00:00Z"),
      max: new Date("9999-12-31T23:59:59Z"),
    })
    .map((d) => d.toISOString()),
  fc
    .integer({ min: -10, max: 800 })
    .map((years) => new Date(Date.now() + years * 365 * 86400_000).toISOString()),
);
const dateArb = fc.oneof(
  dateTyped,
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  fc
    .integer({ min: -10, max: 800 })
    .map((years) => new Date(Date.now() + years * 365 * 86400_000).toISOString()),
  fc.constantFrom(
    "9999-12-31T23:59:59Z",
    "2999-01-01T00:00:00+14:00",
    "1970-01-01T00:00:00Z",
    "2030-02-30T00:00:00Z",
    "+275760-09-13T00:00:00.000Z",
    "tomorrow",
  ),
  text,
);
/** A plausible name or label most of the time, any text otherwise. */
const nameArb = fc.oneof(
  { weight: 3, arbitrary: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9 ._-]{0,39}$/) },
  { weight: 2, arbitrary: text },
);
const permissionArb = fc.oneof(
  fc.constantFrom(
    "*",
    "keys:read",
    "keys:write",
    "keys:*",
    "projects:read",
    "transactions:read",
    "a:b",
    ":",
    "*:*",
  ),
  text,
);
const intArb = fc.oneof(
  fc.integer(),
  fc.integer({ min: -1, max: 100_000 }),
  fc.constantFrom(0, 1, 2 ** 31 - 1, -(2 ** 31), 2_592_000, 2_592_001, 630_720_000, 630_720_001),
);
const keyArb = () =>
  fc.oneof(
    { weight: 2, arbitrary: fc.constantFrom(...real.keys, ...real.dead) },
    { weight: 1, arbitrary: fc.constant(null).map(() => generateKey("kg")) },
    {
      weight: 1,
      arbitrary: fc.stringMatching(/^[a-z][a-z0-9]{1,11}_[0-9A-Za-z]{24}_[0-9A-Za-z]{6}$/),
    },
    { weight: 1, arbitrary: forgedJwt },
    { weight: 2, arbitrary: text },
  );

const b64url = (value: unknown) =>
  Buffer.from(typeof value === "string" ? value : (JSON.stringify(value) ?? "")).toString(
    "base64url",
  );
const forgedJwt = fc
  .tuple(
    fc.oneof(
      fc.constantFrom(
        { alg: "none", typ: "JWT" },
        { alg: "HS256", typ: "JWT" },
        { alg: "RS256" },
        { alg: "HS256", crit: ["x"] },
      ),
      fc.jsonValue({ maxDepth: 2 }),
    ),
    fc.oneof(
      fc.record(
        {
          sub: fc.uuid(),
          tid: fc.uuid(),
          sid: fc.uuid(),
          kind: fc.constantFrom("session", "exchange"),
          exp: fc.integer({ min: 0, max: 2 ** 40 }),
          jti: fc.uuid(),
          typ: fc.constantFrom("api_key", "x"),
        },
        { requiredKeys: [] },
      ),
      fc.jsonValue({ maxDepth: 2 }),
    ),
    fc.oneof(fc.constant(""), fc.string({ maxLength: 60 }).map(b64url)),
  )
  .map(([header, payload, sig]) => `${b64url(header)}.${b64url(payload)}.${sig}`);

/** Printable latin-1: what an HTTP client can put in a header value. */
const headerText = fc.string({
  unit: fc
    .integer({ min: 0x20, max: 0xff })
    .filter((c) => c !== 0x7f)
    .map((c) => String.fromCharCode(c)),
  maxLength: 120,
});

/** Authorization values that authenticate nobody. */
const badAuthorization = () =>
  fc.oneof(
    { weight: 2, arbitrary: fc.constant(undefined) },
    { weight: 2, arbitrary: headerText },
    { weight: 2, arbitrary: headerText.map((s) => `Bearer ${s}`) },
    { weight: 2, arbitrary: fc.constantFrom(...real.dead).map((t) => `Bearer ${t}`) },
    { weight: 2, arbitrary: forgedJwt.map((t) => `Bearer ${t}`) },
    {
      weight: 1,
      arbitrary: fc
        .stringMatching(/^[a-z][a-z0-9]{1,11}_[0-9A-Za-z]{24}_[0-9A-Za-z]{6}$/)
        .map((t) => `Bearer ${t}`),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        "Bearer",
        "Bearer ",
        "bearer x",
        "Basic YWxhZGRpbjpvcGVuc2VzYW1l",
        "Bearer a b",
        "Bearer\tx",
        "Bearer kgr_x",
        `Bearer ${"a".repeat(8_000)}`,
      ),
    },
    // A secure key without (or with a wrong) signature is no credential either.
    { weight: 1, arbitrary: fc.constant(null).map(() => `Bearer ${real.victimSecure.key}`) },
  );

type Credential = "owner" | "admin" | "member" | "apiKey" | "jwtApiKey" | "exchange" | "signed";
const validCredential = (weights: Partial<Record<Credential, number>> = {}) =>
  fc.oneof(
    ...(
      Object.entries({
        owner: 6,
        admin: 1,
        member: 1,
        apiKey: 2,
        jwtApiKey: 1,
        exchange: 1,
        signed: 2,
        ...weights,
      }) as [Credential, number][]
    )
      .filter(([, weight]) => weight > 0)
      .map(([credential, weight]) => ({ weight, arbitrary: fc.constant(credential) })),
  );

const contentTypeArb = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.constantFrom(
      "application/json",
      "application/json; charset=utf-8",
      "application/json; charset=latin1",
      "text/plain",
      "text/html",
      "application/x-www-form-urlencoded",
      "multipart/form-data",
      "multipart/form-data; boundary=----x",
      "application/graphql",
      "application/graphql-response+json",
      "application/xml",
      "*/*",
      "",
    ),
  },
  { weight: 1, arbitrary: headerText },
);
const acceptArb = fc.option(
  fc.oneof(
    fc.constantFrom(
      "application/json",
      "text/html",
      "text/html,application/json",
      "*/*",
      "application/graphql-response+json",
      "image/png",
    ),
    headerText,
  ),
  { nil: undefined },
);
const signatureArb = fc.option(
  fc.oneof(
    headerText,
    fc
      .tuple(fc.integer({ min: 0, max: 2 ** 40 }), fc.stringMatching(/^[0-9a-f]{64}$/))
      .map(([t, v]) => `t=${t},v1=${v}`),
    fc.stringMatching(/^[0-9a-f]{64}$/).map((v) => `t=${Math.floor(Date.now() / 1000)},v1=${v}`),
  ),
  { nil: undefined },
);

/** Request bodies: mostly the route's fields with right-ish or wrong values, otherwise anything. */
function bodyArb(fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<string> {
  const names = Object.keys(fields);
  const rawTricks = fc
    .tuple(
      fc.constantFrom(...(names.length ? names : ["x"])),
      fc.constantFrom(
        "1e400",
        "-1e400",
        "9007199254740993",
        "1.0",
        "-0",
        "0x10",
        "NaN",
        '"\\ud800"',
        '"\\u0000"',
        "[".repeat(3000) + "]".repeat(3000),
        "{}",
        "[]",
        "true",
      ),
    )
    .map(([name, raw]) => `{"${name}": ${raw}, "${name}": ${raw}}`);
  return fc.oneof(
    { weight: 6, arbitrary: shaped(fields).map((o) => JSON.stringify(o)) },
    { weight: 1, arbitrary: fc.json({ maxDepth: 3 }) },
    { weight: 1, arbitrary: fc.anything({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? "") },
    { weight: 1, arbitrary: text },
    { weight: 1, arbitrary: rawTricks },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        "",
        "{",
        "null",
        "[]",
        "0",
        '"str"',
        "{}".repeat(10),
        "[".repeat(100_000),
        '{"__proto__": {"admin": true}}',
      ),
    },
  );
}

/** Valid credentials become an Authorization (and for a secure key a Keygate-Signature) header. */
async function credentialHeaders(
  credential: Credential,
  method: string,
  path: string,
  body: string | undefined,
): Promise<Record<string, string>> {
  switch (credential) {
    case "owner":
      return { authorization: `Bearer ${real.ownerToken}` };
    case "admin":
      return { authorization: `Bearer ${real.adminToken}` };
    case "member":
      return { authorization: `Bearer ${real.memberToken}` };
    case "apiKey":
      return { authorization: `Bearer ${real.apiKey}` };
    case "jwtApiKey":
      return { authorization: `Bearer ${real.jwtApiKey}` };
    case "exchange":
      return { authorization: `Bearer ${real.exchangeToken}` };
    case "signed": {
      const url = new URL(path, "http://localhost");
      return {
        authorization: `Bearer ${real.secure.key}`,
        "keygate-signature": signRequest(
          real.secure.secret,
          method,
          url.pathname + url.search,
          body ?? "",
        ),
      };
    }
  }
}

// ---------------------------------------------------------------------------------------------
// REST routes.

interface Route {
  method: "GET" | "POST" | "HEAD" | "PUT";
  path: string;
  /** The path sent, for a route with parameters (`:id`). */
  concrete?: () => fc.Arbitrary<string>;
  /** The route's JSON body fields with right-ish values (POST); built when the test runs. */
  fields?: () => Record<string, fc.Arbitrary<unknown>>;
  /** Query parameters it reads. */
  query?: string[];
  /** Headers it reads, besides Authorization. */
  headers?: string[];
  /** Bodies never to send with valid credentials (slow RSA generation). */
  expensive?: RegExp;
  /** Headers every request carries (generated ones may still override them), to get past a guard. */
  fixedHeaders?: Record<string, string>;
  /** Send a person's credential as a fresh session of its own (the route may end the session). */
  freshSession?: boolean;
}

const companyFields = () => ({
  projectId: fc.oneof(fc.constant(real.projectId), idArb()),
  name: nameArb,
  description: text,
  isActive: fc.boolean(),
  companyId: fc.oneof(fc.constant(owner.tenant.id), uuidArb, text),
  companyProjectId: fc.oneof(fc.constant(real.projectId), idArb()),
  type: fc.oneof(fc.constantFrom("TransactionRSAKey", "FileContentPGPKey", null), text),
  passphrase: fc.oneof(fc.string({ minLength: 12, maxLength: 40 }), text),
});

const yativoGenerateFields = () => ({
  name: nameArb,
  permissions: fc.array(
    fc.oneof(
      fc.constantFrom(
        "transactions:read",
        "transactions:write",
        "accounts:read",
        "accounts:write",
        "webhooks:manage",
        "analytics:read",
      ),
      text,
    ),
    { maxLength: 8 },
  ),
  expires_at: fc.oneof(dateArb, fc.constant(null)),
});

const yativoTokenFields = () => ({
  api_key: fc.oneof(fc.constant(real.victimSecure.key), keyArb()),
  api_secret: fc.oneof(
    fc.constant(real.victimSecure.secret),
    text,
    fc.stringMatching(/^[0-9a-f]{64}$/),
  ),
});

/** Extractor key ids: small numbers (the owner's keys among them), edge numbers, anything. */
const extractorKeyPath = () =>
  fc
    .oneof(
      fc.integer({ min: 1, max: 300 }).map(String),
      fc.constantFrom("0", "-1", "1.5", "9223372036854775807", "1e3", "99999999999999999999"),
      fc.stringMatching(/^[A-Za-z0-9._%-]{1,24}$/),
    )
    .map((id) => `/api/v1/apikey/${id}`);

const routeTable: Route[] = [
  {
    method: "POST",
    path: "/v1/keys/verify",
    fields: () => ({ key: keyArb(), permissions: fc.array(permissionArb, { maxLength: 5 }) }),
  },
  { method: "POST", path: "/api/v3/auth/login", fields: () => ({ email: emailArb() }) },
  { method: "GET", path: "/api/v3/auth/verify", query: ["hash"], headers: ["accept"] },
  { method: "HEAD", path: "/api/v3/auth/verify", query: ["hash"], headers: ["accept"] },
  {
    method: "POST",
    path: "/api/v3/auth/verify",
    fields: () => ({ hash: fc.oneof(text, fc.string({ minLength: 20, maxLength: 200 })) }),
    query: ["hash"],
    headers: ["accept"],
  },
  {
    method: "GET",
    path: "/api/v3/auth/refresh-token",
    query: ["refresh_token"],
    headers: ["refresh_token", "x-refresh-token"],
  },
  {
    method: "POST",
    path: "/api/v3/auth/refresh",
    fields: () => ({
      refresh_token: fc.oneof(text, fc.stringMatching(/^kgr_[A-Za-z0-9_-]{10,60}$/)),
    }),
  },
  // The dashboard's session endpoint (src/dashboard/session.ts): CSRF header, cookie, JSON body.
  {
    method: "POST",
    path: "/dashboard/session/link",
    fields: () => ({ email: emailArb() }),
    headers: ["x-keygate-dashboard", "origin", "cookie"],
    fixedHeaders: { "x-keygate-dashboard": "1" },
  },
  {
    method: "POST",
    path: "/dashboard/session/link-account",
    fields: () => ({ hash: fc.oneof(text, fc.string({ minLength: 20, maxLength: 200 })) }),
    headers: ["x-keygate-dashboard", "origin", "sec-fetch-site"],
    fixedHeaders: { "x-keygate-dashboard": "1" },
  },
  {
    method: "POST",
    path: "/dashboard/session/confirm",
    fields: () => ({ hash: fc.oneof(text, fc.string({ minLength: 20, maxLength: 200 })) }),
    headers: ["x-keygate-dashboard", "origin", "sec-fetch-site"],
    fixedHeaders: { "x-keygate-dashboard": "1" },
  },
  {
    method: "POST",
    path: "/dashboard/session/refresh",
    headers: ["x-keygate-dashboard", "cookie", "origin"],
    fixedHeaders: { "x-keygate-dashboard": "1" },
  },
  {
    method: "POST",
    path: "/dashboard/session/switch",
    fields: () => ({ tenantId: fc.oneof(fc.constant(owner.tenant.id), idArb()) }),
    headers: ["x-keygate-dashboard", "cookie", "origin"],
    fixedHeaders: { "x-keygate-dashboard": "1" },
    // A switch that succeeds ends the session it came from.
    freshSession: true,
  },
  {
    method: "POST",
    path: "/dashboard/session/sign-out",
    headers: ["x-keygate-dashboard", "cookie", "origin"],
    fixedHeaders: { "x-keygate-dashboard": "1" },
    // Signing out ends the session that asks.
    freshSession: true,
  },
  { method: "GET", path: "/api/v3/auth/api-key" },
  { method: "GET", path: "/api/v3/auth/api-key/secure" },
  { method: "GET", path: "/api/v3/health", headers: ["x-timestamp", "x-nonce", "x-signature"] },
  { method: "GET", path: "/health" },
  { method: "POST", path: "/api/v1/apikey/generate", fields: yativoGenerateFields },
  { method: "POST", path: "/api/apikey/generate", fields: yativoGenerateFields },
  { method: "POST", path: "/auth/token", fields: yativoTokenFields },
  { method: "POST", path: "/api/auth/token", fields: yativoTokenFields },
  { method: "POST", path: "/api/v1/auth/token", fields: yativoTokenFields },
  {
    method: "POST",
    path: "/api/v1/apikey",
    fields: () => ({
      label: nameArb,
      status: mostlyOneOf("ACTIVE", "DISABLED", "DELETED"),
      tenantId: fc.oneof(
        fc.constantFrom(...real.tenantNumbers),
        fc.integer(),
        fc.constantFrom(0, -1, 2 ** 53 - 1, 2 ** 53, 2 ** 63, 1.5, 1e300),
      ),
      lifetime: intArb,
    }),
  },
  {
    method: "POST",
    path: "/api/adm/companyProjectKeys/generate",
    fields: companyFields,
    expensive: /TransactionRSAKey/,
  },
  {
    method: "POST",
    path: "/api/admin/companyProjectKeys/generate",
    fields: companyFields,
    expensive: /TransactionRSAKey/,
  },
  {
    method: "PUT",
    path: "/api/v1/apikey/:id",
    concrete: extractorKeyPath,
    fields: () => ({
      status: mostlyOneOf("ACTIVE", "DISABLED", "DELETED"),
      label: nameArb,
    }),
  },
  { method: "GET", path: "/healthz" },
  { method: "GET", path: "/readyz" },
  { method: "POST", path: "/no/such/route", fields: () => ({ x: text }) },
];

/** Query strings: the route's parameters with generated values, sometimes raw and badly encoded. */
function queryArb(names: string[] | undefined): fc.Arbitrary<string> {
  const params = [...(names ?? []), "x"];
  const encode = (s: string) => {
    try {
      return encodeURIComponent(s);
    } catch {
      return [...Buffer.from(s)].map((b) => `%${b.toString(16).padStart(2, "0")}`).join("");
    }
  };
  return fc.oneof(
    {
      weight: 4,
      arbitrary: fc
        .array(fc.tuple(fc.constantFrom(...params), text), { maxLength: 3 })
        .map((pairs) =>
          pairs.length ? `?${pairs.map(([k, v]) => `${k}=${encode(v)}`).join("&")}` : "",
        ),
    },
    {
      weight: 1,
      arbitrary: fc
        .string({ unit: fc.constantFrom(..."%=&?#/az09+;\\~ ".split("")), maxLength: 30 })
        .map((s) => `?${s}`),
    },
    { weight: 1, arbitrary: fc.constant("") },
  );
}

interface GeneratedRequest {
  credential?: Credential;
  authorization?: string;
  contentType?: string;
  accept?: string;
  signature?: string;
  extraHeaders: [string, string][];
  path: string;
  query: string;
  body?: string;
}

function requestArb(route: Route, valid: boolean): fc.Arbitrary<GeneratedRequest> {
  const hasBody = route.method === "POST" || route.method === "PUT";
  const extraNames = [...(route.headers ?? []), "x-request-id", "user-agent", "x-forwarded-for"];
  return fc
    .record({
      credential: valid ? validCredential() : fc.constant(undefined),
      authorization: valid ? fc.constant(undefined) : badAuthorization(),
      contentType: fc.option(contentTypeArb, { nil: undefined }),
      accept: acceptArb,
      signature: valid ? fc.constant(undefined) : signatureArb,
      extraHeaders: fc.array(fc.tuple(fc.constantFrom(...extraNames), headerText), {
        maxLength: 3,
      }),
      path: route.concrete ? route.concrete() : fc.constant(route.path),
      query: queryArb(route.query),
      body: hasBody
        ? fc.option(bodyArb(route.fields?.() ?? {}), { nil: undefined, freq: 8 })
        : fc.constant(undefined),
    })
    .filter((r) => !(valid && route.expensive && r.body && route.expensive.test(r.body)));
}

async function toSent(route: Route, g: GeneratedRequest): Promise<Sent | null> {
  const path = `${g.path}${g.query}`;
  try {
    new URL(path, "http://localhost");
  } catch {
    return null;
  }
  const headers: Record<string, string> = { ...route.fixedHeaders };
  for (const [name, value] of g.extraHeaders) headers[name] = value;
  if (g.contentType !== undefined) headers["content-type"] = g.contentType;
  if (g.accept !== undefined) headers.accept = g.accept;
  if (g.signature !== undefined) headers["keygate-signature"] = g.signature;
  if (g.authorization !== undefined) headers.authorization = g.authorization;
  const sessionUser = g.credential
    ? { owner: owner.owner.id, admin: admin.owner.id, member: real.memberId }[
        g.credential as string
      ]
    : undefined;
  if (route.freshSession && sessionUser)
    headers.authorization = `Bearer ${await signIn(h.deps, sessionUser)}`;
  else if (g.credential)
    Object.assign(headers, await credentialHeaders(g.credential, route.method, path, g.body));
  return { method: route.method, path, headers, body: g.body };
}

async function fuzzRoute(route: Route, valid: boolean, runs = RUNS) {
  await fc.assert(
    fc.asyncProperty(requestArb(route, valid), async (generated) => {
      const sent = await toSent(route, generated);
      fc.pre(sent !== null);
      await sendAndCheck(sent!, generated);
    }),
    options(runs),
  );
}

// ---------------------------------------------------------------------------------------------
// GraphQL.

interface Operation {
  name: string;
  document: string;
  /** Variables; `typed`: every value of its GraphQL type (so that most requests reach the resolver). */
  variables: (typed: boolean) => fc.Arbitrary<Record<string, unknown>>;
  /** Variables never to send with valid credentials (slow RSA generation). */
  expensive?: RegExp;
  /** Run with a fresh session of the owner instead of the shared one (logout ends it). */
  freshSession?: boolean;
}

/** Variable generators: `typed` keeps every value of the declared GraphQL type. */
const v = (typed: boolean) => {
  const pick = <T>(arbitrary: fc.Arbitrary<T>) => (typed ? arbitrary : mostly(arbitrary));
  const oneOf = (...values: string[]) =>
    typed ? fc.constantFrom(...values) : mostlyOneOf(...values);
  const object = (fields: Record<string, fc.Arbitrary<unknown>>) =>
    typed
      ? (fc.record(fields, { requiredKeys: [] }) as fc.Arbitrary<Record<string, unknown>>)
      : shaped(fields);
  const int = typed
    ? fc.oneof(
        fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
        fc.constantFrom(-1, 0, 1, 2_592_000, 2_592_001, 630_720_000, 630_720_001),
      )
    : intArb;
  const date = typed ? dateTyped : dateArb;
  const email = typed ? fc.oneof(fc.emailAddress(), fc.constantFrom(...real.emails)) : emailArb();
  return { pick, oneOf, object, int, date, email };
};

const generateKeyInput = (typed: boolean) => {
  const { object, oneOf, int, date } = v(typed);
  return object({
    name: nameArb,
    description: text,
    projectId: idArb(),
    ownerId: fc.oneof(fc.constantFrom(owner.owner.id), idArb()),
    permissions: fc.array(permissionArb, { maxLength: 5 }),
    expiresAt: date,
    lifetime: int,
    rateLimit: object({ perMinute: int, perHour: int, perDay: int }),
    status: oneOf("ACTIVE", "DISABLED"),
    format: oneOf("OPAQUE", "JWT"),
    test: fc.boolean(),
  });
};

const operations = (): Operation[] => [
  {
    name: "addUser",
    document:
      "mutation($input: AddUserInput!) { addUser(input: $input) { id email role permissions tenant { id } } }",
    // No second OWNER: with one, a generated updateMember or removeMember could demote or remove
    // the owner whose session the other properties use as a credential (the last-owner rule is
    // what keeps it an owner, and that rule is fuzzed through updateMember/removeMember).
    variables: (t) =>
      fc.record({
        input: v(t).object({
          email: v(t).email,
          name: nameArb,
          role: v(t).oneOf("ADMIN", "MEMBER"),
          permissions: fc.array(permissionArb, { maxLength: 4 }),
        }),
      }),
  },
  {
    name: "createProject",
    document:
      "mutation($input: CreateProjectInput!) { createProject(input: $input) { id name description } }",
    variables: (t) => fc.record({ input: v(t).object({ name: nameArb, description: text }) }),
  },
  {
    name: "createTenant",
    document:
      "mutation($input: CreateTenantInput!) { createTenant(input: $input) { tenant { id number keyPrefix } owner { id email } } }",
    variables: (t) =>
      fc.record({
        input: v(t).object({
          name: nameArb,
          ownerEmail: v(t).email,
          keyPrefix: fc.oneof(fc.stringMatching(/^[a-z][a-z0-9]{1,11}$/), text),
        }),
      }),
  },
  {
    name: "deleteProject",
    document: "mutation($id: ID!) { deleteProject(id: $id) { id deletedAt } }",
    variables: (t) => fc.record({ id: v(t).pick(idArb()) }),
  },
  {
    name: "disableKey",
    document: "mutation($id: ID!) { disableKey(id: $id) { id status } }",
    variables: (t) => fc.record({ id: v(t).pick(idArb()) }),
  },
  {
    name: "enableKey",
    document: "mutation($id: ID!) { enableKey(id: $id) { id status } }",
    variables: (t) => fc.record({ id: v(t).pick(idArb()) }),
  },
  {
    name: "disableUser",
    document: "mutation($id: ID!) { disableUser(id: $id) { id email role } }",
    variables: (t) => fc.record({ id: v(t).pick(userIdArb()) }),
  },
  {
    name: "enableUser",
    document: "mutation($id: ID!) { enableUser(id: $id) { id email role } }",
    variables: (t) => fc.record({ id: v(t).pick(userIdArb()) }),
  },
  {
    name: "updateKey",
    document:
      "mutation($input: UpdateKeyInput!) { updateKey(input: $input) { id name permissions expiresAt rateLimit { perMinute perHour perDay } } }",
    variables: (t) =>
      fc.record({
        input: v(t).object({
          id: idArb(),
          name: nameArb,
          description: text,
          permissions: fc.array(permissionArb, { maxLength: 5 }),
          expiresAt: v(t).date,
          metadata: fc.oneof(fc.jsonValue(), fc.dictionary(text, fc.jsonValue(), { maxKeys: 5 })),
          ipAllowlist: fc.array(
            fc.oneof(
              fc.ipV4().map((ip) => `${ip}/24`),
              fc.ipV6(),
              text,
            ),
            { maxLength: 4 },
          ),
          rateLimit: v(t).object({ perMinute: v(t).int, perHour: v(t).int, perDay: v(t).int }),
          credits: v(t).object({
            remaining: v(t).int,
            refillAmount: v(t).int,
            refillInterval: v(t).oneOf("DAY", "MONTH"),
          }),
        }),
      }),
  },
  {
    name: "keyUsage",
    document:
      "query($id: ID!, $from: DateTime!, $to: DateTime!, $g: UsageGranularity!) { keyUsage(id: $id, from: $from, to: $to, granularity: $g) { keyId points { bucket code count } } }",
    variables: (t) =>
      fc.record({
        id: v(t).pick(idArb()),
        from: v(t).date,
        to: v(t).date,
        g: v(t).oneOf("MINUTE", "HOUR", "DAY"),
      }),
  },
  {
    name: "usageSummary",
    document:
      "query($from: DateTime!, $to: DateTime!) { usageSummary(from: $from, to: $to) { granularity topKeys { keyId total valid } } }",
    variables: (t) =>
      fc.record({
        from: v(t).date,
        to: v(t).date,
      }),
  },
  {
    name: "updateMember",
    // Roles below OWNER only: making the victim an owner would let a generated call demote the
    // owner whose session the other properties use as a credential.
    document:
      "mutation($input: UpdateMemberInput!) { updateMember(input: $input) { id role permissions } }",
    variables: (t) =>
      fc.record({
        input: v(t).object({
          id: userIdArb(),
          role: v(t).oneOf("ADMIN", "MEMBER"),
          permissions: fc.array(permissionArb, { maxLength: 5 }),
        }),
      }),
  },
  {
    name: "removeMember",
    document: "mutation($id: ID!) { removeMember(id: $id) { id removedAt } }",
    variables: (t) => fc.record({ id: v(t).pick(userIdArb()) }),
  },
  {
    name: "updateTenant",
    document:
      "mutation($input: UpdateTenantInput!) { updateTenant(input: $input) { id name keyPrefix } }",
    variables: (t) =>
      fc.record({
        input: v(t).object({
          name: nameArb,
          keyPrefix: fc.oneof(fc.stringMatching(/^[a-z][a-z0-9]{1,11}$/), text),
        }),
      }),
  },
  {
    name: "setTenantState",
    // The fuzz's own tenants are never suspended: the other properties sign in to them.
    document:
      "mutation($id: ID!, $state: TenantState!) { setTenantState(id: $id, state: $state) { id state } }",
    variables: (t) =>
      fc.record({
        id: v(t).pick(fc.oneof(uuidArb, text)),
        state: v(t).oneOf("ACTIVE", "SUSPENDED", "DELETED"),
      }),
  },
  {
    name: "exchangeApiKey",
    document:
      "mutation($k: String!, $s: String!) { exchangeApiKey(apiKey: $k, apiSecret: $s) { accessToken tokenType expiresIn expiresAt } }",
    variables: (t) =>
      fc.record({
        k: v(t).pick(fc.oneof(fc.constant(real.victimSecure.key), keyArb())),
        s: v(t).pick(fc.oneof(fc.constant(real.victimSecure.secret), text)),
      }),
  },
  {
    name: "generateApiKey",
    document:
      "mutation($input: GenerateApiKeyInput!) { generateApiKey(input: $input) { key apiKey { id kind format status permissions masked expiresAt lifetime owner { id } project { id } rateLimit { perMinute perHour perDay } } } }",
    variables: (t) => fc.record({ input: generateKeyInput(t) }),
  },
  {
    name: "generateSecureApiKey",
    document:
      "mutation($input: GenerateApiKeyInput!) { generateSecureApiKey(input: $input) { key secret apiKey { id hasSecret } } }",
    variables: (t) => fc.record({ input: generateKeyInput(t) }),
  },
  {
    name: "generateProjectKey",
    document:
      "mutation($input: GenerateProjectKeyInput!) { generateProjectKey(input: $input) { id type expiresAt ... on GenerateProjectApiKeyPayload { keyValue apiKey { id } } ... on GenerateKeyPairPayload { publicKey encryptedPrivateKey passphrase keyPair { id algorithm } } } }",
    variables: (t) =>
      fc.record({
        input: v(t).object({
          projectId: fc.oneof(fc.constant(real.projectId), idArb()),
          name: nameArb,
          description: text,
          isActive: fc.boolean(),
          type: v(t).oneOf("API_KEY", "FILE_CONTENT_PGP", "TRANSACTION_RSA"),
          expiresAt: v(t).date,
          passphrase: fc.oneof(fc.string({ minLength: 12, maxLength: 40 }), text),
          rsaBits: fc.oneof(fc.constantFrom(3072, 4096, 1024, 0), v(t).int),
          pgpAlgorithm: v(t).oneOf("CURVE25519", "RSA_4096"),
          permissions: fc.array(permissionArb, { maxLength: 5 }),
        }),
      }),
    expensive: /TRANSACTION_RSA|RSA_4096/,
  },
  {
    name: "logout",
    document: "mutation { logout { id revokedAt } }",
    variables: () => fc.constant({}),
    freshSession: true,
  },
  {
    name: "refreshSession",
    document:
      "mutation($t: String!) { refreshSession(refreshToken: $t) { accessToken refreshToken sessionId } }",
    variables: (t) =>
      fc.record({
        t: v(t).pick(
          fc.oneof(
            text,
            text.map((s) => `kgr_${s}`),
          ),
        ),
      }),
  },
  {
    name: "requestMagicLink",
    document:
      "mutation($e: EmailAddress!, $t: ID) { requestMagicLink(email: $e, tenantId: $t) { message } }",
    variables: (t) =>
      fc.record(
        { e: v(t).pick(v(t).email), t: v(t).pick(fc.oneof(uuidArb, text)) },
        { requiredKeys: ["e"] },
      ),
  },
  {
    name: "inviteMember",
    document:
      "mutation($input: InviteMemberInput!) { inviteMember(input: $input) { id email role status permissions } }",
    // Roles below OWNER, as for addUser (a pending owner does not count as one, but stays safe).
    variables: (t) =>
      fc.record({
        input: v(t).object({
          email: v(t).email,
          name: nameArb,
          role: v(t).oneOf("ADMIN", "MEMBER"),
          permissions: fc.array(permissionArb, { maxLength: 4 }),
        }),
      }),
  },
  {
    name: "switchTenant",
    document: "mutation($t: ID!) { switchTenant(tenantId: $t) { userId accessToken } }",
    variables: (t) => fc.record({ t: v(t).pick(fc.oneof(uuidArb, text)) }),
    // A switch that succeeds ends the session it came from.
    freshSession: true,
  },
  {
    name: "revokeKey",
    document:
      "mutation($id: ID!, $r: String) { revokeKey(id: $id, reason: $r) { id status revokedAt revokeReason ... on KeyPair { fingerprint } } }",
    variables: (t) =>
      fc.record({ id: v(t).pick(idArb()), r: v(t).pick(text) }, { requiredKeys: ["id"] }),
  },
  {
    name: "revokeSession",
    document: "mutation($id: ID!) { revokeSession(id: $id) { id revokedAt } }",
    variables: (t) => fc.record({ id: v(t).pick(idArb()) }),
  },
  {
    name: "rotateKey",
    document:
      "mutation($id: ID!, $g: Int) { rotateKey(id: $id, gracePeriodSeconds: $g) { key ... on RotateSecureApiKeyPayload { secret } apiKey { id } previous { id status expiresAt } } }",
    variables: (t) =>
      fc.record({ id: v(t).pick(idArb()), g: v(t).pick(v(t).int) }, { requiredKeys: ["id"] }),
  },
  {
    name: "updateProject",
    document:
      "mutation($input: UpdateProjectInput!) { updateProject(input: $input) { id name description } }",
    variables: (t) =>
      fc.record({
        input: v(t).object({
          id: fc.oneof(fc.constant(real.projectId), idArb()),
          name: nameArb,
          description: text,
        }),
      }),
  },
  {
    name: "verify",
    document: "mutation($h: String!) { verify(hash: $h) { accessToken } }",
    variables: (t) =>
      fc.record({ h: v(t).pick(fc.oneof(text, fc.string({ minLength: 20, maxLength: 200 }))) }),
  },
  {
    name: "verifyKey",
    document:
      "mutation($k: String!, $p: [String!], $s: VerifySignatureInput, $ip: String) { verifyKey(key: $k, permissions: $p, signature: $s, clientIp: $ip) { valid code keyId tenantId permissions expiresAt ratelimit { limit remaining reset } } }",
    variables: (t) =>
      fc.record(
        {
          k: v(t).pick(
            fc.oneof(
              keyArb(),
              fc.constant(null).map(() => real.victimSecure.key),
            ),
          ),
          p: v(t).pick(fc.array(permissionArb, { maxLength: 5 })),
          s: v(t).pick(verifySignatureArb(t)),
          ip: v(t).pick(fc.oneof(fc.ipV4(), fc.ipV6(), text)),
        },
        { requiredKeys: ["k"] },
      ),
  },
  // Queries that take arguments, for good measure.
  {
    name: "query project/apiKey/keyPair/node(id)",
    document:
      "query($id: ID!) { project(id: $id) { id keys(first: 5) { totalCount edges { node { id } } } } apiKey(id: $id) { id } keyPair(id: $id) { id } node(id: $id) { __typename id } }",
    variables: (t) => fc.record({ id: v(t).pick(idArb()) }),
  },
  {
    name: "query apiKeys(filters, paging)",
    document:
      "query($s: KeyStatus, $p: ID, $o: ID, $k: KeyKind, $f: Int, $l: Int, $a: String, $b: String) { apiKeys(status: $s, projectId: $p, ownerId: $o, kind: $k, first: $f, last: $l, after: $a, before: $b) { totalCount edges { cursor node { id } } pageInfo { hasNextPage } } }",
    variables: (t) =>
      v(t).object({
        s: v(t).oneOf("ACTIVE", "DISABLED", "REVOKED", "DELETED"),
        p: idArb(),
        o: idArb(),
        k: v(t).oneOf("API_KEY", "SECURE_API_KEY", "PROJECT_KEY"),
        f: v(t).int,
        l: v(t).int,
        a: fc.oneof(text, fc.string().map(b64url)),
        b: fc.oneof(text, fc.string().map(b64url)),
      }),
  },
  {
    name: "query projects/tenants/project.keys(paging)",
    document:
      "query($f: Int, $a: String, $l: Int, $b: String, $id: ID!) { projects(first: $f, after: $a, last: $l, before: $b) { totalCount edges { node { id } } } tenants(first: $f, after: $a, last: $l, before: $b) { edges { node { id } } } project(id: $id) { keys(first: $f, after: $a) { totalCount edges { node { id } } } } }",
    variables: (t) =>
      fc.record(
        {
          f: v(t).int,
          a: fc.oneof(text, fc.string().map(b64url)),
          l: v(t).int,
          b: fc.oneof(text, fc.string().map(b64url)),
          id: fc.constant(real.projectId),
        },
        { requiredKeys: ["id"] },
      ),
  },
  {
    name: "query auditEvents(filters, paging)",
    document:
      "query($ac: String, $ai: ID, $ti: ID, $fr: DateTime, $to: DateTime, $f: Int, $l: Int, $a: String, $b: String) { auditEvents(action: $ac, actorId: $ai, targetId: $ti, from: $fr, to: $to, first: $f, last: $l, after: $a, before: $b) { totalCount edges { cursor node { id action } } pageInfo { hasNextPage } } }",
    variables: (t) =>
      v(t).object({
        ac: fc.oneof(fc.constantFrom("key.", "key.create", "project.", "user.disable", "."), text),
        ai: idArb(),
        ti: idArb(),
        fr: v(t).date,
        to: v(t).date,
        f: v(t).int,
        l: v(t).int,
        a: fc.oneof(text, fc.string().map(b64url)),
        b: fc.oneof(text, fc.string().map(b64url)),
      }),
  },
  // No arguments to generate: what varies is the credential.
  {
    name: "query viewer/tenant",
    document:
      "{ viewer { id email role status } tenant { id name number } memberships { userId role current tenant { id } } }",
    variables: () => fc.constant({}),
  },
];

/** VerifySignatureInput: sometimes a real signature of the victim's secure key, mostly anything. */
const verifySignatureArb = (typed: boolean) => {
  const method = fc.constantFrom("GET", "POST", "get", "");
  const path = fc.oneof(fc.constantFrom("/api/v3/health", "/graphql", "/"), text);
  const signed = fc.tuple(method, path).map(([m, p]) => ({
    header: signRequest(real.victimSecure.secret, m, p, ""),
    method: m,
    path: p,
  }));
  const fields = {
    header: fc.oneof(
      headerText,
      signatureArb.map((s) => s ?? ""),
    ),
    method,
    path,
    bodySha256: fc.oneof(fc.stringMatching(/^[0-9a-f]{64}$/), text),
  };
  const free = typed
    ? fc.record(fields, { requiredKeys: ["header", "method", "path"] })
    : shaped(fields);
  return fc.oneof(free, signed as fc.Arbitrary<Record<string, unknown>>);
};

const userIdArb = () =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...real.userIds) },
    { weight: 2, arbitrary: uuidArb },
    { weight: 1, arbitrary: text },
  );

function operationArb(op: Operation, valid: boolean) {
  return fc
    .record({
      credential: valid ? validCredential({ signed: 1 }) : fc.constant(undefined),
      authorization: valid ? fc.constant(undefined) : badAuthorization(),
      // Mostly variables of the right types, then wrong ones, sometimes no object at all.
      variables: fc.oneof(
        { weight: 6, arbitrary: op.variables(true) as fc.Arbitrary<unknown> },
        { weight: 3, arbitrary: op.variables(false) as fc.Arbitrary<unknown> },
        { weight: 1, arbitrary: junk },
        { weight: 1, arbitrary: junk.map((value) => ({ input: value, id: value })) },
      ),
      operationName: fc.oneof(
        { weight: 12, arbitrary: fc.constant(undefined) },
        { weight: 1, arbitrary: text },
      ),
    })
    .filter((r) => !(valid && op.expensive?.test(JSON.stringify(r.variables) ?? "")));
}

async function fuzzOperation(op: Operation, valid: boolean, runs = RUNS) {
  await fc.assert(
    fc.asyncProperty(operationArb(op, valid), async (generated) => {
      const body = JSON.stringify({
        query: op.document,
        variables: generated.variables,
        ...(generated.operationName !== undefined
          ? { operationName: generated.operationName }
          : {}),
      });
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (generated.authorization !== undefined) headers.authorization = generated.authorization;
      if (generated.credential) {
        const sessionUser = { owner: owner.owner.id, admin: admin.owner.id, member: real.memberId }[
          generated.credential as string
        ];
        if (op.freshSession && sessionUser)
          headers.authorization = `Bearer ${await signIn(h.deps, sessionUser)}`;
        else
          Object.assign(
            headers,
            await credentialHeaders(generated.credential, "POST", "/graphql", body),
          );
      }
      await sendAndCheck({ method: "POST", path: "/graphql", headers, body }, generated);
    }),
    options(runs),
  );
}

// ---------------------------------------------------------------------------------------------

beforeAll(async () => {
  real.ownerToken = owner.token;
  real.adminToken = admin.token;
  const member = await seedUser(h.deps, owner.tenant.id, "MEMBER", [
    "keys:read",
    "keys:write",
    "projects:read",
  ]);
  real.memberToken = member.token;
  real.memberId = member.user.id;
  real.apiKey = (await generateKeyFor(h, owner.token, { name: "fuzz bearer" })).key;
  real.jwtApiKey = (
    await generateKeyFor(h, owner.token, { name: "fuzz bearer JWT", format: "JWT" })
  ).key;
  const secure = (
    await gql(h, generateSecureMutation, { input: { name: "fuzz signer" } }, owner.token)
  ).data!.generateSecureApiKey;
  real.secure = { key: secure.key, secret: secure.secret };
  const exchange = await gql(
    h,
    "mutation($k: String!, $s: String!) { exchangeApiKey(apiKey: $k, apiSecret: $s) { accessToken } }",
    { k: secure.key, s: secure.secret },
  );
  real.exchangeToken = exchange.data!.exchangeApiKey.accessToken;

  // Victims: objects the generated mutations may find, revoke, rotate or delete.
  const project = await gql(
    h,
    'mutation { createProject(input: { name: "Fuzz project" }) { id } }',
    {},
    owner.token,
  );
  real.projectId = project.data!.createProject.id;
  const victimProject = (
    await gql(
      h,
      'mutation { createProject(input: { name: "Victim project" }) { id } }',
      {},
      owner.token,
    )
  ).data!.createProject.id;
  const victims = await Promise.all([
    generateKeyFor(h, owner.token, { name: "victim 1", projectId: real.projectId }),
    generateKeyFor(h, owner.token, { name: "victim 2", status: "DISABLED" }),
    generateKeyFor(h, owner.token, { name: "victim 3", format: "JWT", lifetime: 3600 }),
    generateKeyFor(h, admin.token, { name: "other tenant's victim" }),
  ]);
  const victimSecure = (
    await gql(h, generateSecureMutation, { input: { name: "victim secure" } }, owner.token)
  ).data!.generateSecureApiKey;
  real.victimSecure = { key: victimSecure.key, secret: victimSecure.secret };
  const pair = await gql(
    h,
    "mutation($input: GenerateProjectKeyInput!) { generateProjectKey(input: $input) { id } }",
    { input: { projectId: victimProject, type: "FILE_CONTENT_PGP" } },
    owner.token,
  );
  // Sessions of their own, so that revoking them leaves the credentials above alive.
  const victimSessions = [];
  for (const userId of [owner.owner.id, admin.owner.id, member.user.id]) {
    const token = await signIn(h.deps, userId);
    const sid = JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString()).sid as string;
    victimSessions.push(sid);
  }
  // disableUser/enableUser may reach these: a victim member, both owners (whom only owners may change) and a tenant's id.
  const victimUser = await seedUser(h.deps, owner.tenant.id, "MEMBER", ["keys:read"]);
  real.userIds = [victimUser.user.id, owner.owner.id, admin.owner.id, owner.tenant.id];
  // The ids generated requests may use: never the fuzz project or the credentials' own keys and sessions.
  real.ids = [
    victimProject,
    pair.data!.generateProjectKey.id,
    victimSecure.apiKey.id,
    owner.owner.id,
    admin.owner.id,
    member.user.id,
    owner.tenant.id,
    ...victims.map((v) => v.apiKey.id),
    ...victimSessions,
  ];
  real.keys = [...victims.map((v) => v.key), victimSecure.key];
  real.tenantNumbers = [Number(owner.tenant.number), Number(admin.tenant.number)];
  real.emails = [owner.owner.email, admin.owner.email, owner.owner.email.toUpperCase()];

  // Dead credentials: a revoked key, a disabled key, a revoked session's token, a tampered token.
  const revoked = await generateKeyFor(h, owner.token, { name: "revoked" });
  await gql(
    h,
    "mutation($id: ID!) { revokeKey(id: $id) { id } }",
    { id: revoked.apiKey.id },
    owner.token,
  );
  const revokedSession = await signIn(h.deps, owner.owner.id);
  await gql(h, "mutation { logout { id } }", {}, revokedSession);
  const tampered = owner.token.slice(0, -3) + (owner.token.endsWith("A") ? "BBB" : "AAA");
  const disabled = await generateKeyFor(h, owner.token, {
    name: "disabled, never in the id pool",
    status: "DISABLED",
  });
  real.dead = [
    revoked.key,
    disabled.key,
    revokedSession,
    tampered,
    `${owner.token.split(".").slice(0, 2).join(".")}.`,
    generateKey("kg"),
  ];
});
afterAll(async () => {
  if (process.env.FUZZ_STATS) console.log(JSON.stringify(stats, null, 1));
});

describe("REST routes never answer 5xx, stack traces or Prisma messages", () => {
  describe.each(routeTable.map((route) => ({ route, label: `${route.method} ${route.path}` })))(
    "$label",
    ({ route }) => {
      it(
        "generated bodies, headers and query strings, without valid credentials",
        async () => {
          await fuzzRoute(route, false);
        },
        PROPERTY_TIMEOUT_MS,
      );
      it(
        "generated bodies, headers and query strings, with valid credentials (owner, admin, API keys, signed)",
        async () => {
          await fuzzRoute(route, true);
        },
        PROPERTY_TIMEOUT_MS,
      );
    },
  );
});

describe("GraphQL operations with generated variables never answer 5xx, INTERNAL errors or stack traces", () => {
  describe.each(operations().map((o) => ({ name: o.name })))("$name", ({ name }) => {
    it(
      "without valid credentials",
      async () => {
        await fuzzOperation(operations().find((o) => o.name === name)!, false);
      },
      PROPERTY_TIMEOUT_MS,
    );
    it(
      "with valid credentials",
      async () => {
        await fuzzOperation(operations().find((o) => o.name === name)!, true);
      },
      PROPERTY_TIMEOUT_MS,
    );
  });
});

describe("the /graphql endpoint itself", () => {
  const fieldNames = [
    "viewer",
    "tenant",
    "tenants",
    "projects",
    "project",
    "apiKeys",
    "apiKey",
    "keyPair",
    "users",
    "sessions",
    "keys",
    "edges",
    "node",
    "id",
    "__typename",
    "__schema",
    "types",
    "name",
    "owner",
  ];
  const selection: fc.Arbitrary<string> = fc.letrec<{ sel: string }>((tie) => ({
    sel: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      fc.constantFrom(...fieldNames),
      fc
        .tuple(fc.constantFrom(...fieldNames), fc.array(tie("sel"), { minLength: 1, maxLength: 3 }))
        .map(([f, subs]) => `${f} { ${subs.join(" ")} }`),
      fc
        .tuple(
          fc.string({ unit: fc.constantFrom(..."abcxyz".split("")), minLength: 1, maxLength: 4 }),
          fc.constantFrom(...fieldNames),
        )
        .map(([alias, f]) => `${alias}: ${f}`),
    ),
  })).sel;
  const documentArb = fc.oneof(
    {
      weight: 3,
      arbitrary: fc
        .array(selection, { minLength: 1, maxLength: 4 })
        .map((s) => `{ ${s.join(" ")} }`),
    },
    {
      weight: 1,
      arbitrary: fc
        .integer({ min: 1, max: 400 })
        .map(
          (d) => `{ ${"viewer { tenant { users { tenant { ".repeat(d)}id${" } } } }".repeat(d)} }`,
        ),
    },
    {
      weight: 1,
      arbitrary: fc
        .integer({ min: 1, max: 3_000 })
        .map((n) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: viewer { id }`).join(" ")} }`),
    },
    {
      weight: 1,
      arbitrary: fc
        .integer({ min: 1, max: 500 })
        .map((n) => `{ viewer ${"@include(if: true) ".repeat(n)} { id } }`),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        "mutation { logout { id } } mutation { logout { id } }",
        "subscription { x }",
        "query A { viewer { id } } query B { tenant { id } }",
        "fragment F on Query { ...F } { ...F }",
        "{ __schema { types { name fields { name } } } }",
        "{",
        "",
      ),
    },
    { weight: 2, arbitrary: text },
  );
  const bodyOf = fc.oneof(
    {
      weight: 4,
      arbitrary: fc
        .record({
          query: documentArb,
          variables: fc.option(fc.jsonValue({ maxDepth: 2 }), { nil: undefined }),
          operationName: fc.option(text, { nil: undefined }),
        })
        .map((b) => JSON.stringify(b)),
    },
    {
      weight: 1,
      arbitrary: fc
        .array(fc.record({ query: documentArb }), { maxLength: 5 })
        .map((b) => JSON.stringify(b)),
    },
    { weight: 1, arbitrary: fc.json({ maxDepth: 3 }) },
    { weight: 1, arbitrary: text },
    {
      weight: 1,
      arbitrary: fc
        .record({ query: junk, variables: junk, extensions: junk })
        .map((b) => JSON.stringify(b)),
    },
  );

  it(
    "generated documents and bodies, POST, with and without valid credentials",
    async () => {
      await fc.assert(
        fc.asyncProperty(
          bodyOf,
          contentTypeArb,
          fc.oneof(badAuthorization(), validCredential({ signed: 1, exchange: 1 })),
          async (body, contentType, auth) => {
            const headers: Record<string, string> = { "content-type": contentType };
            if (
              auth &&
              ["owner", "admin", "member", "apiKey", "jwtApiKey", "exchange", "signed"].includes(
                auth,
              )
            )
              Object.assign(
                headers,
                await credentialHeaders(auth as Credential, "POST", "/graphql", body),
              );
            else if (auth !== undefined) headers.authorization = auth;
            await sendAndCheck({ method: "POST", path: "/graphql", headers, body }, { body, auth });
          },
        ),
        options(RUNS * 2),
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    "generated documents, GET, with and without the CSRF header",
    async () => {
      await fc.assert(
        fc.asyncProperty(
          documentArb,
          fc.option(fc.jsonValue({ maxDepth: 2 }), { nil: undefined }),
          fc.boolean(),
          fc.boolean(),
          async (query, variables, csrf, owned) => {
            let search: string;
            try {
              search = new URLSearchParams({
                query,
                ...(variables !== undefined ? { variables: JSON.stringify(variables) } : {}),
              }).toString();
            } catch {
              fc.pre(false);
              return;
            }
            const headers: Record<string, string> = { accept: "application/json" };
            if (csrf) headers["x-graphql-yoga-csrf"] = "1";
            if (owned) headers.authorization = `Bearer ${real.ownerToken}`;
            await sendAndCheck(
              { method: "GET", path: `/graphql?${search}`, headers },
              { query, variables },
            );
          },
        ),
        options(),
      );
    },
    PROPERTY_TIMEOUT_MS,
  );
});

describe("any method on any path", () => {
  it(
    "generated methods, paths and headers never answer 5xx",
    async () => {
      const paths = [...routeTable.map((r) => r.path), "/graphql", "/docs", "/openapi.json", "/"];
      const suffix = fc.oneof(
        { weight: 3, arbitrary: fc.constant("") },
        {
          weight: 1,
          arbitrary: fc.constantFrom(
            "/",
            "//",
            "/..",
            "/%2e%2e/graphql",
            "/%ff",
            "/%",
            "/%00",
            ";x=1",
            "?a=%E0%A4%A",
            "/.env",
            "/x".repeat(200),
          ),
        },
        {
          weight: 1,
          arbitrary: fc.string({
            unit: fc.constantFrom(..."/.%az09-_~;=?&".split("")),
            maxLength: 20,
          }),
        },
      );
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(
            "GET",
            "POST",
            "PUT",
            "PATCH",
            "DELETE",
            "OPTIONS",
            "HEAD",
            "PROPFIND",
            "get",
          ),
          fc.constantFrom(...paths),
          suffix,
          fc.boolean(),
          contentTypeArb,
          fc.option(fc.json({ maxDepth: 2 }), { nil: undefined }),
          async (method, path, tail, owned, contentType, body) => {
            const url = `${path}${tail}`;
            try {
              new URL(url, "http://localhost");
            } catch {
              fc.pre(false);
            }
            const headers: Record<string, string> = {
              "content-type": contentType,
              "access-control-request-method": "POST",
              origin: "https://evil.test",
            };
            if (owned) headers.authorization = `Bearer ${real.ownerToken}`;
            const canHaveBody = !["GET", "HEAD", "get"].includes(method);
            await sendAndCheck(
              { method, path: url, headers, body: canHaveBody ? body : undefined },
              { url, body },
            );
          },
        ),
        options(RUNS * 2),
      );
    },
    PROPERTY_TIMEOUT_MS,
  );
});

// Exact inputs the fuzzer found; each fails until the product handles it. Kept as plain tests so
// that the failure names the input even when a property above shrinks to something else first.
describe("crashes found by the fuzzer, as fixed inputs", () => {
  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    sendAndCheck(
      { method: "POST", path, headers: { "content-type": "application/json", ...headers }, body },
      body,
    );
  const asOwner = () => ({ authorization: `Bearer ${real.ownerToken}` });
  const graphql = (
    query: string,
    variables: Record<string, unknown>,
    headers: Record<string, string> = asOwner(),
  ) => post("/graphql", JSON.stringify({ query, variables }), headers);

  it("POST /api/v3/auth/verify with Content-Type multipart/form-data and a body that is not multipart", async () => {
    await sendAndCheck(
      {
        method: "POST",
        path: "/api/v3/auth/verify",
        headers: { "content-type": "multipart/form-data" },
        body: "x",
      },
      "x",
    );
  });
  it("POST /api/v3/auth/verify with a multipart boundary and a body without it", async () => {
    await sendAndCheck(
      {
        method: "POST",
        path: "/api/v3/auth/verify",
        headers: { "content-type": "multipart/form-data; boundary=----x" },
        body: "hash=1",
      },
      "hash=1",
    );
  });
  it("createProject with a NUL character in the name", async () => {
    await graphql("mutation($input: CreateProjectInput!) { createProject(input: $input) { id } }", {
      input: { name: "a\u0000b" },
    });
  });
  it("updateProject with a NUL character in the description", async () => {
    await graphql("mutation($input: UpdateProjectInput!) { updateProject(input: $input) { id } }", {
      input: { id: real.projectId, description: "\u0000" },
    });
  });
  it("generateApiKey with a NUL character in the name", async () => {
    await graphql(
      "mutation($input: GenerateApiKeyInput!) { generateApiKey(input: $input) { key } }",
      { input: { name: "k\u0000" } },
    );
  });
  it("revokeKey with a NUL character in the reason", async () => {
    const { apiKey } = await generateKeyFor(h, real.ownerToken, { name: "nul reason" });
    await graphql("mutation($id: ID!, $r: String) { revokeKey(id: $id, reason: $r) { id } }", {
      id: apiKey.id,
      r: "\u0000",
    });
  });
  it("addUser with a NUL character in the name", async () => {
    await graphql("mutation($input: AddUserInput!) { addUser(input: $input) { id } }", {
      input: { email: `nul-${Date.now()}@example.test`, name: "\u0000" },
    });
  });
  it("createTenant (platform admin) with a NUL character in the name", async () => {
    await graphql(
      "mutation($input: CreateTenantInput!) { createTenant(input: $input) { tenant { id } } }",
      { input: { name: "\u0000", ownerEmail: `nul-tenant-${Date.now()}@example.test` } },
      { authorization: `Bearer ${real.adminToken}` },
    );
  });
  it("revokeSession with 36 hex digits and dashes that are not a UUID", async () => {
    await graphql("mutation($id: ID!) { revokeSession(id: $id) { id } }", {
      id: "------------------------------------",
    });
    await graphql("mutation($id: ID!) { revokeSession(id: $id) { id } }", {
      id: "ffffffffffffffffffffffffffffffffffff",
    });
  });
  it("revokeKey with a lone UTF-16 surrogate in the reason (audit metadata is jsonb)", async () => {
    const { apiKey } = await generateKeyFor(h, real.ownerToken, { name: "surrogate reason" });
    await graphql("mutation($id: ID!, $r: String) { revokeKey(id: $id, reason: $r) { id } }", {
      id: apiKey.id,
      r: "\ud800",
    });
  });
  it("createProject with a non-ASCII character followed by a lone surrogate (embedded PGlite only: 22021 0xef 0xbf)", async () => {
    await graphql("mutation($input: CreateProjectInput!) { createProject(input: $input) { id } }", {
      input: { name: "n", description: "é\udc00" },
    });
  });
  it("apiKeys and projects with a cursor that is not one of theirs", async () => {
    await graphql("query($a: String) { apiKeys(after: $a) { edges { node { id } } } }", { a: "" });
    await graphql("query($a: String) { projects(before: $a) { edges { node { id } } } }", {
      a: "x",
    });
    await graphql(
      "query($a: String, $id: ID!) { project(id: $id) { keys(after: $a) { edges { node { id } } } } }",
      { a: "x", id: real.projectId },
    );
  });
  it("apiKeys with both after and before", async () => {
    await graphql(
      "query($a: String, $b: String) { apiKeys(after: $a, before: $b) { edges { node { id } } } }",
      { a: "IA", b: "IA" },
    );
  });
  it("apiKeys, tenants and project.keys with a negative first or last", async () => {
    await graphql("query { apiKeys(first: -1) { edges { node { id } } } }", {});
    await graphql("query { apiKeys(last: -1) { edges { node { id } } } }", {});
    await graphql(
      "query($id: ID!) { project(id: $id) { keys(first: -1) { edges { node { id } } } } }",
      { id: real.projectId },
    );
    await graphql(
      "query { tenants(first: -1) { edges { node { id } } } }",
      {},
      { authorization: `Bearer ${real.adminToken}` },
    );
  });
  it("POST /api/v3/auth/login with a NUL character in the email: the answer is 200, the background lookup fails", async () => {
    await post("/api/v3/auth/login", JSON.stringify({ email: "a\u0000b@example.test" }));
  });
  it("POST /api/v1/apikey (Extractor) with a NUL character in the label", async () => {
    await post("/api/v1/apikey", JSON.stringify({ label: "a\u0000" }), asOwner());
  });
  it("POST /api/v1/apikey/generate (Yativo) with a NUL character in the name", async () => {
    await post("/api/v1/apikey/generate", JSON.stringify({ name: "a\u0000" }), asOwner());
  });
  it("POST /api/adm/companyProjectKeys/generate with a NUL character in the name", async () => {
    await post(
      "/api/adm/companyProjectKeys/generate",
      JSON.stringify({ projectId: real.projectId, name: "a\u0000" }),
      asOwner(),
    );
  });
});

/** App routes fuzzed by the GraphQL tests above rather than through routeTable. */
const GRAPHQL_ROUTES: Record<string, string> = {
  "POST /graphql": "every operation, and 'the /graphql endpoint itself'",
  "GET /graphql": "'the /graphql endpoint itself', GET",
  "OPTIONS /graphql": "'any method on any path'",
};

// The lists above are written by hand; these compare them with what the code declares, so a new
// route, operation or argument fails here until it is fuzzed.
describe("the fuzz targets cover the whole surface", () => {
  it("every route of the app (but NON_API_ROUTES) is in routeTable or fuzzed through GraphQL", () => {
    const fuzzed = new Set([
      ...routeTable.map((route) => `${route.method} ${route.path}`),
      ...Object.keys(GRAPHQL_ROUTES),
    ]);
    const routes = apiRoutes(h);
    expect(routes).toContain("POST /v1/keys/verify");
    expect(routes.filter((route) => !fuzzed.has(route))).toEqual([]);
  });

  it("every route in routeTable exists (but the deliberately unknown one)", () => {
    const routes = new Set(appRoutes(h));
    expect(
      routeTable
        .map((route) => `${route.method} ${route.path}`)
        .filter((route) => !routes.has(route) && route !== "POST /no/such/route"),
    ).toEqual([]);
  });

  it("every query and mutation of the schema is fuzzed, with every argument", () => {
    const documents = operations().map((operation) => rootFieldsOf(operation.document));
    const fields = new Set(documents.flatMap((d) => d.fields));
    const args = new Set(documents.flatMap((d) => d.arguments));
    expect(schemaOperations().filter((field) => !fields.has(field))).toEqual([]);
    expect(schemaArguments().filter((arg) => !args.has(arg))).toEqual([]);
  });
});

describe("after the fuzzing", () => {
  it("the owner's credentials still work and the database still answers", async () => {
    const viewer = await gql(h, "{ viewer { id } tenant { id } }", {}, real.ownerToken);
    expect(viewer.data!.viewer.id).toBe(owner.owner.id);
    const ready = await h.app.request("/readyz");
    expect(ready.status).toBe(200);
  });
});
