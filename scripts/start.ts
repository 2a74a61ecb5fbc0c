#!/usr/bin/env node
// `npm start`: the registry on the real Workers runtime (workerd, through Miniflare), with local
// D1, R2 and Durable Objects persisted under $STATE_DIR. Same bundle and bindings as a deploy:
// the Worker is built with `wrangler deploy --dry-run`, pending D1 migrations are applied the way
// `wrangler d1 migrations apply --local` applies them, then Miniflare serves it directly (no
// `wrangler dev` proxy in front, which costs ~3-7x throughput; see docs/benchmarks.md).
//
// A start with nothing changed does no work twice. The build is kept per hash of its inputs (src/,
// migrations/, wrangler.toml, tsconfig.json, package-lock.json) under .modelgate/builds/ (or in
// $BUILD_DIR, stamped with that hash), with what wrangler derives from wrangler.toml and the
// migrations split into statements, so wrangler is loaded only to build. Migrations are read from
// and applied to the local D1's `d1_migrations` table (wrangler's), through a D1 binding: in a
// runtime of their own before the registry starts when something may be pending, or, when the
// state directory records every migration as applied, checked inside the registry's runtime once
// it is up (one workerd start instead of two).
import { type ExecFileSyncOptions, execFileSync } from "node:child_process";
import { createHash, generateKeyPairSync, randomBytes } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";
import { Log, LogLevel, Miniflare, type WorkerOptions } from "miniflare";
import type { unstable_getMiniflareWorkerOptions } from "wrangler";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const host = process.env.HOST ?? "127.0.0.1";
const port = Number(process.env.PORT ?? 8787);
const stateDir = path.resolve(root, process.env.STATE_DIR ?? ".modelgate/state");
const config = path.join(root, "wrangler.toml");
const wrangler = path.join(root, "node_modules", "wrangler", "bin", "wrangler.js");
const quiet: ExecFileSyncOptions = {
  stdio: ["ignore", "ignore", "inherit"],
  cwd: root,
  env: { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false" },
};
// wrangler's local state layout: `wrangler d1 migrations apply --persist-to DIR` writes DIR/v3.
const persistRoot = path.join(stateDir, "v3");

/** What the bundle and the bindings are made from; a change to any of them means a new build. */
const BUILD_INPUTS = ["src", "migrations", "wrangler.toml", "tsconfig.json", "package-lock.json"];
/** Written last into a build directory: the inputs' hash and what start needs from wrangler.toml. */
const BUILD_RECORD = "modelgate-build.json";
/** Bump when BUILD_RECORD's shape changes, so older builds are not reused. */
const BUILD_FORMAT = "3";

/** What a build records (BUILD_RECORD): its inputs' hash, wrangler's Miniflare options, the migrations. */
interface BuildRecord {
  inputs: string;
  workerOptions: ReturnType<typeof unstable_getMiniflareWorkerOptions>["workerOptions"];
  d1: {
    id: string;
    migrationsTable: string;
    migrations: { name: string; statements: string[] }[];
  };
}
/** One D1 batch: each statement with its parameters; answers each statement's rows. */
type Batch = (statements: [string, ...unknown[]][]) => Promise<Record<string, unknown>[][]>;
/** A fetch to the migrator Worker: Miniflare's dispatchFetch or the Worker's own fetch. */
type MigratorFetch = (
  url: string,
  init: { method: string; headers: Record<string, string>; body: string },
) => Promise<{ ok: boolean; json(): Promise<unknown> }>;

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function inputsHash() {
  const hash = createHash("sha256").update(`modelgate-build-${BUILD_FORMAT}\0`);
  const add = (relative: string) => {
    const absolute = path.join(root, relative);
    const stat = statSync(absolute, { throwIfNoEntry: false });
    if (!stat) return;
    if (stat.isDirectory()) {
      for (const name of readdirSync(absolute).sort()) add(path.join(relative, name));
      return;
    }
    hash.update(relative).update("\0").update(readFileSync(absolute)).update("\0");
  };
  for (const input of BUILD_INPUTS) add(input);
  return hash.digest("hex").slice(0, 16);
}

function readRecord(dir: string, hash: string): BuildRecord | null {
  try {
    const record = JSON.parse(readFileSync(path.join(dir, BUILD_RECORD), "utf8"));
    return record.inputs === hash && existsSync(path.join(dir, "index.js")) ? record : null;
  } catch {
    return null;
  }
}

/** The migration files in the order wrangler applies them (by their number). */
function migrationFiles(dir: string) {
  return readdirSync(dir)
    .filter((name) => name.endsWith(".sql"))
    .sort((a, b) => parseInt(a.split("_")[0] ?? "", 10) - parseInt(b.split("_")[0] ?? "", 10));
}

/**
 * Bundles the Worker into `outDir` and records what starting it needs from wrangler: the Miniflare
 * options it derives from wrangler.toml, and each migration split into statements as
 * `wrangler d1 migrations apply` splits it.
 */
async function buildInto(outDir: string, hash: string): Promise<BuildRecord> {
  rmSync(path.join(outDir, BUILD_RECORD), { force: true });
  execFileSync(process.execPath, [wrangler, "deploy", "--dry-run", "--outdir", outDir, "--config", config], quiet);
  const { unstable_getMiniflareWorkerOptions, unstable_readConfig, unstable_splitSqlQuery } = await import("wrangler");
  const { workerOptions } = unstable_getMiniflareWorkerOptions(config);
  const [database] = unstable_readConfig({ config }, { hideWarnings: true }).d1_databases;
  if (!database) throw new Error(`${config} declares no D1 database`);
  const migrationsDir = path.resolve(root, database.migrations_dir ?? "migrations");
  const record: BuildRecord = {
    inputs: hash,
    workerOptions,
    d1: {
      // The database the served Worker binds, so migrations land where the registry reads.
      id: (workerOptions.d1Databases as Record<string, { id: string }>)[database.binding]!.id,
      migrationsTable: database.migrations_table ?? "d1_migrations",
      migrations: migrationFiles(migrationsDir).map((name) => ({
        name,
        statements: unstable_splitSqlQuery(readFileSync(path.join(migrationsDir, name), "utf8")),
      })),
    },
  };
  writeFileSync(path.join(outDir, BUILD_RECORD), JSON.stringify(record));
  return record;
}

/**
 * The build for the current sources: reused when its inputs' hash matches, built otherwise. Shared
 * builds are made in a temporary directory and renamed into place, so concurrent starts (the e2e
 * suites) and a start killed mid-build never see half a build.
 */
async function ensureBuild() {
  const started = performance.now();
  const hash = inputsHash();
  if (process.env.BUILD_DIR) {
    const dir = path.resolve(process.env.BUILD_DIR);
    const reused = readRecord(dir, hash);
    if (reused) return { dir, record: reused, rebuilt: false, hash, ms: performance.now() - started };
    mkdirSync(dir, { recursive: true });
    const record = await buildInto(dir, hash);
    return { dir, record, rebuilt: true, hash, ms: performance.now() - started };
  }
  const builds = path.join(root, ".modelgate", "builds");
  const dir = path.join(builds, hash);
  const reused = readRecord(dir, hash);
  if (reused) {
    const now = new Date();
    utimesSync(dir, now, now); // most recently used, for pruning
    return { dir, record: reused, rebuilt: false, hash, ms: performance.now() - started };
  }
  const scratch = path.join(builds, `${hash}.tmp-${process.pid}`);
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  let record: BuildRecord | null = await buildInto(scratch, hash);
  try {
    renameSync(scratch, dir);
  } catch {
    // Another start finished the same build first: use that one.
    rmSync(scratch, { recursive: true, force: true });
    record = readRecord(dir, hash);
    if (!record) throw new Error(`the build in ${dir} is incomplete; remove it and start again`);
  }
  pruneBuilds(builds, dir);
  return { dir, record, rebuilt: true, hash, ms: performance.now() - started };
}

/** Keeps the three most recently used builds and anything used in the last hour. */
function pruneBuilds(builds: string, current: string) {
  const hourAgo = Date.now() - 3_600_000;
  const entries = readdirSync(builds)
    .map((name) => ({
      name,
      full: path.join(builds, name),
      mtime: statSync(path.join(builds, name), { throwIfNoEntry: false })?.mtimeMs ?? 0,
    }))
    .filter((e) => e.full !== current)
    .sort((a, b) => b.mtime - a.mtime);
  entries.forEach((e, index) => {
    const scratch = e.name.includes(".tmp-");
    if (e.mtime < hourAgo && (scratch || index >= 2)) rmSync(e.full, { recursive: true, force: true });
  });
}

// A Worker that runs one D1 batch and answers its rows, for reading and applying migrations through
// the same D1 binding code as the registry's own queries. Miniflare lets an HTTP client on the
// registry's port pick any of its Workers by name (its MF-Route-Override header), so this one
// answers only requests carrying this start's random secret.
const MIGRATOR = `
export default {
  async fetch(request, env) {
    if (request.headers.get("x-modelgate-migrator") !== env.MIGRATOR_SECRET) return new Response(null, { status: 404 });
    const statements = await request.json();
    try {
      const results = await env.DB.batch(statements.map(([sql, ...params]) => env.DB.prepare(sql).bind(...params)));
      return Response.json(results.map((r) => r.results ?? []));
    } catch (error) {
      return Response.json({ error: String(error?.cause?.message ?? error?.message ?? error) }, { status: 500 });
    }
  },
};`;
const migratorSecret = randomBytes(16).toString("hex");
const migratorWorker = ({ workerOptions, d1 }: BuildRecord): WorkerOptions & { name: string } => ({
  name: "modelgate-migrator",
  modules: true,
  script: MIGRATOR,
  compatibilityDate: workerOptions.compatibilityDate,
  d1Databases: { DB: d1.id },
  bindings: { MIGRATOR_SECRET: migratorSecret },
});
/** Sends one batch to the migrator Worker with `fetch` (a Miniflare's dispatchFetch, or its Worker's fetch). */
const batchVia =
  (fetch: MigratorFetch): Batch =>
  async (statements) => {
    const res = await fetch("http://migrator/", {
      method: "POST",
      headers: { "x-modelgate-migrator": migratorSecret },
      body: JSON.stringify(statements),
    });
    const body = await res.json();
    if (!res.ok) throw new Error((body as { error: string }).error);
    return body as Record<string, unknown>[][];
  };

/**
 * Reads the applied migrations from the local D1 (wrangler's `d1_migrations` table) and applies the
 * pending ones as `wrangler d1 migrations apply --local` does: each file's statements and its row in
 * the table in one batch, so a migration is applied whole or not at all.
 */
async function migrate(batch: Batch, d1: BuildRecord["d1"]) {
  const started = performance.now();
  const table = d1.migrationsTable;
  const [, rows] = await batch([
    // wrangler's own definition of the table (src/d1/migrations/helpers.ts), so both can share it.
    [
      `CREATE TABLE IF NOT EXISTS ${table}(\n\t\tid         INTEGER PRIMARY KEY AUTOINCREMENT,\n\t\tname       TEXT UNIQUE,\n\t\tapplied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL\n);`,
    ],
    [`SELECT name FROM ${table} ORDER BY id`],
  ]);
  const applied = (rows ?? []).map((r) => String(r.name));
  const pending = d1.migrations.filter((m) => !applied.includes(m.name));
  for (const { name, statements } of pending) {
    try {
      await batch([...statements.map((q): [string] => [q]), [`INSERT INTO ${table} (name) values (?)`, name]]);
    } catch (error) {
      throw new Error(`D1 migration ${name} failed, nothing of it was applied: ${(error as Error).message}`);
    }
    applied.push(name);
  }
  recordApplied(applied);
  return { applied: applied.length, pending: pending.map((m) => m.name), ms: performance.now() - started };
}

/** The migrations in its own runtime, before the registry's starts: nothing is served unmigrated. */
async function migrateFirst(record: BuildRecord) {
  const mf = new Miniflare({ ...migratorWorker(record), d1Persist: path.join(persistRoot, "d1"), handleRuntimeStdio });
  try {
    return await migrate(
      batchVia((url, init) => mf.dispatchFetch(url, init)),
      record.d1,
    );
  } finally {
    await mf.dispose();
  }
}

// The names applied when this state directory last started, kept beside its D1 database (deleting
// the database deletes the record too). A hint only: it decides whether the check can wait until
// the registry's runtime is up; the check itself always reads d1_migrations.
const APPLIED_RECORD = path.join(persistRoot, "d1", "modelgate-migrations.json");
function recordedAsApplied(d1: BuildRecord["d1"]) {
  try {
    const { applied } = JSON.parse(readFileSync(APPLIED_RECORD, "utf8"));
    return d1.migrations.every((m) => applied.includes(m.name));
  } catch {
    return false;
  }
}
function recordApplied(applied: string[]) {
  mkdirSync(path.dirname(APPLIED_RECORD), { recursive: true });
  const scratch = `${APPLIED_RECORD}.${process.pid}`;
  writeFileSync(scratch, JSON.stringify({ applied }));
  renameSync(scratch, APPLIED_RECORD);
}

// workerd's output, line by line as Miniflare would print it, except one kind of line: a client
// that hangs up while its answer is being written makes workerd log the failed socket write as an
// uncaught exception with a stack. That is the client's doing, not an error of the registry: it
// becomes a one-line note (at most one per 10 s, counting the others).
const HUNG_UP = /\bdisconnected: (.*(?:Connection reset by peer|Broken pipe))\s*$/;
const hangUps = { lastNote: 0, since: 0 };
function noteHangUp(reason: string) {
  hangUps.since += 1;
  const now = Date.now();
  if (now - hangUps.lastNote < 10_000) return;
  const others = hangUps.since - 1;
  console.log(
    `note: a client hung up before its answer was written (${reason})${others > 0 ? `; ${others} more since the last note` : ""}`,
  );
  hangUps.lastNote = now;
  hangUps.since = 0;
}
function forwardRuntimeOutput(stream: NodeJS.ReadableStream, print: (line: string) => void) {
  let dropStack = false;
  readline.createInterface({ input: stream, crlfDelay: Infinity }).on("line", (line) => {
    if (dropStack && line.startsWith("stack:")) {
      dropStack = false;
      return;
    }
    dropStack = false;
    const hungUp = line.includes("Uncaught exception") ? HUNG_UP.exec(line) : null;
    if (hungUp) {
      dropStack = true;
      noteHangUp(hungUp[1] ?? "");
      return;
    }
    print(line);
  });
}

/**
 * The bundle as Miniflare's module list. wrangler bundles the Worker into one index.js; handing it
 * over as that one module spares Miniflare parsing 1.6 MB of JavaScript to look for imports (~1.5 s
 * of every start). Should a build ever carry more modules, Miniflare collects them itself.
 */
function workerModules(dir: string) {
  const script = path.join(dir, "index.js");
  const others = readdirSync(dir).filter(
    (name) => !["index.js", "index.js.map", "README.md", BUILD_RECORD].includes(name),
  );
  if (others.length > 0) return { modules: true, scriptPath: script, modulesRoot: dir };
  return {
    modules: [{ type: "ESModule" as const, path: script, contents: readFileSync(script, "utf8") }],
    modulesRoot: dir,
  };
}

function handleRuntimeStdio(stdout: NodeJS.ReadableStream, stderr: NodeJS.ReadableStream) {
  forwardRuntimeOutput(stdout, (line) => console.log(line));
  forwardRuntimeOutput(stderr, (line) => console.error(line));
}

mkdirSync(stateDir, { recursive: true });
console.log(`Modelgate: state in ${stateDir}`);
const build = await ensureBuild();
console.log(
  build.rebuilt
    ? `  built the Worker: sources changed (${build.hash}), ${seconds(build.ms)}`
    : `  Worker up to date: sources unchanged since build ${build.hash}, nothing rebuilt`,
);
const migrationsLine = ({ applied, pending, ms }: { applied: number; pending: string[]; ms: number }, when: string) =>
  pending.length > 0
    ? `  applied ${pending.length} pending D1 migration${pending.length === 1 ? "" : "s"} (${pending.join(", ")}) ${when}, ${seconds(ms)}`
    : `  D1 up to date: ${applied} migrations applied, none pending (checked ${when}, ${seconds(ms)})`;
const checkAfterStart = recordedAsApplied(build.record.d1);
if (!checkAfterStart) console.log(migrationsLine(await migrateFirst(build.record), "before starting"));

// The keys a deployment keeps as secrets: the variable if set, otherwise one key generated for this
// state directory and kept there, so signed URLs handed out and webhook secrets sealed at rest
// survive a restart.
function localKey(variable: string, file: string) {
  if (process.env[variable]) return process.env[variable];
  const keyFile = path.join(stateDir, file);
  if (!existsSync(keyFile)) writeFileSync(keyFile, `local:${randomBytes(32).toString("hex")}`, { mode: 0o600 });
  return readFileSync(keyFile, "utf8").trim();
}
const signingKeys = localKey("MODELGATE_SIGNING_KEYS", "signing-keys");
const webhookKeys = localKey("MODELGATE_WEBHOOK_KEYS", "webhook-keys");
// The model-signing key (an ECDSA P-256 key, docs/supply-chain.md) is made the same way: the
// variable if set, otherwise one kept in the state directory, so model.sig files already issued
// keep verifying with /.well-known/modelgate-keys after a restart.
function localModelSigningKeys() {
  const variable = "MODELGATE_MODEL_SIGNING_KEYS";
  if (process.env[variable]) return process.env[variable];
  const keyFile = path.join(stateDir, "model-signing-keys.json");
  if (!existsSync(keyFile)) {
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const pkcs8 = privateKey.export({ type: "pkcs8", format: "pem" });
    writeFileSync(keyFile, JSON.stringify([{ kid: "local", pkcs8 }]), { mode: 0o600 });
  }
  return readFileSync(keyFile, "utf8").trim();
}
const modelSigningKeys = localModelSigningKeys();

const { workerOptions } = build.record;
// Queues run inside Miniflare as wrangler.toml declares them (producers and consumers, retries,
// the dead-letter queue); queued messages live in memory only, so a crash loses them (the webhook
// sweep re-sends lost deliveries). MODELGATE_WEBHOOK_MAX_RETRIES overrides the deliveries
// consumer's max_retries, so tests can reach the dead-letter queue in seconds.
const queueConsumers = structuredClone(workerOptions.queueConsumers ?? {});
const deliveries = queueConsumers["modelgate-webhook-deliveries"];
if (deliveries && process.env.MODELGATE_WEBHOOK_MAX_RETRIES !== undefined)
  deliveries.maxRetries = Number(process.env.MODELGATE_WEBHOOK_MAX_RETRIES);
// Webhook settings from the environment (wrangler.toml's values otherwise); loopback is allowed
// locally so a receiver on this machine works.
const webhookVars: Record<string, string> = {};
for (const name of [
  "MODELGATE_WEBHOOK_TIMEOUT_SECONDS",
  "MODELGATE_WEBHOOK_RETRY_BASE_SECONDS",
  "MODELGATE_WEBHOOK_RETRY_MAX_SECONDS",
  "MODELGATE_WEBHOOK_SWEEP_SECONDS",
]) {
  const value = process.env[name];
  if (value !== undefined) webhookVars[name] = value;
}
const registry = {
  ...workerOptions,
  name: "modelgate",
  ...workerModules(build.dir),
  queueConsumers,
  // The registry answers PORT on a socket of its own: Miniflare's entry worker would cost every
  // request ~0.25 ms of CPU (two Request copies, a service hop, gzip of JSON: issue 19). What it
  // emulates is not needed here: client-sent CF-Connecting-IP is ignored (MODELGATE_RUNTIME=local),
  // /cdn-cgi/ handlers are off, and the edge's compression is the edge's (it is not the Worker's).
  unsafeDirectSockets: [{ host, port }],
  bindings: {
    ...workerOptions.bindings,
    MODELGATE_SIGNING_KEYS: signingKeys,
    MODELGATE_WEBHOOK_KEYS: webhookKeys,
    MODELGATE_MODEL_SIGNING_KEYS: modelSigningKeys,
    // Local runs serve one user on 127.0.0.1 without ceremony; MODELGATE_AUTH=on enforces tokens
    // exactly as a deployment does (then MODELGATE_ADMIN_TOKEN is required).
    MODELGATE_AUTH: process.env.MODELGATE_AUTH ?? "off",
    // Not behind Cloudflare's edge: a client-sent CF-Connecting-IP is not trusted (docs/security.md).
    MODELGATE_RUNTIME: "local",
    ...(process.env.MODELGATE_ADMIN_TOKEN ? { MODELGATE_ADMIN_TOKEN: process.env.MODELGATE_ADMIN_TOKEN } : {}),
    ...(process.env.MODELGATE_CORS_ORIGINS ? { MODELGATE_CORS_ORIGINS: process.env.MODELGATE_CORS_ORIGINS } : {}),
    MODELGATE_WEBHOOK_ALLOW_HOSTS: process.env.MODELGATE_WEBHOOK_ALLOW_HOSTS ?? "127.0.0.1,localhost,::1",
    ...webhookVars,
  },
};
const mf = new Miniflare({
  // The registry's own socket answers PORT. Miniflare's entry worker listens on a random loopback
  // port, for getWorker() only; the migrator behind it is reachable only with its secret.
  workers: [registry, migratorWorker(build.record)],
  defaultPersistRoot: persistRoot,
  host: "127.0.0.1",
  port: 0,
  // Request.cf is fetched from Cloudflare by default; a local registry never needs the network.
  cf: false,
  log: new Log(process.env.LOG_LEVEL === "debug" ? LogLevel.DEBUG : LogLevel.WARN),
  handleRuntimeStdio,
});
await mf.ready;
const base = (await mf.unsafeGetDirectURL("modelgate")).origin;
const readyMs = performance.now();
if (checkAfterStart) {
  const migrator = await mf.getWorker("modelgate-migrator");
  const checked = await migrate(
    // Miniflare types the Worker's fetch with workerd's Request; the migrator needs only this subset.
    batchVia((url, init) => (migrator as unknown as { fetch: MigratorFetch }).fetch(url, init)),
    build.record.d1,
  );
  // Pending here means the record lied (the database was replaced under it): applied now, at once.
  console.log(
    migrationsLine(
      checked,
      checked.pending.length > 0
        ? "as the registry started, although the state directory recorded them as applied"
        : "in the registry's runtime",
    ),
  );
}

console.log(`
Modelgate is serving on ${base}  (health: ${base}/health; ready ${seconds(readyMs)} after start)

Point the MLflow client at it:
  export MLFLOW_TRACKING_URI=${base}
  export MLFLOW_DISABLE_TELEMETRY=true

Access control is ${process.env.MODELGATE_AUTH === "on" ? "ON: send a token (MLFLOW_TRACKING_TOKEN)" : "off (local single-user mode; MODELGATE_AUTH=on to enforce tokens)"}.
Ctrl-C stops it; the data stays in ${stateDir}.`);

let stopping = false;
async function stop(signal: NodeJS.Signals) {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping Modelgate`);
  await mf.dispose();
  process.exit(0);
}
// Miniflare's runtime installs its own signal handlers (SIGINT: kill workerd, exit 130) before
// these; ours stop it cleanly through dispose() and exit 0, so theirs go.
process.removeAllListeners("SIGINT");
process.removeAllListeners("SIGTERM");
process.on("SIGINT", () => void stop("SIGINT"));
process.on("SIGTERM", () => void stop("SIGTERM"));
