// Registers models the way a training job does, over the real HTTP API of a running server.
// `base` is the server's URL, or { url, token } for a server with access control on.
import assert from "node:assert/strict";

/** A server's URL, or its URL and a token for a server with access control on. */
export type Target = string | { url: string; token?: string };

const target = (base: Target) => (typeof base === "string" ? { url: base, token: undefined } : base);
const auth = (token: string | undefined): Record<string, string> => (token ? { authorization: `Bearer ${token}` } : {});

export async function ok(
  base: Target,
  method: string,
  route: string,
  params: Record<string, unknown> = {},
): Promise<any> {
  const { url, token } = target(base);
  let address = `${url}/api/2.0/${route}`;
  const init: RequestInit = { method, headers: { "content-type": "application/json", ...auth(token) } };
  if (method === "GET") address += `?${new URLSearchParams(params as Record<string, string>)}`;
  else init.body = JSON.stringify(params);
  const res = await fetch(address, init);
  const text = await res.text();
  assert.equal(res.status, 200, `${method} ${route}: ${text}`);
  return JSON.parse(text);
}

export async function uploadArtifact(base: Target, path: string, body: string | Uint8Array) {
  const { url, token } = target(base);
  const res = await fetch(`${url}/api/2.0/mlflow-artifacts/artifacts/${path}`, {
    method: "PUT",
    body: body as BodyInit,
    headers: auth(token),
  });
  assert.equal(res.status, 200, `upload ${path}: ${await res.text()}`);
}

/**
 * A training curve that ends at `final`: starts at `start` and decays towards it over `epochs` steps,
 * with a small fixed wobble (no randomness: the same picture every run).
 */
export function curve(start: number, final: number, epochs: number, phase = 0, speed = 5) {
  const tail = Math.exp(-speed);
  return Array.from({ length: epochs }, (_, t) => {
    const decay = (Math.exp((-speed * t) / (epochs - 1)) - tail) / (1 - tail); // 1 at the first step, 0 at the last
    const wobble = 0.02 * Math.abs(start - final) * Math.sin(1.7 * t + phase) * decay;
    return Number((final + (start - final) * decay + wobble).toFixed(4));
  });
}

/**
 * An experiment and a run with params and metrics, its model folder uploaded, registered as the next
 * version. `metrics` are logged once at step 0; `history` maps a metric to its value at steps 0, 1, …
 */
export async function registerTrainedVersion(
  base: Target,
  {
    name,
    experimentId,
    runName,
    params,
    metrics,
    history = {},
    files,
  }: {
    name: string;
    experimentId: string;
    runName: string;
    params: Record<string, string>;
    metrics: Record<string, number>;
    history?: Record<string, number[]>;
    files: Record<string, string | Uint8Array>;
  },
): Promise<{ runId: string; version: string }> {
  const started = Date.now();
  const run = await ok(base, "POST", "mlflow/runs/create", {
    experiment_id: experimentId,
    start_time: started,
    run_name: runName,
  });
  const runId = run.run.info.run_id;
  for (const [key, value] of Object.entries(params))
    await ok(base, "POST", "mlflow/runs/log-parameter", { run_id: runId, key, value });
  for (const [key, value] of Object.entries(metrics)) {
    await ok(base, "POST", "mlflow/runs/log-metric", { run_id: runId, key, value, timestamp: Date.now(), step: 0 });
  }
  const points = Object.entries(history).flatMap(([key, values]) =>
    values.map((value, step) => ({ key, value, step, timestamp: started + step * 1000 })),
  );
  for (let i = 0; i < points.length; i += 1000)
    await ok(base, "POST", "mlflow/runs/log-batch", { run_id: runId, metrics: points.slice(i, i + 1000) });
  for (const [path, body] of Object.entries(files))
    await uploadArtifact(base, `${experimentId}/${runId}/artifacts/model/${path}`, body);
  await ok(base, "POST", "mlflow/runs/update", {
    run_id: runId,
    status: "FINISHED",
    end_time: started + 1000 * Math.max(1, ...Object.values(history).map((v) => v.length)),
  });
  const created = await ok(base, "POST", "mlflow/model-versions/create", {
    name,
    source: `runs:/${runId}/model`,
    run_id: runId,
  });
  assert.equal(created.model_version.status, "READY");
  return { runId, version: created.model_version.version };
}

export const EPOCHS = 40;

/**
 * HousePricePredictor with three trained versions, as the README shows it: different params, final
 * metrics (rmse, mae, r2) and per-epoch curves (rmse and r2 every epoch, so the last epoch's value
 * is the final one; train_loss too).
 */
export async function seedHousePrices(base: Target, name = "HousePricePredictor") {
  const experiment = await ok(base, "POST", "mlflow/experiments/create", { name: `house-prices-${name}` });
  await ok(base, "POST", "mlflow/registered-models/create", {
    name,
    description: "Predicts sale prices from the listing's features.",
    tags: [
      { key: "team", value: "pricing" },
      { key: "task", value: "regression" },
    ],
  });
  const common = {
    MLmodel: "artifact_path: model\nflavors:\n  python_function:\n    loader_module: mlflow.sklearn\n",
    "requirements.txt": "scikit-learn==1.5.2\n",
  };
  const trained = (
    runName: string,
    params: Record<string, string>,
    final: { rmse: number; mae: number; r2: number; loss: number },
    phase: number,
    speed: number,
    weights: string,
  ) =>
    registerTrainedVersion(base, {
      name,
      experimentId: experiment.experiment_id,
      runName,
      params: { model: "GradientBoostingRegressor", ...params },
      metrics: { mae: final.mae },
      history: {
        rmse: curve(1.9, final.rmse, EPOCHS, phase, speed),
        r2: curve(0.05, final.r2, EPOCHS, phase + 1, speed),
        train_loss: curve(2.4, final.loss, EPOCHS, phase + 2, speed),
      },
      files: { ...common, "model.pkl": weights },
    });
  const v1 = await trained(
    "gbr-baseline",
    { learning_rate: "0.1", n_estimators: "200", max_depth: "3" },
    { rmse: 0.78, mae: 0.52, r2: 0.81, loss: 0.55 },
    0,
    6,
    "v1-weights-".repeat(4000),
  );
  const v2 = await trained(
    "gbr-tuned",
    { learning_rate: "0.05", n_estimators: "400", max_depth: "4" },
    { rmse: 0.71, mae: 0.49, r2: 0.84, loss: 0.42 },
    1,
    4,
    "v2-weights-".repeat(5000),
  );
  const v3 = await trained(
    "gbr-deep",
    { learning_rate: "0.05", n_estimators: "800", max_depth: "6" },
    { rmse: 0.74, mae: 0.5, r2: 0.83, loss: 0.21 },
    2,
    2.5,
    "v3-weights-".repeat(6000),
  );
  return { name, versions: [v1, v2, v3] };
}

/** A second model for the models list: a classifier whose runs log accuracy, auc and f1 per epoch. */
export async function seedChurn(base: Target, name = "ChurnClassifier") {
  const experiment = await ok(base, "POST", "mlflow/experiments/create", { name: `churn-${name}` });
  await ok(base, "POST", "mlflow/registered-models/create", {
    name,
    description: "Flags accounts likely to cancel within 30 days.",
    tags: [{ key: "team", value: "growth" }],
  });
  const versions: { runId: string; version: string }[] = [];
  for (const [i, final] of [
    { accuracy: 0.87, auc: 0.91, f1: 0.71 },
    { accuracy: 0.89, auc: 0.93, f1: 0.74 },
  ].entries()) {
    versions.push(
      await registerTrainedVersion(base, {
        name,
        experimentId: experiment.experiment_id,
        runName: `xgb-${i + 1}`,
        params: { model: "XGBClassifier", max_depth: String(5 + i), eta: "0.1" },
        metrics: {},
        history: {
          accuracy: curve(0.6, final.accuracy, 25, i),
          auc: curve(0.5, final.auc, 25, i + 1),
          f1: curve(0.3, final.f1, 25, i + 2),
        },
        files: { MLmodel: "artifact_path: model\nflavors: {}\n", "model.json": `{"trees": ${i + 1}}` },
      }),
    );
  }
  return { name, versions };
}
