#!/usr/bin/env node
// `npm run bench:mlflow`: Modelgate (`npm start`) side by side with MLflow 2.12.2's own tracking
// server (gunicorn, 2 workers, SQLite, proxied artifacts) on this machine, in one run, on the same
// seeded data: an sklearn model registered on both and in Production, and a registered version
// holding one 1 MiB file.
//   (a) the real 2.12.2 client's mlflow.pyfunc.load_model("models:/BenchModel/Production"): warm
//       loads alternating between the two servers in ONE Python process per pass; median per server;
//   (b) the sealed 1 MiB file through GET /api/2.0/mlflow-artifacts/artifacts/... with wrk, ours vs
//       MLflow's, and ours vs our own /v1 cached file;
//   (c) registered-models/get-latest-versions and model-versions/get under wrk, ours vs MLflow's.
// Next to (a), the ceiling: the same loads from bench/replay-server.ts, an "ideal server" answering
// the client's exact requests with our answers from memory (what any server could reach at best).
// Prints the ratios, writes bench/mlflow-results.json and docs/benchmarks-mlflow.md. Needs the
// MLflow 2.12.2 client and server set up (mlflow-reference.md in the team docs); installs wrk if
// missing. Everything it starts, it stops; every load run has a fixed duration and targets 127.0.0.1.
//
// Environment: MLFLOW_REF_TOOL / MLFLOW_REF_HOME (as test/mlflow/run.mts), MLFLOW_BENCH_PORT (MLflow's
// server, default 5055), PORT (ours, default a free port), BENCH_IDEAL_PORT (the replay server, default
// a free port), BENCH_MLFLOW_PASSES (load passes, default 3),
// BENCH_MLFLOW_LOADS (warm loads per server per pass, default 21).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createConnection } from "node:net";
import { homedir, tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  childGroups,
  describeTail,
  freePort,
  startChild,
  stopAllChildren,
  stopChild,
  waitForHttp,
} from "./lib/children";
import { startCpuMeter, waitUntilIdle } from "./lib/cpu-meter";
import { describeMachine } from "./lib/machine";
import { assertNoErrorStatus, ensureWrk, runWrk, socketErrors } from "./lib/wrk";
import { runBounded } from "./lib/bounded-run";
import { mlflowServerCommand } from "./lib/mlflow-server";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..");
// The mlflow-reference tool is not part of the repository: its path comes from the environment.
const TOOL = process.env.MLFLOW_REF_TOOL ?? "";
const HOME = process.env.MLFLOW_REF_HOME ?? path.join(homedir(), "mlflow-ref");
const MLFLOW_PORT = Number(process.env.MLFLOW_BENCH_PORT ?? 5055);
const PASSES = Number(process.env.BENCH_MLFLOW_PASSES ?? 3);
const LOADS = Number(process.env.BENCH_MLFLOW_LOADS ?? 21);
const WRK = { threads: 2, connections: 8, durationSec: 5, warmupSec: 2, timeoutSec: 5 };
/** Issue 19's targets, ours against MLflow's server (and against our /v1 file for the artifact API). */
const TARGETS = { load: 2, artifactVsMlflow: 10, artifactVsV1: 0.8, reads: 5 };
const WATCHDOG_MS = 15 * 60_000;
const MiB = 1024 * 1024;

const started = Date.now();
const log = (message) => console.log(`[bench:mlflow ${((Date.now() - started) / 1000).toFixed(0)}s] ${message}`);
let runDir = null;
let mlflowStarted = false;

// --- the Python the client runs (written into the run's scratch directory) -------------------------
const SEED_PY = String.raw`
import json, os, sys, numpy as np, mlflow
from sklearn.linear_model import LinearRegression
from mlflow import MlflowClient
from urllib.parse import urlparse

servers = json.loads(os.environ["BENCH_SERVERS"])
X = np.arange(8.0).reshape(-1, 1)
model = LinearRegression().fit(X, 2 * X[:, 0] + 1)
blob_dir = os.path.join(os.environ["TMPDIR"], "blob")
os.makedirs(blob_dir, exist_ok=True)
blob = os.path.join(blob_dir, "blob.bin")
with open(blob, "wb") as f:
    f.write(np.random.default_rng(19).bytes(1024 * 1024))
out = {}
for s in servers:
    mlflow.set_tracking_uri(s["uri"]); mlflow.set_registry_uri(s["uri"])
    client = MlflowClient()
    mlflow.set_experiment("bench-mlflow")
    with mlflow.start_run() as run:
        mlflow.sklearn.log_model(model, "model", registered_model_name="BenchModel")
        mlflow.log_artifact(blob, artifact_path="blob")
    client.transition_model_version_stage("BenchModel", "1", "Production")
    mv = mlflow.register_model(f"runs:/{run.info.run_id}/blob", "BenchBlob")
    root = urlparse(run.info.artifact_uri).path.lstrip("/")
    out[s["key"]] = {"run_id": run.info.run_id, "blob_version": mv.version, "blob_path": f"{root}/blob/blob.bin",
                     "blob_source": mv.source, "prediction": float(mlflow.pyfunc.load_model("models:/BenchModel/Production").predict(X[:1])[0])}
json.dump(out, open(os.environ["BENCH_OUT"], "w"))
`;

const LOAD_PY = String.raw`
import json, os, statistics, time, numpy as np, requests, mlflow

servers = json.loads(os.environ["BENCH_SERVERS"])
loads, warm = int(os.environ["BENCH_LOADS"]), 2
calls = [0]
_request = requests.Session.request
def counting(self, *a, **k):
    calls[0] += 1
    return _request(self, *a, **k)
requests.Session.request = counting
probe = np.arange(1.0).reshape(-1, 1)

def load(s):
    mlflow.set_tracking_uri(s["uri"]); mlflow.set_registry_uri(s["uri"])
    calls[0] = 0
    t0 = time.perf_counter()
    m = mlflow.pyfunc.load_model("models:/BenchModel/Production")
    dt = time.perf_counter() - t0
    assert abs(float(m.predict(probe)[0]) - 1.0) < 1e-6, "unexpected prediction"
    return dt, calls[0]

for s in servers:
    for _ in range(warm):
        load(s)
times = {s["key"]: [] for s in servers}
requests_per_load = {s["key"]: set() for s in servers}
for i in range(loads):
    for s in (servers if i % 2 == 0 else servers[::-1]):
        dt, n = load(s)
        times[s["key"]].append(dt)
        requests_per_load[s["key"]].add(n)
json.dump({k: {"median_s": statistics.median(v), "min_s": min(v), "max_s": max(v), "times_s": v,
            "requests_per_load": sorted(requests_per_load[k])} for k, v in times.items()}, open(os.environ["BENCH_OUT"], "w"))
`;

// --- helpers -------------------------------------------------------------------------------------
function portInUse(port) {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
  });
}

const mlflowServer = mlflowServerCommand(TOOL, HOME, MLFLOW_PORT);

/** The MLflow server's process group (the tool starts it with setsid and keeps its pid). */
function mlflowGroup() {
  const pidFile = path.join(HOME, `mlflow-server-${MLFLOW_PORT}.pid`);
  return existsSync(pidFile) ? Number(readFileSync(pidFile, "utf8").trim()) : null;
}

function allGroups() {
  const groups = childGroups();
  const g = mlflowGroup();
  if (g) groups.add(g);
  return groups;
}

/** Runs a Python script through the real client in its own process group; answers the JSON it wrote to BENCH_OUT. */
async function python(label, source, env) {
  const file = path.join(runDir, `${label}.py`);
  const out = path.join(runDir, `${label}.json`);
  writeFileSync(file, source);
  const handle = startChild(`python ${label}`, TOOL, ["python", HOME, file], {
    env: {
      ...process.env,
      ...env,
      BENCH_OUT: out,
      TMPDIR: path.join(runDir, "tmp"),
      PYTHONDONTWRITEBYTECODE: "1",
      MLFLOW_DISABLE_TELEMETRY: "true",
    },
  });
  await handle.done;
  if (handle.exitCode !== 0 || !existsSync(out))
    throw new Error(`${label}.py failed (exit ${handle.exitCode})\n${describeTail(handle)}`);
  return JSON.parse(readFileSync(out, "utf8"));
}

async function fetchChecked(url, check) {
  const res = await fetch(url);
  const body = Buffer.from(await res.arrayBuffer());
  if (res.status !== 200) throw new Error(`${url} answered ${res.status}: ${body.toString("utf8", 0, 300)}`);
  check(body);
  return body;
}

/** A discarded warm-up run, then the measured one (repeated once if wrk saw socket errors). */
async function measure(label, url) {
  const discarded = [];
  for (let attempt = 1; attempt <= 2; attempt++) {
    assertNoErrorStatus(`${label} (warm-up)`, await runWrk(url, { ...WRK, durationSec: WRK.warmupSec }));
    const meter = startCpuMeter(allGroups());
    const result = await runWrk(url, WRK);
    const cpu = meter.stop();
    assertNoErrorStatus(label, result);
    const { raw, ...kept } = result;
    const run = { ...kept, cpu };
    if (socketErrors(result) === 0 || attempt === 2) {
      log(
        `  ${label}: ${Math.round(result.requestsPerSec)} req/s, p50 ${result.p50Ms} ms (others used ${cpu.otherCores} cores)`,
      );
      return { ...run, discarded };
    }
    discarded.push(run);
  }
  throw new Error("unreachable");
}

/** wrk's command line as run against ours, with the server and the checkout's path left out. */
const shortCommand = (command, base) => command.replace(base, "").replace(`${root}/`, "");
const fmt = (n, digits = 0) =>
  n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
const times = (r) => `×${r.toFixed(2)}`;

// --- the run -------------------------------------------------------------------------------------
async function main() {
  if (!TOOL || !existsSync(TOOL) || !existsSync(path.join(HOME, "mlflow-src/mlflow/version.py"))) {
    console.error(
      `bench:mlflow: the MLflow 2.12.2 client and server are not set up (${TOOL}, ${HOME}): fetch github:williamjamir/mlflow and ` +
        `github:bernii/querystring-parser, then run \`${TOOL} setup ${HOME} <mlflow git dir> <querystring-parser git dir>\` as root ` +
        `(mlflow-reference.md), and set MLFLOW_REF_TOOL (required) / MLFLOW_REF_HOME`,
    );
    return 2;
  }
  const wrkVersion = ensureWrk(log);
  if (await portInUse(MLFLOW_PORT))
    throw new Error(`port ${MLFLOW_PORT} is in use; stop what listens there or set MLFLOW_BENCH_PORT`);
  runDir = mkdtempSync(path.join(tmpdir(), "modelgate-bench-mlflow-"));
  mkdirSync(path.join(runDir, "tmp"));

  log(`starting MLflow 2.12.2's server on ${MLFLOW_PORT} and ours (npm start)`);
  mlflowStarted = true;
  mlflowServer("start", path.join(runDir, "mlflow-state"));
  const mlflowBase = `http://127.0.0.1:${MLFLOW_PORT}`;
  const port = process.env.PORT ? Number(process.env.PORT) : await freePort();
  const t0 = Date.now();
  const ours = startChild("npm start", process.execPath, ["--import", "tsx", path.join(root, "scripts/start.ts")], {
    cwd: root,
    env: { ...process.env, PORT: String(port), STATE_DIR: path.join(runDir, "state") },
  });
  const oursBase = `http://127.0.0.1:${port}`;
  await waitForHttp(`${oursBase}/health`, ours, 180_000);
  log(`  ours up after ${((Date.now() - t0) / 1000).toFixed(1)} s on ${oursBase}`);

  const servers = [
    { key: "ours", uri: oursBase },
    { key: "mlflow", uri: mlflowBase },
  ];
  log("seeding both with the real client: BenchModel v1 (sklearn) in Production, BenchBlob v1 (one 1 MiB file)");
  const seed = await python("seed", SEED_PY, { BENCH_SERVERS: JSON.stringify(servers) });
  // The ceiling: our answers replayed from memory (recorded during the first pass's warm-up loads).
  const idealPort = process.env.BENCH_IDEAL_PORT ? Number(process.env.BENCH_IDEAL_PORT) : await freePort();
  const ideal = startChild("replay server", process.execPath, [
    "--import",
    "tsx",
    path.join(here, "replay-server.ts"),
    "--upstream",
    oursBase,
    "--port",
    String(idealPort),
  ]);
  const idealBase = `http://127.0.0.1:${idealPort}`;
  await waitForHttp(`${idealBase}/_replay/stats`, ideal, 30_000);
  const loadServers = [...servers, { key: "ideal", uri: idealBase }];
  const idle = await waitUntilIdle(childGroups(), { timeoutMs: 60_000 });
  log(`  ours idle after ${idle ?? "> 60"} s`);

  // What every measured URL must answer, checked once before the load.
  const urls = {
    artifactOurs: `${oursBase}/api/2.0/mlflow-artifacts/artifacts/${encodeURI(seed.ours.blob_path)}`,
    artifactMlflow: `${mlflowBase}/api/2.0/mlflow-artifacts/artifacts/${encodeURI(seed.mlflow.blob_path)}`,
    v1Ours: `${oursBase}/v1/models/BenchBlob/versions/${seed.ours.blob_version}/files/blob.bin`,
  };
  let blobBytes = null;
  for (const url of Object.values(urls)) {
    await fetchChecked(url, (body) => {
      if (body.length !== MiB) throw new Error(`${url}: ${body.length} bytes, expected ${MiB}`);
      blobBytes ??= body;
      if (!body.equals(blobBytes)) throw new Error(`${url}: not the same bytes as the first server`);
    });
  }
  for (const s of servers) {
    for (const route of [
      "registered-models/get-latest-versions?name=BenchModel&stages=Production",
      "model-versions/get?name=BenchModel&version=1",
    ]) {
      await fetchChecked(`${s.uri}/api/2.0/mlflow/${route}`, (body) => {
        const text = body.toString();
        if (!text.includes('"Production"') || !text.includes('"1"'))
          throw new Error(`${s.key} ${route}: ${text.slice(0, 300)}`);
      });
    }
  }

  log(
    `(a) load_model("models:/BenchModel/Production"): ${PASSES} passes of ${LOADS} warm loads per server (ours, MLflow, ideal replay), alternating, one Python process per pass`,
  );
  const loadPasses = [];
  for (let pass = 1; pass <= PASSES; pass++) {
    const meter = startCpuMeter(allGroups());
    const r = await python(`load-pass-${pass}`, LOAD_PY, {
      BENCH_SERVERS: JSON.stringify(pass % 2 ? loadServers : [...loadServers].reverse()),
      BENCH_LOADS: String(LOADS),
    });
    const cpu = meter.stop();
    const ratio = r.mlflow.median_s / r.ours.median_s;
    const idealRatio = r.mlflow.median_s / r.ideal.median_s;
    loadPasses.push({ pass, ours: r.ours, mlflow: r.mlflow, ideal: r.ideal, ratio, idealRatio, cpu });
    log(
      `  pass ${pass}: ours ${(r.ours.median_s * 1000).toFixed(1)} ms, MLflow ${(r.mlflow.median_s * 1000).toFixed(1)} ms (${times(ratio)}), ` +
        `ideal ${(r.ideal.median_s * 1000).toFixed(1)} ms (${times(idealRatio)}); others used ${cpu.otherCores} cores`,
    );
  }
  const replay = await (await fetch(`${idealBase}/_replay/stats`)).json();
  await stopChild(ideal);
  // The client checks every prediction; an error passed on by the replay would make its row meaningless.
  if (replay.failed > 0) throw new Error(`the replay server passed on ${replay.failed} error answers from ours`);
  const sortedRatios = loadPasses.map((p) => p.ratio).sort((a, b) => a - b);
  const medianPass = loadPasses.find((p) => p.ratio === sortedRatios[Math.floor(sortedRatios.length / 2)]);

  log("(b) the sealed 1 MiB file through the artifact API, and our /v1 file");
  const artifactOurs = await measure("ours, artifact API", urls.artifactOurs);
  const artifactMlflow = await measure("MLflow, artifact API", urls.artifactMlflow);
  const v1Ours = await measure("ours, /v1 cached file", urls.v1Ours);

  log("(c) point reads");
  const reads = {};
  for (const [id, route] of [
    ["get-latest-versions", "registered-models/get-latest-versions?name=BenchModel&stages=Production"],
    ["model-versions/get", "model-versions/get?name=BenchModel&version=1"],
  ]) {
    reads[id] = {
      route,
      ours: await measure(`ours, ${id}`, `${oursBase}/api/2.0/mlflow/${route}`),
      mlflow: await measure(`MLflow, ${id}`, `${mlflowBase}/api/2.0/mlflow/${route}`),
    };
  }

  const rows = [
    {
      id: "load_model",
      label:
        '`mlflow.pyfunc.load_model("models:/BenchModel/Production")`, median warm load (pass with the median ratio)',
      ours: medianPass.ours.median_s,
      mlflow: medianPass.mlflow.median_s,
      unit: "s",
      ratio: medianPass.mlflow.median_s / medianPass.ours.median_s,
      target: TARGETS.load,
      command: `the 2.12.2 client, one Python process per pass (bench/mlflow.ts LOAD_PY): ${LOADS} warm loads per server after 2 each, alternating`,
    },
    {
      id: "load_model-ideal",
      label:
        "the ceiling: the same loads from the ideal replay server (our answers replayed from memory, bench/replay-server.ts), same pass",
      ours: medianPass.ideal.median_s,
      mlflow: medianPass.mlflow.median_s,
      unit: "s",
      ratio: medianPass.mlflow.median_s / medianPass.ideal.median_s,
      reference: true,
      // Ours as a share of the way to the ceiling: latency of the ideal over ours.
      oursShare: medianPass.ideal.median_s / medianPass.ours.median_s,
      command: `the same Python process; ${replay.recorded} distinct requests recorded from ours, then answered from memory`,
    },
    {
      id: "artifact",
      label: "sealed 1 MiB file, `GET /api/2.0/mlflow-artifacts/artifacts/<exp>/<run>/artifacts/blob/blob.bin`",
      ours: artifactOurs.requestsPerSec,
      mlflow: artifactMlflow.requestsPerSec,
      unit: "req/s",
      ratio: artifactOurs.requestsPerSec / artifactMlflow.requestsPerSec,
      target: TARGETS.artifactVsMlflow,
      command: shortCommand(artifactOurs.command, oursBase),
    },
    {
      id: "artifact-vs-v1",
      label: "the same file: our artifact API against our `/v1/models/BenchBlob/versions/1/files/blob.bin` (cached)",
      ours: artifactOurs.requestsPerSec,
      v1: v1Ours.requestsPerSec,
      unit: "req/s",
      ratio: artifactOurs.requestsPerSec / v1Ours.requestsPerSec,
      target: TARGETS.artifactVsV1,
      command: shortCommand(v1Ours.command, oursBase),
    },
    ...Object.entries(reads).map(([id, r]) => ({
      id,
      label: `\`GET /api/2.0/mlflow/${r.route}\``,
      ours: r.ours.requestsPerSec,
      mlflow: r.mlflow.requestsPerSec,
      unit: "req/s",
      ratio: r.ours.requestsPerSec / r.mlflow.requestsPerSec,
      target: TARGETS.reads,
      command: shortCommand(r.ours.command, oursBase),
    })),
  ];
  for (const r of rows) r.met = r.reference ? undefined : r.ratio >= r.target;

  const results = {
    generatedAt: new Date().toISOString(),
    tookSec: Math.round((Date.now() - started) / 1000),
    machine: describeMachine(root, wrkVersion),
    mlflow: {
      version: "2.12.2",
      server: `mlflow server --workers 2 (gunicorn), SQLite, --serve-artifacts, port ${MLFLOW_PORT}`,
    },
    wrk: WRK,
    seed,
    rows,
    load: { passes: loadPasses, loadsPerServer: LOADS, replay },
    wrkRuns: { artifactOurs, artifactMlflow, v1Ours, reads },
  };
  writeFileSync(path.join(here, "mlflow-results.json"), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(path.join(root, "docs", "benchmarks-mlflow.md"), render(results));

  console.log("\nbench:mlflow (ours against MLflow 2.12.2's own server, same machine, same run):");
  for (const r of rows) {
    const against =
      r.id === "artifact-vs-v1"
        ? `/v1 ${fmt(r.v1)} ${r.unit}`
        : `MLflow ${r.unit === "s" ? `${(r.mlflow * 1000).toFixed(1)} ms` : `${fmt(r.mlflow)} ${r.unit}`}`;
    const mine = r.unit === "s" ? `${(r.ours * 1000).toFixed(1)} ms` : `${fmt(r.ours)} ${r.unit}`;
    const verdict = r.reference
      ? `(ceiling; ours is ${Math.round(r.oursShare * 100)} % as fast as the ideal server)`
      : `(target ${r.id === "artifact-vs-v1" ? `${r.target * 100} %` : `×${r.target}`}: ${r.met ? "met" : "NOT met"})`;
    console.log(
      `  ${r.id.padEnd(20)} ${r.reference ? "ideal" : "ours "} ${mine.padEnd(12)} ${against.padEnd(22)} ${r.id === "artifact-vs-v1" ? `${Math.round(r.ratio * 100)} %` : times(r.ratio)}  ${verdict}`,
    );
  }
  console.log(`wrote bench/mlflow-results.json and docs/benchmarks-mlflow.md (${results.tookSec} s)`);
  return 0;
}

function render(results) {
  const { machine: m, rows, load, wrkRuns: w } = results;
  const cell = (r, v) => (v === undefined ? "—" : r.unit === "s" ? `${(v * 1000).toFixed(1)} ms` : `${fmt(v)} req/s`);
  const ratioText = (r) => (r.id === "artifact-vs-v1" ? `${Math.round(r.ratio * 100)} % of /v1` : times(r.ratio));
  const targetText = (r) =>
    r.reference
      ? `reference: ours is ${Math.round(r.oursShare * 100)} % as fast`
      : `${r.id === "artifact-vs-v1" ? `≥ ${r.target * 100} %` : `≥ ×${r.target}`}: ${r.met ? "met" : "**not met**"}`;
  const wrkCpu = (x) => `${x.cpu.ownCores} / ${x.cpu.otherCores}`;
  const msRange = (t) =>
    `${(t.median_s * 1000).toFixed(1)} ms (${(t.min_s * 1000).toFixed(1)}–${(t.max_s * 1000).toFixed(1)})`;
  return `# Benchmarks: Modelgate against MLflow's own server

Generated by \`npm run bench:mlflow\` (bench/mlflow.ts) on ${results.generatedAt}; every run rewrites this
file and \`bench/mlflow-results.json\` (every load time and wrk run). Both servers ran on this machine
at the same time, seeded the same way by the real MLflow 2.12.2 client; only one was under load at
a time. Ratios are ours against MLflow's (× = how many times faster ours is); targets from issue 19.
The "ceiling" row is an ideal server measured in the same Python process: our answers to the
client's exact requests, replayed from memory by a bare Node server (bench/replay-server.ts). What
remains against it is the client's own time, so its ratio is the best any server reaches here.

## Results

| Row | Ours | MLflow 2.12.2 | Ratio | Target | Command |
|---|---|---|---|---|---|
${rows
  .map(
    (r) =>
      `| ${r.label} | ${r.reference ? `(ideal: ${cell(r, r.ours)})` : cell(r, r.ours)} | ${r.id === "artifact-vs-v1" ? `(our /v1: ${cell(r, r.v1)})` : cell(r, r.mlflow)} | ${ratioText(r)} | ${targetText(r)} | \`${r.command}\` |`,
  )
  .join("\n")}

### load_model, every pass

Each pass is one Python process (the 2.12.2 client) loading \`models:/BenchModel/Production\` from
the three servers in turn (ours, MLflow's, the ideal replay), ${load.loadsPerServer} warm loads each after 2 discarded ones,
and checking the prediction. The replay server recorded ${load.replay.recorded} distinct requests from ours during the first
pass's warm-up (${load.replay.forwarded} requests forwarded) and answered the other ${load.replay.replayed} from memory.

| Pass | Ours, median (min–max) | MLflow, median (min–max) | Ideal, median (min–max) | Ratio | Ceiling (MLflow / ideal) | Requests per load (ours / MLflow / ideal) | CPU cores: servers+client / others |
|---|---|---|---|---|---|---|---|
${load.passes
  .map(
    (p) =>
      `| ${p.pass} | ${msRange(p.ours)} | ${msRange(p.mlflow)} | ${msRange(p.ideal)} | ${times(p.ratio)} | ${times(p.idealRatio)} | ` +
      `${p.ours.requests_per_load.join(", ")} / ${p.mlflow.requests_per_load.join(", ")} / ${p.ideal.requests_per_load.join(", ")} | ${p.cpu.ownCores} / ${p.cpu.otherCores} |`,
  )
  .join("\n")}

### wrk runs

| Run | req/s | p50 | p99 | bytes/response | CPU cores: ours+MLflow / others |
|---|---|---|---|---|---|
${[
  ["ours, artifact API (1 MiB)", w.artifactOurs],
  ["MLflow, artifact API (1 MiB)", w.artifactMlflow],
  ["ours, /v1 cached file (1 MiB)", w.v1Ours],
  ...Object.entries(w.reads).flatMap(([id, r]) => [
    [`ours, ${id}`, r.ours],
    [`MLflow, ${id}`, r.mlflow],
  ]),
]
  .map(
    ([label, x]) =>
      `| ${label} | ${fmt(x.requestsPerSec)} | ${x.p50Ms} ms | ${x.p99Ms} ms | ${fmt(x.bytesPerResponse)} | ${wrkCpu(x)} |`,
  )
  .join("\n")}

## How it was measured

- Command: \`npm run bench:mlflow\`; the run took ${results.tookSec} s.
- MLflow: ${results.mlflow.server}, started with \`$MLFLOW_REF_TOOL server ~/mlflow-ref start ${results.mlflow.server.match(/port (\d+)/)[1]} <dir>\`
  (MLflow's source at tag v2.12.2 on Debian's Python packages). Ours: \`npm start\` (scripts/start.ts:
  the built Worker on workerd through Miniflare) with a fresh \`STATE_DIR\`.
- Seed, the same on both, by the real client: \`mlflow.sklearn.log_model(..., registered_model_name="BenchModel")\`
  (a LinearRegression), version 1 → Production; a 1 MiB file logged to \`blob/\` in the same run and
  registered as \`BenchBlob\` version 1 (\`mlflow.register_model("runs:/<run>/blob", ...)\`), so on ours the
  file belongs to a registered (sealed) version. Every URL was checked to answer the same 1 MiB (or
  version 1 in Production) before the load.
- wrk: \`wrk -t${results.wrk.threads} -c${results.wrk.connections} -d${results.wrk.durationSec}s --timeout ${results.wrk.timeoutSec}s --latency\`
  against 127.0.0.1, each run after a ${results.wrk.warmupSec} s warm-up at the same settings that is discarded; any
  error status fails the benchmark; a run with socket errors is repeated once. wrk shares the cores
  with both servers.
- CPU: cores used during each measurement by this benchmark's processes (both servers, wrk or the
  client) and by every other process on the machine; a high second number means a busy neighbour.

## Machine

| | |
|---|---|
| CPU | ${m.cpuModel}, \`nproc\` = ${m.nproc} |
| Memory | ${m.memoryGiB} GiB |
| Kernel | ${m.kernel} |
| Node | ${m.node} |
| workerd / Miniflare / wrangler | ${m.workerd} / ${m.miniflare} / ${m.wrangler} |
| wrk | ${m.wrk} |
| MLflow | 2.12.2 server and client (Debian's python3 ${spawnSync("/usr/bin/python3", ["--version"], { encoding: "utf8" }).stdout.trim().replace("Python ", "")}) |

This is a shared 2-core machine: other sessions' work shows in the "others" CPU column, and absolute
numbers move with it; the ratios of one run are what to compare.
`;
}

async function cleanUp() {
  await stopAllChildren();
  if (mlflowStarted) {
    try {
      mlflowServer("stop");
    } catch (e) {
      console.error(`bench:mlflow: stopping MLflow's server failed: ${e.message}`);
    }
  }
  if (runDir) rmSync(runDir, { recursive: true, force: true });
}

await runBounded("bench:mlflow", main, cleanUp, WATCHDOG_MS);
