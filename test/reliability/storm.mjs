// The concurrency storm: N clients for a bounded active time against `npm start`, mixing
// registrations (artifacts uploaded, then model-versions/create), promotions, alias moves, renames,
// version deletes, model deletes/recreates and reads on a handful of models, optionally with the
// server SIGKILLed (process group) at random moments and restarted on the same state and port.
//
// Every acknowledged write goes into a ledger; `verifyLedger` later checks each one against a
// snapshot of the final state. Writes whose outcome is unknown (in flight when the server died) may
// or may not have happened, but never half. A violation is anything the registry promised and broke:
// a 5xx, a dropped connection while no crash was happening, two Production versions seen by a reader,
// a lost acknowledged write, a phantom write, bytes that differ from what was uploaded.
import { createHash, randomBytes } from "node:crypto";
import { UID_TAG } from "./invariants.mjs";

export const OP_TAG = "reliability.op";
const REQUEST_TIMEOUT_MS = 30_000;

/** A small seeded PRNG (mulberry32), so a run can be replayed with the seed it prints. */
export function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n) => Math.floor(next() * n),
    pick: (list) => list[Math.floor(next() * list.length)],
    chance: (p) => next() < p,
  };
}

const sha256 = (bytes) => createHash("sha256").update(bytes).digest("hex");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

class NetError extends Error {
  constructor(message, unknown) {
    super(message);
    this.unknown = unknown;
  }
}

/** Raised inside an op to abandon it quietly (e.g. its model was retired while it waited). */
class Skip extends Error {}

/**
 * Server lifecycle as the clients see it: `up()` resolves while the server is serving; `epoch` moves
 * on every crash, so a request that fails across an epoch change has an unknown outcome, and one
 * that fails within an epoch is a violation (the server dropped it on its own).
 */
class Lifecycle {
  constructor() {
    this.epoch = 0;
    this.down = false;
    this.waiters = [];
    this.upSince = Date.now();
  }
  async up() {
    while (this.down) await new Promise((r) => this.waiters.push(r));
  }
  goDown() {
    this.down = true;
    this.epoch++;
  }
  goUp() {
    this.down = false;
    this.upSince = Date.now();
    for (const w of this.waiters.splice(0)) w();
  }
}

/** One incarnation of a registered model, as the clients know it. */
class ModelEntry {
  constructor(uid, name, slot) {
    this.uid = uid;
    this.name = name;
    this.slot = slot;
    this.names = [name];
    this.retired = false;
    this.deleted = null; // null | "acked" | "maybe"
    /** Acknowledged version creates: number → { op, files, deleted: null | "acked" | "maybe" }. */
    this.versions = new Map();
    /** Every number an acknowledged create was handed (for the never-reused rule). */
    this.created = [];
    /** Creates whose outcome is unknown (op → files) and creates that were refused (ops). */
    this.unknownCreates = new Map();
    this.refusedCreates = new Set();
    /** Transition ops: acknowledged ({op, version, stage}) and all issued (op ids). */
    this.transitionsAcked = [];
    this.transitionsIssued = new Set();
    /** alias → sequence of { kind: "set" | "delete", version, outcome: "acked" | "unknown" } (one client per alias). */
    this.aliasOps = new Map();
    // Locks: normal ops share the model; a delete/recreate takes it exclusively; renames and
    // deletes are serialized among themselves.
    this.inflight = 0;
    /** Renames started, and whether one is in flight: a 404 that raced a rename is expected. */
    this.renamesStarted = 0;
    this.renameInFlight = false;
    this.blocked = null;
    this.drained = [];
    this.structural = Promise.resolve();
  }
  /** Call before a request; the returned function tells whether a rename could have raced it. */
  renameWatch() {
    const started = this.renamesStarted;
    const inFlight = this.renameInFlight;
    return () => inFlight || this.renameInFlight || this.renamesStarted !== started;
  }
  liveVersions() {
    return [...this.versions].filter(([, v]) => v.deleted === null).map(([n]) => n);
  }
}

/**
 * Runs the storm. `server` is a Server (test/reliability/server.mjs); `crashes` SIGKILLs happen at
 * random moments of the active time, each followed by a restart on the same state and port.
 */
export async function runStorm({
  server,
  clients = 16,
  models = 5,
  activeMs = 30_000,
  crashes = 0,
  seed = Date.now() >>> 0,
  log = () => {},
}) {
  const base = server.base;
  const random = rng(seed);
  const life = new Lifecycle();
  const runTag = `s${seed.toString(36)}`;
  const violations = [];
  const violation = (text) => {
    if (violations.length < 500) violations.push(text);
  };
  const counts = {};
  const count = (op, outcome) => {
    counts[op] ??= {};
    counts[op][outcome] = (counts[op][outcome] ?? 0) + 1;
  };
  const reads = { samples: 0, productionChecks: 0, downloadsVerified: 0 };
  const cuts = [];
  let cutCounter = 0;
  /** Requests that got no answer while no crash was under way. */
  const drops = [];
  /** Milliseconds per request, by method and route. */
  const latency = {};
  const crashLog = [];
  let opCounter = 0;
  const newOp = (kind) => `${runTag}-${kind}-${++opCounter}`;

  // --- HTTP ------------------------------------------------------------------------------------
  async function http(method, path, { json, query, body, headers = {}, signal, duplex } = {}) {
    await life.up();
    const epoch = life.epoch;
    let url = `${base}${path}`;
    if (query) url += `?${new URLSearchParams(query)}`;
    const init = { method, headers: { ...headers }, signal: signal ?? AbortSignal.timeout(REQUEST_TIMEOUT_MS) };
    if (json !== undefined) {
      init.headers["content-type"] = "application/json";
      init.body = JSON.stringify(json);
    } else if (body !== undefined) {
      init.body = body;
      if (duplex) init.duplex = duplex;
    }
    const t0 = Date.now();
    try {
      const res = await fetch(url, init);
      const buffer = new Uint8Array(await res.arrayBuffer());
      const route = path.split("?")[0];
      const group = `${method} ${
        route.startsWith("/v1/")
          ? route.includes("/files/")
            ? "/v1/models/{name}/versions/{v}/files/{path}"
            : "/v1/models/{name}/{ref}"
          : route.replace(/\/artifacts\/.*$/, "/artifacts/{path}")
      }`;
      (latency[group] ??= []).push(Date.now() - t0);
      let parsed = null;
      if ((res.headers.get("content-type") ?? "").includes("json")) {
        try {
          parsed = JSON.parse(new TextDecoder().decode(buffer));
        } catch {
          parsed = null;
        }
      }
      if (res.status >= 500)
        violation(`${method} ${path} answered ${res.status} ${new TextDecoder().decode(buffer).slice(0, 300)}`);
      return { status: res.status, body: parsed, bytes: buffer };
    } catch (error) {
      const crashed = life.epoch !== epoch || life.down;
      if (!crashed) {
        // The request never got an answer though the server was not killed: its outcome is unknown
        // all the same (the ledger treats it like one in flight at a crash); counted and reported.
        const code = error.cause?.code ?? error.name;
        drops.push({
          method,
          path: path.split("?")[0].slice(0, 120),
          code,
          sinceRestartMs: Date.now() - life.upSince,
          activeMs: Math.round(active),
        });
      }
      throw new NetError(error.message, true);
    }
  }
  const api = (method, route, params) =>
    http(method, `/api/2.0/${route}`, method === "GET" ? { query: params } : { json: params });

  /** Checks an answer that must be an MLflow error with one of `codes`. */
  function expectCodes(what, res, codes) {
    const code = res.body?.error_code;
    if (res.status >= 200 && res.status < 300) return "ok";
    if (res.status >= 500) return "5xx";
    if (!codes.includes(code))
      violation(`${what}: unexpected answer ${res.status} ${JSON.stringify(res.body)?.slice(0, 300)}`);
    return code ?? `http${res.status}`;
  }

  // --- the models -------------------------------------------------------------------------------
  let uidCounter = 0;
  const slots = [];
  const retired = [];
  const baseNames = Array.from({ length: models }, (_, i) => `rel-${runTag}-m${i}`);

  async function createEntry(slot, name) {
    const uid = `${runTag}-u${++uidCounter}`;
    for (let attempt = 0; attempt < 20; attempt++) {
      try {
        const res = await api("POST", "mlflow/registered-models/create", {
          name,
          tags: [{ key: UID_TAG, value: uid }],
        });
        if (res.status === 200) {
          count("create-model", "ok");
          const entry = new ModelEntry(uid, name, slot);
          slots[slot] = entry;
          return entry;
        }
        count("create-model", expectCodes(`create ${name}`, res, ["RESOURCE_ALREADY_EXISTS"]));
        // RESOURCE_ALREADY_EXISTS right after a crash: was our own create applied?
        const got = await api("GET", "mlflow/registered-models/get", { name });
        const tags = Object.fromEntries((got.body?.registered_model?.tags ?? []).map((t) => [t.key, t.value]));
        if (got.status === 200 && tags[UID_TAG] === uid) {
          const entry = new ModelEntry(uid, name, slot);
          slots[slot] = entry;
          return entry;
        }
        throw new Error(`model name ${name} is taken by another model (${JSON.stringify(tags)})`);
      } catch (error) {
        if (!(error instanceof NetError)) throw error;
        count("create-model", "unknown");
        await life.up();
        // Did the create land before the crash?
        const got = await api("GET", "mlflow/registered-models/get", { name }).catch(() => null);
        const tags = Object.fromEntries((got?.body?.registered_model?.tags ?? []).map((t) => [t.key, t.value]));
        if (got?.status === 200 && tags[UID_TAG] === uid) {
          const entry = new ModelEntry(uid, name, slot);
          slots[slot] = entry;
          return entry;
        }
      }
    }
    throw new Error(`could not create model ${name}`);
  }

  async function shared(entry, fn) {
    while (entry.blocked) await entry.blocked;
    if (entry.retired) throw new Skip();
    entry.inflight++;
    try {
      return await fn();
    } finally {
      entry.inflight--;
      if (entry.inflight === 0) for (const d of entry.drained.splice(0)) d();
    }
  }

  async function structural(entry, exclusive, fn) {
    const previous = entry.structural;
    let release;
    entry.structural = new Promise((r) => (release = r));
    await previous;
    try {
      if (entry.retired) throw new Skip();
      if (!exclusive) return await fn();
      let unblock;
      entry.blocked = new Promise((r) => (unblock = r));
      try {
        while (entry.inflight > 0) await new Promise((r) => entry.drained.push(r));
        return await fn();
      } finally {
        entry.blocked = null;
        unblock();
      }
    } finally {
      release();
    }
  }

  // --- experiments and runs (registrations from runs:/ sources) ------------------------------------
  const runs = [];
  async function setupRuns(n) {
    const exp = await api("POST", "mlflow/experiments/create", { name: `reliability-${runTag}` });
    if (exp.status !== 200) throw new Error(`experiments/create: ${exp.status} ${JSON.stringify(exp.body)}`);
    for (let i = 0; i < n; i++) {
      const run = await api("POST", "mlflow/runs/create", {
        experiment_id: exp.body.experiment_id,
        run_name: `storm-${i}`,
      });
      if (run.status !== 200) throw new Error(`runs/create: ${run.status} ${JSON.stringify(run.body)}`);
      const info = run.body.run.info;
      runs.push({ runId: info.run_id, artifactPath: info.artifact_uri.replace(/^mlflow-artifacts:\//, "") });
    }
  }

  // --- operations ------------------------------------------------------------------------------------
  const encodePath = (p) => p.split("/").map(encodeURIComponent).join("/");

  function makeFiles(r) {
    const n = 1 + r.int(3);
    return Array.from({ length: n }, (_, i) => {
      const size = r.chance(0.05) ? 128 * 1024 + r.int(128 * 1024) : 100 + r.int(16 * 1024);
      const bytes = randomBytes(size);
      return { path: i === 0 ? "model.bin" : `conf/part-${i}.json`, bytes, size, sha256: sha256(bytes) };
    });
  }

  async function register(entry, r) {
    const op = newOp("v");
    const files = makeFiles(r);
    const run = r.pick(runs);
    const viaRun = r.chance(0.5);
    const dir = `${run.artifactPath}/${op}/model`;
    const source = viaRun ? `runs:/${run.runId}/${op}/model` : `mlflow-artifacts:/${dir}`;
    for (const f of files) {
      const res = await http("PUT", `/api/2.0/mlflow-artifacts/artifacts/${encodePath(`${dir}/${f.path}`)}`, {
        body: f.bytes,
        headers: { "content-type": "application/octet-stream" },
      });
      if (expectCodes(`upload ${dir}/${f.path}`, res, []) !== "ok") return count("register", "upload-failed");
    }
    const manifest = files.map(({ path, size, sha256 }) => ({ path, size, sha256 }));
    await shared(entry, async () => {
      const raced = entry.renameWatch();
      const name = entry.name;
      let res;
      try {
        res = await api("POST", "mlflow/model-versions/create", { name, source, tags: [{ key: OP_TAG, value: op }] });
      } catch (error) {
        if (error instanceof NetError && error.unknown) entry.unknownCreates.set(op, manifest);
        throw error;
      }
      const outcome = expectCodes(`create version of ${name}`, res, ["RESOURCE_DOES_NOT_EXIST"]);
      count("register", outcome);
      if (outcome !== "ok") {
        entry.refusedCreates.add(op);
        return;
      }
      const mv = res.body.model_version;
      const number = Number(mv.version);
      if (typeof mv.version !== "string" || mv.status !== "READY" || mv.current_stage !== "None") {
        violation(`create version of ${name} answered ${JSON.stringify(mv).slice(0, 300)}`);
      }
      if (entry.created.includes(number)) violation(`model ${name} (${entry.uid}) handed out version ${number} twice`);
      entry.created.push(number);
      entry.versions.set(number, { op, files: manifest, deleted: null });
      // Read your write: the acknowledged version is there at once.
      const got = await api("GET", "mlflow/model-versions/get", { name, version: String(number) }).catch((error) => {
        if (error instanceof NetError) return null;
        throw error;
      });
      if (got === null) return;
      if (got.status === 200) {
        if (got.body.model_version.tags?.find((t) => t.key === OP_TAG)?.value !== op)
          violation(`model-versions/get ${name} v${number} is not the version just created`);
      } else if (!(raced() || entry.versions.get(number)?.deleted)) {
        violation(
          `model-versions/get ${name} v${number} right after its create answered ${got.status} ${JSON.stringify(got.body)}`,
        );
      }
    });
  }

  async function transition(entry, r) {
    await shared(entry, async () => {
      const live = entry.liveVersions();
      if (live.length === 0) throw new Skip();
      const version = r.pick(live);
      const stage = r.pick(["Production", "Production", "Production", "Staging", "Staging", "Archived", "None"]);
      const archiveExisting = (stage === "Staging" || stage === "Production") && r.chance(0.25);
      const op = newOp("t");
      entry.transitionsIssued.add(op);
      const res = await api("POST", "mlflow/model-versions/transition-stage", {
        name: entry.name,
        version: String(version),
        stage,
        archive_existing_versions: archiveExisting,
        comment: op,
      });
      // With the deployment's default scan rule on (wrangler.toml), a version whose random files
      // happen to read as a pickle the scanner cannot clear is refused Production: a correct answer.
      const scanRefused =
        res.status === 400 && stage === "Production" && /pickle scan must be clean/.test(res.body?.message ?? "");
      const outcome = scanRefused
        ? "scan-refused"
        : expectCodes(`transition ${entry.name} v${version} to ${stage}`, res, ["RESOURCE_DOES_NOT_EXIST"]);
      count(`transition-${stage}`, outcome);
      if (outcome !== "ok") return;
      if (res.body.model_version?.current_stage !== stage)
        violation(`transition to ${stage} answered stage ${res.body.model_version?.current_stage}`);
      entry.transitionsAcked.push({ op, version, stage });
    });
  }

  async function moveAlias(entry, r, clientIndex) {
    await shared(entry, async () => {
      const alias = `c${clientIndex}`;
      const ops = entry.aliasOps.get(alias) ?? [];
      entry.aliasOps.set(alias, ops);
      const live = entry.liveVersions();
      const remove = live.length === 0 || r.chance(0.25);
      const version = remove ? null : r.pick(live);
      const record = { kind: remove ? "delete" : "set", version, outcome: "unknown" };
      ops.push(record);
      let res;
      try {
        res = remove
          ? await api("DELETE", "mlflow/registered-models/alias", { name: entry.name, alias })
          : await api("POST", "mlflow/registered-models/alias", { name: entry.name, alias, version: String(version) });
      } catch (error) {
        if (!(error instanceof NetError && error.unknown)) ops.pop();
        throw error;
      }
      const outcome = expectCodes(`alias ${alias} of ${entry.name}`, res, ["RESOURCE_DOES_NOT_EXIST"]);
      count(remove ? "alias-delete" : "alias-set", outcome);
      if (outcome === "ok") record.outcome = "acked";
      else ops.pop(); // refused: no effect
    });
  }

  async function deleteVersion(entry, r) {
    await shared(entry, async () => {
      const live = entry.liveVersions();
      if (live.length < 3) throw new Skip(); // keep something to promote
      const version = r.pick(live);
      const record = entry.versions.get(version);
      record.deleted = "maybe";
      const res = await api("DELETE", "mlflow/model-versions/delete", { name: entry.name, version: String(version) });
      const outcome = expectCodes(`delete ${entry.name} v${version}`, res, ["RESOURCE_DOES_NOT_EXIST"]);
      count("delete-version", outcome);
      if (outcome === "ok") record.deleted = "acked";
    });
  }

  async function rename(entry) {
    await structural(entry, false, async () => {
      const from = entry.name;
      const to = `${baseNames[entry.slot]}-r${++opCounter}`;
      entry.renamesStarted++;
      entry.renameInFlight = true;
      try {
        const res = await api("POST", "mlflow/registered-models/rename", { name: from, new_name: to });
        const outcome = expectCodes(`rename ${from}`, res, []);
        count("rename", outcome);
        if (outcome !== "ok") return;
        if (res.body.registered_model?.name !== to) violation(`rename answered ${JSON.stringify(res.body)}`);
        entry.name = to;
        entry.names.push(to);
      } catch (error) {
        if (!(error instanceof NetError && error.unknown)) throw error;
        count("rename", "unknown");
        // Settle the outcome now, so the ledger knows the model's name.
        const landed = await findByUid(entry.uid, [to, from]);
        if (landed === to) {
          entry.name = to;
          entry.names.push(to);
        } else if (landed !== from)
          violation(`after a crash during rename ${from} → ${to}, model ${entry.uid} is under neither name`);
      } finally {
        entry.renameInFlight = false;
      }
    });
  }

  /** Which of `names` holds the model tagged `uid` (after a restart), or null. */
  async function findByUid(uid, names) {
    for (let attempt = 0; attempt < 10; attempt++) {
      try {
        for (const name of names) {
          const got = await api("GET", "mlflow/registered-models/get", { name });
          const tags = Object.fromEntries((got.body?.registered_model?.tags ?? []).map((t) => [t.key, t.value]));
          if (got.status === 200 && tags[UID_TAG] === uid) return name;
        }
        return null;
      } catch (error) {
        if (!(error instanceof NetError)) throw error;
        await life.up();
      }
    }
    throw new Error(`could not settle where model ${uid} is`);
  }

  async function deleteAndRecreate(entry) {
    await structural(entry, true, async () => {
      const name = entry.name;
      try {
        const res = await api("DELETE", "mlflow/registered-models/delete", { name });
        const outcome = expectCodes(`delete model ${name}`, res, []);
        count("delete-model", outcome);
        if (outcome !== "ok") return;
        entry.deleted = "acked";
      } catch (error) {
        if (!(error instanceof NetError && error.unknown)) throw error;
        count("delete-model", "unknown");
        if ((await findByUid(entry.uid, [name])) === name) return; // the delete never happened
        entry.deleted = "acked"; // settled: it happened
      }
      entry.retired = true;
      retired.push(entry);
      // The same name again: a new model, numbered from 1 (a new id and a new coordinator).
      await createEntry(entry.slot, name);
    });
  }

  async function read(entry, r) {
    await shared(entry, async () => {
      // Watch renames from before the name is read: a 404 after a rename that raced us is expected.
      const raced = entry.renameWatch();
      const name = entry.name;
      const kind = r.int(6);
      reads.samples++;
      if (kind <= 1) {
        const res =
          kind === 0
            ? await api("GET", "mlflow/registered-models/get-latest-versions", { name })
            : await api("POST", "mlflow/registered-models/get-latest-versions", { name, stages: ["Production"] });
        if (expectCodes(`get-latest-versions ${name}`, res, ["RESOURCE_DOES_NOT_EXIST"]) !== "ok")
          return count("read-latest", "gone");
        count("read-latest", "ok");
        const list = res.body.model_versions ?? [];
        const production = list.filter((v) => v.current_stage === "Production");
        reads.productionChecks++;
        if (production.length > 1)
          violation(`get-latest-versions ${name} showed ${production.length} Production versions`);
        if (new Set(list.map((v) => v.current_stage)).size !== list.length)
          violation(`get-latest-versions ${name} repeated a stage: ${JSON.stringify(list)}`);
        if (kind === 1 && list.some((v) => v.current_stage !== "Production"))
          violation(`get-latest-versions ${name} stages=[Production] answered ${JSON.stringify(list)}`);
      } else if (kind === 2) {
        const res = await api("GET", "mlflow/model-versions/search", {
          filter: `name = '${name}'`,
          max_results: "1000",
        });
        if (expectCodes(`search ${name}`, res, []) !== "ok") return count("read-search", "failed");
        count("read-search", "ok");
        const production = (res.body.model_versions ?? []).filter((v) => v.current_stage === "Production");
        reads.productionChecks++;
        if (production.length > 1)
          violation(
            `model-versions/search ${name} showed ${production.length} Production versions: ${production.map((v) => v.version)}`,
          );
      } else if (kind === 3) {
        const res = await api("GET", "mlflow/registered-models/get", { name });
        if (expectCodes(`get ${name}`, res, ["RESOURCE_DOES_NOT_EXIST"]) !== "ok") return count("read-model", "gone");
        count("read-model", "ok");
        const production = (res.body.registered_model.latest_versions ?? []).filter(
          (v) => v.current_stage === "Production",
        );
        reads.productionChecks++;
        if (production.length > 1)
          violation(`registered-models/get ${name} showed ${production.length} Production versions`);
      } else {
        // Inference: resolve Production, or download an acknowledged version's file, and compare bytes.
        let version;
        let file;
        if (kind === 4) {
          const res = await http("GET", `/v1/models/${encodeURIComponent(name)}/Production`);
          if (res.status === 404) return count("read-v1", "none");
          if (expectCodes(`/v1 ${name}/Production`, res, []) !== "ok") return count("read-v1", "failed");
          count("read-v1", "ok");
          if (res.body.stage !== "Production")
            violation(`/v1/models/${name}/Production resolved to a version in ${res.body.stage}`);
          version = Number(res.body.version);
        } else {
          const live = entry.liveVersions();
          if (live.length === 0) return;
          version = r.pick(live);
        }
        const known = entry.versions.get(version);
        if (!known || known.files.length === 0) return;
        file = r.pick(known.files);
        const res = await http(
          "GET",
          `/v1/models/${encodeURIComponent(name)}/versions/${version}/files/${encodePath(file.path)}`,
        );
        if (res.status === 404 && (known.deleted || raced())) return count("download", "gone");
        if (expectCodes(`download ${name} v${version} ${file.path}`, res, []) !== "ok")
          return count("download", "failed");
        count("download", "ok");
        reads.downloadsVerified++;
        const got = sha256(res.bytes);
        if (got !== file.sha256) {
          // Whose bytes were they? A model that held this name before, deleted or renamed away?
          const previous = [...retired, ...slots].find(
            (e) =>
              e !== entry && e.names.includes(name) && e.versions.get(version)?.files.some((f) => f.sha256 === got),
          );
          const why = previous
            ? ` (they are version ${version} of the earlier model ${previous.uid} that held the name ${name}: stale immutable /v1 cache after name reuse)`
            : "";
          violation(
            `/v1/models/${name}/versions/${version}/files/${file.path} served ${res.bytes.length} B ${got.slice(0, 12)}, uploaded ${file.size} B ${file.sha256.slice(0, 12)}${why}`,
          );
        }
      }
    });
  }

  // --- uploads cut mid-stream ----------------------------------------------------------------------
  /**
   * A large PUT fed slowly; `cut()` ends it mid-stream (an abort, or the crash itself). Before, the
   * path holds nothing or a complete previous file; afterwards it must hold exactly that.
   */
  async function startCutUpload(withPrevious) {
    // Under one of the storm's runs (writes land only under an active run's artifact root), taken in
    // turn so the seeded sequence is unchanged.
    const cut = ++cutCounter;
    const path = `${runs[cut % runs.length].artifactPath}/cuts/cut-${cut}/weights.bin`;
    let previous = null;
    if (withPrevious) {
      const bytes = randomBytes(64 * 1024 + random.int(64 * 1024));
      const res = await http("PUT", `/api/2.0/mlflow-artifacts/artifacts/${path}`, { body: bytes });
      if (res.status !== 200) throw new Error(`previous upload of ${path}: ${res.status}`);
      previous = { size: bytes.length, sha256: sha256(bytes) };
    }
    const total = 64 * 1024 * 1024;
    const chunk = randomBytes(256 * 1024);
    let sent = 0;
    let cancelled = false;
    let pulled = () => {};
    const progress = new Promise((r) => (pulled = r));
    const body = new ReadableStream({
      async pull(controller) {
        if (cancelled || sent >= total) return controller.close();
        await sleep(15);
        controller.enqueue(chunk);
        sent += chunk.length;
        if (sent >= 2 * 1024 * 1024) pulled();
      },
      cancel() {
        cancelled = true;
      },
    });
    const abort = new AbortController();
    const epoch = life.epoch;
    const request = fetch(`${base}/api/2.0/mlflow-artifacts/artifacts/${path}`, {
      method: "PUT",
      body,
      duplex: "half",
      headers: { "content-length": String(total), "content-type": "application/octet-stream" },
      signal: abort.signal,
    }).then(
      async (res) => ({ status: res.status, text: await res.text() }),
      (error) => ({ error: error.cause?.code ?? error.name }),
    );
    let timer;
    await Promise.race([progress, new Promise((r) => (timer = setTimeout(r, 20_000)))]);
    clearTimeout(timer);
    const record = { path, previous, sentAtCut: 0, how: null, outcome: null, check: null };
    cuts.push(record);
    return {
      record,
      async cutByAbort() {
        record.how = "client abort";
        record.sentAtCut = sent;
        abort.abort();
        record.outcome = await request;
        if (record.outcome.status === 200)
          violation(`upload of ${path} cut after ${sent} of ${total} bytes was acknowledged`);
        else if (record.outcome.status !== undefined)
          violation(
            `upload of ${path} was refused before the cut: ${record.outcome.status} ${record.outcome.text.slice(0, 300)}`,
          );
      },
      async cutByCrash() {
        record.how = "server SIGKILL";
        record.sentAtCut = sent;
        record.outcome = await request;
        cancelled = true;
        if (record.outcome.status === 200 && life.epoch === epoch)
          violation(`upload of ${path} cut by a crash was acknowledged`);
        else if (record.outcome.status !== undefined && record.outcome.status !== 200)
          violation(
            `upload of ${path} was refused before the crash: ${record.outcome.status} ${record.outcome.text.slice(0, 300)}`,
          );
      },
    };
  }

  /** The cut path lists and downloads as absent, or as the complete previous file. */
  async function checkCut(record) {
    const dir = record.path.slice(0, record.path.lastIndexOf("/"));
    const listed = await api("GET", "mlflow-artifacts/artifacts", { path: dir });
    const entry = (listed.body?.files ?? []).find((f) => f.path === "weights.bin");
    const got = await http("GET", `/api/2.0/mlflow-artifacts/artifacts/${record.path}`);
    const seen = got.status === 200 ? { size: got.bytes.length, sha256: sha256(got.bytes) } : null;
    record.check = seen ? `previous file (${seen.size} B)` : `absent (${got.status})`;
    const want = record.previous;
    if (want === null) {
      if (entry || got.status !== 404)
        violation(
          `cut upload ${record.path} (nothing before) is visible: listed ${JSON.stringify(entry)}, GET ${got.status}`,
        );
    } else if (!seen || seen.sha256 !== want.sha256 || entry?.file_size !== want.size) {
      violation(
        `cut upload ${record.path} should still hold the previous ${want.size} B file: GET ${got.status} ${seen?.size} B, listed ${JSON.stringify(entry)}`,
      );
    }
  }

  // --- clients -----------------------------------------------------------------------------------------
  let active = 0;
  let lastTick = Date.now();
  let finished = false;
  const tick = () => {
    const now = Date.now();
    if (!life.down) active += now - lastTick;
    lastTick = now;
  };

  const WRITER_MIX = [
    ["register", 28],
    ["transition", 22],
    ["alias", 12],
    ["read", 22],
    ["delete-version", 7],
    ["rename", 1.5],
    ["recreate", 0.4],
    ["cut", 0.3],
  ];
  const totalWeight = WRITER_MIX.reduce((s, [, w]) => s + w, 0);

  async function client(index, readerOnly) {
    const r = rng(seed + 7919 * (index + 1));
    while (!finished) {
      await life.up();
      if (finished) break;
      const entry = slots[r.int(slots.length)];
      let kind = "read";
      if (!readerOnly) {
        let x = r.next() * totalWeight;
        for (const [k, w] of WRITER_MIX) {
          kind = k;
          if ((x -= w) < 0) break;
        }
      }
      try {
        if (kind === "register") await register(entry, r);
        else if (kind === "transition") await transition(entry, r);
        else if (kind === "alias") await moveAlias(entry, r, index);
        else if (kind === "delete-version") await deleteVersion(entry, r);
        else if (kind === "rename") await rename(entry);
        else if (kind === "recreate") await deleteAndRecreate(entry);
        else if (kind === "cut") {
          const upload = await startCutUpload(r.chance(0.5));
          await upload.cutByAbort();
          await checkCut(upload.record);
          count("cut-upload", "checked");
        } else await read(entry, r);
      } catch (error) {
        if (error instanceof Skip) continue;
        if (error instanceof NetError) {
          count(kind, "unknown");
          continue;
        }
        violation(`client ${index} ${kind}: ${error.stack ?? error}`);
        await sleep(100);
      }
    }
  }

  // --- the run -------------------------------------------------------------------------------------------
  await setupRuns(4);
  for (let i = 0; i < models; i++) await createEntry(i, baseNames[i]);
  const readers = Math.max(2, Math.round(clients / 4));
  log(
    `storm: ${clients} clients (${readers} readers) on ${models} models for ${activeMs / 1000}s active, ${crashes} crash(es), seed ${seed}`,
  );
  const started = Date.now();
  const workers = Array.from({ length: clients }, (_, i) => client(i, i < readers));

  // Crash moments: spread over the active time, each jittered.
  const crashAt = Array.from(
    { length: crashes },
    (_, k) => ((k + 0.5 + (random.next() - 0.5) * 0.8) / crashes) * activeMs * 0.9 + activeMs * 0.05,
  );
  crashAt.sort((a, b) => a - b);
  try {
    while (active < activeMs) {
      await sleep(50);
      tick();
      if (crashAt.length > 0 && active >= crashAt[0]) {
        crashAt.shift();
        // Every other crash lands while a large upload is streaming in.
        const midUpload = crashLog.length % 2 === 0;
        const upload = midUpload ? await startCutUpload(crashLog.length % 4 === 0) : null;
        tick();
        const at = active;
        life.goDown();
        const killedAt = Date.now();
        await server.kill();
        if (upload) await upload.cutByCrash();
        const restartMs = await server.start();
        crashLog.push({
          atActiveMs: Math.round(at),
          downMs: Date.now() - killedAt,
          restartMs,
          duringUpload: Boolean(upload),
        });
        log(
          `crash ${crashLog.length}: SIGKILL at ${(at / 1000).toFixed(1)}s of active time${upload ? " during a 64 MiB upload" : ""}; back after ${((Date.now() - killedAt) / 1000).toFixed(1)}s`,
        );
        lastTick = Date.now();
        life.goUp();
        if (upload) {
          await checkCut(upload.record);
          count("cut-upload", "checked");
        }
      }
    }
  } finally {
    finished = true;
    life.goUp();
    await Promise.all(workers);
  }
  const elapsedMs = Date.now() - started;
  // Cut paths once more, at the end, after everything settled.
  for (const c of cuts) await checkCut(c);
  const operations = Object.values(counts).reduce((s, o) => s + Object.values(o).reduce((a, b) => a + b, 0), 0);
  return {
    seed,
    clients,
    readers,
    models,
    activeMs,
    elapsedMs,
    operations,
    counts,
    reads,
    cuts,
    crashes: crashLog,
    drops,
    latency: Object.fromEntries(
      Object.entries(latency).map(([k, list]) => {
        const sorted = [...list].sort((a, b) => a - b);
        const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
        return [k, { n: sorted.length, p50: at(0.5), p99: at(0.99), max: sorted.at(-1) }];
      }),
    ),
    violations,
    ledger: { slots, retired, runTag },
  };
}

/** Every version number each model (by uid) was ever handed, for the invariants' never-reused rule. */
export function createdVersions(ledger) {
  const out = {};
  for (const e of [...ledger.slots, ...ledger.retired]) out[e.uid] = [...e.created];
  return out;
}

/**
 * Creates one more version of every live model (an outside source, no files): its number must be
 * above every number handed out before, the HTTP-visible half of "never reused".
 */
export async function probeNextVersions(base, ledger) {
  const violations = [];
  for (const entry of ledger.slots) {
    const op = `${ledger.runTag}-probe-${entry.uid}`;
    const res = await fetch(`${base}/api/2.0/mlflow/model-versions/create`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: entry.name, source: "s3://reliability/probe", tags: [{ key: OP_TAG, value: op }] }),
    });
    const body = await res.json();
    if (res.status !== 200) {
      violations.push(`probe create on ${entry.name}: ${res.status} ${JSON.stringify(body)}`);
      continue;
    }
    const number = Number(body.model_version.version);
    const highest = Math.max(0, ...entry.created);
    if (number <= highest)
      violations.push(
        `model ${entry.name}: a new version got number ${number}, not above ${highest} handed out before`,
      );
    entry.created.push(number);
    entry.versions.set(number, { op, files: [], deleted: null });
  }
  return violations;
}

/**
 * Checks every acknowledged write of the storm against a snapshot of the final state (either view),
 * and that nothing appeared that no client asked for.
 */
export function verifyLedger(snapshot, ledger) {
  const violations = [];
  const bad = (text) => violations.push(`[${snapshot.view}] ${text}`);
  const byUid = new Map();
  for (const m of snapshot.models) {
    const uid = m.tags?.[UID_TAG];
    if (!uid?.startsWith(`${ledger.runTag}-`)) continue;
    if (byUid.has(uid)) bad(`two models carry ${UID_TAG}=${uid}: ${byUid.get(uid).name} and ${m.name}`);
    byUid.set(uid, m);
  }
  let checked = 0;
  for (const entry of ledger.retired) {
    checked++;
    if (entry.deleted === "acked" && byUid.has(entry.uid))
      bad(`model ${entry.uid} was deleted (acknowledged) but is still there as ${byUid.get(entry.uid).name}`);
  }
  for (const entry of ledger.slots) {
    checked++;
    const model = byUid.get(entry.uid);
    if (!model) {
      bad(`model ${entry.uid} (${entry.name}) is gone; it was created and never deleted`);
      continue;
    }
    if (model.name !== entry.name)
      bad(`model ${entry.uid} is named ${model.name}; the last acknowledged name is ${entry.name}`);
    const versions = new Map(model.versions.map((v) => [v.version, v]));
    // Acknowledged creates are there, whole, unless a delete was issued for them.
    for (const [number, known] of entry.versions) {
      checked++;
      const v = versions.get(number);
      if (!v) {
        if (known.deleted === null)
          bad(`${entry.name} v${number} (${known.op}) was acknowledged and never deleted, but is missing`);
        continue;
      }
      if (known.deleted === "acked") bad(`${entry.name} v${number} was deleted (acknowledged) but is still there`);
      if (v.tags[OP_TAG] !== known.op)
        bad(`${entry.name} v${number} is ${v.tags[OP_TAG]}, not the acknowledged ${known.op}`);
      if (v.status !== "READY") bad(`${entry.name} v${number} is ${v.status}`);
      const want = manifestText(known.files);
      const have = manifestText(v.files);
      if (want !== have)
        bad(
          `${entry.name} v${number}: manifest ${have || "(empty)"} differs from the uploaded files ${want || "(none)"}`,
        );
    }
    // Nothing else appeared: every version comes from a create that was acknowledged or in flight at a crash.
    for (const v of model.versions) {
      const op = v.tags[OP_TAG];
      if (entry.versions.get(v.version)?.op === op) continue;
      if (!op) bad(`${entry.name} v${v.version} carries no ${OP_TAG} tag: no client created it`);
      else if (entry.refusedCreates.has(op))
        bad(`${entry.name} v${v.version} comes from a create that was refused (${op})`);
      else if (!entry.unknownCreates.has(op))
        bad(
          `${entry.name} v${v.version} comes from ${op}, never acknowledged for this number nor in flight at a crash`,
        );
      else {
        const files = manifestText(entry.unknownCreates.get(op));
        const have = manifestText(v.files);
        if (files !== have)
          bad(
            `${entry.name} v${v.version} (in flight at a crash) has manifest ${have || "(empty)"}, uploaded ${files}`,
          );
        if (entry.created.includes(v.version))
          bad(`${entry.name} v${v.version} (in flight at a crash) shares its number with an acknowledged create`);
      }
    }
    // Acknowledged transitions are in the history; every history row comes from an issued transition.
    const rows = new Map();
    for (const t of model.transitions) if (t.comment) rows.set(t.comment, t);
    for (const t of entry.transitionsAcked) {
      checked++;
      const row = rows.get(t.op);
      if (!row)
        bad(`${entry.name}: acknowledged transition ${t.op} (v${t.version} → ${t.stage}) is missing from the history`);
      else if (row.version !== t.version || row.to !== t.stage)
        bad(
          `${entry.name}: history row ${t.op} says v${row.version} → ${row.to}, acknowledged v${t.version} → ${t.stage}`,
        );
    }
    for (const t of model.transitions) {
      if (t.comment?.startsWith(`${ledger.runTag}-t-`) && !entry.transitionsIssued.has(t.comment))
        bad(`${entry.name}: history row ${t.comment} was never issued for this model`);
    }
    // Aliases: each belongs to one client, so the last acknowledged (or in-flight) op decides.
    const aliases = new Map(model.aliases.map((a) => [a.alias, a.version]));
    for (const [alias, ops] of entry.aliasOps) {
      checked++;
      const allowed = new Set();
      for (let i = ops.length - 1; i >= 0; i--) {
        const op = ops[i];
        const effect = op.kind === "delete" ? null : op.version;
        // A set whose version was deleted afterwards went with it (acknowledged delete), or may have.
        const deleted = effect === null ? null : entry.versions.get(effect)?.deleted;
        if (deleted !== "acked") allowed.add(effect);
        if (deleted) allowed.add(null);
        if (op.outcome === "acked") break;
        if (i === 0) allowed.add(null);
      }
      if (ops.length === 0) allowed.add(null);
      const have = aliases.has(alias) ? aliases.get(alias) : null;
      if (!allowed.has(have))
        bad(
          `${entry.name}: alias ${alias} is ${have ?? "absent"}; the acknowledged ops allow only ${[...allowed].map((a) => a ?? "absent").join(" or ")}`,
        );
    }
    for (const alias of aliases.keys())
      if (!entry.aliasOps.has(alias)) bad(`${entry.name}: alias ${alias} was never set by any client`);
  }
  return { violations, checked };
}

/**
 * Whose bytes a file served under `name` were, when they are not the current model's: a version of
 * an earlier model (deleted, or renamed away) that held the same name. Null when unexplained.
 */
export function earlierHolder(ledger, name, version, sha256, current) {
  const all = [...ledger.retired, ...ledger.slots];
  return (
    all.find(
      (e) =>
        e.uid !== current && e.names.includes(name) && e.versions.get(version)?.files.some((f) => f.sha256 === sha256),
    ) ?? null
  );
}

/** A manifest as one comparable text: `path:size:sha256` per file, sorted. */
function manifestText(files) {
  return files
    .map((f) => `${f.path}:${f.size}:${f.sha256}`)
    .sort()
    .join(" ");
}
