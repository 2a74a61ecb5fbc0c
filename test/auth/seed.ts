import { exports } from "cloudflare:workers";
import { ADMIN, bearer, send } from "./helpers";

// A registered model as a training job leaves it: a run with uploaded files, a READY version in
// Production with an alias and tags, a description. Made with the bootstrap admin token.

const MLFLOW = "/api/2.0/mlflow";

export interface SeededModel {
  name: string;
  runId: string;
  /** The version's source folder inside the artifact store (`<exp>/<run>/artifacts/model`). */
  folder: string;
  /** Strings that exist only in this model's data: none may reach a caller without rights on it. */
  secrets: string[];
}

async function ok(method: string, path: string, params: Record<string, unknown>): Promise<Record<string, any>> {
  const res = await send(method, path, params, bearer(ADMIN));
  if (res.status !== 200) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

export async function seedModel(name: string): Promise<SeededModel> {
  const secret = `secret-of-${name}`;
  const experiment = await ok("POST", `${MLFLOW}/experiments/create`, { name: `exp-${crypto.randomUUID()}` });
  const run = (
    await ok("POST", `${MLFLOW}/runs/create`, { experiment_id: experiment.experiment_id, start_time: Date.now() })
  ).run;
  const folder = `${String(run.info.artifact_uri).replace(/^mlflow-artifacts:\//, "")}/model`;
  for (const [file, body] of [
    ["MLmodel", `flavors: {} # ${secret}`],
    ["model.pkl", secret],
  ]) {
    const res = await exports.default.fetch(
      new Request(`http://modelgate.test/api/2.0/mlflow-artifacts/artifacts/${folder}/${file}`, {
        method: "PUT",
        body,
        headers: { authorization: bearer(ADMIN) },
      }),
    );
    if (res.status !== 200) throw new Error(`upload ${file}: ${res.status} ${await res.text()}`);
  }
  await ok("POST", `${MLFLOW}/registered-models/create`, {
    name,
    description: `description ${secret}`,
    tags: [{ key: "team", value: `tag ${secret}` }],
  });
  await ok("POST", `${MLFLOW}/model-versions/create`, {
    name,
    source: `mlflow-artifacts:/${folder}`,
    run_id: run.info.run_id,
    tags: [{ key: "v", value: `vtag ${secret}` }],
  });
  await ok("POST", `${MLFLOW}/model-versions/transition-stage`, {
    name,
    version: "1",
    stage: "Production",
    archive_existing_versions: false,
  });
  await ok("POST", `${MLFLOW}/registered-models/alias`, { name, alias: "champion", version: "1" });
  // The version's pickle scan, done and recorded now (its verdict and model_version.scanned event):
  // the queued one then finds it recorded and writes nothing, so no snapshot sees it land mid-test.
  const { env } = await import("cloudflare:workers");
  const { servicesFor } = await import("../../src/services");
  const model = await env.DB.prepare("SELECT id FROM registered_models WHERE name = ?")
    .bind(name)
    .first<{ id: string }>();
  if (!model) throw new Error(`seeded model ${name} not found`);
  const services = servicesFor(env);
  await services.scans.scanVersion(model.id, 1);
  await services.policies.recordScan(model.id, 1);
  return { name, runId: run.info.run_id, folder, secrets: [secret, folder] };
}

/**
 * Everything stored about a model and its files: its rows in every table that names it, the index
 * entries (and so the bytes, which are immutable blobs) under its version folder, its audit rows,
 * and its policy as the API answers it. Equal snapshots mean nothing of the model changed.
 */
export async function modelSnapshot(model: SeededModel): Promise<unknown> {
  const { env } = await import("cloudflare:workers");
  const row = await env.DB.prepare("SELECT * FROM registered_models WHERE name = ?")
    .bind(model.name)
    .first<{ id: string }>();
  const id = row?.id ?? "";
  const all = async (sql: string, ...params: unknown[]) =>
    (
      await env.DB.prepare(sql)
        .bind(...params)
        .all()
    ).results;
  return {
    model: row,
    versions: await all("SELECT * FROM model_versions WHERE model_id = ? ORDER BY version", id),
    versionTags: await all("SELECT * FROM model_version_tags WHERE model_id = ? ORDER BY version, key", id),
    modelTags: await all("SELECT * FROM registered_model_tags WHERE model_id = ? ORDER BY key", id),
    aliases: await all("SELECT * FROM registered_model_aliases WHERE model_id = ? ORDER BY alias", id),
    transitions: await all("SELECT * FROM stage_transitions WHERE model_id = ? ORDER BY id", id),
    events: await all(
      "SELECT model_id, sequence, type FROM events WHERE model_id = ? OR model_name = ? ORDER BY sequence",
      id,
      model.name,
    ),
    webhooks: await all("SELECT * FROM webhooks WHERE model_id = ? OR model_name = ? ORDER BY id", id, model.name),
    // D1 refuses LIKE patterns over 50 bytes: compare the prefix instead.
    files: await all(
      "SELECT * FROM artifact_objects WHERE path = ? OR substr(path, 1, ?) = ? ORDER BY path",
      model.folder,
      model.folder.length + 1,
      `${model.folder}/`,
    ),
    run: await all("SELECT run_id, name, status, end_time, lifecycle_stage FROM runs WHERE run_id = ?", model.runId),
    runTags: await all("SELECT * FROM run_tags WHERE run_id = ? ORDER BY key", model.runId),
    audit: await all("SELECT id, action, status FROM audit_events WHERE model_name = ? ORDER BY id", model.name),
    policy: (await send("GET", "/api/2.0/modelgate/registered-models/policy", { name: model.name }, bearer(ADMIN)))
      .body,
  };
}
