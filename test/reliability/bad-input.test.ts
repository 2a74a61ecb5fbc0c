import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createApp } from "../../src/app";
import { STATUS_BY_CODE } from "../../src/http/error-codes";
import worker from "../../src/index";
import { findViolations, snapshotFromStorage, snapshotViaHttp, UID_TAG } from "./invariants";

// Bad input over every route: malformed JSON, wrong types, huge strings, unicode edge cases, path
// tricks and bad filters. Never a 5xx; every 4xx is MLflow's `{error_code, message}` JSON with the
// status MLflow's table gives that code; and the registry's invariants still hold afterwards.
// The routes come from the app itself, so a route added later is fuzzed without touching this file.
// `npm run test:reliability` runs this file with more cases (VITE_RELIABILITY_RUNS per route).
//
// Requests go to the Worker's default export directly (with an execution context whose waitUntil
// work is awaited), not through `exports.default.fetch`: in this pool (vitest-pool-workers 0.23)
// every call through that service binding makes the next one slower (100 GET /health take 0.7 s
// at first and 26 s after 400 calls), while the direct call stays at ~0.25 ms. Same app, same
// bindings, same D1/R2/Durable Objects.
async function handle(request: Request): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await worker.fetch(request, env, ctx);
  const bytes = request.method === "HEAD" ? null : await response.arrayBuffer();
  await waitOnExecutionContext(ctx);
  return new Response(bytes, { status: response.status, headers: response.headers });
}

vi.setConfig({ testTimeout: 240_000, hookTimeout: 60_000 });

type ViteEnv = { env?: Record<string, string | undefined> };
const viteEnv = (import.meta as unknown as ViteEnv).env ?? {};
const RUNS = Number(viteEnv.VITE_RELIABILITY_RUNS ?? 12);
const SEED = Number(viteEnv.VITE_RELIABILITY_SEED ?? 20260501);
const ORIGIN = "http://modelgate.test";

const summary = {
  routes: 0,
  cases: 0,
  accepted: 0,
  rejected: 0,
  codes: {} as Record<string, number>,
  statuses: {} as Record<string, number>,
  violations: [] as string[],
};

// --- the routes ------------------------------------------------------------------------------------

interface Route {
  method: string;
  path: string;
}

/** Every method/path pair the app serves (middleware entries left out; /ajax-api is the same tree as /api). */
function allRoutes(): Route[] {
  const seen = new Map<string, Route>();
  for (const r of createApp().routes) {
    if (r.method === "ALL") continue;
    if (r.path.startsWith("/ajax-api/")) continue;
    seen.set(`${r.method} ${r.path}`, { method: r.method, path: r.path });
  }
  return [...seen.values()];
}

// --- arbitraries -------------------------------------------------------------------------------------

const EDGE_STRINGS = [
  "",
  " ",
  "\u0000",
  "a\u0000b",
  "\uD800",
  "\uDFFF",
  "\uFEFF",
  "e\u0301",
  "\u202Eabc",
  "💥",
  "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
  "名前",
  "'",
  '"',
  "\\",
  "`",
  "%",
  "%00",
  "%ZZ",
  "%2e%2e",
  "..",
  "../..",
  "/",
  "//",
  "a/../b",
  "./a",
  "\r\n",
  "\t",
  "NaN",
  "null",
  "undefined",
  "true",
  "-1",
  "0",
  "1e309",
  "1.5",
  "9".repeat(400),
  "' OR 1=1 --",
  "'; DROP TABLE registered_models; --",
  "Production",
  "production",
  "latest",
  "v1",
  "@",
  "@champion",
  "models:/x/1",
  "runs:/nope/model",
  "mlflow-artifacts:/../../etc/passwd",
  "mlflow-artifacts:/",
  "models:/m-0000",
  `s3://bucket/${"k".repeat(600)}`,
  "<script>alert(1)</script>",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a log-injection probe, literally
  "${jndi:ldap://x}",
  "__proto__",
  "constructor",
];

const FILTERS = [
  "name = 'a' OR name = 'b'",
  "name = ",
  "name LIKE 'x",
  "((name = 'a'))",
  "name = 'a' AND",
  "AND",
  "tags.`unterminated = 'x'",
  "tags. = 'x'",
  "version_number > 'abc'",
  "version_number > 99999999999999999999999",
  "version_number IN (1,2)",
  "run_id IN ()",
  "run_id IN ('a'",
  "run_id IN ('a', 'b') AND name = \"x\"",
  "metrics.x > 'y'",
  "metrics.`x` >",
  "params.p = 1",
  "attributes.status = 'BOGUS'",
  "attribute.name ILIKE '%'",
  "unknown_attr = 'x'",
  "name = 'a' ; DELETE FROM registered_models",
  "name = '\\'",
  "name = '\u0000'",
  "name IS NULL",
  "name != NULL",
  "datasets.name = 'x'",
  `name = '${"x".repeat(10_000)}'`,
  `${"tags.x = 'y' AND ".repeat(200)}name = 'z'`,
];

/** Names that reach deeper than validation: the seeded model, its versions, stages. */
const REAL: string[] = [];

const edge = fc.constantFrom(...EDGE_STRINGS);
const unicode = fc.string({ unit: "binary", maxLength: 40 });
const grapheme = fc.string({ unit: "grapheme", maxLength: 20 });
// Past every limit (names 256, tags 250/5000, descriptions 5000, paths 1024) without making each
// case megabytes: the one body over the 4 MiB JSON limit is `hugeBody`.
const huge = fc.oneof(
  fc.integer({ min: 250, max: 6_000 }).map((n) => "x".repeat(n)),
  fc.integer({ min: 1_000, max: 24_000 }).map((n) => "é💥".repeat(Math.ceil(n / 3))),
);
const filter = fc.oneof(
  fc.constantFrom(...FILTERS),
  fc.tuple(edge, unicode).map(([a, b]) => `name = '${a}${b}'`),
  unicode,
);
const real = fc.nat().map((i) => REAL[i % REAL.length] ?? "x");
const text = fc.oneof(
  { weight: 4, arbitrary: edge },
  { weight: 3, arbitrary: unicode },
  { weight: 2, arbitrary: grapheme },
  { weight: 1, arbitrary: huge },
  { weight: 3, arbitrary: real },
  { weight: 1, arbitrary: filter },
);
const wrongType = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.oneof(text, fc.integer()), { maxLength: 4 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.oneof(text, fc.integer()), { maxKeys: 3 }),
  fc.constant({ key: 1, value: ["x"] }),
  fc.constant([{ key: "\u0000", value: "x" }]),
);
const value = fc.oneof(
  { weight: 3, arbitrary: text },
  { weight: 2, arbitrary: wrongType },
  { weight: 1, arbitrary: fc.anything({ maxDepth: 2 }) },
);

/** Parameter names across the API (a request gets a random few of them). */
const KEYS = [
  "name",
  "new_name",
  "version",
  "stage",
  "stages",
  "alias",
  "key",
  "value",
  "description",
  "source",
  "run_id",
  "run_link",
  "tags",
  "archive_existing_versions",
  "comment",
  "model_id",
  "filter",
  "max_results",
  "page_token",
  "order_by",
  "experiment_id",
  "experiment_ids",
  "experiment_name",
  "artifact_location",
  "view_type",
  "run_view_type",
  "user_id",
  "start_time",
  "end_time",
  "status",
  "run_name",
  "metric_key",
  "metrics",
  "params",
  "timestamp",
  "step",
  "model_json",
  "datasets",
  "models",
  "inputs",
  "path",
  "num_parts",
  "upload_id",
  "parts",
  "paths",
  "expires_in",
  "scopes",
  "since",
  "until",
  "actor",
  "model",
  "sig",
  "expires",
  "kid",
  "via",
  "model_type",
  "source_run_id",
  "dataset_name",
  "dataset_digest",
];
const key = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...KEYS) },
  { weight: 1, arbitrary: edge },
  { weight: 1, arbitrary: unicode },
);
const params = fc.dictionary(key, value, { minKeys: 0, maxKeys: 7 });

/** Request bodies: malformed JSON, non-objects, objects with wrong-typed fields, huge, invalid UTF-8. */
const body = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      "{",
      '{"name":',
      "[1,2",
      '{"a":1,}',
      "{'name': 'x'}",
      "nul",
      '"\\ud800"',
      '{"name":"\\u0000"}',
      "\u0000",
      '"{\\"name\\""',
      '"[1]"',
      '"\\"x\\""',
      "[".repeat(5_000),
      '{"a":'.repeat(3_000),
    ),
  },
  { weight: 1, arbitrary: unicode },
  {
    weight: 2,
    arbitrary: fc
      .oneof(fc.array(value, { maxLength: 3 }), fc.integer(), fc.string(), fc.constant(null), fc.boolean())
      .map((v) => JSON.stringify(v)),
  },
  { weight: 1, arbitrary: params.map((p) => JSON.stringify(JSON.stringify(p))) },
  { weight: 8, arbitrary: params.map((p) => JSON.stringify(p)) },
  {
    weight: 1,
    arbitrary: fc.uint8Array({ minLength: 1, maxLength: 64 }).map((b) => Uint8Array.from([0xff, 0xfe, ...b])),
  },
  { weight: 1, arbitrary: fc.constant(null) },
);
const hugeBody = fc
  .integer({ min: 4 * 1024 * 1024 - 16, max: 4 * 1024 * 1024 + 64 })
  .map((n) => `{"name":"${"a".repeat(n)}"}`);

/** Path segments: percent-encoded text, or raw tricks that survive URL parsing. */
const RAW_SEGMENTS = [
  "..",
  "%2e%2e",
  "%2E%2E%2F",
  "%2F",
  "%00",
  "%ZZ",
  "%E0%A4%A",
  "%",
  "%C0%AF",
  "%5C",
  "a%20b",
  ".",
  "%2e",
  "~",
  "%u0041",
  "%FF%FE",
];
const segment = fc.oneof(
  // toWellFormed: a lone surrogate cannot be percent-encoded (the URL would carry U+FFFD anyway).
  { weight: 4, arbitrary: text.map((t) => encodeURIComponent(t.slice(0, 2_000).toWellFormed())) },
  { weight: 2, arbitrary: fc.constantFrom(...RAW_SEGMENTS) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "1",
      "0",
      "-1",
      "99999999999999999999",
      "Production",
      "@champion",
      "latest",
      "m-00000000000000000000000000000000",
    ),
  },
  { weight: 2, arbitrary: real.map((t) => encodeURIComponent(t.toWellFormed())) },
);
const multiSegment = fc.array(segment, { minLength: 1, maxLength: 5 }).map((s) => s.join("/"));

const headerSets = fc.record(
  {
    "content-type": fc.constantFrom(
      "application/json",
      "text/plain",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
      "application/json; charset=latin1",
      "",
    ),
    range: fc.constantFrom(
      "bytes=0-0",
      "bytes=-0",
      "bytes=5-1",
      "bytes=99999999999999999999-",
      "bytes=0-1,3-4",
      "items=0-1",
      "bytes=-",
    ),
    "if-none-match": fc.constantFrom("*", '"x"', "W/", ""),
    authorization: fc.constantFrom("Bearer ", "Bearer %C3%BF", "Basic !!!", `Basic ${btoa(":")}`, "Token x"),
    "content-length": fc.constantFrom("0", "-1", "abc", "99999999999"),
  },
  { requiredKeys: [] },
);

interface Case {
  method: string;
  url: string;
  body: string | Uint8Array | null;
  headers: Record<string, string>;
}

function caseFor(route: Route): fc.Arbitrary<Case> {
  const segments = [...route.path.matchAll(/:[A-Za-z]+(?:\{[^}]*\})?|\*/g)].map((m) => m[0]);
  return fc
    .record({
      seg: fc.tuple(...segments.map((s) => (s === "*" || s.includes("{") ? multiSegment : segment))),
      query: fc.oneof({ weight: 3, arbitrary: params }, { weight: 1, arbitrary: fc.constant({}) }),
      repeated: fc.array(fc.tuple(key, text), { maxLength: 3 }),
      body: fc.oneof({ weight: 30, arbitrary: body }, { weight: 1, arbitrary: hugeBody }),
      headers: headerSets,
      ajax: fc.boolean(),
    })
    .map(({ seg, query, repeated, body: payload, headers, ajax }) => {
      let i = 0;
      let path = route.path.replace(/:[A-Za-z]+(?:\{[^}]*\})?|\*/g, () => String(seg[i++]));
      if (ajax && path.startsWith("/api/2.0/mlflow")) path = path.replace("/api/", "/ajax-api/");
      const search = new URLSearchParams();
      for (const [k, v] of Object.entries(query))
        search.append(k, typeof v === "string" ? v : (JSON.stringify(v) ?? ""));
      for (const [k, v] of repeated) search.append(k, v);
      const qs = search.toString();
      const withBody = route.method !== "GET" && route.method !== "HEAD";
      const h: Record<string, string> = {};
      for (const [k, v] of Object.entries(headers)) if (v !== undefined && !(k === "content-length")) h[k] = v;
      return {
        method: route.method,
        url: `${ORIGIN}${path}${qs ? `?${qs.slice(0, 60_000)}` : ""}`,
        body: withBody ? payload : null,
        headers: h,
      };
    });
}

// --- the check ---------------------------------------------------------------------------------------

async function send(c: Case): Promise<void> {
  summary.cases++;
  const t0 = Date.now();
  try {
    await sendInner(c);
  } finally {
    const ms = Date.now() - t0;
    if (ms > 300)
      console.log(`SLOW ${ms}ms ${c.method} ${c.url.slice(0, 150)} body=${c.body === null ? 0 : c.body.length}`);
  }
}

async function sendInner(c: Case): Promise<void> {
  let response: Response;
  try {
    const init: RequestInit = { method: c.method, headers: c.headers };
    if (c.body !== null) init.body = c.body;
    response = await handle(new Request(c.url, init));
  } catch (error) {
    // A Request the runtime itself refuses to build (e.g. an invalid header value) never reaches us.
    if (error instanceof TypeError && !String(error.message).includes("fetch")) return;
    throw error;
  }
  const status = response.status;
  summary.statuses[status] = (summary.statuses[status] ?? 0) + 1;
  const where = `${c.method} ${c.url.slice(ORIGIN.length, ORIGIN.length + 160)}${c.body !== null ? ` body ${JSON.stringify(typeof c.body === "string" ? c.body.slice(0, 120) : `<${c.body.length} bytes>`)}` : ""}`;
  const bytes = c.method === "HEAD" ? new Uint8Array() : new Uint8Array(await response.arrayBuffer());
  const fail = (why: string) => {
    const text = `${why}: ${where} → ${status} ${new TextDecoder().decode(bytes.slice(0, 300))}`;
    if (summary.violations.length < 200) summary.violations.push(text);
    return text;
  };
  if (status >= 500) throw new Error(fail("5xx"));
  if (status < 400) {
    summary.accepted++;
    const api = /^\/(ajax-)?api\/2\.0\/(mlflow|modelgate)\//.test(new URL(c.url).pathname);
    if (api && c.method !== "HEAD" && status === 200) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(new TextDecoder().decode(bytes));
      } catch {
        parsed = undefined;
      }
      if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed))
        throw new Error(fail("a 200 from the API that is not a JSON object"));
    }
    return;
  }
  summary.rejected++;
  // A 416 on a /v1 file is HTTP's answer to an unsatisfiable Range, not an API error.
  if (status === 416 && c.url.includes("/files/")) return;
  if (c.method === "HEAD") return;
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new Error(fail("a 4xx whose body is not JSON"));
  }
  const code = parsed.error_code;
  if (!(response.headers.get("content-type") ?? "").startsWith("application/json"))
    throw new Error(fail("a 4xx without Content-Type: application/json"));
  if (
    Object.keys(parsed).sort().join(",") !== "error_code,message" ||
    typeof code !== "string" ||
    typeof parsed.message !== "string" ||
    parsed.message === ""
  ) {
    throw new Error(fail("a 4xx that is not exactly {error_code, message}"));
  }
  summary.codes[code] = (summary.codes[code] ?? 0) + 1;
  if (STATUS_BY_CODE[code as keyof typeof STATUS_BY_CODE] !== status)
    throw new Error(fail(`error_code ${code} with HTTP ${status}`));
}

// --- the suite -----------------------------------------------------------------------------------------

/** A model worth fuzzing against: versions with files, one in Production, an alias, a run and its experiment. */
async function seed(): Promise<void> {
  const call = async (method: string, path: string, payload?: unknown, raw?: string) => {
    const res = await handle(
      new Request(`${ORIGIN}${path}`, {
        method,
        headers: { "content-type": "application/json" },
        body: raw ?? (payload === undefined ? undefined : JSON.stringify(payload)),
      }),
    );
    const text = await res.text();
    if (res.status !== 200) throw new Error(`seed ${method} ${path}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : {};
  };
  const name = `fuzz-seed-${Date.now().toString(36)}`;
  await call("POST", "/api/2.0/mlflow/registered-models/create", {
    name,
    tags: [{ key: UID_TAG, value: "fuzz-seed" }],
  });
  const exp = await call("POST", "/api/2.0/mlflow/experiments/create", { name: `${name}-exp` });
  const run = await call("POST", "/api/2.0/mlflow/runs/create", { experiment_id: exp.experiment_id });
  const runId: string = run.run.info.run_id;
  const artifactPath = String(run.run.info.artifact_uri).replace("mlflow-artifacts:/", "");
  for (const v of [1, 2]) {
    await call(
      "PUT",
      `/api/2.0/mlflow-artifacts/artifacts/${artifactPath}/model${v}/model.bin`,
      undefined,
      `weights of version ${v}`,
    );
    await call(
      "PUT",
      `/api/2.0/mlflow-artifacts/artifacts/${artifactPath}/model${v}/MLmodel`,
      undefined,
      "flavors: {}",
    );
    await call("POST", "/api/2.0/mlflow/model-versions/create", {
      name,
      source: `runs:/${runId}/model${v}`,
      run_id: runId,
    });
  }
  await call("POST", "/api/2.0/mlflow/model-versions/transition-stage", {
    name,
    version: "1",
    stage: "Production",
    comment: "seed",
  });
  await call("POST", "/api/2.0/mlflow/registered-models/alias", { name, alias: "champion", version: "2" });
  REAL.push(
    name,
    name,
    name,
    "1",
    "2",
    "Production",
    "champion",
    runId,
    String(exp.experiment_id),
    `${artifactPath}/model1`,
    `${artifactPath}/model1/model.bin`,
    "model.bin",
  );
}

describe("bad input on every route", () => {
  const routes = allRoutes();
  const before = new Set<string>();

  beforeAll(async () => {
    // Models other suites left in this storage (if it is shared) are theirs: the invariants are checked on ours.
    const rows = await env.DB.prepare("SELECT id FROM registered_models").all<{ id: string }>();
    for (const r of rows.results) before.add(r.id);
    await seed();
  });

  afterAll(() => {
    summary.routes = routes.length;
    console.log(`RELIABILITY_FUZZ ${JSON.stringify({ ...summary, runsPerProperty: RUNS, seed: SEED })}`);
  });

  it("enumerates the routes of every tree", () => {
    const trees = [
      "/api/2.0/mlflow/registered-models/",
      "/api/2.0/mlflow/model-versions/",
      "/api/2.0/mlflow/experiments/",
      "/api/2.0/mlflow/runs/",
      "/api/2.0/mlflow/logged-models",
      "/api/2.0/mlflow/metrics/get-history",
      "/api/2.0/mlflow-artifacts/",
      "/api/2.0/modelgate/",
      "/v1/models/",
    ];
    for (const tree of trees)
      expect(
        routes.some((r) => r.path.startsWith(tree)),
        tree,
      ).toBe(true);
  });

  for (const [index, route] of routes.entries()) {
    it(`never answers 5xx, and answers 4xx as MLflow error JSON: ${route.method} ${route.path}`, async () => {
      await fc.assert(fc.asyncProperty(caseFor(route), send), {
        numRuns: RUNS,
        seed: SEED + index,
        endOnFailure: true,
      });
    });
  }

  it("answers unknown paths and wrong methods under every tree with ENDPOINT_NOT_FOUND", async () => {
    const prefixes = [
      "/api/2.0/mlflow/",
      "/ajax-api/2.0/mlflow/",
      "/api/2.0/mlflow-artifacts/",
      "/api/2.0/modelgate/",
      "/v1/",
      "/v1/models/",
      "/",
    ];
    const arbitrary = fc.record({
      prefix: fc.constantFrom(...prefixes),
      rest: multiSegment,
      method: fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"),
      payload: body,
    });
    await fc.assert(
      fc.asyncProperty(arbitrary, ({ prefix, rest, method, payload }) =>
        send({
          method,
          url: `${ORIGIN}${prefix}${rest}`,
          body: method === "GET" ? null : payload,
          headers: { "content-type": "application/json" },
        }),
      ),
      { numRuns: RUNS * 4, seed: SEED - 1, endOnFailure: true },
    );
  });

  it("leaves every invariant holding, in D1 and R2 and through the API", async () => {
    const mine = <T extends { id?: string }>(models: T[]) => models.filter((m) => !m.id || !before.has(m.id));
    const storage = await snapshotFromStorage(env.DB, env.ARTIFACTS);
    storage.models = mine(storage.models);
    // Other suites' artifacts may be shared storage too; ours are the ones our models' manifests name.
    delete storage.artifacts;
    const api = await snapshotViaHttp((url: string, init?: RequestInit) => handle(new Request(url, init)), ORIGIN);
    const names = new Set(storage.models.map((m) => m.name));
    api.models = api.models.filter((m) => names.has(m.name));
    const violations = [...findViolations(storage), ...findViolations(api)];
    summary.violations.push(...violations);
    expect(violations).toEqual([]);
    expect(storage.models.some((m) => m.tags[UID_TAG] === "fuzz-seed") || storage.models.length > 0).toBe(true);
  });
});
