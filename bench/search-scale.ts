#!/usr/bin/env node
// `node --import tsx bench/search-scale.ts`: registry search at 100,000 versions (200 models × 500, tagged),
// Modelgate (`npm start`) side by side with MLflow 2.12.2's own server on the same data, in one run:
//   (1) versions of one model with a tag, (2) versions of one model, (3) models by name prefix
//       (each answer carrying latest_versions), under wrk -t2 -c8, ours against MLflow's;
//   (2) page 1 against page 1,000 of the walk over every version (100 a page), ours and MLflow's.
// Both are seeded by a bulk SQL import into their own SQLite through their own schema: ours into the
// local D1 that `npm start` created and migrated (migrations/), MLflow's into the database its server
// created (its alembic migrations), each server stopped while its file is written. Before any load,
// both must give the same answer to every measured request. Writes docs/benchmarks-search.md.
//
// Environment: MLFLOW_REF_TOOL (required: the mlflow-reference tool, see the team's
// mlflow-reference.md), MLFLOW_REF_HOME (default ~/mlflow-ref), MLFLOW_BENCH_PORT (MLflow's server,
// default 5056), PORT (ours, default a free port), BENCH_SEARCH_SECONDS (each wrk run, default 5),
// BENCH_SEARCH_KEEP (a directory: the run's databases are made and kept there, for a closer look;
// with BENCH_SEARCH_SEED_ONLY=1 the run stops once they are seeded).
// Everything it starts it stops; every load run has a fixed duration and targets 127.0.0.1 only.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { childGroups, freePort, startChild, stopAllChildren, stopChild, waitForHttp } from "./lib/children";
import { startCpuMeter } from "./lib/cpu-meter";
import { describeMachine } from "./lib/machine";
import { assertNoErrorStatus, ensureWrk, runWrk } from "./lib/wrk";
import { runBounded } from "./lib/bounded-run";
import { mlflowServerCommand } from "./lib/mlflow-server";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..");
const TOOL = process.env.MLFLOW_REF_TOOL ?? "";
const HOME = process.env.MLFLOW_REF_HOME ?? path.join(homedir(), "mlflow-ref");
const MLFLOW_PORT = Number(process.env.MLFLOW_BENCH_PORT ?? 5056);
const SECONDS = Number(process.env.BENCH_SEARCH_SECONDS ?? 5);
const WRK = { threads: 2, connections: 8, durationSec: SECONDS, warmupSec: 2, timeoutSec: 10 };
// MLflow's server answers these in seconds, not milliseconds: a run long enough to see tens of
// answers, and a timeout no answer reaches (wrk counts only the requests that completed).
const MLFLOW_WRK = { ...WRK, durationSec: Math.max(SECONDS, 20), timeoutSec: 60 };
const WATCHDOG_MS = 20 * 60_000;
const KEEP = process.env.BENCH_SEARCH_KEEP ?? "";

// The data: model i (0..199) is bench-model-<i>; version v (1..500) of it is row n = (v-1)*200 + i,
// created a minute after row n-1 (so versions of all models interleave in time, as nightly jobs do).
const MODELS = 200;
const PER_MODEL = 500;
const TOTAL = MODELS * PER_MODEL;
const T0 = 1_700_000_000_000;
const TEAMS = ["vision", "nlp", "tabular", "speech"];
const FILES = ["MLmodel", "model.pkl", "conda.yaml", "python_env.yaml", "requirements.txt"];
const PAGE = 100;
const DEEP_PAGE = 1000;
/** Issue 14's targets. */
const TARGETS = { p50Ms: 20, ratio: 10, deepVsFirst: 0.8 };

const started = Date.now();
const log = (message) => console.log(`[bench:search ${((Date.now() - started) / 1000).toFixed(0)}s] ${message}`);
let runDir = null;
let mlflowStarted = false;

const teamCase = (v) => `CASE (${v}) % 4 ${TEAMS.map((t, i) => `WHEN ${i} THEN '${t}'`).join(" ")} END`;
const stageCase = (v) =>
  `CASE WHEN ${v} = ${PER_MODEL} THEN 'Production' WHEN ${v} = ${PER_MODEL - 1} THEN 'Staging' WHEN ${v} % 50 = 0 THEN 'Archived' ELSE 'None' END`;

/**
 * The seed as SQL for one schema. `rows` numbers every version n (0..TOTAL-1) with its model i and
 * version v; everything else is a function of them, so both databases hold the same registry.
 */
function seedSql(kind) {
  const rows = `rows(n, i, v) AS (SELECT 0, 0, 1 UNION ALL SELECT n + 1, (n + 1) % ${MODELS}, (n + 1) / ${MODELS} + 1 FROM rows WHERE n < ${TOTAL - 1})`;
  const models = `models(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM models WHERE i < ${MODELS - 1})`;
  const name = (i) => `printf('bench-model-%03d', ${i})`;
  const runId = `printf('%032x', n)`;
  const location = `'mlflow-artifacts:/1/' || ${runId} || '/artifacts/model'`;
  const created = `${T0} + n * 60000`;
  // Pairs of versions share an update time: ties that the order's tiebreakers (name, version) settle.
  const updated = `${T0} + (n / 2) * 120000 + 30000`;
  const files = `files(f) AS (VALUES ${FILES.map((f) => `('${f}')`).join(", ")})`;
  if (kind === "ours") {
    return `PRAGMA foreign_keys = ON;
BEGIN;
WITH RECURSIVE ${models}
INSERT INTO registered_models (id, name, description, user_id, creation_time, last_updated_time, next_version)
  SELECT printf('bench-%03d-0000-4000-8000-000000000000', i), ${name("i")}, 'seeded by bench/search-scale.ts', 'bench', ${T0} + i, ${T0} + ${TOTAL} * 60000 + i, ${PER_MODEL + 1} FROM models;
WITH RECURSIVE ${models}
INSERT INTO registered_model_tags (model_id, key, value) SELECT printf('bench-%03d-0000-4000-8000-000000000000', i), 'team', ${teamCase("i")} FROM models;
-- The files first: a sealed version folder refuses new artifacts (migration 0008's triggers).
WITH RECURSIVE ${rows}, ${files}
INSERT INTO artifact_objects (path, blob_key, size, sha256, uploaded_at)
  SELECT '1/' || ${runId} || '/artifacts/model/' || f, 'blobs/' || ${runId} || '-' || f, 1024, printf('%064x', n), ${created} FROM rows, files;
WITH RECURSIVE ${rows}
INSERT INTO model_versions (model_id, version, description, user_id, source, run_id, run_link, logged_model_id, status, status_message, current_stage, creation_time, last_updated_time, storage_location)
  SELECT printf('bench-%03d-0000-4000-8000-000000000000', i), v, '', 'bench', ${location}, ${runId}, '', NULL, 'READY', NULL, ${stageCase("v")}, ${created}, ${updated}, ${location} FROM rows;
WITH RECURSIVE ${rows}
INSERT INTO model_version_tags (model_id, version, key, value)
  SELECT printf('bench-%03d-0000-4000-8000-000000000000', i), v, 'team', ${teamCase("v")} FROM rows
  UNION ALL SELECT printf('bench-%03d-0000-4000-8000-000000000000', i), v, 'dataset', 'ds-' || (v % 10) FROM rows;
WITH RECURSIVE ${rows}, ${files}
INSERT INTO model_version_files (model_id, version, path, artifact_path, blob_key, size, sha256)
  SELECT printf('bench-%03d-0000-4000-8000-000000000000', i), v, f, '1/' || ${runId} || '/artifacts/model/' || f, 'blobs/' || ${runId} || '-' || f, 1024, printf('%064x', n) FROM rows, files;
COMMIT;
`;
  }
  return `BEGIN;
WITH RECURSIVE ${models}
INSERT INTO registered_models (name, creation_time, last_updated_time, description)
  SELECT ${name("i")}, ${T0} + i, ${T0} + ${TOTAL} * 60000 + i, 'seeded by bench/search-scale.ts' FROM models;
WITH RECURSIVE ${models}
INSERT INTO registered_model_tags (key, value, name) SELECT 'team', ${teamCase("i")}, ${name("i")} FROM models;
WITH RECURSIVE ${rows}
INSERT INTO model_versions (name, version, creation_time, last_updated_time, description, user_id, current_stage, source, run_id, status, status_message, run_link, storage_location)
  SELECT ${name("i")}, v, ${created}, ${updated}, '', 'bench', ${stageCase("v")}, ${location}, ${runId}, 'READY', NULL, '', ${location} FROM rows;
WITH RECURSIVE ${rows}
INSERT INTO model_version_tags (key, value, name, version)
  SELECT 'team', ${teamCase("v")}, ${name("i")}, v FROM rows
  UNION ALL SELECT 'dataset', 'ds-' || (v % 10), ${name("i")}, v FROM rows;
COMMIT;
`;
}

function sqlite(file, sql) {
  return execFileSync("sqlite3", ["-bail", file], { input: sql, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
}

/** The local D1 database file `npm start` keeps under STATE_DIR (the one holding the registry). */
function d1File(stateDir) {
  const dir = path.join(stateDir, "v3", "d1", "miniflare-D1DatabaseObject");
  const files = readdirSync(dir).filter((f) => f.endsWith(".sqlite"));
  const found = files
    .map((f) => path.join(dir, f))
    .filter((f) => sqlite(f, "SELECT count(*) FROM sqlite_master WHERE name = 'registered_models';").trim() === "1");
  if (found.length !== 1) throw new Error(`expected one registry database in ${dir}, found ${found.length}`);
  return found[0];
}

/** Bytes and rows per table (indexes counted with their table), from SQLite's dbstat. */
function storageOf(file) {
  const pageSize = Number(sqlite(file, "PRAGMA page_size;").trim());
  const pages = Number(sqlite(file, "PRAGMA page_count;").trim());
  const objects = sqlite(file, "SELECT name, tbl_name FROM sqlite_master WHERE type IN ('table', 'index');")
    .trim()
    .split("\n")
    .map((l) => l.split("|"));
  const tableOf = new Map(objects.map(([name, table]) => [name, table]));
  const bytes = new Map();
  for (const line of sqlite(file, "SELECT name, sum(pgsize) FROM dbstat GROUP BY name;").trim().split("\n")) {
    const [name, size] = line.split("|");
    const table = tableOf.get(name) ?? name;
    bytes.set(table, (bytes.get(table) ?? 0) + Number(size));
  }
  const tables = [
    "registered_models",
    "registered_model_tags",
    "model_versions",
    "model_version_tags",
    "model_version_files",
    "artifact_objects",
  ];
  const counts = sqlite(file, tables.map((t) => `SELECT '${t}', count(*) FROM ${t};`).join("\n"))
    .trim()
    .split("\n")
    .map((l) => l.split("|"));
  return {
    fileBytes: pageSize * pages,
    tables: counts.map(([table, rows]) => ({ table, rows: Number(rows), bytes: bytes.get(table) ?? 0 })),
  };
}

const mlflowServer = mlflowServerCommand(TOOL, HOME, MLFLOW_PORT);

async function getJson(url) {
  const response = await fetch(url, { signal: AbortSignal.timeout(60_000) });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`GET ${url} -> HTTP ${response.status}: ${text.slice(0, 500)}`);
  return JSON.parse(text);
}

const query = (params) =>
  Object.entries(params)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
    .join("&");

const versionKeys = (body) => (body.model_versions ?? []).map((v) => `${v.name}#${v.version}`);
const modelKeys = (body) =>
  (body.registered_models ?? []).map(
    (m) =>
      `${m.name}[${(m.latest_versions ?? [])
        .map((v) => `${v.current_stage}:${v.version}`)
        .sort()
        .join(",")}]`,
  );

/** MLflow 2.12.2's page token for an offset, as its SearchUtils.create_page_token writes it. */
const mlflowToken = (offset) => Buffer.from(JSON.stringify({ offset }).replace(":", ": ")).toString("base64");

/** Ours answers these from D1 every time: a request that asks for no cache skips the held answers. */
const COMPUTED = { "cache-control": "no-cache" };

async function measure(label, url, settings = WRK, headers = {}) {
  // Warm-up: a few answers (MLflow's may take seconds each), discarded.
  for (let i = 0; i < 3; i++) await getJson(url);
  if (settings === WRK) await runWrk(url, { ...WRK, headers, durationSec: WRK.warmupSec });
  const groups = childGroups();
  const mlflowPid = Number(readFileSync(path.join(HOME, `mlflow-server-${MLFLOW_PORT}.pid`), "utf8").trim());
  if (mlflowPid) groups.add(mlflowPid);
  const meter = startCpuMeter(groups);
  const result = await runWrk(url, { ...settings, headers });
  const cpu = meter.stop();
  assertNoErrorStatus(label, result);
  // wrk reports in its own units; hundredths of a millisecond are plenty (and print without float noise).
  for (const k of ["p50Ms", "p99Ms"]) result[k] = Math.round(result[k] * 100) / 100;
  log(
    `  ${label}: ${fmt(result.requestsPerSec)} req/s, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms (other sessions used ${cpu.otherCores} cores)`,
  );
  const { raw, ...kept } = result;
  return { ...kept, cpu };
}

async function startOurs(port, stateDir) {
  const handle = startChild("npm start", process.execPath, ["--import", "tsx", path.join(root, "scripts/start.ts")], {
    cwd: root,
    env: { ...process.env, PORT: String(port), STATE_DIR: stateDir },
  });
  await waitForHttp(`http://127.0.0.1:${port}/health`, handle, 180_000);
  return handle;
}

async function main() {
  if (!TOOL || !existsSync(TOOL) || !existsSync(path.join(HOME, "mlflow-src/mlflow/version.py"))) {
    console.error(
      `bench:search: MLflow 2.12.2's server is not set up (MLFLOW_REF_TOOL='${TOOL}', ${HOME}): see mlflow-reference.md ` +
        "in the team docs, then set MLFLOW_REF_TOOL (required) and MLFLOW_REF_HOME",
    );
    return 2;
  }
  const wrkVersion = ensureWrk(log);
  runDir = KEEP ? path.resolve(KEEP) : mkdtempSync(path.join(tmpdir(), "modelgate-bench-search-"));
  if (KEEP && existsSync(runDir) && readdirSync(runDir).length > 0) throw new Error(`${runDir} is not empty`);
  const stateDir = path.join(runDir, "state");
  const mlflowState = path.join(runDir, "mlflow-state");
  const port = process.env.PORT ? Number(process.env.PORT) : await freePort();
  const ours = `http://127.0.0.1:${port}`;
  const mlflow = `http://127.0.0.1:${MLFLOW_PORT}`;

  log("creating both databases through their own migrations: npm start, and MLflow's server");
  await stopChild(await startOurs(port, stateDir));
  mlflowStarted = true;
  mlflowServer("start", mlflowState);
  mlflowServer("stop");
  mlflowStarted = false;

  log(
    `seeding ${TOTAL.toLocaleString("en-US")} versions over ${MODELS} models, by bulk SQL into each database (servers stopped)`,
  );
  const ourDb = d1File(stateDir);
  let t = Date.now();
  sqlite(ourDb, seedSql("ours"));
  const ourSeedSec = (Date.now() - t) / 1000;
  t = Date.now();
  sqlite(path.join(mlflowState, "mlflow.db"), seedSql("mlflow"));
  const mlflowSeedSec = (Date.now() - t) / 1000;
  log(`  ours in ${ourSeedSec.toFixed(1)} s, MLflow's in ${mlflowSeedSec.toFixed(1)} s`);
  const storage = storageOf(ourDb);
  const mlflowFileBytes = statSync(path.join(mlflowState, "mlflow.db")).size;
  if (KEEP && process.env.BENCH_SEARCH_SEED_ONLY === "1") {
    log(`seeded and kept: ours STATE_DIR=${stateDir}, MLflow's state ${mlflowState}`);
    return 0;
  }

  log("starting both servers on the seeded data");
  const oursHandle = await startOurs(port, stateDir);
  mlflowStarted = true;
  mlflowServer("start", mlflowState);

  const model = "bench-model-007";
  const shapes = [
    {
      id: "versions-by-model-and-tag",
      label: `versions of one model with a tag: \`name = '${model}' AND tags.team = 'vision'\`, 100 a page`,
      path: `/api/2.0/mlflow/model-versions/search?${query({ filter: `name = '${model}' AND tags.team = 'vision'`, max_results: PAGE })}`,
      keys: versionKeys,
      expect: (body) => body.model_versions?.length === PAGE && body.model_versions.every((v) => v.name === model),
    },
    {
      id: "versions-by-model",
      label: `versions of one model: \`name = '${model}'\`, 100 a page`,
      path: `/api/2.0/mlflow/model-versions/search?${query({ filter: `name = '${model}'`, max_results: PAGE })}`,
      keys: versionKeys,
      expect: (body) => body.model_versions?.length === PAGE,
    },
    {
      id: "models-by-prefix",
      label: "models by name prefix: `name LIKE 'bench-model-01%'` (10 models, each with latest_versions)",
      path: `/api/2.0/mlflow/registered-models/search?${query({ filter: "name LIKE 'bench-model-01%'", max_results: PAGE })}`,
      keys: modelKeys,
      expect: (body) =>
        body.registered_models?.length === 10 &&
        body.registered_models.every((m) => (m.latest_versions ?? []).length === 4),
    },
  ];

  log("checking that both answer the same before any load");
  for (const s of shapes) {
    const [a, b] = [await getJson(ours + s.path), await getJson(mlflow + s.path)];
    if (!s.expect(a)) throw new Error(`${s.id}: ours answered ${JSON.stringify(a).slice(0, 500)}`);
    if (JSON.stringify(s.keys(a)) !== JSON.stringify(s.keys(b)))
      throw new Error(`${s.id}: ours and MLflow's differ:\n${s.keys(a).slice(0, 10)}\n${s.keys(b).slice(0, 10)}`);
  }

  log(`walking every version on ours, ${PAGE} a page, to page ${DEEP_PAGE}: each exactly once`);
  const walkPath = (token) =>
    `/api/2.0/mlflow/model-versions/search?${query({ max_results: PAGE, page_token: token })}`;
  const seen = new Set();
  let token;
  let deepToken;
  t = Date.now();
  for (let page = 1; page <= DEEP_PAGE; page++) {
    if (page === DEEP_PAGE) deepToken = token;
    const body = await getJson(ours + walkPath(token));
    for (const key of versionKeys(body)) {
      if (seen.has(key)) throw new Error(`page ${page} repeats ${key}`);
      seen.add(key);
    }
    token = body.next_page_token;
    if (!token && page < DEEP_PAGE) throw new Error(`the walk ended at page ${page}`);
  }
  const walkSec = (Date.now() - t) / 1000;
  if (seen.size !== TOTAL || token) throw new Error(`the walk saw ${seen.size} versions (token left: ${!!token})`);
  log(
    `  ${TOTAL.toLocaleString("en-US")} versions, none twice, in ${walkSec.toFixed(1)} s (${((walkSec * 1000) / DEEP_PAGE).toFixed(1)} ms a page)`,
  );
  // MLflow's page 1,000 is offset 99,900: checked against the token its own server hands out for page 2.
  const mlflowFirst = await getJson(mlflow + walkPath());
  if (mlflowFirst.next_page_token !== mlflowToken(PAGE))
    throw new Error(`MLflow's page token is not what we build: ${mlflowFirst.next_page_token}`);
  const deep = {
    ours: walkPath(deepToken),
    mlflow: walkPath(mlflowToken((DEEP_PAGE - 1) * PAGE)),
  };
  const [deepOurs, deepMlflow] = [await getJson(ours + deep.ours), await getJson(mlflow + deep.mlflow)];
  if (JSON.stringify(versionKeys(deepOurs)) !== JSON.stringify(versionKeys(deepMlflow)))
    throw new Error("page 1,000 differs between ours and MLflow's");

  log(
    `measuring with wrk -t${WRK.threads} -c${WRK.connections} -d${WRK.durationSec}s (after a ${WRK.warmupSec} s warm-up)`,
  );
  const rows = [];
  for (const s of shapes) {
    // The repeated request must be the held answer: nothing is written during the run (the walk
    // above may have pushed the first answer out of the isolate's memory, so it is asked twice).
    await (await fetch(ours + s.path)).arrayBuffer();
    const cache = (await fetch(ours + s.path)).headers.get("x-modelgate-cache");
    if (cache !== "hit")
      throw new Error(`${s.id}: a repeated search on ours was not held (x-modelgate-cache: ${cache})`);
    rows.push({
      ...s,
      ours: await measure(`ours, ${s.id}`, ours + s.path),
      oursComputed: await measure(`ours, ${s.id}, computed`, ours + s.path, WRK, COMPUTED),
      mlflow: await measure(`MLflow, ${s.id}`, mlflow + s.path, MLFLOW_WRK),
    });
  }
  // The fixed cost of a search on ours (the same request, one version a page): what a page of 100
  // adds on top of it is the rows' own cost (reading, hydrating and rendering them).
  const onePath = shapes[1].path.replace(`max_results=${PAGE}`, "max_results=1");
  const onePerPage = await measure("ours, versions-by-model, 1 a page, computed", ours + onePath, WRK, COMPUTED);
  // Paging is measured computed: a held page 1,000 would say nothing about what seeking to it costs.
  const paging = {
    first: {
      ours: await measure("ours, page 1, computed", ours + walkPath(), WRK, COMPUTED),
      mlflow: await measure("MLflow, page 1", mlflow + walkPath(), MLFLOW_WRK),
    },
    deep: {
      ours: await measure(`ours, page ${DEEP_PAGE}, computed`, ours + deep.ours, WRK, COMPUTED),
      mlflow: await measure(`MLflow, page ${DEEP_PAGE}`, mlflow + deep.mlflow, MLFLOW_WRK),
    },
  };
  await stopChild(oursHandle);

  const results = {
    generatedAt: new Date().toISOString(),
    tookSec: Math.round((Date.now() - started) / 1000),
    machine: describeMachine(root, wrkVersion),
    wrk: WRK,
    mlflowWrk: MLFLOW_WRK,
    seed: { ourSeedSec, mlflowSeedSec, walkSec },
    storage,
    mlflowFileBytes,
    rows: rows.map((r) => ({
      id: r.id,
      label: r.label,
      path: r.path,
      ours: r.ours,
      oursComputed: r.oursComputed,
      mlflow: r.mlflow,
      ratio: r.ours.requestsPerSec / r.mlflow.requestsPerSec,
      computedRatio: r.oursComputed.requestsPerSec / r.mlflow.requestsPerSec,
    })),
    paging,
    onePerPage,
  };
  writeFileSync(path.join(root, "docs", "benchmarks-search.md"), render(results));
  console.log("\nbench:search (ours against MLflow 2.12.2's own server, 100,000 versions, same run):");
  for (const r of results.rows)
    console.log(
      `  ${r.id.padEnd(26)} ours ${fmt(r.ours.requestsPerSec)} req/s p50 ${r.ours.p50Ms} ms (computed: ${fmt(r.oursComputed.requestsPerSec)} req/s p50 ${r.oursComputed.p50Ms} ms); MLflow ${fmt(r.mlflow.requestsPerSec)} req/s p50 ${r.mlflow.p50Ms} ms; ×${r.ratio.toFixed(1)}`,
    );
  console.log(
    `  page ${DEEP_PAGE} vs page 1: ours ${fmt(paging.deep.ours.requestsPerSec)} vs ${fmt(paging.first.ours.requestsPerSec)} req/s; MLflow ${fmt(paging.deep.mlflow.requestsPerSec)} vs ${fmt(paging.first.mlflow.requestsPerSec)} req/s`,
  );
  console.log(`wrote docs/benchmarks-search.md (${results.tookSec} s)`);
  return 0;
}

const fmt = (n, digits = n < 10 ? 1 : 0) =>
  n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

function render(results) {
  const { machine: m, rows, paging: p, storage: s } = results;
  const met = (ok) => (ok ? "met" : "**not met**");
  const rowLines = rows.map(
    (r) =>
      `| ${r.label} | ${fmt(r.ours.requestsPerSec)} req/s, p50 ${r.ours.p50Ms} ms | ${fmt(r.oursComputed.requestsPerSec)} req/s, p50 ${r.oursComputed.p50Ms} ms | ${fmt(r.mlflow.requestsPerSec)} req/s, p50 ${r.mlflow.p50Ms} ms | ×${r.ratio.toFixed(1)} / ×${r.computedRatio.toFixed(1)} | ${met(r.ours.p50Ms < TARGETS.p50Ms)} / ${met(r.oursComputed.p50Ms < TARGETS.p50Ms)} / ${met(r.computedRatio >= TARGETS.ratio)} |`,
  );
  const pageLine = (who) => {
    const ratio = p.deep[who].requestsPerSec / p.first[who].requestsPerSec;
    return `| ${who === "ours" ? "Modelgate" : "MLflow 2.12.2"} | ${fmt(p.first[who].requestsPerSec)} req/s, p50 ${p.first[who].p50Ms} ms | ${fmt(p.deep[who].requestsPerSec)} req/s, p50 ${p.deep[who].p50Ms} ms | ${Math.round(ratio * 100)} %${who === "ours" ? ` (target ≥ ${TARGETS.deepVsFirst * 100} %: ${met(ratio >= TARGETS.deepVsFirst)})` : ""} |`;
  };
  const versions = s.tables.find((t) => t.table === "model_versions").rows;
  const perVersion = s.fileBytes / versions;
  const storageLines = s.tables.map(
    (t) => `| \`${t.table}\` | ${fmt(t.rows)} | ${mb(t.bytes)} | ${fmt(t.bytes / versions)} B |`,
  );
  return `# Search at 100,000 versions: Modelgate against MLflow's own server

Generated by \`node --import tsx bench/search-scale.ts\` on ${results.generatedAt} (the run took ${results.tookSec} s); every
run rewrites this file. Both servers ran on this machine at the same time on the same data; only
one was under load at a time. Targets from issue 14: p50 under ${TARGETS.p50Ms} ms at 8 concurrent
clients and at least ×${TARGETS.ratio} MLflow's requests per second; page ${fmt(DEEP_PAGE)} as fast as page 1.

## Results

| Request (GET \`/api/2.0/mlflow/...\`) | Modelgate, asked again (held answer) | Modelgate, computed (\`Cache-Control: no-cache\`) | MLflow 2.12.2 | Ratio: held / computed | Target: p50 held / p50 computed / ratio computed |
|---|---|---|---|---|---|
${rowLines.join("\n")}

**Held** is the same request asked again while nothing is written, as dashboards, deploy scripts
and the UI ask: the answer is held in the isolate, stamped with the generation of search data it
was read at, and served after one point read of that generation (docs/storage.md, "Held answers");
any write to a table a search reads, from anywhere, makes it unreachable. **Computed** sends
\`Cache-Control: no-cache\`, so every request runs the search in D1 and renders its answer: what
a search costs the first time, or after a write (with what a miss adds: the point read of the
generation and a copy of the answer to hold).

The same search by model with one version a page, on ours, computed: ${fmt(results.onePerPage.requestsPerSec)} req/s, p50 ${results.onePerPage.p50Ms} ms.
What a search costs on ours is mostly fixed per request, not per row and not in SQLite: the queries
are index seeks (test/search/query-plans.test.ts) that take well under a millisecond in SQLite
itself, and a version search is one D1 statement. The rest is the request through workerd and
Miniflare's local D1 (a SQLite object that hands rows to the Worker over RPC), and rendering the
JSON (~${Math.round(rows[1].ours.bytesPerResponse / 1024)} KB for 100 versions). Every run shares this machine's ${m.nproc} cores with wrk, MLflow's idle
server and other sessions (CPU cores other processes used during each run, in the table below).

Deep paging: every version, ${PAGE} a page, default order (\`last_updated_timestamp DESC\`, then name, then
version), page 1 against page ${fmt(DEEP_PAGE)} (the last: versions 99,901–100,000 of the order).

| Server | Page 1 | Page ${fmt(DEEP_PAGE)} | Page ${fmt(DEEP_PAGE)} / page 1 |
|---|---|---|---|
${pageLine("ours")}
${pageLine("mlflow")}

Ours seeks: the page token carries the last row's sort key, so page ${fmt(DEEP_PAGE)} is an index seek to
that key. MLflow's token is an offset: its page ${fmt(DEEP_PAGE)} sorts and skips 99,900 rows. Walking all
${fmt(DEEP_PAGE)} pages of ours by their tokens took ${results.seed.walkSec.toFixed(1)} s and returned each of the
${fmt(TOTAL)} versions exactly once; ours and MLflow's page ${fmt(DEEP_PAGE)} hold the same versions.

### wrk runs

| Run | req/s | p50 | p99 | CPU cores: both servers + wrk / other sessions |
|---|---|---|---|---|
${[
  ...rows.flatMap((r) => [
    [`ours, ${r.id}, held`, r.ours],
    [`ours, ${r.id}, computed`, r.oursComputed],
    [`MLflow, ${r.id}`, r.mlflow],
  ]),
  ["ours, versions-by-model, 1 a page, computed", results.onePerPage],
  ["ours, page 1, computed", p.first.ours],
  ["MLflow, page 1", p.first.mlflow],
  [`ours, page ${fmt(DEEP_PAGE)}, computed`, p.deep.ours],
  [`MLflow, page ${fmt(DEEP_PAGE)}`, p.deep.mlflow],
]
  .map(
    ([label, x]) =>
      `| ${label} | ${fmt(x.requestsPerSec)} | ${x.p50Ms} ms | ${x.p99Ms} ms | ${x.cpu.ownCores} / ${x.cpu.otherCores} |`,
  )
  .join("\n")}

## The data and how it was seeded

${MODELS} models \`bench-model-000\` … \`bench-model-199\` with ${PER_MODEL} versions each (${fmt(TOTAL)}), created a
minute apart round-robin over the models (pairs share an update time, so the order's tiebreakers
matter); each version READY with tags \`team\` (one of ${TEAMS.join(", ")}, by version number) and
\`dataset\`; version ${PER_MODEL} in Production, ${PER_MODEL - 1} in Staging, every 50th Archived; each model tagged
\`team\`. On ours each version also has its five-file manifest (\`model_version_files\`) and the files'
artifact index rows (\`artifact_objects\`), as a registered sklearn model has.

Seeding, the fastest honest route on both: the server creates its database through its own
migrations (ours: \`npm start\` applies \`migrations/\` to the local D1; MLflow: its server runs its
alembic migrations on start), the server is stopped, one SQL script (recursive CTEs, in
\`bench/search-scale.ts\`) inserts the rows with \`sqlite3\` into that database through its schema
(ours: ${results.seed.ourSeedSec.toFixed(1)} s; MLflow's: ${results.seed.mlflowSeedSec.toFixed(1)} s), and the server is started again on it. No
statistics (\`ANALYZE\`) are gathered on either, as none are on D1. Before any load, each measured
request was checked to answer the same versions (and latest_versions) on both servers.

## Storage at ${fmt(TOTAL)} versions (ours)

From SQLite's \`dbstat\` on the seeded local D1 file (indexes counted with their table):

| Table | Rows | Bytes (with indexes) | Per version |
|---|---|---|---|
${storageLines.join("\n")}
| **whole database file** | | ${mb(s.fileBytes)} | ${fmt(perVersion)} B |

MLflow's SQLite file with the same registry (no manifests or artifact index): ${mb(results.mlflowFileBytes)}.
docs/storage.md reads these against D1's limits.

## How it was measured

- wrk: \`wrk -t${results.wrk.threads} -c${results.wrk.connections} -d${results.wrk.durationSec}s --timeout ${results.wrk.timeoutSec}s --latency\` against 127.0.0.1 for ours, after three
  discarded requests and a discarded ${results.wrk.warmupSec} s run; for MLflow, whose answers take seconds, \`-d${results.mlflowWrk.durationSec}s --timeout ${results.mlflowWrk.timeoutSec}s\`
  after three discarded requests (wrk counts only completed requests). Any error status fails the
  benchmark. wrk shares the cores with both servers.
- Ours: \`npm start\` (the built Worker on workerd through Miniflare, local D1). MLflow: \`mlflow server
  --workers 2\` (gunicorn, SQLite backend) from its source at tag v2.12.2, through \`$MLFLOW_REF_TOOL\`.

## Machine

| | |
|---|---|
| CPU | ${m.cpuModel}, \`nproc\` = ${m.nproc} |
| Memory | ${m.memoryGiB} GiB |
| Kernel | ${m.kernel} |
| Node | ${m.node} |
| workerd / Miniflare / wrangler | ${m.workerd} / ${m.miniflare} / ${m.wrangler} |
| wrk | ${m.wrk} |
| SQLite (seeding) | ${spawnSync("sqlite3", ["--version"], { encoding: "utf8" }).stdout.trim().split(" ")[0]} |

A shared 2-core machine: other sessions' work moves absolute numbers; compare within one run.
`;
}

async function cleanUp() {
  await stopAllChildren();
  if (mlflowStarted) {
    try {
      mlflowServer("stop");
    } catch (e) {
      console.error(`bench:search: stopping MLflow's server failed: ${e.message}`);
    }
  }
  if (runDir && !KEEP) rmSync(runDir, { recursive: true, force: true });
}

await runBounded("bench:search", main, cleanUp, WATCHDOG_MS);
