#!/usr/bin/env node
// `npm run test:mlflow`: the real, unmodified MLflow clients (2.12.2 and 3.5.1) against `npm start`.
//
// Starts its own registry (`npm start` on a free port, or $PORT, with a STATE_DIR in a temp dir),
// runs the Python check scripts beside this file through each client, prints one PASS/FAIL line per
// check, a summary, and exits 1 if any check failed (2 if a client is not set up). Not part of
// `npm test`: CI machines are fresh and have no MLflow client. Set-up: the team's mlflow-reference tools.
//
//   node --import tsx test/mlflow/run.mts [--client 2|3|both] [--only WORD[,WORD]] [--url URL] [--keep]
//     --client  which client generation(s) to run (default both)
//     --only    only the checks whose "group: name" contains one of the words (and what they need)
//     --url     run against a server that is already up instead of starting one, e.g. MLflow's own
//               (`$MLFLOW_REF_TOOL server ~/mlflow-ref start 5055 /tmp/mlflow-state`)
//     --keep    keep the registry's state and the scratch files
//
// Where the clients are: MLFLOW_REF_TOOL (the mlflow-reference tool, required: the repository reads
// nothing outside itself) with MLFLOW_REF_HOME (default ~/mlflow-ref); MLFLOW3_REF_TOOL (the
// mlflow3-reference tool, required) with MLFLOW3_REF_HOME (~/mlflow3-ref).
import { type ChildProcess, spawn } from "node:child_process";
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { homedir, tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");

type Generation = 2 | 3;
interface Client {
  label: string;
  tool: string;
  toolVar: string;
  toolName: string;
  home: string;
  installed: string;
  setup: (c: Client) => string;
}

const CLIENTS: Record<Generation, Client> = {
  2: {
    label: "MLflow 2.12.2",
    tool: process.env.MLFLOW_REF_TOOL ?? "",
    toolVar: "MLFLOW_REF_TOOL",
    toolName: "mlflow-reference",
    home: process.env.MLFLOW_REF_HOME ?? path.join(homedir(), "mlflow-ref"),
    installed: "mlflow-src/mlflow/version.py",
    setup: (c) =>
      `fetch github:williamjamir/mlflow and github:bernii/querystring-parser, then run ` +
      `\`${c.tool || c.toolName} setup ${c.home} <mlflow git dir> <querystring-parser git dir>\` as root ` +
      `(mlflow-reference.md), or point MLFLOW_REF_TOOL / MLFLOW_REF_HOME at an existing set-up`,
  },
  3: {
    label: "MLflow 3.5.1",
    tool: process.env.MLFLOW3_REF_TOOL ?? "",
    toolVar: "MLFLOW3_REF_TOOL",
    toolName: "mlflow3-reference",
    home: process.env.MLFLOW3_REF_HOME ?? path.join(homedir(), "mlflow3-ref"),
    installed: "mlflow3-src/mlflow.egg-info/PKG-INFO",
    setup: (c) =>
      `fetch the eight repositories listed in mlflow-reference.md ("MLflow 3.5.1 as well"), then run ` +
      `\`${c.tool || c.toolName} setup ${c.home} <the folder holding them>\` as root, or point MLFLOW3_REF_TOOL / MLFLOW3_REF_HOME at an existing set-up`,
  },
};

// Each script prints its own PASS/FAIL lines; the 3.x-only script runs with the 3.x client only.
const SCRIPTS: { file: string; clients: Generation[] }[] = [
  { file: "seed_workflow.py", clients: [2, 3] },
  { file: "artifacts.py", clients: [2, 3] },
  { file: "registry.py", clients: [2, 3] },
  { file: "mlflow3.py", clients: [3] },
];
const SCRIPT_TIMEOUT_MS = 15 * 60_000;

const { values: opts } = parseArgs({
  options: {
    client: { type: "string", default: "both" },
    only: { type: "string", default: "" },
    url: { type: "string" },
    keep: { type: "boolean", default: false },
  },
});
const chosen = ({ 2: [2], 3: [3], both: [2, 3] } as Record<string, Generation[]>)[opts.client ?? "both"];
if (!chosen) {
  console.error(`test:mlflow: --client must be 2, 3 or both (got ${opts.client})`);
  process.exit(2);
}
const generations: Generation[] = chosen;

for (const g of generations) {
  const c = CLIENTS[g];
  if (!c.tool || !existsSync(c.tool)) {
    console.error(
      `test:mlflow: ${c.label}: set ${c.toolVar} to the mlflow-reference tool (${c.tool || "not set"}); ${c.setup(c)}`,
    );
    process.exit(2);
  }
  if (!existsSync(path.join(c.home, c.installed))) {
    console.error(`test:mlflow: the ${c.label} client is not set up in ${c.home}: ${c.setup(c)}`);
    process.exit(2);
  }
}

const work = mkdtempSync(path.join(tmpdir(), "modelgate-mlflow-"));
const scratch = path.join(work, "tmp"); // the scripts' temp files (TMPDIR), removed at the end
mkdirSync(scratch);
const clientLog = path.join(work, "client.log");
const started = Date.now();
let registry: { base: string; stop(): Promise<void> } | null = null;
let currentScript: ChildProcess | null = null; // the client process running now, stopped on Ctrl-C
let interrupted = false;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const HEALTH_POLLS = 360;

/** `npm start` in its own process group (npm, sh, node and workerd stop together). */
async function startRegistry() {
  const port = process.env.PORT ? Number(process.env.PORT) : await freePort();
  const stateDir = path.join(work, "state");
  const serverLog = path.join(work, "server.log");
  const child = spawn("npm", ["start"], {
    cwd: root,
    env: { ...process.env, PORT: String(port), STATE_DIR: stateDir },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  child.stdout.on("data", (d) => appendFileSync(serverLog, d));
  child.stderr.on("data", (d) => appendFileSync(serverLog, d));
  const pgid = child.pid!;
  const exited = new Promise((resolve) => child.on("exit", resolve));
  const base = `http://127.0.0.1:${port}`;
  // Polled until /health answers, at most HEALTH_POLLS times 500 ms apart.
  for (let poll = 1; ; poll++) {
    if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}; see ${serverLog}`);
    if (interrupted) {
      process.kill(-pgid, "SIGKILL");
      throw new Error("interrupted");
    }
    try {
      if ((await fetch(`${base}/health`)).ok) break;
    } catch {
      // not listening yet
    }
    if (poll === HEALTH_POLLS) {
      process.kill(-pgid, "SIGKILL");
      throw new Error(`npm start did not answer /health after ${poll} polls; see ${serverLog}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return {
    base,
    async stop() {
      if (child.exitCode !== null) return;
      try {
        process.kill(-pgid, "SIGTERM");
      } catch {
        return;
      }
      const timeout = new Promise((r) => setTimeout(() => r("timeout"), 15_000));
      if ((await Promise.race([exited, timeout])) === "timeout") {
        try {
          process.kill(-pgid, "SIGKILL");
        } catch {
          // already gone
        }
      }
    },
  };
}

/** Runs one script through one client; resolves to {passed, failed}. */
function runScript(
  g: Generation,
  script: (typeof SCRIPTS)[number],
  base: string,
  prefix: string,
): Promise<{ passed: number; failed: number }> {
  const c = CLIENTS[g];
  const label = g === 2 ? "2.12" : "3.5";
  return new Promise((resolve) => {
    const child = spawn(c.tool, ["python", c.home, path.join(here, script.file)], {
      env: {
        ...process.env,
        MLFLOW_TRACKING_URI: base,
        MLFLOW_DISABLE_TELEMETRY: "true",
        DO_NOT_TRACK: "true",
        PYTHONDONTWRITEBYTECODE: "1", // nothing written beside the scripts
        PYTHONUNBUFFERED: "1",
        TMPDIR: scratch,
        MLFLOW_CHECK_PREFIX: prefix,
        MLFLOW_CHECK_ONLY: opts.only,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    currentScript = child;
    const counts = { passed: 0, failed: 0 };
    const stderrTail: string[] = [];
    appendFileSync(clientLog, `\n===== ${c.label}: ${script.file} =====\n`);
    createInterface({ input: child.stdout }).on("line", (line) => {
      appendFileSync(clientLog, `${line}\n`);
      const m = /^(PASS|FAIL) (.*)$/.exec(line);
      if (m) {
        counts[m[1] === "PASS" ? "passed" : "failed"]++;
        console.log(`${m[1]} [${label}] ${m[2]}`);
      } else if (line.startsWith("      ")) {
        console.log(line);
      }
    });
    createInterface({ input: child.stderr }).on("line", (line) => {
      appendFileSync(clientLog, `${line}\n`);
      stderrTail.push(line);
      if (stderrTail.length > 15) stderrTail.shift();
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), SCRIPT_TIMEOUT_MS);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      currentScript = null;
      // A script that crashed, was killed, failed without saying which check did, or ran no check
      // (which --only may ask for).
      const ranNothing = counts.passed + counts.failed === 0 && !opts.only;
      if ((code !== 0 && code !== 1) || signal || (code === 1 && counts.failed === 0) || ranNothing) {
        counts.failed++;
        console.log(`FAIL [${label}] ${script.file} ran to completion -- exit ${signal ?? code}; its last output:`);
        for (const line of stderrTail) console.log(`      ${line}`);
      }
      resolve(counts);
    });
  });
}

async function main() {
  let base = opts.url;
  if (!base) {
    process.stdout.write("test:mlflow: starting the registry (npm start)... ");
    registry = await startRegistry();
    base = registry.base;
    console.log(base);
  }
  const tag = `t${Date.now().toString(36).slice(-5)}`;
  const totals: Partial<Record<Generation, { passed: number; failed: number }>> = {};
  for (const g of generations) {
    const total = { passed: 0, failed: 0 };
    totals[g] = total;
    for (const script of SCRIPTS.filter((s) => s.clients.includes(g))) {
      if (interrupted) break;
      const r = await runScript(g, script, base, `${tag}-v${g}`);
      total.passed += r.passed;
      total.failed += r.failed;
    }
  }
  const passed = Object.values(totals).reduce((n, t) => n + t.passed, 0);
  const failed = Object.values(totals).reduce((n, t) => n + t.failed, 0);
  const per = generations
    .map((g) => `${CLIENTS[g].label} ${totals[g]!.passed}/${totals[g]!.passed + totals[g]!.failed}`)
    .join(", ");
  const took = Math.round((Date.now() - started) / 1000);
  console.log(
    `\ntest:mlflow: ${passed + failed} checks, ${passed} passed, ${failed} failed (${per}) against ${base} in ${took} s${interrupted ? " (interrupted)" : ""}`,
  );
  return failed;
}

async function cleanUp(failed: number | boolean) {
  await registry?.stop();
  rmSync(scratch, { recursive: true, force: true });
  if (opts.keep || failed) {
    console.log(
      `test:mlflow: the clients' full output is in ${clientLog}${opts.keep ? `, the registry's state in ${work}/state` : ""}`,
    );
    if (!opts.keep) rmSync(path.join(work, "state"), { recursive: true, force: true });
  } else {
    rmSync(work, { recursive: true, force: true });
  }
}

// Ctrl-C: stop the running client, run no further script, clean up, exit 130.
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    interrupted = true;
    currentScript?.kill("SIGTERM");
  });
}

try {
  const failed = await main();
  await cleanUp(failed || interrupted);
  process.exit(interrupted ? 130 : failed ? 1 : 0);
} catch (e) {
  console.error(`\ntest:mlflow: ${(e as Error).message}`);
  await cleanUp(1);
  process.exit(interrupted ? 130 : 1);
}
