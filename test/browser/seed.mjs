// Registers models the way a training job does, over the real HTTP API of a running server.
import assert from "node:assert/strict";
import { api } from "../e2e/server.mjs";

async function ok(base, method, route, params) {
  const res = await api(base, method, route, params);
  assert.equal(res.status, 200, `${method} ${route}: ${JSON.stringify(res.body)}`);
  return res.body;
}

export async function uploadArtifact(base, path, body) {
  const res = await fetch(`${base}/api/2.0/mlflow-artifacts/artifacts/${path}`, { method: "PUT", body });
  assert.equal(res.status, 200, `upload ${path}: ${await res.text()}`);
}

/** An experiment and a run with params and metrics, its model folder uploaded, registered as the next version. */
export async function registerTrainedVersion(base, { name, experimentId, runName, params, metrics, files }) {
  const run = await ok(base, "POST", "mlflow/runs/create", { experiment_id: experimentId, start_time: Date.now(), run_name: runName });
  const runId = run.run.info.run_id;
  for (const [key, value] of Object.entries(params)) await ok(base, "POST", "mlflow/runs/log-parameter", { run_id: runId, key, value });
  for (const [key, value] of Object.entries(metrics)) {
    await ok(base, "POST", "mlflow/runs/log-metric", { run_id: runId, key, value, timestamp: Date.now(), step: 0 });
  }
  for (const [path, body] of Object.entries(files)) await uploadArtifact(base, `${experimentId}/${runId}/artifacts/model/${path}`, body);
  await ok(base, "POST", "mlflow/runs/update", { run_id: runId, status: "FINISHED", end_time: Date.now() });
  const created = await ok(base, "POST", "mlflow/model-versions/create", { name, source: `runs:/${runId}/model`, run_id: runId });
  assert.equal(created.model_version.status, "READY");
  return { runId, version: created.model_version.version };
}

/** HousePricePredictor with two trained versions (different params and metrics), as the README shows it. */
export async function seedHousePrices(base, name = "HousePricePredictor") {
  const experiment = await ok(base, "POST", "mlflow/experiments/create", { name: `house-prices-${name}` });
  await ok(base, "POST", "mlflow/registered-models/create", {
    name,
    description: "Predicts sale prices from the listing's features.",
    tags: [
      { key: "team", value: "pricing" },
      { key: "task", value: "regression" },
    ],
  });
  const common = { MLmodel: "artifact_path: model\nflavors:\n  python_function:\n    loader_module: mlflow.sklearn\n", "requirements.txt": "scikit-learn==1.5.2\n" };
  const v1 = await registerTrainedVersion(base, {
    name,
    experimentId: experiment.experiment_id,
    runName: "gbr-baseline",
    params: { model: "GradientBoostingRegressor", learning_rate: "0.1", n_estimators: "200", max_depth: "3" },
    metrics: { rmse: 0.78, mae: 0.52, r2: 0.81 },
    files: { ...common, "model.pkl": "v1-weights-".repeat(4000) },
  });
  const v2 = await registerTrainedVersion(base, {
    name,
    experimentId: experiment.experiment_id,
    runName: "gbr-tuned",
    params: { model: "GradientBoostingRegressor", learning_rate: "0.05", n_estimators: "400", max_depth: "4" },
    metrics: { rmse: 0.71, mae: 0.49, r2: 0.84 },
    files: { ...common, "model.pkl": "v2-weights-".repeat(5000) },
  });
  return { name, versions: [v1, v2] };
}
