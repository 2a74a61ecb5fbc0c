#!/usr/bin/env node
// Reproduces the connection drops seen under sustained concurrent registry writes: 16 clients send
// model-versions/transition-stage (every write goes through the model's Durable Object) for a fixed
// time against a fresh `npm start`; then the same 16 clients send runs/log-metric (D1 written from
// the Worker directly, no Durable Object) for the same time. Prints every request that got no HTTP
// answer at all (ECONNRESET / "other side closed") with how long it had been in flight.
//
//   node --import tsx test/reliability/repro-connection-drops.ts [--seconds=40]
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort, killAllServers, Server } from "./server";

const seconds = Number(process.argv.find((a) => a.startsWith("--seconds="))?.slice(10) ?? 40);
const dir = mkdtempSync(path.join(os.tmpdir(), "modelgate-drops-"));
const server = new Server({ port: await freePort(), stateDir: path.join(dir, "state"), cwd: dir, log: console.log });

async function call(method: string, route: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${server.base}/api/2.0/${route}`, {
    method,
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  return { status: res.status, body: await res.json() };
}

async function hammer(label: string, request: (client: number, i: number) => [string, unknown]) {
  const started = Date.now();
  const drops: { atSeconds: string; client: number; error: string; inFlightMs: number }[] = [];
  const statuses: Record<number, number> = {};
  await Promise.all(
    Array.from({ length: 16 }, async (_, client) => {
      for (let i = 0; Date.now() - started < seconds * 1000; i++) {
        const t0 = Date.now();
        try {
          const { status } = await call("POST", ...request(client, i));
          statuses[status] = (statuses[status] ?? 0) + 1;
        } catch (caught) {
          const error = caught as Error & { cause?: { code?: string } };
          drops.push({
            atSeconds: ((Date.now() - started) / 1000).toFixed(1),
            client,
            error: error.cause?.code ?? error.name,
            inFlightMs: Date.now() - t0,
          });
        }
      }
    }),
  );
  console.log(`${label}: answers by status ${JSON.stringify(statuses)}; requests with no answer: ${drops.length}`);
  for (const d of drops)
    console.log(`  at ${d.atSeconds}s client ${d.client}: ${d.error} after ${d.inFlightMs} ms in flight`);
  return drops.length;
}

try {
  await server.start();
  for (let m = 0; m < 4; m++) {
    await call("POST", "mlflow/registered-models/create", { name: `drops-${m}` });
    for (let v = 1; v <= 8; v++)
      await call("POST", "mlflow/model-versions/create", { name: `drops-${m}`, source: "s3://drops/model" });
  }
  const runs: string[] = [];
  for (let m = 0; m < 4; m++)
    runs.push((await call("POST", "mlflow/runs/create", { experiment_id: "0" })).body.run.info.run_id);
  const viaObject = await hammer("transition-stage (Durable Object, then D1)", (client, i) => [
    "mlflow/model-versions/transition-stage",
    { name: `drops-${client % 4}`, version: String(1 + (i % 8)), stage: "Production" },
  ]);
  const direct = await hammer("runs/log-metric (D1 from the Worker)", (client, i) => [
    "mlflow/runs/log-metric",
    { run_id: runs[client % 4], key: `m${client}`, value: i, timestamp: Date.now(), step: i },
  ]);
  console.log(`\nno answer: ${viaObject} through the Durable Object, ${direct} without it`);
  if (server.trouble.length) console.log(`npm start logged:\n${server.trouble.join("\n")}`);
} finally {
  await server.stop();
  killAllServers();
  rmSync(dir, { recursive: true, force: true });
}
