#!/usr/bin/env node
// Serves the bare R2 Worker the way scripts/start.mjs serves the registry (Miniflare on workerd,
// R2 persisted under STATE_DIR). PORT and STATE_DIR pick where; SIGTERM stops it.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Log, LogLevel, Miniflare } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";

const here = path.dirname(fileURLToPath(import.meta.url));
const { workerOptions } = unstable_getMiniflareWorkerOptions(path.join(here, "wrangler.toml"));
const mf = new Miniflare({
  ...workerOptions,
  name: "bench-bare-r2",
  modules: true,
  modulesRoot: here,
  scriptPath: path.join(here, "index.js"),
  host: "127.0.0.1",
  port: Number(process.env.PORT ?? 8789),
  cf: false,
  defaultPersistRoot: path.join(process.env.STATE_DIR ?? path.join(here, ".state"), "v3"),
  log: new Log(LogLevel.WARN),
});
const url = await mf.ready;
console.log(`bare R2 Worker serving on ${url.origin}`);
async function stop() {
  await mf.dispose();
  process.exit(0);
}
process.on("SIGINT", () => void stop());
process.on("SIGTERM", () => void stop());
