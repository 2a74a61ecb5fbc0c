#!/usr/bin/env node
// Serves the bare R2 Worker the way scripts/start.ts serves the registry (Miniflare on workerd,
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
  // PORT on the Worker's own socket, as scripts/start.ts serves the registry: a baseline behind
  // Miniflare's entry worker would pay ~0.25 ms per request that the registry no longer pays.
  unsafeDirectSockets: [{ host: "127.0.0.1", port: Number(process.env.PORT ?? 8789) }],
  host: "127.0.0.1",
  port: 0,
  cf: false,
  defaultPersistRoot: path.join(process.env.STATE_DIR ?? path.join(here, ".state"), "v3"),
  log: new Log(LogLevel.WARN),
});
await mf.ready;
const url = await mf.unsafeGetDirectURL("bench-bare-r2");
console.log(`bare R2 Worker serving on ${url.origin}`);
async function stop() {
  await mf.dispose();
  process.exit(0);
}
process.on("SIGINT", () => void stop());
process.on("SIGTERM", () => void stop());
