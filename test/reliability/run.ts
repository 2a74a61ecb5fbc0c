#!/usr/bin/env node
// `npm run test:reliability`: the reliability proof, end to end.
//   1. bad input: the fast-check suite (test/reliability/bad-input.test.ts) inside workerd, many cases;
//   2. a concurrency storm against `npm start`, SIGKILLing the server's process group at random
//      moments (some during a 64 MiB upload) and restarting it on the same state and port;
//   3. the invariants checked through the HTTP API and then directly on D1 and R2 (server stopped),
//      plus every acknowledged write of the storm.
// Full run: writes docs/reliability.md. `--short` (for `npm test`): a smaller storm with one crash,
// no fuzz (npm test's vitest run already includes the bad-input suite), writes nothing.
// Everything it starts, it stops; only 127.0.0.1; every loop is bounded in count and time.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { findViolations, type Snapshot, snapshotFromStorage, snapshotViaHttp, UID_TAG } from "./invariants";
import { type FuzzSummary, type ReliabilityResults, renderReport } from "./report";
import { nameReuse, promotionFreshness } from "./scenarios";
import { freePort, killAllServers, root, Server } from "./server";
import { openStorage } from "./storage";
import { createdVersions, earlierHolder, probeNextVersions, verifyLedger } from "./storm/checker";
import { runStorm } from "./storm/driver";

const args = process.argv.slice(2);
const short = args.includes("--short");
const seedArg = args.find((a) => a.startsWith("--seed="));
const seed = seedArg ? Number(seedArg.slice(7)) : (Date.now() ^ process.pid) >>> 0;
const skipFuzz = short || args.includes("--no-fuzz");

const PLAN = short
  ? { clients: 8, models: 3, activeMs: 8_000, crashes: 1, fuzzRuns: 0, freshnessRounds: 8 }
  : { clients: 24, models: 5, activeMs: 60_000, crashes: 3, fuzzRuns: 100, freshnessRounds: 20 };
const WATCHDOG_MS = short ? 150_000 : 9 * 60_000;

const started = Date.now();
const log = (m: string) => console.log(`[reliability ${((Date.now() - started) / 1000).toFixed(0)}s] ${m}`);
let runDir: string | null = null;
let keepRunDir = false;

/** The bad-input suite inside workerd; its test prints one RELIABILITY_FUZZ line with its counts. */
function runFuzz(runsPerRoute: number): Promise<Omit<FuzzSummary, "seconds">> {
  return new Promise((resolve, reject) => {
    const vitest = path.join(root, "node_modules", "vitest", "vitest.mjs");
    const child = spawn(process.execPath, [vitest, "run", "--project", "local", "test/reliability/"], {
      cwd: root,
      env: {
        ...process.env,
        VITE_RELIABILITY_RUNS: String(runsPerRoute),
        VITE_RELIABILITY_SEED: String(seed),
        NO_COLOR: "1",
        FORCE_COLOR: "0",
      },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        /* gone */
      }
    }, 240_000);
    child.on("exit", (code) => {
      clearTimeout(timer);
      const line = output.split("\n").find((l) => l.includes("RELIABILITY_FUZZ "));
      if (!line)
        return reject(new Error(`the bad-input suite printed no summary (exit ${code}):\n${output.slice(-4000)}`));
      const summary = JSON.parse(line.slice(line.indexOf("RELIABILITY_FUZZ ") + 17));
      resolve({ ...summary, passed: code === 0, output: code === 0 ? "" : output.slice(-6000) });
    });
  });
}

async function main() {
  // Filled in as the run goes; complete once it gets to the report.
  const results: Partial<ReliabilityResults> & Pick<ReliabilityResults, "command" | "date" | "seed" | "plan"> = {
    command: short ? "node --import tsx test/reliability/run.ts --short" : "npm run test:reliability",
    date: new Date().toISOString(),
    seed,
    plan: PLAN,
  };
  const violations: string[] = [];

  if (!skipFuzz) {
    log(`bad input: fast-check suite in workerd, ${PLAN.fuzzRuns} runs per property`);
    const fuzzStarted = Date.now();
    const fuzz = { ...(await runFuzz(PLAN.fuzzRuns)), seconds: (Date.now() - fuzzStarted) / 1000 };
    results.fuzz = fuzz;
    log(
      `bad input: ${fuzz.cases} cases over ${fuzz.routes} routes, ${fuzz.violations.length} violation(s), suite ${fuzz.passed ? "passed" : "FAILED"}`,
    );
    violations.push(...fuzz.violations.map((v) => `[bad input] ${v}`));
    if (!fuzz.passed && fuzz.violations.length === 0)
      violations.push(`[bad input] the vitest suite failed:\n${fuzz.output}`);
  }

  runDir = mkdtempSync(path.join(os.tmpdir(), "modelgate-reliability-"));
  const server = new Server({ port: await freePort(), stateDir: path.join(runDir, "state"), cwd: runDir, log });
  try {
    await server.start();
    const scenarios: ReliabilityResults["scenarios"] = [];
    results.scenarios = scenarios;
    for (const scenario of [nameReuse, promotionFreshness]) {
      const outcome = await scenario(server.base, seed.toString(36), { rounds: PLAN.freshnessRounds });
      scenarios.push(outcome);
      violations.push(...outcome.violations.map((v) => `[scenario] ${v}`));
      log(`scenario "${outcome.name}": ${outcome.checks} check(s), ${outcome.violations.length} violation(s)`);
    }
    const { clients, models, activeMs, crashes } = PLAN;
    const storm = await runStorm({ server, clients, models, activeMs, crashes, seed, log });
    log(
      `storm: ${storm.operations} operations in ${(storm.elapsedMs / 1000).toFixed(0)}s, ${storm.crashes.length} crash(es), ${storm.violations.length} violation(s)`,
    );
    violations.push(...storm.violations.map((v) => `[storm] ${v}`));
    for (const d of storm.drops)
      log(
        `  no answer though no crash was under way: ${d.method} ${d.path} ${d.code}, ${(d.sinceRestartMs / 1000).toFixed(1)}s after the last (re)start`,
      );

    violations.push(...(await probeNextVersions(server.base, storm.ledger)).map((v) => `[probe] ${v}`));
    const created = createdVersions(storm.ledger);

    log("checking invariants through the HTTP API");
    const httpSnapshot = await snapshotViaHttp(fetch, server.base);
    const httpInvariants = findViolations(httpSnapshot, { createdVersions: created }).map((v) => {
      // Name the bytes when they belong to an earlier model that held the same name.
      for (const m of httpSnapshot.models) {
        for (const ver of m.versions) {
          for (const f of ver.files) {
            if (
              !f.actual ||
              f.actual.sha256 === f.sha256 ||
              !v.includes(`model ${JSON.stringify(m.name)}: version ${ver.version} file ${f.path}:`)
            )
              continue;
            const holder = earlierHolder(storm.ledger, m.name, ver.version, f.actual.sha256, m.tags[UID_TAG] ?? "");
            if (holder)
              return `${v} (the bytes of version ${ver.version} of the earlier model ${holder.uid} that held the name: stale immutable /v1 cache after name reuse)`;
          }
        }
      }
      return v;
    });
    const httpLedger = verifyLedger(httpSnapshot, storm.ledger);
    violations.push(...httpInvariants, ...httpLedger.violations);
    log(
      `HTTP view: ${httpSnapshot.models.length} models, ${httpSnapshot.stats.downloads} files downloaded and hashed, ${httpInvariants.length + httpLedger.violations.length} violation(s)`,
    );

    await server.stop();
    // A client that hangs up mid-upload makes the Worker log "Network connection lost" (an answer
    // nobody receives): expected once per client-side cut at most. Anything else logged is trouble.
    const aborts = storm.cuts.filter((c) => c.how === "client abort").length;
    const lost = server.trouble.filter((t) => /Network connection lost/.test(t));
    const other = server.trouble.filter((t) => !/Network connection lost/.test(t));
    results.serverLog = { connectionLost: lost.length, clientAborts: aborts, other: other.length };
    if (lost.length > aborts)
      violations.push(`[server log] ${lost.length} "Network connection lost" errors for ${aborts} client-side cut(s)`);
    violations.push(...other.slice(0, 20).map((t) => `[server log] ${t}`));

    log("checking invariants directly on D1 and R2 (server stopped)");
    const storage = await openStorage(server.stateDir);
    let storageSnapshot;
    try {
      storageSnapshot = await snapshotFromStorage(storage.db, storage.bucket);
    } finally {
      await storage.close();
    }
    const storageInvariants = findViolations(storageSnapshot, { createdVersions: created });
    const storageLedger = verifyLedger(storageSnapshot, storm.ledger);
    violations.push(...storageInvariants, ...storageLedger.violations);
    log(
      `storage view: ${storageSnapshot.models.length} models, ${storageSnapshot.stats.blobsHashed} blobs hashed, ${storageSnapshot.stats.orphanBlobs} unreferenced blob(s), ${storageSnapshot.stats.events} events, ${storageInvariants.length + storageLedger.violations.length} violation(s)`,
    );

    const versions = (s: Snapshot) => s.models.reduce((n, m) => n + m.versions.length, 0);
    const { ledger, ...stormWithoutLedger } = storm;
    results.storm = { ...stormWithoutLedger, acknowledgedChecked: storageLedger.checked };
    results.server = { starts: server.starts };
    results.checks = {
      http: {
        models: httpSnapshot.models.length,
        versions: versions(httpSnapshot),
        downloads: httpSnapshot.stats.downloads,
      },
      storage: { models: storageSnapshot.models.length, versions: versions(storageSnapshot), ...storageSnapshot.stats },
    };
  } catch (error) {
    keepRunDir = true;
    throw error;
  } finally {
    await server.stop();
  }

  results.violations = violations;
  results.totalSeconds = (Date.now() - started) / 1000;
  if (!short) {
    writeFileSync(path.join(root, "docs", "reliability.md"), renderReport(results as ReliabilityResults));
    log("wrote docs/reliability.md");
  }
  if (violations.length > 0) {
    keepRunDir = true;
    console.error(
      `\n${violations.length} violation(s):\n${violations
        .slice(0, 60)
        .map((v) => `  - ${v}`)
        .join("\n")}`,
    );
    console.error(`\nstate kept in ${runDir}; replay with --seed=${seed}`);
    process.exitCode = 1;
  }
  log(
    `${violations.length === 0 ? "no violations" : `${violations.length} violation(s)`} (${(results.totalSeconds ?? 0).toFixed(0)} s)`,
  );
}

function cleanUp() {
  killAllServers();
  if (runDir && !keepRunDir) rmSync(runDir, { recursive: true, force: true });
}

process.on("SIGINT", () => {
  cleanUp();
  process.exit(130);
});
process.on("SIGTERM", () => {
  cleanUp();
  process.exit(143);
});
const watchdog = setTimeout(() => {
  console.error(`[reliability] the run exceeded ${WATCHDOG_MS / 1000}s: stopping everything it started`);
  keepRunDir = true;
  cleanUp();
  process.exit(1);
}, WATCHDOG_MS);
watchdog.unref();

main()
  .catch((error) => {
    console.error(`[reliability] FAILED: ${error.stack ?? error}`);
    process.exitCode = 1;
  })
  .finally(() => {
    clearTimeout(watchdog);
    cleanUp();
  });
