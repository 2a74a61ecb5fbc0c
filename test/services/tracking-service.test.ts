import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { NotFoundError } from "../../src/errors";
import { servicesFor } from "../../src/services";
import { uniqueName } from "../helpers";

/** The local user (auth off): no model narrowing. */
const UNRESTRICTED = { tokenId: null, models: null };

// The methods the registry (model versions from runs and logged models, lineage) calls directly.

vi.setConfig({ testTimeout: 30_000 });

const tracking = () => servicesFor(env).tracking;

describe("The tracking services the registry calls", () => {
  it("getRun returns domain types and throws NotFoundError for unknown runs", async () => {
    const t = tracking();
    const experimentId = await t.experiments.createExperiment({ name: uniqueName("svc") });
    const created = await t.runs.createRun({ experimentId, runName: "r", startTime: 5 });
    const run = await t.runs.getRun(created.info.runId);
    expect(run.info).toEqual({
      runId: created.info.runId,
      experimentId,
      runName: "r",
      userId: null,
      status: "RUNNING",
      startTime: 5,
      endTime: null,
      artifactUri: `mlflow-artifacts:/${experimentId}/${created.info.runId}/artifacts`,
      lifecycleStage: "active",
    });
    await expect(t.runs.getRun("0".repeat(32))).rejects.toBeInstanceOf(NotFoundError);
  });

  it("getRunLineage returns params, latest metrics, tags and the experiment", async () => {
    const t = tracking();
    const experimentId = await t.experiments.createExperiment({ name: uniqueName("svc") });
    const { info } = await t.runs.createRun({ experimentId, runName: "lineage" });
    await t.runData.logBatch(UNRESTRICTED, info.runId, {
      params: [{ key: "alpha", value: "0.5" }],
      metrics: [
        { key: "rmse", value: 2, timestamp: 1, step: 0 },
        { key: "rmse", value: 1, timestamp: 2, step: 1 },
      ],
      tags: [{ key: "team", value: "a" }],
    });
    const lineage = await t.runs.getRunLineage(info.runId);
    expect(lineage.run.runId).toBe(info.runId);
    expect(lineage.params).toEqual([{ key: "alpha", value: "0.5" }]);
    expect(lineage.metrics).toEqual([{ key: "rmse", value: 1, timestamp: 2, step: 1 }]);
    expect(lineage.tags).toEqual([
      { key: "mlflow.runName", value: "lineage" },
      { key: "team", value: "a" },
    ]);
    expect(lineage.experiment).toMatchObject({
      experimentId,
      artifactLocation: `mlflow-artifacts:/${experimentId}`,
      lifecycleStage: "active",
    });
    await expect(t.runs.getRunLineage("1".repeat(32))).rejects.toBeInstanceOf(NotFoundError);
  });

  it("getLoggedModel returns the model's location and source run; recordModelVersion appends to mlflow.modelVersions", async () => {
    const t = tracking();
    const experimentId = await t.experiments.createExperiment({ name: uniqueName("svc") });
    const { info } = await t.runs.createRun({ experimentId });
    const created = await t.loggedModels.createLoggedModel({ experimentId, name: "m", sourceRunId: info.runId });
    const model = await t.loggedModels.getLoggedModel(created.modelId);
    expect(model).toMatchObject({
      modelId: created.modelId,
      experimentId,
      artifactUri: `mlflow-artifacts:/${experimentId}/models/${created.modelId}/artifacts`,
      sourceRunId: info.runId,
      status: "LOGGED_MODEL_PENDING",
    });
    await t.loggedModels.recordModelVersion(created.modelId, "Registered", 1);
    await t.loggedModels.recordModelVersion(created.modelId, "Registered", 2);
    const tag = (await t.loggedModels.getLoggedModel(created.modelId)).tags.find(
      (x) => x.key === "mlflow.modelVersions",
    );
    expect(tag?.value).toBe('[{"name": "Registered", "version": 1}, {"name": "Registered", "version": 2}]');
    await expect(t.loggedModels.getLoggedModel(`m-${"0".repeat(32)}`)).rejects.toBeInstanceOf(NotFoundError);
    await t.loggedModels.deleteLoggedModel(UNRESTRICTED, created.modelId);
    await expect(t.loggedModels.getLoggedModel(created.modelId)).rejects.toBeInstanceOf(NotFoundError);
  });
});
