import { env, exports } from "cloudflare:workers";
import { expect } from "vitest";
import { servicesFor } from "../../src/services";
import { call, createModel } from "../helpers";

/**
 * A run whose model folder holds the given files, registered as a new version of `name` (a new
 * model when none is given): the files are uploaded as the MLflow client uploads them.
 */
export async function registeredVersion(
  files: Record<string, Uint8Array | string>,
  name?: string,
): Promise<{ name: string; version: string; modelId: string }> {
  const exp = await call("POST", "/experiments/create", { name: `scan-exp-${crypto.randomUUID()}` });
  const run = await call("POST", "/runs/create", { experiment_id: exp.body.experiment_id, start_time: Date.now() });
  const runId = run.body.run.info.run_id as string;
  for (const [path, body] of Object.entries(files)) {
    const url = `http://modelgate.test/api/2.0/mlflow-artifacts/artifacts/${exp.body.experiment_id}/${runId}/artifacts/model/${path}`;
    const res = await exports.default.fetch(new Request(url, { method: "PUT", body }));
    expect(res.status).toBe(200);
  }
  const model = name ?? (await createModel());
  const created = await call("POST", "/model-versions/create", { name: model, source: `runs:/${runId}/model` });
  expect(created.body.model_version.status).toBe("READY");
  const version = created.body.model_version.version as string;
  const found = await servicesFor(env).registry.getVersion(model, version);
  return { name: model, version, modelId: found.modelId };
}

/** The model's registry events of `type`, straight from the outbox. */
export async function eventsOf(modelId: string, type: string) {
  const rows = await env.DB.prepare(
    "SELECT version, from_value, to_value, data FROM events WHERE model_id = ? AND type = ? ORDER BY sequence",
  )
    .bind(modelId, type)
    .all<{ version: number; from_value: string | null; to_value: string | null; data: string }>();
  return rows.results.map((r) => ({
    version: r.version,
    from: r.from_value,
    to: r.to_value,
    data: JSON.parse(r.data) as Record<string, string>,
  }));
}
