// The registry's invariants, written once, checked against either view of the state:
//   - storage: D1 and R2 read directly through their bindings (workerd's `env.DB` / `env.ARTIFACTS`
//     in a vitest suite, or Miniflare's proxies on a stopped `npm start`'s STATE_DIR), every blob
//     read back and hashed;
//   - http: the public API only (search, get, transitions, lineage, and every file downloaded through
//     /v1 and hashed client-side), which also compares the coordinators' in-memory answers with D1.
// No imports, so Node scripts and workerd tests share it.

const STAGES = ["None", "Staging", "Production", "Archived"];
/** The model tag the reliability suites give each model they create, naming it across renames. */
export const UID_TAG = "reliability.uid";

export interface SnapshotFile {
  path: string;
  size: number;
  sha256: string;
  actual: { size: number; sha256: string } | null | undefined;
  indexed: boolean;
}

export interface SnapshotVersion {
  version: number;
  stage: string;
  status: string;
  storageLocation: string | null;
  tags: Record<string, string>;
  aliases?: string[];
  files: SnapshotFile[];
}

export interface SnapshotModel {
  id?: string;
  name: string;
  creationTime: number;
  nextVersion?: number;
  tags: Record<string, string>;
  aliases: { alias: string; version: number }[];
  memoryLatest?: { version: number; stage: string }[];
  versions: SnapshotVersion[];
  transitions: { version: number; from: string; to: string; comment: string | null }[];
  /** The storage view only: the model's outbox rows in sequence order. */
  events?: SnapshotEvent[];
}

export interface SnapshotEvent {
  sequence: number;
  type: string;
  version: number | null;
  from: string | null;
  to: string | null;
}

export interface Snapshot {
  view: "storage" | "http";
  models: SnapshotModel[];
  artifacts?: { path: string; size: number; sha256: string; actual: { size: number; sha256: string } | null }[];
  orphanRows?: { table: string; row: unknown }[];
  /** The storage view only: events of models no longer in D1, by the name they last had. */
  deletedModelEvents?: { name: string; events: SnapshotEvent[] }[];
  problems?: string[];
  stats: Record<string, number>;
}

export interface R2Like {
  get(key: string): Promise<{ arrayBuffer(): Promise<ArrayBuffer> } | null>;
  list(options: {
    cursor?: string;
    limit?: number;
  }): Promise<{ objects: { key: string }[]; truncated: boolean; cursor?: string }>;
}

export interface D1Like {
  prepare(sql: string): { all(): Promise<{ results: any[] }> };
}

/** What the storm knows it created: version numbers per model uid, acknowledged or not. */
export interface Ledger {
  createdVersions?: Record<string, number[]>;
}

async function sha256Hex(bytes: Uint8Array<ArrayBuffer>) {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function pool<T>(items: Iterable<T>, limit: number, fn: (item: T) => Promise<unknown>) {
  const queue = [...items];
  const workers = Array.from({ length: Math.min(limit, queue.length) }, async () => {
    while (queue.length > 0) await fn(queue.shift()!);
  });
  await Promise.all(workers);
}

const tagObject = (list: { key: string; value: string }[] | null | undefined): Record<string, string> =>
  Object.fromEntries((list ?? []).map((t) => [t.key, t.value]));

// --- the storage view: D1 rows and R2 blobs ------------------------------------------------------

/**
 * Reads every registry table from D1 and every indexed blob from R2 (hashing its bytes). `db` is a
 * D1Database, `bucket` an R2Bucket (bindings or Miniflare proxies). Read while nothing writes.
 */
export async function snapshotFromStorage(
  db: D1Like,
  bucket: R2Like,
  { concurrency = 8 }: { concurrency?: number } = {},
): Promise<Snapshot> {
  const q = async (sql: string) => (await db.prepare(sql).all()).results;
  const [models, modelTags, versions, versionTags, aliases, transitions, files, artifacts, events] = await Promise.all([
    q("SELECT id, name, creation_time, next_version FROM registered_models"),
    q("SELECT model_id, key, value FROM registered_model_tags"),
    q("SELECT model_id, version, current_stage, status, storage_location FROM model_versions"),
    q("SELECT model_id, version, key, value FROM model_version_tags"),
    q("SELECT model_id, alias, version FROM registered_model_aliases"),
    q("SELECT id, model_id, version, from_stage, to_stage, comment FROM stage_transitions ORDER BY id"),
    q("SELECT model_id, version, path, artifact_path, blob_key, size, sha256 FROM model_version_files"),
    q("SELECT path, blob_key, size, sha256 FROM artifact_objects"),
    q(
      "SELECT model_id, model_name, sequence, type, version, from_value, to_value FROM events ORDER BY model_id, sequence",
    ),
  ]);

  // Every blob that the index or a manifest names, read back from R2 and hashed.
  const blobs = new Map<string, { size: number; sha256: string } | null>();
  const keys = new Set([...artifacts.map((a) => a.blob_key), ...files.map((f) => f.blob_key)]);
  await pool(keys, concurrency, async (key) => {
    const object = await bucket.get(key);
    if (!object) return blobs.set(key, null);
    const bytes = new Uint8Array(await object.arrayBuffer());
    blobs.set(key, { size: bytes.byteLength, sha256: await sha256Hex(bytes) });
  });
  let r2Objects = 0;
  let orphanBlobs = 0;
  let cursor: string | undefined;
  for (let page = 0; page < 10_000; page++) {
    const listed = await bucket.list({ cursor, limit: 1000 });
    for (const o of listed.objects) {
      r2Objects++;
      if (!keys.has(o.key)) orphanBlobs++;
    }
    if (!listed.truncated) break;
    cursor = listed.cursor;
  }

  const byId = new Map<string, SnapshotModel & { events: SnapshotEvent[] }>(
    models.map((m) => [
      m.id,
      {
        id: m.id,
        name: m.name,
        creationTime: m.creation_time,
        nextVersion: m.next_version,
        tags: {},
        aliases: [],
        versions: [],
        transitions: [],
        events: [],
      },
    ]),
  );
  const orphanRows: { table: string; row: unknown }[] = [];
  const modelOf = (table: string, row: { model_id: string }) => {
    const model = byId.get(row.model_id);
    if (!model) orphanRows.push({ table, row });
    return model;
  };
  for (const t of modelTags) {
    const m = modelOf("registered_model_tags", t);
    if (m) m.tags[t.key] = t.value;
  }
  const versionIndex = new Map<string, SnapshotVersion>();
  for (const v of versions) {
    const m = modelOf("model_versions", v);
    if (!m) continue;
    const version: SnapshotVersion = {
      version: v.version,
      stage: v.current_stage,
      status: v.status,
      storageLocation: v.storage_location,
      tags: {},
      files: [],
    };
    m.versions.push(version);
    versionIndex.set(`${v.model_id}/${v.version}`, version);
  }
  const versionOf = (table: string, row: { model_id: string; version: number }) => {
    const version = versionIndex.get(`${row.model_id}/${row.version}`);
    if (!version) orphanRows.push({ table, row });
    return version;
  };
  for (const t of versionTags) {
    const v = versionOf("model_version_tags", t);
    if (v) v.tags[t.key] = t.value;
  }
  for (const a of aliases) {
    const m = modelOf("registered_model_aliases", a);
    if (m) m.aliases.push({ alias: a.alias, version: a.version });
  }
  for (const t of transitions) {
    const m = modelOf("stage_transitions", t);
    if (m) m.transitions.push({ version: t.version, from: t.from_stage, to: t.to_stage, comment: t.comment });
  }
  // The outbox: a model's events stay after the model is deleted (their own list, by model id).
  const deletedModelEvents = new Map<string, { name: string; events: SnapshotEvent[] }>();
  for (const e of events) {
    const event: SnapshotEvent = {
      sequence: e.sequence,
      type: e.type,
      version: e.version,
      from: e.from_value,
      to: e.to_value,
    };
    const model = byId.get(e.model_id);
    if (model) model.events.push(event);
    else {
      if (!deletedModelEvents.has(e.model_id)) deletedModelEvents.set(e.model_id, { name: e.model_name, events: [] });
      deletedModelEvents.get(e.model_id)!.events.push(event);
    }
  }
  const indexByPath = new Map(artifacts.map((a) => [a.path, a]));
  for (const f of files) {
    const v = versionOf("model_version_files", f);
    if (!v) continue;
    const indexed = indexByPath.get(f.artifact_path);
    v.files.push({
      path: f.path,
      size: f.size,
      sha256: f.sha256,
      actual: blobs.get(f.blob_key) ?? null,
      // Immutability: the artifact path a manifest names still points at the very same blob.
      indexed: indexed
        ? indexed.blob_key === f.blob_key && indexed.size === f.size && indexed.sha256 === f.sha256
        : false,
    });
  }
  return {
    view: "storage",
    models: [...byId.values()],
    artifacts: artifacts.map((a) => ({
      path: a.path,
      size: a.size,
      sha256: a.sha256,
      actual: blobs.get(a.blob_key) ?? null,
    })),
    orphanRows,
    deletedModelEvents: [...deletedModelEvents.values()],
    stats: { r2Objects, orphanBlobs, blobsHashed: blobs.size, artifacts: artifacts.length, events: events.length },
  };
}

// --- the HTTP view: what clients can see ----------------------------------------------------------

function quoted(name: string) {
  if (!name.includes("'")) return `'${name}'`;
  if (!name.includes('"')) return `"${name}"`;
  return null;
}

/**
 * Reads every registered model through the API: registered-models/get (the coordinator's memory),
 * model-versions/search (D1), the transition history, each READY version's lineage (its manifest
 * with sha256) and every manifest file downloaded through /v1 and hashed.
 */
export async function snapshotViaHttp(
  fetchFn: (url: string, init?: RequestInit) => Promise<Response>,
  base: string,
  { concurrency = 8, download = true }: { concurrency?: number; download?: boolean } = {},
): Promise<Snapshot> {
  const problems: string[] = [];
  const getJson = async (path: string, params: Record<string, string> = {}): Promise<{ status: number; body: any }> => {
    const url = `${base}${path}?${new URLSearchParams(params)}`;
    const res = await fetchFn(url);
    const text = await res.text();
    let body: any;
    try {
      body = JSON.parse(text);
    } catch {
      body = { unparsed: text.slice(0, 200) };
    }
    return { status: res.status, body };
  };
  const names: string[] = [];
  let token: string | undefined;
  for (let page = 0; page < 1000; page++) {
    const res = await getJson("/api/2.0/mlflow/registered-models/search", {
      max_results: "1000",
      ...(token ? { page_token: token } : {}),
    });
    if (res.status !== 200) {
      problems.push(`registered-models/search answered ${res.status} ${JSON.stringify(res.body)}`);
      break;
    }
    for (const m of res.body.registered_models ?? []) names.push(m.name);
    token = res.body.next_page_token;
    if (!token) break;
  }

  const models: SnapshotModel[] = [];
  let downloads = 0;
  await pool(names, Math.max(1, Math.floor(concurrency / 2)), async (name) => {
    const got = await getJson("/api/2.0/mlflow/registered-models/get", { name });
    if (got.status !== 200)
      return problems.push(`registered-models/get ${name} answered ${got.status} ${JSON.stringify(got.body)}`);
    const rm = got.body.registered_model;
    const q = quoted(name);
    if (!q) return problems.push(`model name ${JSON.stringify(name)} cannot be quoted in a search filter; not checked`);
    const searched = await getJson("/api/2.0/mlflow/model-versions/search", {
      filter: `name = ${q}`,
      max_results: "200000",
    });
    if (searched.status !== 200)
      return problems.push(
        `model-versions/search ${name} answered ${searched.status} ${JSON.stringify(searched.body)}`,
      );
    const history: any[] = [];
    let page;
    for (let i = 0; i < 1000; i++) {
      const res = await getJson("/api/2.0/modelgate/model-versions/transitions", {
        name,
        max_results: "1000",
        ...(page ? { page_token: page } : {}),
      });
      if (res.status !== 200) {
        problems.push(`transitions ${name} answered ${res.status} ${JSON.stringify(res.body)}`);
        break;
      }
      history.push(...(res.body.transitions ?? []));
      page = res.body.next_page_token;
      if (!page) break;
    }
    const model: SnapshotModel = {
      name,
      creationTime: rm.creation_timestamp,
      tags: tagObject(rm.tags),
      aliases: (rm.aliases ?? []).map((a: { alias: string; version: string }) => ({
        alias: a.alias,
        version: Number(a.version),
      })),
      // What the coordinator answers from memory, compared with D1 below.
      memoryLatest: (rm.latest_versions ?? []).map((v: { version: string; current_stage: string }) => ({
        version: Number(v.version),
        stage: v.current_stage,
      })),
      versions: (searched.body.model_versions ?? []).map((v: any) => ({
        version: Number(v.version),
        stage: v.current_stage,
        status: v.status,
        tags: tagObject(v.tags),
        aliases: v.aliases ?? [],
        storageLocation: null,
        files: [],
      })),
      // Newest first on the wire; chronological here.
      transitions: history
        .reverse()
        .map((t) => ({ version: Number(t.version), from: t.from_stage, to: t.to_stage, comment: t.comment ?? null })),
    };
    await pool(
      model.versions.filter((v) => v.status === "READY"),
      2,
      async (v) => {
        const lineage = await getJson("/api/2.0/modelgate/model-versions/lineage", {
          name,
          version: String(v.version),
        });
        if (lineage.status !== 200)
          return problems.push(
            `lineage ${name} v${v.version} answered ${lineage.status} ${JSON.stringify(lineage.body)}`,
          );
        const uri = await getJson("/api/2.0/mlflow/model-versions/get-download-uri", {
          name,
          version: String(v.version),
        });
        if (uri.status !== 200)
          return problems.push(
            `get-download-uri ${name} v${v.version} answered ${uri.status} ${JSON.stringify(uri.body)}`,
          );
        v.storageLocation = uri.body.artifact_uri ?? null;
        v.files = (lineage.body.files ?? []).map((f: { path: string; size: number; sha256: string }) => ({
          path: f.path,
          size: f.size,
          sha256: f.sha256,
          actual: undefined,
          indexed: true,
        }));
      },
    );
    models.push(model);
  });

  if (download) {
    const jobs = models.flatMap((m) => m.versions.flatMap((v) => v.files.map((f) => ({ m, v, f }))));
    await pool(jobs, concurrency, async ({ m, v, f }) => {
      const path = f.path.split("/").map(encodeURIComponent).join("/");
      const res = await fetchFn(`${base}/v1/models/${encodeURIComponent(m.name)}/versions/${v.version}/files/${path}`);
      downloads++;
      if (res.status !== 200) {
        await res.arrayBuffer();
        f.actual = null;
        return;
      }
      const bytes = new Uint8Array(await res.arrayBuffer());
      f.actual = { size: bytes.byteLength, sha256: await sha256Hex(bytes) };
    });
  }
  return { view: "http", models, problems, stats: { models: models.length, downloads } };
}

// --- the rules ------------------------------------------------------------------------------------

/**
 * Every invariant, for every model of a snapshot. `createdVersions` (optional) maps a model's
 * reliability.uid tag to every version number the suites were ever handed for it (deleted ones
 * included), for the never-reused rule. Returns a list of violations (strings); empty is a pass.
 */
export function findViolations(snapshot: Snapshot, { createdVersions = {} }: Ledger = {}): string[] {
  const violations: string[] = [];
  const bad = (model: SnapshotModel, text: string) =>
    violations.push(`[${snapshot.view}] model ${JSON.stringify(model.name)}: ${text}`);
  for (const p of snapshot.problems ?? []) violations.push(`[${snapshot.view}] could not read: ${p}`);
  for (const o of snapshot.orphanRows ?? [])
    violations.push(`[${snapshot.view}] ${o.table} row refers to a missing model or version: ${JSON.stringify(o.row)}`);

  for (const model of snapshot.models) {
    const numbers = model.versions.map((v) => v.version);
    const byNumber = new Map(model.versions.map((v) => [v.version, v]));

    // 1. At most one Production version.
    const production = model.versions.filter((v) => v.stage === "Production");
    if (production.length > 1)
      bad(model, `${production.length} versions in Production: ${production.map((v) => v.version).join(", ")}`);

    // 2. Version numbers unique, positive, and never handed out twice.
    if (new Set(numbers).size !== numbers.length) bad(model, `duplicate version numbers ${numbers.join(", ")}`);
    for (const n of numbers) if (!Number.isInteger(n) || n < 1) bad(model, `invalid version number ${n}`);
    for (const v of model.versions)
      if (!STAGES.includes(v.stage)) bad(model, `version ${v.version} has unknown stage ${JSON.stringify(v.stage)}`);
    const uid = model.tags?.[UID_TAG];
    const created = uid ? (createdVersions[uid] ?? []) : [];
    const seen = new Set();
    for (const n of created) {
      if (seen.has(n)) bad(model, `version number ${n} was handed out twice (reused after a delete?)`);
      seen.add(n);
    }
    if (model.nextVersion !== undefined) {
      const highest = Math.max(0, ...numbers, ...created);
      if (!(model.nextVersion > highest))
        bad(model, `next_version ${model.nextVersion} is not above every version ever created (${highest})`);
    }

    // 3. Every READY version's manifest files exist in R2 with the recorded size and sha256.
    for (const v of model.versions) {
      if (v.status !== "READY") continue;
      if (v.storageLocation?.startsWith("mlflow-artifacts:") && v.files.length === 0)
        bad(model, `version ${v.version} is READY on our artifact store with an empty manifest (half-written)`);
      for (const f of v.files) {
        if (f.actual === undefined) continue; // not read (an HTTP snapshot taken without downloads)
        if (!f.actual) bad(model, `version ${v.version} file ${f.path}: blob missing`);
        else if (f.actual.size !== f.size || f.actual.sha256 !== f.sha256) {
          bad(
            model,
            `version ${v.version} file ${f.path}: recorded ${f.size} B ${f.sha256.slice(0, 12)}, stored ${f.actual.size} B ${f.actual.sha256.slice(0, 12)}`,
          );
        }
        if (f.indexed === false)
          bad(
            model,
            `version ${v.version} file ${f.path}: its artifact path no longer points at the manifest's blob (immutability)`,
          );
      }
    }

    // 4. History chains per version, from "None", and ends at the version's current stage.
    const lastTo = new Map();
    for (const t of model.transitions) {
      const previous = lastTo.has(t.version) ? lastTo.get(t.version) : "None";
      if (t.from !== previous)
        bad(model, `history of version ${t.version}: a row goes ${t.from} → ${t.to} after the stage was ${previous}`);
      lastTo.set(t.version, t.to);
    }
    for (const v of model.versions) {
      const expected = lastTo.has(v.version) ? lastTo.get(v.version) : "None";
      if (v.stage !== expected) bad(model, `version ${v.version} is in ${v.stage} but its history ends in ${expected}`);
    }

    // 5. Aliases point at existing versions (and each version lists the aliases that point at it).
    for (const a of model.aliases) {
      const target = byNumber.get(a.version);
      if (!target) bad(model, `alias ${a.alias} points at missing version ${a.version}`);
      else if (target.aliases && !target.aliases.includes(a.alias)) {
        bad(model, `alias ${a.alias} → ${a.version} is missing from the version's own aliases`);
      }
    }

    // 6. (HTTP) The coordinator's in-memory latest_versions agrees with D1.
    if (model.memoryLatest) {
      const best = new Map();
      for (const v of model.versions)
        if (v.status === "READY" && (!best.has(v.stage) || v.version > best.get(v.stage))) best.set(v.stage, v.version);
      // Compared as sets: the order follows MLflow's (stages as they first appear going up the versions).
      const expected = STAGES.filter((s) => best.has(s))
        .map((s) => `${s}:${best.get(s)}`)
        .join(" ");
      const actual = [...model.memoryLatest]
        .sort((x, y) => STAGES.indexOf(x.stage) - STAGES.indexOf(y.stage))
        .map((v) => `${v.stage}:${v.version}`)
        .join(" ");
      if (expected !== actual)
        bad(model, `latest_versions from the coordinator (${actual}) differ from D1 (${expected})`);
    }
  }

  // 8. (storage) The outbox agrees with the state: every change has its event, every event its
  //    change. Per model: sequences 1..N without gaps; the model's created event first; one
  //    created event per version; each version's stage events chain from None to its current stage,
  //    one per history row; a deleted model's events end with its deletion.
  const gapless = (name: string, list: SnapshotEvent[]) => {
    list.forEach((e, i) => {
      if (e.sequence !== i + 1)
        violations.push(
          `[${snapshot.view}] model ${JSON.stringify(name)}: event #${i + 1} carries sequence ${e.sequence} (gap or duplicate)`,
        );
    });
  };
  for (const model of snapshot.models) {
    if (!model.events) continue; // the HTTP view does not read the outbox
    gapless(model.name, model.events);
    if (model.events[0]?.type !== "registered_model.created")
      bad(model, `its first event is ${model.events[0]?.type ?? "missing"}, not registered_model.created`);
    for (const v of model.versions) {
      const own = model.events.filter((e) => e.version === v.version);
      const created = own.filter((e) => e.type === "model_version.created").length;
      if (created !== 1) bad(model, `version ${v.version} has ${created} model_version.created events`);
      const stages = own.filter((e) => e.type === "model_version.stage_transitioned");
      let stage: string | null = "None";
      for (const e of stages) {
        if (e.from !== stage)
          bad(model, `version ${v.version}: a stage event goes ${e.from} → ${e.to} after the stage was ${stage}`);
        stage = e.to;
      }
      if (stage !== v.stage) bad(model, `version ${v.version} is in ${v.stage} but its stage events end in ${stage}`);
      const rows = model.transitions.filter((t) => t.version === v.version).length;
      if (rows !== stages.length)
        bad(model, `version ${v.version} has ${rows} history rows and ${stages.length} stage events`);
    }
  }
  for (const gone of snapshot.deletedModelEvents ?? []) {
    gapless(gone.name, gone.events);
    if (gone.events.at(-1)?.type !== "registered_model.deleted") {
      violations.push(
        `[${snapshot.view}] events of a model no longer in D1 (last named ${JSON.stringify(gone.name)}) do not end with registered_model.deleted`,
      );
    }
  }

  // 7. (storage) Every indexed artifact is complete in R2: no visible partial object.
  for (const a of snapshot.artifacts ?? []) {
    if (!a.actual) violations.push(`[storage] artifact ${a.path}: blob missing from R2`);
    else if (a.actual.size !== a.size || a.actual.sha256 !== a.sha256) {
      violations.push(
        `[storage] artifact ${a.path}: indexed ${a.size} B ${a.sha256.slice(0, 12)}, stored ${a.actual.size} B ${a.actual.sha256.slice(0, 12)}`,
      );
    }
  }
  return violations;
}

/** Reads a snapshot (storage when `db` and `bucket` are given, else HTTP) and checks every invariant. */
export async function checkInvariants(
  source:
    | { db: D1Like; bucket: R2Like }
    | { base: string; fetch?: (url: string, init?: RequestInit) => Promise<Response> },
  ledger: Ledger = {},
): Promise<{ snapshot: Snapshot; violations: string[] }> {
  const snapshot =
    "db" in source
      ? await snapshotFromStorage(source.db, source.bucket)
      : await snapshotViaHttp(source.fetch ?? fetch, source.base);
  return { snapshot, violations: findViolations(snapshot, ledger) };
}
