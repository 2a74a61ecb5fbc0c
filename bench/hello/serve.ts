#!/usr/bin/env node
// Serves the hello-world Worker the way scripts/start.ts serves the registry: Miniflare driving
// workerd directly, options derived from the Worker's wrangler.toml, no `wrangler dev` in front.
// PORT picks the port; SIGTERM stops it.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Log, LogLevel, Miniflare } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";

const here = path.dirname(fileURLToPath(import.meta.url));
const { workerOptions } = unstable_getMiniflareWorkerOptions(path.join(here, "wrangler.toml"));
const mf = new Miniflare({
  ...workerOptions,
  name: "bench-hello",
  modules: true,
  modulesRoot: here,
  scriptPath: path.join(here, "index.js"),
  // PORT on the Worker's own socket, as scripts/start.ts serves the registry: a baseline behind
  // Miniflare's entry worker would pay ~0.25 ms per request that the registry no longer pays.
  unsafeDirectSockets: [{ host: "127.0.0.1", port: Number(process.env.PORT ?? 8788) }],
  host: "127.0.0.1",
  port: 0,
  cf: false,
  log: new Log(LogLevel.WARN),
});
await mf.ready;
const url = await mf.unsafeGetDirectURL("bench-hello");
console.log(`hello-world serving on ${url.origin}`);

async function stop() {
  await mf.dispose();
  process.exit(0);
}
process.on("SIGINT", () => void stop());
process.on("SIGTERM", () => void stop());
