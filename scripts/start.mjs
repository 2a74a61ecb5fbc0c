#!/usr/bin/env node
// `npm start`: the registry on the real Workers runtime (workerd, through Miniflare), with local
// D1, R2 and Durable Objects persisted under $STATE_DIR. Same bundle and bindings as a deploy:
// the Worker is built with `wrangler deploy --dry-run`, pending D1 migrations are applied with
// `wrangler d1 migrations apply --local`, then Miniflare serves it directly (no `wrangler dev`
// proxy in front, which costs ~3-7x throughput; see docs/benchmarks.md).
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Log, LogLevel, Miniflare } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const host = process.env.HOST ?? "127.0.0.1";
const port = Number(process.env.PORT ?? 8787);
const stateDir = path.resolve(root, process.env.STATE_DIR ?? ".modelgate/state");
const buildDir = path.resolve(process.env.BUILD_DIR ?? path.join(stateDir, "build"));
const config = path.join(root, "wrangler.toml");
const wrangler = path.join(root, "node_modules", "wrangler", "bin", "wrangler.js");
const quiet = { stdio: ["ignore", "ignore", "inherit"], cwd: root, env: { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false" } };

function step(what, fn) {
  const started = Date.now();
  fn();
  console.log(`  ${what} (${Date.now() - started} ms)`);
}

mkdirSync(stateDir, { recursive: true });
console.log(`Modelgate: state in ${stateDir}`);
step("built the Worker", () =>
  execFileSync(process.execPath, [wrangler, "deploy", "--dry-run", "--outdir", buildDir, "--config", config], quiet),
);
step("applied pending D1 migrations", () =>
  execFileSync(process.execPath, [wrangler, "d1", "migrations", "apply", "DB", "--local", "--persist-to", stateDir, "--config", config], quiet),
);

// The signing key for signed URLs: MODELGATE_SIGNING_KEYS if set, otherwise one generated for
// this state directory and kept there, so URLs handed out survive a restart.
const keyFile = path.join(stateDir, "signing-keys");
if (!process.env.MODELGATE_SIGNING_KEYS && !existsSync(keyFile)) {
  writeFileSync(keyFile, `local:${randomBytes(32).toString("hex")}`, { mode: 0o600 });
}
const signingKeys = process.env.MODELGATE_SIGNING_KEYS ?? readFileSync(keyFile, "utf8").trim();

const { workerOptions } = unstable_getMiniflareWorkerOptions(config);
// Queues run inside Miniflare as wrangler.toml declares them (producers and consumers, retries,
// the dead-letter queue); queued messages live in memory only, so a crash loses them (the webhook
// sweep re-sends lost deliveries). MODELGATE_WEBHOOK_MAX_RETRIES overrides the deliveries
// consumer's max_retries, so tests can reach the dead-letter queue in seconds.
const queueConsumers = structuredClone(workerOptions.queueConsumers ?? {});
const deliveries = queueConsumers["modelgate-webhook-deliveries"];
if (deliveries && process.env.MODELGATE_WEBHOOK_MAX_RETRIES !== undefined) deliveries.maxRetries = Number(process.env.MODELGATE_WEBHOOK_MAX_RETRIES);
// Webhook settings from the environment (wrangler.toml's values otherwise); loopback is allowed
// locally so a receiver on this machine works.
const webhookVars = {};
for (const name of ["MODELGATE_WEBHOOK_TIMEOUT_SECONDS", "MODELGATE_WEBHOOK_RETRY_BASE_SECONDS", "MODELGATE_WEBHOOK_RETRY_MAX_SECONDS", "MODELGATE_WEBHOOK_SWEEP_SECONDS"]) {
  if (process.env[name] !== undefined) webhookVars[name] = process.env[name];
}
const mf = new Miniflare({
  ...workerOptions,
  queueConsumers,
  bindings: {
    ...workerOptions.bindings,
    MODELGATE_SIGNING_KEYS: signingKeys,
    // Local runs serve one user on 127.0.0.1 without ceremony; MODELGATE_AUTH=on enforces tokens
    // exactly as a deployment does (then MODELGATE_ADMIN_TOKEN is required).
    MODELGATE_AUTH: process.env.MODELGATE_AUTH ?? "off",
    ...(process.env.MODELGATE_ADMIN_TOKEN ? { MODELGATE_ADMIN_TOKEN: process.env.MODELGATE_ADMIN_TOKEN } : {}),
    ...(process.env.MODELGATE_CORS_ORIGINS ? { MODELGATE_CORS_ORIGINS: process.env.MODELGATE_CORS_ORIGINS } : {}),
    MODELGATE_WEBHOOK_ALLOW_HOSTS: process.env.MODELGATE_WEBHOOK_ALLOW_HOSTS ?? "127.0.0.1,localhost,::1",
    ...webhookVars,
  },
  name: "modelgate",
  modules: true,
  scriptPath: path.join(buildDir, "index.js"),
  modulesRoot: buildDir,
  // wrangler's local state layout: `wrangler d1 migrations apply --persist-to DIR` writes DIR/v3.
  defaultPersistRoot: path.join(stateDir, "v3"),
  host,
  port,
  // Request.cf is fetched from Cloudflare by default; a local registry never needs the network.
  cf: false,
  log: new Log(process.env.LOG_LEVEL === "debug" ? LogLevel.DEBUG : LogLevel.WARN),
});
const url = await mf.ready;
const base = url.origin;

console.log(`
Modelgate is serving on ${base}  (health: ${base}/health)

Point the MLflow client at it:
  export MLFLOW_TRACKING_URI=${base}
  export MLFLOW_DISABLE_TELEMETRY=true

Access control is ${process.env.MODELGATE_AUTH === "on" ? "ON: send a token (MLFLOW_TRACKING_TOKEN)" : "off (local single-user mode; MODELGATE_AUTH=on to enforce tokens)"}.
Ctrl-C stops it; the data stays in ${stateDir}.`);

let stopping = false;
async function stop(signal) {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping Modelgate`);
  await mf.dispose();
  process.exit(0);
}
process.on("SIGINT", () => void stop("SIGINT"));
process.on("SIGTERM", () => void stop("SIGTERM"));
