// End to end: the real `npm start` on a free port and a fresh $STATE_DIR, driven over HTTP, then
// restarted on the same state.
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { after, test } from "node:test";
import { api, freePort, freshStateDir, startServer } from "./server";

const stateDir = freshStateDir();
after(() => rmSync(stateDir, { recursive: true, force: true }));

test("serves the registry, stops cleanly, and keeps its data across a restart", async () => {
  const port = await freePort();
  let server = await startServer({ port, stateDir });
  assert.match(server.output(), /MLFLOW_TRACKING_URI=http:\/\/127\.0\.0\.1:\d+/);
  const health = await fetch(`${server.base}/health`);
  assert.equal(health.status, 200);
  assert.equal((await health.json()).status, "ok");

  const name = "HousePricePredictor";
  assert.equal(
    (await api(server.base, "POST", "mlflow/registered-models/create", { name, description: "prices" })).status,
    200,
  );
  // Three training runs, each logging its model: artifact writes land only under a run's root.
  const experiment = await api(server.base, "POST", "mlflow/experiments/create", { name: "house-prices" });
  assert.equal(experiment.status, 200, JSON.stringify(experiment.body));
  const runs = [];
  for (let i = 0; i < 3; i++) {
    const created = await api(server.base, "POST", "mlflow/runs/create", {
      experiment_id: experiment.body.experiment_id,
      start_time: Date.now(),
    });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const { run_id: id, artifact_uri: uri } = created.body.run.info;
    runs.push({ id, model: `${uri}/model` });
    const path = uri.replace(/^mlflow-artifacts:\//, "");
    const upload = await fetch(`${server.base}/api/2.0/mlflow-artifacts/artifacts/${path}/model/MLmodel`, {
      method: "PUT",
      body: `run ${id}`,
    });
    assert.equal(upload.status, 200, await upload.text());
  }
  for (const run of runs.slice(0, 2)) {
    const created = await api(server.base, "POST", "mlflow/model-versions/create", {
      name,
      source: run.model,
      run_id: run.id,
    });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    assert.equal(created.body.model_version.status, "READY");
  }
  const promoted = await api(server.base, "POST", "mlflow/model-versions/transition-stage", {
    name,
    version: "2",
    stage: "production",
    archive_existing_versions: false,
  });
  assert.equal(promoted.body.model_version.current_stage, "Production");
  assert.equal(
    (await api(server.base, "POST", "mlflow/registered-models/alias", { name, alias: "champion", version: "2" }))
      .status,
    200,
  );
  const duplicate = await api(server.base, "POST", "mlflow/registered-models/create", { name });
  assert.deepEqual([duplicate.status, duplicate.body.error_code], [400, "RESOURCE_ALREADY_EXISTS"]);

  const stopped = await server.stop("SIGINT");
  assert.equal(stopped.code, 0, "Ctrl-C stops the server cleanly");

  server = await startServer({ port, stateDir });
  try {
    const latest = await api(server.base, "GET", "mlflow/registered-models/get-latest-versions", {
      name,
      stages: "Production",
    });
    assert.equal(latest.status, 200);
    assert.deepEqual(
      latest.body.model_versions.map((v: { version: string }) => v.version),
      ["2"],
    );
    const byAlias = await api(server.base, "GET", "mlflow/registered-models/alias", { name, alias: "champion" });
    assert.equal(byAlias.body.model_version.version, "2");
    const model = await api(server.base, "GET", "mlflow/registered-models/get", { name });
    assert.equal(model.body.registered_model.description, "prices");
    const next = await api(server.base, "POST", "mlflow/model-versions/create", { name, source: runs[2]!.model });
    assert.equal(next.body.model_version.version, "3", "version numbering continues after the restart");
    const history = await api(server.base, "GET", "modelgate/model-versions/transitions", { name });
    assert.deepEqual(
      history.body.transitions.map((t: { version: string; from_stage: string; to_stage: string }) => [
        t.version,
        t.from_stage,
        t.to_stage,
      ]),
      [["2", "None", "Production"]],
    );
  } finally {
    await server.stop();
  }
});
