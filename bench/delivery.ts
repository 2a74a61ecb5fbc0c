// The edge-delivery rows of `npm run bench` (issue 4): the registry's /v1 read path against a bare
// Worker doing the same platform call, measured in the same run:
//   cached 1 MiB file        vs a raw Cache API hit of the same bytes   (target >= 80 %)
//   uncached 1 MiB file      vs a raw R2 read of the same bytes         (tracked, no target)
//   304 and resolve          vs hello-world                             (target >= 50 %)
//   one 100 MiB download, cache miss and then hit, in MiB/s, against the bare Worker's R2 read.
// bench/run.ts calls measureDelivery() with a seeded `npm start` it already runs.
import { randomBytes } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type ChildHandle, describeTail, freePort, startChild, stopChild } from "./lib/children";
import {
  assertNoErrorStatus,
  type Measure,
  type Measured,
  runWrk,
  socketErrors,
  type WrkResult,
  type WrkSettings,
} from "./lib/wrk";

const here = path.dirname(fileURLToPath(import.meta.url));
const bareDir = path.join(here, "bare-r2");
const CYCLE_SCRIPT = path.join(here, "lib", "cycle-versions.lua");
const MiB = 1024 * 1024;

export const DELIVERY = {
  model: "delivery-bench",
  bigModel: "delivery-big",
  file: "weights.bin",
  uncachedVersions: 2500,
  bigMiB: 100,
};
export const DELIVERY_TARGETS = { cached: 0.8, pointRead: 0.5 };

async function ok(response: Response, what: string): Promise<any> {
  const text = await response.text();
  if (!response.ok) throw new Error(`${what}: HTTP ${response.status} ${text.slice(0, 500)}`);
  return text ? JSON.parse(text) : {};
}

function api(base: string) {
  return (route: string, body: unknown) =>
    fetch(`${base}/api/2.0/mlflow/${route}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    }).then((r) => ok(r, route));
}

const put = (url: string, bytes: Buffer) =>
  fetch(url, { method: "PUT", body: bytes as Uint8Array<ArrayBuffer>, duplex: "half" } as RequestInit).then((r) =>
    ok(r, `PUT ${url}`),
  );

/** The first PUT to a server that is still starting: retried for up to a minute. */
async function putWhenUp(url: string, bytes: Buffer, handle: ChildHandle) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (handle.exited) throw new Error(`${handle.label} exited before it answered\n${describeTail(handle)}`);
    try {
      return await put(url, bytes);
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/**
 * Registers the delivery models: version 1..N of one 1 MiB file (each version its own cache key), and one 100 MiB version.
 * The files belong to a run (artifact writes land only under a run's or logged model's root).
 */
async function seed(base: string, small: Buffer, big: Buffer, log: (message: string) => void) {
  const post = api(base);
  const started = Date.now();
  const run = await post("runs/create", { experiment_id: "0", run_name: "delivery-bench", start_time: Date.now() });
  const artifactRoot = run.run.info.artifact_uri.replace(/^mlflow-artifacts:\//, "");
  await put(`${base}/api/2.0/mlflow-artifacts/artifacts/${artifactRoot}/small/${DELIVERY.file}`, small);
  await put(`${base}/api/2.0/mlflow-artifacts/artifacts/${artifactRoot}/big/${DELIVERY.file}`, big);
  await post("registered-models/create", { name: DELIVERY.model });
  await post("registered-models/create", { name: DELIVERY.bigModel });
  await post("model-versions/create", { name: DELIVERY.bigModel, source: `mlflow-artifacts:/${artifactRoot}/big` });
  // Sequential: version numbers are allocated one at a time by the model's coordinator anyway.
  for (let v = 1; v <= DELIVERY.uncachedVersions; v++) {
    const created = await post("model-versions/create", {
      name: DELIVERY.model,
      source: `mlflow-artifacts:/${artifactRoot}/small`,
    });
    if (created.model_version.status !== "READY" || created.model_version.version !== String(v)) {
      throw new Error(`seeding ${DELIVERY.model}: unexpected ${JSON.stringify(created.model_version)}`);
    }
  }
  await post("model-versions/transition-stage", { name: DELIVERY.model, version: "1", stage: "Production" });
  log(
    `delivery: seeded ${DELIVERY.uncachedVersions} versions of a 1 MiB file and one of ${DELIVERY.bigMiB} MiB in ${((Date.now() - started) / 1000).toFixed(1)}s`,
  );
}

/** Downloads `url` once, streaming, and answers MiB/s and the cache state the server reported. */
async function download(url: string, expectedBytes: number) {
  const started = process.hrtime.bigint();
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status}`);
  let bytes = 0;
  // Node's fetch body is async-iterable; the DOM library (in tsconfig.node.json for the browser tests) omits it.
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) bytes += chunk.byteLength;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (bytes !== expectedBytes) throw new Error(`GET ${url}: ${bytes} bytes, expected ${expectedBytes}`);
  return { seconds, mibPerSec: bytes / MiB / seconds, cache: response.headers.get("x-modelgate-cache") };
}

/**
 * The cache-miss path under load: every request names a version not asked for yet, so each is a D1
 * lookup, an R2 read and a cache fill. No warm-up (it would use up fresh versions); the run is short
 * enough that the versions last, and the hit/miss counts are reported to show it.
 */
async function measureUncached(label: string, url: string, settings: WrkSettings, log: (message: string) => void) {
  const result = await runWrk(url, {
    ...settings,
    durationSec: 5,
    script: CYCLE_SCRIPT,
    scriptArgs: [`/v1/models/${DELIVERY.model}/versions/`, `/files/${DELIVERY.file}`, 2, DELIVERY.uncachedVersions],
  });
  assertNoErrorStatus(label, result);
  log(
    `${label}: ${Math.round(result.requestsPerSec)} req/s, p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms (${result.cache?.miss} misses, ${result.cache?.hit} hits)`,
  );
  return { ...result, socketErrors: socketErrors(result) };
}

export async function measureDelivery({
  base,
  runDir,
  settings,
  measure,
  measureHello,
  log,
}: {
  base: string;
  runDir: string;
  settings: WrkSettings;
  measure: Measure;
  measureHello: (label: string) => Promise<Measured>;
  log: (message: string) => void;
}) {
  const small = randomBytes(MiB);
  const big = randomBytes(DELIVERY.bigMiB * MiB);
  const port = await freePort();
  const bare = startChild(
    "bare R2/Cache Worker",
    process.execPath,
    ["--import", "tsx", path.join(bareDir, "serve.ts")],
    {
      cwd: bareDir,
      env: { ...process.env, PORT: String(port), STATE_DIR: path.join(runDir, "bare-r2") },
    },
  );
  try {
    const bareBase = `http://127.0.0.1:${port}`;
    await putWhenUp(`${bareBase}/small`, small, bare);
    await put(`${bareBase}/big`, big);
    await seed(base, small, big, log);

    const fileUrl = `${base}/v1/models/${DELIVERY.model}/versions/1/files/${DELIVERY.file}`;
    const first = await fetch(fileUrl);
    const etag = first.headers.get("etag");
    if (Buffer.compare(Buffer.from(await first.arrayBuffer()), small) !== 0)
      throw new Error(`${fileUrl} served other bytes`);

    const rawHit = await measure("raw Cache API hit, 1 MiB (bare Worker)", `${bareBase}/__cache/small`);
    const cached = await measure("cached 1 MiB file (/v1 .../files)", fileUrl);
    const rawR2 = await measure("raw R2 read, 1 MiB (bare Worker)", `${bareBase}/small`);
    const uncached = await measureUncached(
      "uncached 1 MiB file (a new version each request)",
      `${base}/`,
      settings,
      log,
    );
    const helloBefore = await measureHello("hello-world, Miniflare (before 304 and resolve)");
    const notModified = await measure("304 (If-None-Match on a cached file)", fileUrl, {
      headers: { "if-none-match": etag ?? "" },
    });
    const resolve = await measure(
      "resolve Production (/v1/models/{name}/Production)",
      `${base}/v1/models/${DELIVERY.model}/Production`,
    );
    const helloAfter = await measureHello("hello-world, Miniflare (after 304 and resolve)");
    const helloMean = (helloBefore.requestsPerSec + helloAfter.requestsPerSec) / 2;

    const bigUrl = `${base}/v1/models/${DELIVERY.bigModel}/versions/1/files/${DELIVERY.file}`;
    const bigMiss = await download(bigUrl, big.length);
    const bigHit = await download(bigUrl, big.length);
    const bigBare = await download(`${bareBase}/big`, big.length);
    log(
      `delivery: ${DELIVERY.bigMiB} MiB download: ${bigMiss.mibPerSec.toFixed(0)} MiB/s (${bigMiss.cache}), ${bigHit.mibPerSec.toFixed(0)} MiB/s (${bigHit.cache}); bare R2 read ${bigBare.mibPerSec.toFixed(0)} MiB/s`,
    );

    return {
      cached: { ...cached, baseline: rawHit, ratio: cached.requestsPerSec / rawHit.requestsPerSec },
      uncached: { ...uncached, baseline: rawR2, ratio: uncached.requestsPerSec / rawR2.requestsPerSec },
      notModified: { ...notModified, ratio: notModified.requestsPerSec / helloMean },
      resolve: { ...resolve, ratio: resolve.requestsPerSec / helloMean },
      hello: [helloBefore, helloAfter] as const,
      big: { mib: DELIVERY.bigMiB, miss: bigMiss, hit: bigHit, bare: bigBare },
    };
  } finally {
    await stopChild(bare);
  }
}

const pct = (r: number) => `${Math.round(r * 100)} %`;
const int = (n: number) => Math.round(n).toLocaleString("en-US");
const ms = (n: number) => `${n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : n.toFixed(0)} ms`;
const verdict = (ratio: number, target: number) =>
  `**${pct(ratio)}** (≥ ${pct(target)}: ${ratio >= target ? "met" : "**not met**"})`;

/** The "Edge delivery" section of docs/benchmarks.md. */
export type Delivery = Awaited<ReturnType<typeof measureDelivery>>;

export function renderDelivery(d: Delivery) {
  const row = (label: string, r: WrkResult, vs: string) =>
    `| ${label} | ${int(r.requestsPerSec)} | ${ms(r.p50Ms)} | ${ms(r.p99Ms)} | ${vs} |`;
  return [
    "## Edge delivery (`/v1`)",
    "",
    `Same wrk settings as above except where noted; model \`${DELIVERY.model}\` with ${int(DELIVERY.uncachedVersions)} versions of one`,
    "1 MiB file (each version is its own cache key, so the uncached row can ask for a new one every request).",
    "The bare Worker (`bench/bare-r2`, served like `npm start` with its state on disk) does only the platform",
    "call: `caches.default.match` for the raw cache hit, `env.BUCKET.get` streamed out for the raw R2 read.",
    "",
    "| Run | req/s | p50 | p99 | vs its baseline |",
    "|---|---:|---:|---:|---:|",
    row("raw Cache API hit, 1 MiB (bare Worker)", d.cached.baseline, "baseline"),
    row(
      "**cached 1 MiB file** `/v1/models/{name}/versions/1/files/weights.bin`",
      d.cached,
      verdict(d.cached.ratio, DELIVERY_TARGETS.cached),
    ),
    row("raw R2 read, 1 MiB (bare Worker)", d.uncached.baseline, "baseline"),
    row(
      `uncached 1 MiB file (5 s, no warm-up: ${int(d.uncached.cache?.miss ?? Number.NaN)} misses, ${int(d.uncached.cache?.hit ?? Number.NaN)} hits)`,
      d.uncached,
      `${pct(d.uncached.ratio)} (no target)`,
    ),
    row("hello-world, Miniflare (before)", d.hello[0], "baseline"),
    row(
      "**304** (`If-None-Match` on the cached file)",
      d.notModified,
      verdict(d.notModified.ratio, DELIVERY_TARGETS.pointRead),
    ),
    row("**resolve** `/v1/models/{name}/Production`", d.resolve, verdict(d.resolve.ratio, DELIVERY_TARGETS.pointRead)),
    row("hello-world, Miniflare (after)", d.hello[1], "baseline"),
    "",
    `304 and resolve divide by the mean of the two hello-world runs around them. One ${d.big.mib} MiB download, streamed`,
    "by a Node client on the same machine:",
    "",
    "| Download | MiB/s | seconds |",
    "|---|---:|---:|",
    `| registry, first request (cache ${d.big.miss.cache}: R2 → cache → client) | ${d.big.miss.mibPerSec.toFixed(0)} | ${d.big.miss.seconds.toFixed(2)} |`,
    `| registry, repeated (cache ${d.big.hit.cache}) | ${d.big.hit.mibPerSec.toFixed(0)} | ${d.big.hit.seconds.toFixed(2)} |`,
    `| bare Worker, raw R2 read | ${d.big.bare.mibPerSec.toFixed(0)} | ${d.big.bare.seconds.toFixed(2)} |`,
    "",
    "On a miss the registry stores the whole file in the cache before answering from the stored copy (one",
    "code path for full and range requests), so the first download pays for the cache write; every later",
    "one is a cache hit without D1 or R2. The uncached row is that first-request path under load.",
    "",
  ].join("\n");
}
