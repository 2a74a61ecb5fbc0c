import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import worker from "../../src/index";
import { findViolations, snapshotFromStorage, snapshotViaHttp, UID_TAG, type Snapshot } from "./invariants";

// The invariants checker catches what it claims to catch: a healthy model passes, and each kind of
// damage, done to D1 or R2 behind the registry's back, is reported for the damaged model only.
// (Requests go to the default export directly; see bad-input.test.ts for why.)

vi.setConfig({ testTimeout: 60_000 });

const ORIGIN = "http://modelgate.test";

async function handle(request: Request): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await worker.fetch(request, env, ctx);
  const bytes = await response.arrayBuffer();
  await waitOnExecutionContext(ctx);
  return new Response(bytes, { status: response.status, headers: response.headers });
}

async function call(method: string, path: string, body?: unknown, raw?: string): Promise<Record<string, any>> {
  const res = await handle(
    new Request(`${ORIGIN}${path}`, {
      method,
      headers: { "content-type": "application/json" },
      body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
    }),
  );
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : {};
}

/** A new run's artifact root (`<experiment>/<run>/artifacts`): artifact writes land only inside one. */
async function runRoot(): Promise<string> {
  const run = await call("POST", "/api/2.0/mlflow/runs/create", { experiment_id: "0", start_time: Date.now() });
  return String(run.run.info.artifact_uri).replace(/^mlflow-artifacts:\//, "");
}

let counter = 0;
/** A model with three file-backed versions: v1 Production, v2 Staging, v3 None; alias champion → v2. */
async function healthyModel(): Promise<{ name: string; id: string; root: string }> {
  const name = `checker-${Date.now().toString(36)}-${++counter}`;
  await call("POST", "/api/2.0/mlflow/registered-models/create", { name, tags: [{ key: UID_TAG, value: name }] });
  // One run holds the model's files; each version is registered from its own folder in it.
  const root = await runRoot();
  for (const v of [1, 2, 3]) {
    await call("PUT", `/api/2.0/mlflow-artifacts/artifacts/${root}/v${v}/model.bin`, undefined, `weights ${name} ${v}`);
    await call("POST", "/api/2.0/mlflow/model-versions/create", { name, source: `mlflow-artifacts:/${root}/v${v}` });
  }
  await call("POST", "/api/2.0/mlflow/model-versions/transition-stage", { name, version: "1", stage: "Production" });
  await call("POST", "/api/2.0/mlflow/model-versions/transition-stage", { name, version: "2", stage: "Staging" });
  await call("POST", "/api/2.0/mlflow/registered-models/alias", { name, alias: "champion", version: "2" });
  const row = await env.DB.prepare("SELECT id FROM registered_models WHERE name = ?")
    .bind(name)
    .first<{ id: string }>();
  return { name, id: row!.id, root };
}

const only = (snapshot: Snapshot, name: string): Snapshot => ({
  ...snapshot,
  models: snapshot.models.filter((m) => m.name === name),
  artifacts: [],
  orphanRows: [],
  deletedModelEvents: (snapshot.deletedModelEvents ?? []).filter((d) => d.name === name),
});

async function storageViolations(name: string): Promise<string[]> {
  return findViolations(only(await snapshotFromStorage(env.DB, env.ARTIFACTS), name));
}

async function httpViolations(name: string): Promise<string[]> {
  return findViolations(
    only(await snapshotViaHttp((url: string, init?: RequestInit) => handle(new Request(url, init)), ORIGIN), name),
  );
}

describe("the invariants checker", () => {
  it("passes a healthy model, in both views", async () => {
    const { name } = await healthyModel();
    expect(await storageViolations(name)).toEqual([]);
    expect(await httpViolations(name)).toEqual([]);
  });

  it("reports a second Production version", async () => {
    const { name, id } = await healthyModel();
    // The schema refuses this, so the damage needs the partial unique index out of the way.
    await env.DB.prepare("DROP INDEX IF EXISTS model_versions_one_production_uq").run();
    try {
      await env.DB.batch([
        env.DB.prepare(
          "UPDATE model_versions SET current_stage = 'Production' WHERE model_id = ? AND version = 3",
        ).bind(id),
        env.DB.prepare(
          "INSERT INTO stage_transitions (model_id, version, from_stage, to_stage, actor, timestamp) VALUES (?, 3, 'None', 'Production', 'test', 0)",
        ).bind(id),
      ]);
      expect((await storageViolations(name)).join("\n")).toMatch(/2 versions in Production: 1, 3/);
    } finally {
      await env.DB.prepare("DELETE FROM registered_models WHERE id = ?").bind(id).run();
      await env.DB.prepare(
        "CREATE UNIQUE INDEX IF NOT EXISTS model_versions_one_production_uq ON model_versions (model_id) WHERE current_stage = 'Production'",
      ).run();
    }
  });

  it("reports a blob missing from R2, and bytes that differ from the manifest", async () => {
    const { name, id } = await healthyModel();
    const files = await env.DB.prepare(
      "SELECT version, blob_key FROM model_version_files WHERE model_id = ? ORDER BY version",
    )
      .bind(id)
      .all<{ version: number; blob_key: string }>();
    await env.ARTIFACTS.delete(files.results[0]!.blob_key);
    await env.ARTIFACTS.put(files.results[1]!.blob_key, "tampered");
    const found = (await storageViolations(name)).join("\n");
    expect(found).toMatch(/version 1 file model\.bin: blob missing/);
    expect(found).toMatch(/version 2 file model\.bin: recorded \d+ B \w+, stored 8 B/);
  });

  it("reports a manifest whose artifact path was repointed (immutability)", async () => {
    const { name, root } = await healthyModel();
    // The schema refuses this twice over: the damage needs the immutability trigger and the sealed
    // version folder's trigger (migration 0008) out of the way; both are put back as they were.
    const guards = await env.DB.prepare(
      "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name IN ('artifact_objects_immutable_update', 'artifact_objects_sealed_folder_update')",
    ).all<{ name: string; sql: string }>();
    expect(guards.results.map((g) => g.name).sort()).toEqual([
      "artifact_objects_immutable_update",
      "artifact_objects_sealed_folder_update",
    ]);
    for (const g of guards.results) await env.DB.prepare(`DROP TRIGGER ${g.name}`).run();
    try {
      await env.DB.prepare("UPDATE artifact_objects SET blob_key = 'blobs/elsewhere' WHERE path = ?")
        .bind(`${root}/v3/model.bin`)
        .run();
      expect((await storageViolations(name)).join("\n")).toMatch(
        /version 3 file model\.bin: its artifact path no longer points at the manifest's blob/,
      );
    } finally {
      for (const g of guards.results) await env.DB.prepare(g.sql).run();
    }
  });

  it("reports a next_version that would reuse a number, and a number handed out twice", async () => {
    const { name, id } = await healthyModel();
    await env.DB.prepare("UPDATE registered_models SET next_version = 2 WHERE id = ?").bind(id).run();
    const snapshot = only(await snapshotFromStorage(env.DB, env.ARTIFACTS), name);
    expect(findViolations(snapshot).join("\n")).toMatch(/next_version 2 is not above every version ever created \(3\)/);
    expect(findViolations(snapshot, { createdVersions: { [name]: [1, 2, 3, 4, 4] } }).join("\n")).toMatch(
      /version number 4 was handed out twice/,
    );
  });

  it("reports a history that does not chain, or does not end at the current stage", async () => {
    const { name, id } = await healthyModel();
    await env.DB.batch([
      env.DB.prepare(
        "INSERT INTO stage_transitions (model_id, version, from_stage, to_stage, actor, timestamp) VALUES (?, 2, 'Archived', 'Staging', 'test', 0)",
      ).bind(id),
      env.DB.prepare("UPDATE model_versions SET current_stage = 'Archived' WHERE model_id = ? AND version = 3").bind(
        id,
      ),
    ]);
    const found = (await storageViolations(name)).join("\n");
    expect(found).toMatch(/history of version 2: a row goes Archived → Staging after the stage was Staging/);
    expect(found).toMatch(/version 3 is in Archived but its history ends in None/);
  });

  it("reports an alias to a missing version, rows left behind by a half-deleted version, and memory that disagrees with D1", async () => {
    const { name, id } = await healthyModel();
    await env.DB.prepare("PRAGMA foreign_keys = OFF")
      .run()
      .catch(() => undefined);
    await env.DB.batch([
      env.DB.prepare("INSERT INTO registered_model_aliases (model_id, alias, version) VALUES (?, 'ghost', 99)").bind(
        id,
      ),
      env.DB.prepare("DELETE FROM model_versions WHERE model_id = ? AND version = 1").bind(id),
    ]).catch(async () => {
      // D1 enforcing foreign keys: leave the version's manifest behind instead (no foreign key there).
      await env.DB.prepare("DELETE FROM model_versions WHERE model_id = ? AND version = 1").bind(id).run();
    });
    const storage = await snapshotFromStorage(env.DB, env.ARTIFACTS);
    const found = findViolations({
      ...storage,
      models: storage.models.filter((m) => m.name === name),
      artifacts: [],
    }).join("\n");
    expect(found).toMatch(/model_version_files row refers to a missing model or version/);
    if (found.includes("ghost")) expect(found).toMatch(/alias ghost points at missing version 99/);
    // The coordinator still holds v1 as Production in memory; D1 has no v1.
    expect((await httpViolations(name)).join("\n")).toMatch(/latest_versions from the coordinator .* differ from D1/);
  });

  it("reports a change without its event, an event without its change, and a gap in the sequence", async () => {
    const { name, id } = await healthyModel();
    // Version 2's promotion to Staging loses its event; version 3 gains a stage event it never had.
    await env.DB.batch([
      env.DB.prepare(
        "DELETE FROM events WHERE model_id = ? AND type = 'model_version.stage_transitioned' AND version = 2",
      ).bind(id),
      env.DB.prepare(
        "INSERT INTO events (id, model_id, model_name, sequence, type, version, from_value, to_value, timestamp) VALUES (?, ?, ?, 1000, 'model_version.stage_transitioned', 3, 'None', 'Staging', 0)",
      ).bind(crypto.randomUUID(), id, name),
    ]);
    const found = (await storageViolations(name)).join("\n");
    expect(found).toMatch(/version 2 is in Staging but its stage events end in None/);
    expect(found).toMatch(/version 2 has 1 history rows and 0 stage events/);
    expect(found).toMatch(/version 3 is in None but its stage events end in Staging/);
    expect(found).toMatch(/carries sequence 1000 \(gap or duplicate\)/);
  });

  it("reports a deleted model whose events do not end with its deletion", async () => {
    const { name, id } = await healthyModel();
    await call("DELETE", "/api/2.0/mlflow/registered-models/delete", { name });
    expect(await storageViolations(name)).toEqual([]);
    await env.DB.prepare("DELETE FROM events WHERE model_id = ? AND type = 'registered_model.deleted'").bind(id).run();
    expect((await storageViolations(name)).join("\n")).toMatch(/do not end with registered_model.deleted/);
  });

  it("reports an indexed artifact whose R2 object is incomplete", async () => {
    const { root } = await healthyModel();
    // A file of the model's run outside any version folder (those are sealed against new files).
    const path = `${root}/loose.bin`;
    await call("PUT", `/api/2.0/mlflow-artifacts/artifacts/${path}`, undefined, "0123456789");
    const row = await env.DB.prepare("SELECT blob_key FROM artifact_objects WHERE path = ?")
      .bind(path)
      .first<{ blob_key: string }>();
    await env.ARTIFACTS.put(row!.blob_key, "01234");
    const snapshot = await snapshotFromStorage(env.DB, env.ARTIFACTS);
    const found = findViolations({ ...snapshot, models: [], orphanRows: [] }).join("\n");
    expect(found).toMatch(new RegExp(`artifact ${path}: indexed 10 B \\w+, stored 5 B`));
  });
});
