import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, createModel, uniqueName } from "../helpers";

async function upload(path: string, body: string) {
  const res = await exports.default.fetch(
    new Request(`http://modelgate.test/api/2.0/mlflow-artifacts/artifacts/${path}`, { method: "PUT", body }),
  );
  expect(res.status).toBe(200);
}

async function trainedRun() {
  const exp = await call("POST", "/experiments/create", { name: uniqueName("exp") });
  const experimentId = exp.body.experiment_id as string;
  const run = await call("POST", "/runs/create", { experiment_id: experimentId, start_time: Date.now() });
  const runId = run.body.run.info.run_id as string;
  await call("POST", "/runs/log-parameter", { run_id: runId, key: "alpha", value: "0.5" });
  await call("POST", "/runs/log-metric", { run_id: runId, key: "rmse", value: 0.78, timestamp: Date.now(), step: 0 });
  await call("POST", "/runs/set-tag", { run_id: runId, key: "team", value: "pricing" });
  return { experimentId, runId, artifactRoot: `${experimentId}/${runId}/artifacts` };
}

describe("model versions from runs", () => {
  it("registers a runs:/ source with its run link and manifest, and answers lineage in one response", async () => {
    const { experimentId, runId, artifactRoot } = await trainedRun();
    await upload(`${artifactRoot}/model/MLmodel`, "flavors: {}");
    await upload(`${artifactRoot}/model/model.pkl`, "weights");
    const name = await createModel();
    const created = await call("POST", "/model-versions/create", { name, source: `runs:/${runId}/model` });
    expect(created.body.model_version).toMatchObject({
      version: "1",
      status: "READY",
      run_id: runId,
      source: `runs:/${runId}/model`,
    });
    const uri = await call("GET", "/model-versions/get-download-uri", { name, version: "1" });
    expect(uri.body.artifact_uri).toBe(`mlflow-artifacts:/${artifactRoot}/model`);

    const lineage = await call(
      "GET",
      "/model-versions/lineage",
      { name, version: "1" },
      "http://modelgate.test/api/2.0/modelgate",
    );
    expect(lineage.status).toBe(200);
    expect(lineage.body.model_version.version).toBe("1");
    expect(lineage.body.run.info.run_id).toBe(runId);
    expect(lineage.body.run.params).toEqual([{ key: "alpha", value: "0.5" }]);
    expect(lineage.body.run.metrics).toEqual([expect.objectContaining({ key: "rmse", value: 0.78 })]);
    expect(lineage.body.run.tags).toEqual(expect.arrayContaining([{ key: "team", value: "pricing" }]));
    expect(lineage.body.experiment.experiment_id).toBe(experimentId);
    expect(lineage.body.files.map((f: { path: string }) => f.path)).toEqual(["MLmodel", "model.pkl"]);
  });

  it("registers an MLflow 3 models:/m-<id> source, filling run_id from the logged model", async () => {
    const { experimentId, runId } = await trainedRun();
    const logged = await call("POST", "/logged-models", {
      experiment_id: experimentId,
      name: "model",
      source_run_id: runId,
    });
    expect(logged.status).toBe(200);
    const modelId = logged.body.model.info.model_id as string;
    expect(logged.body.model.info.artifact_uri).toBe(`mlflow-artifacts:/${experimentId}/models/${modelId}/artifacts`);
    await upload(`${experimentId}/models/${modelId}/artifacts/MLmodel`, "flavors: {}");
    const name = await createModel();
    const created = await call("POST", "/model-versions/create", {
      name,
      source: `models:/${modelId}`,
      model_id: modelId,
    });
    expect(created.body.model_version).toMatchObject({ status: "READY", run_id: runId, model_id: modelId });
    const uri = await call("GET", "/model-versions/get-download-uri", { name, version: "1" });
    expect(uri.body.artifact_uri).toBe(`mlflow-artifacts:/${experimentId}/models/${modelId}/artifacts`);
    // As MLflow 3's server does, the logged model notes the registered version made from it.
    const after = await call("GET", `/logged-models/${modelId}`);
    const tag = after.body.model.info.tags.find((t: { key: string }) => t.key === "mlflow.modelVersions");
    expect(JSON.parse(tag.value)).toEqual([{ name, version: 1 }]);
  });

  it("fails registration with a clear message for an unknown run or an empty run folder", async () => {
    const name = await createModel();
    const unknown = await call("POST", "/model-versions/create", {
      name,
      source: "runs:/0123456789abcdef0123456789abcdef/model",
    });
    expect(unknown.body.model_version.status).toBe("FAILED_REGISTRATION");
    expect(unknown.body.model_version.status_message).toMatch(/could not be resolved/);
    const { runId } = await trainedRun();
    const empty = await call("POST", "/model-versions/create", { name, source: `runs:/${runId}/model` });
    expect(empty.body.model_version.status).toBe("FAILED_REGISTRATION");
    expect(empty.body.model_version.status_message).toMatch(/has no files/);
  });

  it("answers lineage without a run for a version that names none", async () => {
    const name = await createModel();
    await call("POST", "/model-versions/create", { name, source: "s3://bucket/elsewhere" });
    const lineage = await call(
      "GET",
      "/model-versions/lineage",
      { name, version: "1" },
      "http://modelgate.test/api/2.0/modelgate",
    );
    expect(lineage.status).toBe(200);
    expect(lineage.body.run).toBeUndefined();
    expect(lineage.body.model_version.source).toBe("s3://bucket/elsewhere");
  });
});
