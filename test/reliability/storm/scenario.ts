// The storm's scenario: what its clients do to a handful of models — registrations (artifacts
// uploaded, then model-versions/create), promotions, alias moves, renames, version deletes, model
// deletes/recreates, reads that check what they see, and large uploads cut mid-stream — each
// acknowledged write recorded in the ledger. The driver (driver.ts) decides how long and when the
// server crashes; the checker (checker.ts) compares the ledger with the final state.
import { createHash, randomBytes } from "node:crypto";
import { UID_TAG } from "../invariants";
import type { Answer, Driver } from "./driver";
import {
  type AliasOp,
  type CutRecord,
  type FileRecord,
  ModelEntry,
  NetError,
  OP_TAG,
  type Random,
  rng,
  Skip,
} from "./ledger";

export const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const encodePath = (p: string) => p.split("/").map(encodeURIComponent).join("/");
const tagsOf = (answer: Answer | null) =>
  Object.fromEntries(
    (answer?.body?.registered_model?.tags ?? []).map((t: { key: string; value: string }) => [t.key, t.value]),
  );

/** How often a writer picks each kind of operation (readers only read). */
const WRITER_MIX: [string, number][] = [
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

/** A cut upload under way: `cutByAbort()` or `cutByCrash()` ends it and records the outcome. */
export interface CutUpload {
  record: CutRecord;
  cutByAbort(): Promise<void>;
  cutByCrash(): Promise<void>;
}

export class Scenario {
  /** The live model of each slot, and the models deleted along the way. */
  readonly slots: ModelEntry[] = [];
  readonly retired: ModelEntry[] = [];
  readonly reads = { samples: 0, productionChecks: 0, downloadsVerified: 0 };
  readonly cuts: CutRecord[] = [];
  private readonly driver: Driver;
  private readonly random: Random;
  private readonly runTag: string;
  private readonly seed: number;
  private readonly baseNames: string[];
  /** The storm's runs: registrations take `runs:/` sources and upload under their artifact roots. */
  private readonly runs: { runId: string; artifactPath: string }[] = [];
  private uidCounter = 0;
  private opCounter = 0;
  private cutCounter = 0;

  constructor(driver: Driver, random: Random, runTag: string, seed: number, models: number) {
    this.driver = driver;
    this.random = random;
    this.runTag = runTag;
    this.seed = seed;
    this.baseNames = Array.from({ length: models }, (_, i) => `rel-${runTag}-m${i}`);
  }

  private newOp(kind: string) {
    return `${this.runTag}-${kind}-${++this.opCounter}`;
  }
  private api(method: string, route: string, params: Record<string, unknown>) {
    return this.driver.api(method, route, params);
  }
  private count(op: string, outcome: string) {
    this.driver.count(op, outcome);
  }
  private violation(text: string) {
    this.driver.violation(text);
  }
  private expectCodes(what: string, res: Answer, codes: string[]) {
    return this.driver.expectCodes(what, res, codes);
  }

  // --- the models -------------------------------------------------------------------------------
  async createModels() {
    for (let i = 0; i < this.baseNames.length; i++) await this.createEntry(i, this.baseNames[i]!);
  }

  private async createEntry(slot: number, name: string) {
    const uid = `${this.runTag}-u${++this.uidCounter}`;
    const adopt = () => {
      const entry = new ModelEntry(uid, name, slot);
      this.slots[slot] = entry;
      return entry;
    };
    for (let attempt = 0; attempt < 20; attempt++) {
      try {
        const res = await this.api("POST", "mlflow/registered-models/create", {
          name,
          tags: [{ key: UID_TAG, value: uid }],
        });
        if (res.status === 200) {
          this.count("create-model", "ok");
          return adopt();
        }
        this.count("create-model", this.expectCodes(`create ${name}`, res, ["RESOURCE_ALREADY_EXISTS"]));
        // RESOURCE_ALREADY_EXISTS right after a crash: was our own create applied?
        const got = await this.api("GET", "mlflow/registered-models/get", { name });
        const tags = tagsOf(got);
        if (got.status === 200 && tags[UID_TAG] === uid) return adopt();
        throw new Error(`model name ${name} is taken by another model (${JSON.stringify(tags)})`);
      } catch (error) {
        if (!(error instanceof NetError)) throw error;
        this.count("create-model", "unknown");
        await this.driver.life.up();
        // Did the create land before the crash?
        const got = await this.api("GET", "mlflow/registered-models/get", { name }).catch(() => null);
        if (got?.status === 200 && tagsOf(got)[UID_TAG] === uid) return adopt();
      }
    }
    throw new Error(`could not create model ${name}`);
  }

  /** Runs `fn` alongside the model's other ordinary ops, after any exclusive one. */
  private async shared<T>(entry: ModelEntry, fn: () => Promise<T>): Promise<T> {
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

  /** Runs `fn` after the model's earlier renames and deletes; `exclusive` also waits out every ordinary op. */
  private async structural(entry: ModelEntry, exclusive: boolean, fn: () => Promise<void>) {
    const previous = entry.structural;
    let release!: () => void;
    entry.structural = new Promise((r) => (release = r));
    await previous;
    try {
      if (entry.retired) throw new Skip();
      if (!exclusive) return await fn();
      let unblock!: () => void;
      entry.blocked = new Promise((r) => (unblock = r));
      try {
        while (entry.inflight > 0) await new Promise<void>((r) => entry.drained.push(r));
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
  async setupRuns(n: number) {
    const exp = await this.api("POST", "mlflow/experiments/create", { name: `reliability-${this.runTag}` });
    if (exp.status !== 200) throw new Error(`experiments/create: ${exp.status} ${JSON.stringify(exp.body)}`);
    for (let i = 0; i < n; i++) {
      const run = await this.api("POST", "mlflow/runs/create", {
        experiment_id: exp.body.experiment_id,
        run_name: `storm-${i}`,
      });
      if (run.status !== 200) throw new Error(`runs/create: ${run.status} ${JSON.stringify(run.body)}`);
      const info = run.body.run.info;
      this.runs.push({ runId: info.run_id, artifactPath: info.artifact_uri.replace(/^mlflow-artifacts:\//, "") });
    }
  }

  // --- operations ------------------------------------------------------------------------------------
  private makeFiles(r: Random) {
    const n = 1 + r.int(3);
    return Array.from({ length: n }, (_, i) => {
      const size = r.chance(0.05) ? 128 * 1024 + r.int(128 * 1024) : 100 + r.int(16 * 1024);
      const bytes = randomBytes(size);
      return { path: i === 0 ? "model.bin" : `conf/part-${i}.json`, bytes, size, sha256: sha256(bytes) };
    });
  }

  private async register(entry: ModelEntry, r: Random) {
    const op = this.newOp("v");
    const files = this.makeFiles(r);
    const run = r.pick(this.runs);
    const viaRun = r.chance(0.5);
    const dir = `${run.artifactPath}/${op}/model`;
    const source = viaRun ? `runs:/${run.runId}/${op}/model` : `mlflow-artifacts:/${dir}`;
    for (const f of files) {
      const res = await this.driver.http(
        "PUT",
        `/api/2.0/mlflow-artifacts/artifacts/${encodePath(`${dir}/${f.path}`)}`,
        {
          body: f.bytes,
          headers: { "content-type": "application/octet-stream" },
        },
      );
      if (this.expectCodes(`upload ${dir}/${f.path}`, res, []) !== "ok") return this.count("register", "upload-failed");
    }
    const manifest: FileRecord[] = files.map(({ path, size, sha256 }) => ({ path, size, sha256 }));
    await this.shared(entry, async () => {
      const raced = entry.renameWatch();
      const name = entry.name;
      let res: Answer;
      try {
        res = await this.api("POST", "mlflow/model-versions/create", {
          name,
          source,
          tags: [{ key: OP_TAG, value: op }],
        });
      } catch (error) {
        if (error instanceof NetError && error.unknown) entry.unknownCreates.set(op, manifest);
        throw error;
      }
      const outcome = this.expectCodes(`create version of ${name}`, res, ["RESOURCE_DOES_NOT_EXIST"]);
      this.count("register", outcome);
      if (outcome !== "ok") {
        entry.refusedCreates.add(op);
        return;
      }
      const mv = res.body.model_version;
      const number = Number(mv.version);
      if (typeof mv.version !== "string" || mv.status !== "READY" || mv.current_stage !== "None") {
        this.violation(`create version of ${name} answered ${JSON.stringify(mv).slice(0, 300)}`);
      }
      if (entry.created.includes(number))
        this.violation(`model ${name} (${entry.uid}) handed out version ${number} twice`);
      entry.created.push(number);
      entry.versions.set(number, { op, files: manifest, deleted: null });
      // Read your write: the acknowledged version is there at once.
      const got = await this.api("GET", "mlflow/model-versions/get", { name, version: String(number) }).catch(
        (error) => {
          if (error instanceof NetError) return null;
          throw error;
        },
      );
      if (got === null) return;
      if (got.status === 200) {
        if (got.body.model_version.tags?.find((t: { key: string }) => t.key === OP_TAG)?.value !== op)
          this.violation(`model-versions/get ${name} v${number} is not the version just created`);
      } else if (!(raced() || entry.versions.get(number)?.deleted)) {
        this.violation(
          `model-versions/get ${name} v${number} right after its create answered ${got.status} ${JSON.stringify(got.body)}`,
        );
      }
    });
  }

  private async transition(entry: ModelEntry, r: Random) {
    await this.shared(entry, async () => {
      const live = entry.liveVersions();
      if (live.length === 0) throw new Skip();
      const version = r.pick(live);
      const stage = r.pick(["Production", "Production", "Production", "Staging", "Staging", "Archived", "None"]);
      const archiveExisting = (stage === "Staging" || stage === "Production") && r.chance(0.25);
      const op = this.newOp("t");
      entry.transitionsIssued.add(op);
      const res = await this.api("POST", "mlflow/model-versions/transition-stage", {
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
        : this.expectCodes(`transition ${entry.name} v${version} to ${stage}`, res, ["RESOURCE_DOES_NOT_EXIST"]);
      this.count(`transition-${stage}`, outcome);
      if (outcome !== "ok") return;
      if (res.body.model_version?.current_stage !== stage)
        this.violation(`transition to ${stage} answered stage ${res.body.model_version?.current_stage}`);
      entry.transitionsAcked.push({ op, version, stage });
    });
  }

  private async moveAlias(entry: ModelEntry, r: Random, clientIndex: number) {
    await this.shared(entry, async () => {
      const alias = `c${clientIndex}`;
      const ops = entry.aliasOps.get(alias) ?? [];
      entry.aliasOps.set(alias, ops);
      const live = entry.liveVersions();
      const remove = live.length === 0 || r.chance(0.25);
      const version = remove ? null : r.pick(live);
      const record: AliasOp = { kind: remove ? "delete" : "set", version, outcome: "unknown" };
      ops.push(record);
      let res: Answer;
      try {
        res = remove
          ? await this.api("DELETE", "mlflow/registered-models/alias", { name: entry.name, alias })
          : await this.api("POST", "mlflow/registered-models/alias", {
              name: entry.name,
              alias,
              version: String(version),
            });
      } catch (error) {
        if (!(error instanceof NetError && error.unknown)) ops.pop();
        throw error;
      }
      const outcome = this.expectCodes(`alias ${alias} of ${entry.name}`, res, ["RESOURCE_DOES_NOT_EXIST"]);
      this.count(remove ? "alias-delete" : "alias-set", outcome);
      if (outcome === "ok") record.outcome = "acked";
      else ops.pop(); // refused: no effect
    });
  }

  private async deleteVersion(entry: ModelEntry, r: Random) {
    await this.shared(entry, async () => {
      const live = entry.liveVersions();
      if (live.length < 3) throw new Skip(); // keep something to promote
      const version = r.pick(live);
      const record = entry.versions.get(version)!;
      record.deleted = "maybe";
      const res = await this.api("DELETE", "mlflow/model-versions/delete", {
        name: entry.name,
        version: String(version),
      });
      const outcome = this.expectCodes(`delete ${entry.name} v${version}`, res, ["RESOURCE_DOES_NOT_EXIST"]);
      this.count("delete-version", outcome);
      if (outcome === "ok") record.deleted = "acked";
    });
  }

  private async rename(entry: ModelEntry) {
    await this.structural(entry, false, async () => {
      const from = entry.name;
      const to = `${this.baseNames[entry.slot]}-r${++this.opCounter}`;
      entry.renamesStarted++;
      entry.renameInFlight = true;
      try {
        const res = await this.api("POST", "mlflow/registered-models/rename", { name: from, new_name: to });
        const outcome = this.expectCodes(`rename ${from}`, res, []);
        this.count("rename", outcome);
        if (outcome !== "ok") return;
        if (res.body.registered_model?.name !== to) this.violation(`rename answered ${JSON.stringify(res.body)}`);
        entry.name = to;
        entry.names.push(to);
      } catch (error) {
        if (!(error instanceof NetError && error.unknown)) throw error;
        this.count("rename", "unknown");
        // Settle the outcome now, so the ledger knows the model's name.
        const landed = await this.findByUid(entry.uid, [to, from]);
        if (landed === to) {
          entry.name = to;
          entry.names.push(to);
        } else if (landed !== from)
          this.violation(`after a crash during rename ${from} → ${to}, model ${entry.uid} is under neither name`);
      } finally {
        entry.renameInFlight = false;
      }
    });
  }

  /** Which of `names` holds the model tagged `uid` (after a restart), or null. */
  private async findByUid(uid: string, names: string[]) {
    for (let attempt = 0; attempt < 10; attempt++) {
      try {
        for (const name of names) {
          const got = await this.api("GET", "mlflow/registered-models/get", { name });
          if (got.status === 200 && tagsOf(got)[UID_TAG] === uid) return name;
        }
        return null;
      } catch (error) {
        if (!(error instanceof NetError)) throw error;
        await this.driver.life.up();
      }
    }
    throw new Error(`could not settle where model ${uid} is`);
  }

  private async deleteAndRecreate(entry: ModelEntry) {
    await this.structural(entry, true, async () => {
      const name = entry.name;
      try {
        const res = await this.api("DELETE", "mlflow/registered-models/delete", { name });
        const outcome = this.expectCodes(`delete model ${name}`, res, []);
        this.count("delete-model", outcome);
        if (outcome !== "ok") return;
        entry.deleted = "acked";
      } catch (error) {
        if (!(error instanceof NetError && error.unknown)) throw error;
        this.count("delete-model", "unknown");
        if ((await this.findByUid(entry.uid, [name])) === name) return; // the delete never happened
        entry.deleted = "acked"; // settled: it happened
      }
      entry.retired = true;
      this.retired.push(entry);
      // The same name again: a new model, numbered from 1 (a new id and a new coordinator).
      await this.createEntry(entry.slot, name);
    });
  }

  private async read(entry: ModelEntry, r: Random) {
    await this.shared(entry, async () => {
      // Watch renames from before the name is read: a 404 after a rename that raced us is expected.
      const raced = entry.renameWatch();
      const name = entry.name;
      const kind = r.int(6);
      this.reads.samples++;
      type Listed = { version: string; current_stage: string };
      if (kind <= 1) {
        const res =
          kind === 0
            ? await this.api("GET", "mlflow/registered-models/get-latest-versions", { name })
            : await this.api("POST", "mlflow/registered-models/get-latest-versions", { name, stages: ["Production"] });
        if (this.expectCodes(`get-latest-versions ${name}`, res, ["RESOURCE_DOES_NOT_EXIST"]) !== "ok")
          return this.count("read-latest", "gone");
        this.count("read-latest", "ok");
        const list: Listed[] = res.body.model_versions ?? [];
        const production = list.filter((v) => v.current_stage === "Production");
        this.reads.productionChecks++;
        if (production.length > 1)
          this.violation(`get-latest-versions ${name} showed ${production.length} Production versions`);
        if (new Set(list.map((v) => v.current_stage)).size !== list.length)
          this.violation(`get-latest-versions ${name} repeated a stage: ${JSON.stringify(list)}`);
        if (kind === 1 && list.some((v) => v.current_stage !== "Production"))
          this.violation(`get-latest-versions ${name} stages=[Production] answered ${JSON.stringify(list)}`);
      } else if (kind === 2) {
        const res = await this.api("GET", "mlflow/model-versions/search", {
          filter: `name = '${name}'`,
          max_results: "1000",
        });
        if (this.expectCodes(`search ${name}`, res, []) !== "ok") return this.count("read-search", "failed");
        this.count("read-search", "ok");
        const production = ((res.body.model_versions ?? []) as Listed[]).filter(
          (v) => v.current_stage === "Production",
        );
        this.reads.productionChecks++;
        if (production.length > 1)
          this.violation(
            `model-versions/search ${name} showed ${production.length} Production versions: ${production.map((v) => v.version)}`,
          );
      } else if (kind === 3) {
        const res = await this.api("GET", "mlflow/registered-models/get", { name });
        if (this.expectCodes(`get ${name}`, res, ["RESOURCE_DOES_NOT_EXIST"]) !== "ok")
          return this.count("read-model", "gone");
        this.count("read-model", "ok");
        const production = ((res.body.registered_model.latest_versions ?? []) as Listed[]).filter(
          (v) => v.current_stage === "Production",
        );
        this.reads.productionChecks++;
        if (production.length > 1)
          this.violation(`registered-models/get ${name} showed ${production.length} Production versions`);
      } else {
        // Inference: resolve Production, or download an acknowledged version's file, and compare bytes.
        let version: number;
        if (kind === 4) {
          const res = await this.driver.http("GET", `/v1/models/${encodeURIComponent(name)}/Production`);
          if (res.status === 404) return this.count("read-v1", "none");
          if (this.expectCodes(`/v1 ${name}/Production`, res, []) !== "ok") return this.count("read-v1", "failed");
          this.count("read-v1", "ok");
          if (res.body.stage !== "Production")
            this.violation(`/v1/models/${name}/Production resolved to a version in ${res.body.stage}`);
          version = Number(res.body.version);
        } else {
          const live = entry.liveVersions();
          if (live.length === 0) return;
          version = r.pick(live);
        }
        const known = entry.versions.get(version);
        if (!known || known.files.length === 0) return;
        const file = r.pick(known.files);
        const res = await this.driver.http(
          "GET",
          `/v1/models/${encodeURIComponent(name)}/versions/${version}/files/${encodePath(file.path)}`,
        );
        if (res.status === 404 && (known.deleted || raced())) return this.count("download", "gone");
        if (this.expectCodes(`download ${name} v${version} ${file.path}`, res, []) !== "ok")
          return this.count("download", "failed");
        this.count("download", "ok");
        this.reads.downloadsVerified++;
        const got = sha256(res.bytes);
        if (got !== file.sha256) {
          // Whose bytes were they? A model that held this name before, deleted or renamed away?
          const previous = [...this.retired, ...this.slots].find(
            (e) =>
              e !== entry && e.names.includes(name) && e.versions.get(version)?.files.some((f) => f.sha256 === got),
          );
          const why = previous
            ? ` (they are version ${version} of the earlier model ${previous.uid} that held the name ${name}: stale immutable /v1 cache after name reuse)`
            : "";
          this.violation(
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
  async startCutUpload(withPrevious: boolean): Promise<CutUpload> {
    const { base, life } = this.driver;
    const violation = (text: string) => this.violation(text);
    // Under one of the storm's runs (writes land only under an active run's artifact root), taken in
    // turn so the seeded sequence is unchanged.
    const cut = ++this.cutCounter;
    const path = `${this.runs[cut % this.runs.length]!.artifactPath}/cuts/cut-${cut}/weights.bin`;
    let previous = null;
    if (withPrevious) {
      const bytes = randomBytes(64 * 1024 + this.random.int(64 * 1024));
      const res = await this.driver.http("PUT", `/api/2.0/mlflow-artifacts/artifacts/${path}`, { body: bytes });
      if (res.status !== 200) throw new Error(`previous upload of ${path}: ${res.status}`);
      previous = { size: bytes.length, sha256: sha256(bytes) };
    }
    const total = 64 * 1024 * 1024;
    const chunk = randomBytes(256 * 1024);
    let sent = 0;
    let cancelled = false;
    let pulled = () => {};
    const progress = new Promise<void>((r) => (pulled = r));
    const body = new ReadableStream({
      async pull(controller) {
        if (cancelled || sent >= total) return controller.close();
        await sleep(15); // the pace of a slow client, so that the cut lands mid-stream
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
    const request: Promise<NonNullable<CutRecord["outcome"]>> = fetch(
      `${base}/api/2.0/mlflow-artifacts/artifacts/${path}`,
      {
        method: "PUT",
        body,
        duplex: "half",
        headers: { "content-length": String(total), "content-type": "application/octet-stream" },
        signal: abort.signal,
      } as RequestInit,
    ).then(
      async (res) => ({ status: res.status, text: await res.text() }),
      (error) => ({ error: error.cause?.code ?? error.name }),
    );
    // The signal: the server has pulled the first 2 MiB (bounded, so a stuck upload still gets cut).
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([progress, new Promise((r) => (timer = setTimeout(r, 20_000)))]);
    clearTimeout(timer);
    const record: CutRecord = { path, previous, sentAtCut: 0, how: null, outcome: null, check: null };
    this.cuts.push(record);
    return {
      record,
      async cutByAbort() {
        record.how = "client abort";
        record.sentAtCut = sent;
        abort.abort();
        const outcome = await request;
        record.outcome = outcome;
        if (outcome.status === 200) violation(`upload of ${path} cut after ${sent} of ${total} bytes was acknowledged`);
        else if (outcome.status !== undefined)
          violation(`upload of ${path} was refused before the cut: ${outcome.status} ${outcome.text.slice(0, 300)}`);
      },
      async cutByCrash() {
        record.how = "server SIGKILL";
        record.sentAtCut = sent;
        const outcome = await request;
        record.outcome = outcome;
        cancelled = true;
        if (outcome.status === 200 && life.epoch === epoch)
          violation(`upload of ${path} cut by a crash was acknowledged`);
        else if (outcome.status !== undefined && outcome.status !== 200)
          violation(`upload of ${path} was refused before the crash: ${outcome.status} ${outcome.text.slice(0, 300)}`);
      },
    };
  }

  /** The cut path lists and downloads as absent, or as the complete previous file. */
  async checkCut(record: CutRecord) {
    const dir = record.path.slice(0, record.path.lastIndexOf("/"));
    const listed = await this.api("GET", "mlflow-artifacts/artifacts", { path: dir });
    const entry = (listed.body?.files ?? []).find((f: { path: string }) => f.path === "weights.bin");
    const got = await this.driver.http("GET", `/api/2.0/mlflow-artifacts/artifacts/${record.path}`);
    const seen = got.status === 200 ? { size: got.bytes.length, sha256: sha256(got.bytes) } : null;
    record.check = seen ? `previous file (${seen.size} B)` : `absent (${got.status})`;
    const want = record.previous;
    if (want === null) {
      if (entry || got.status !== 404)
        this.violation(
          `cut upload ${record.path} (nothing before) is visible: listed ${JSON.stringify(entry)}, GET ${got.status}`,
        );
    } else if (!seen || seen.sha256 !== want.sha256 || entry?.file_size !== want.size) {
      this.violation(
        `cut upload ${record.path} should still hold the previous ${want.size} B file: GET ${got.status} ${seen?.size} B, listed ${JSON.stringify(entry)}`,
      );
    }
  }

  // --- clients -----------------------------------------------------------------------------------------
  /** One client: picks an operation and a model, over and over, until `finished()`. */
  async client(index: number, readerOnly: boolean, finished: () => boolean) {
    const r = rng(this.seed + 7919 * (index + 1));
    while (!finished()) {
      await this.driver.life.up();
      if (finished()) break;
      const entry = this.slots[r.int(this.slots.length)]!;
      let kind = "read";
      if (!readerOnly) {
        let x = r.next() * totalWeight;
        for (const [k, w] of WRITER_MIX) {
          kind = k;
          if ((x -= w) < 0) break;
        }
      }
      try {
        if (kind === "register") await this.register(entry, r);
        else if (kind === "transition") await this.transition(entry, r);
        else if (kind === "alias") await this.moveAlias(entry, r, index);
        else if (kind === "delete-version") await this.deleteVersion(entry, r);
        else if (kind === "rename") await this.rename(entry);
        else if (kind === "recreate") await this.deleteAndRecreate(entry);
        else if (kind === "cut") {
          const upload = await this.startCutUpload(r.chance(0.5));
          await upload.cutByAbort();
          await this.checkCut(upload.record);
          this.count("cut-upload", "checked");
        } else await this.read(entry, r);
      } catch (error) {
        if (error instanceof Skip) continue;
        if (error instanceof NetError) {
          this.count(kind, "unknown");
          continue;
        }
        this.violation(`client ${index} ${kind}: ${(error as Error).stack ?? error}`);
        await sleep(100); // a client that hit a bug backs off instead of spinning on it
      }
    }
  }
}
