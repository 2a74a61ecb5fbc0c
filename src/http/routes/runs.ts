import { Hono } from "hono";
import { requires } from "../auth";
import type { AppEnv } from "../context";
import { readInput } from "../input";
import * as S from "../schemas/tracking";
import { pageJson } from "../serializers";
import { metricJson, runArtifactsJson, runInfoJson, runJson } from "../tracking-serializers";

// Scopes: reads need `read`, creating and logging `write` (what a training job holds), deletes and
// restores `admin`, like the registry's deletes.
export const runRoutes = new Hono<AppEnv>();
const r = runRoutes;

r.post("/runs/create", requires("write"), async (c) => {
  const input = await readInput(c, S.CreateRun);
  const run = await c.var.services.tracking.runs.createRun({
    experimentId: input.experiment_id,
    userId: input.user_id ?? c.var.userId,
    startTime: input.start_time,
    tags: input.tags,
    runName: input.run_name,
    createdByToken: c.var.principal?.tokenId ?? null,
  });
  return c.json({ run: runJson(run) });
});

r.get("/runs/get", requires("read"), async (c) => {
  const { run_id } = await readInput(c, S.GetRun);
  return c.json({ run: runJson(await c.var.services.tracking.runs.getRun(run_id)) });
});

r.post("/runs/update", requires("write"), async (c) => {
  const input = await readInput(c, S.UpdateRun);
  const info = await c.var.services.tracking.runs.updateRun(c.var.principal!, {
    runId: input.run_id,
    status: input.status,
    endTime: input.end_time,
    runName: input.run_name,
  });
  return c.json({ run_info: runInfoJson(info) });
});

r.post("/runs/delete", requires("admin"), async (c) => {
  const { run_id } = await readInput(c, S.DeleteRun);
  await c.var.services.tracking.runs.deleteRun(c.var.principal!, run_id);
  return c.json({});
});

r.post("/runs/restore", requires("admin"), async (c) => {
  const { run_id } = await readInput(c, S.RestoreRun);
  await c.var.services.tracking.runs.restoreRun(c.var.principal!, run_id);
  return c.json({});
});

r.on(["GET", "POST"], "/runs/search", requires("read", undefined, { readSentAsPost: true }), async (c) => {
  const input = await readInput(c, S.SearchRuns);
  const page = await c.var.services.tracking.runs.searchRuns({
    experimentIds: input.experiment_ids ?? [],
    filter: input.filter,
    runViewType: input.run_view_type,
    maxResults: input.max_results,
    orderBy: input.order_by,
    pageToken: input.page_token,
  });
  return c.json(pageJson("runs", page.items, page.nextPageToken, runJson));
});

r.post("/runs/log-metric", requires("write"), async (c) => {
  const m = await readInput(c, S.LogMetric);
  await c.var.services.tracking.runData.logMetric(c.var.principal!, m.run_id, {
    key: m.key,
    value: m.value,
    timestamp: m.timestamp,
    step: m.step,
    modelId: m.model_id,
    datasetName: m.dataset_name,
    datasetDigest: m.dataset_digest,
  });
  return c.json({});
});

r.post("/runs/log-parameter", requires("write"), async (c) => {
  const { run_id, key, value } = await readInput(c, S.LogParam);
  await c.var.services.tracking.runData.logParam(c.var.principal!, run_id, { key, value });
  return c.json({});
});

r.post("/runs/log-batch", requires("write"), async (c) => {
  const input = await readInput(c, S.LogBatch);
  await c.var.services.tracking.runData.logBatch(c.var.principal!, input.run_id, {
    metrics: input.metrics?.map((m) => ({
      key: m.key,
      value: m.value,
      timestamp: m.timestamp,
      step: m.step,
      modelId: m.model_id,
      datasetName: m.dataset_name,
      datasetDigest: m.dataset_digest,
    })),
    params: input.params,
    tags: input.tags,
  });
  return c.json({});
});

r.post("/runs/set-tag", requires("write"), async (c) => {
  const { run_id, key, value } = await readInput(c, S.SetTag);
  await c.var.services.tracking.runData.setTag(c.var.principal!, run_id, { key, value });
  return c.json({});
});

r.post("/runs/delete-tag", requires("write"), async (c) => {
  const { run_id, key } = await readInput(c, S.DeleteTag);
  await c.var.services.tracking.runData.deleteTag(c.var.principal!, run_id, key);
  return c.json({});
});

r.post("/runs/log-model", requires("write"), async (c) => {
  const { run_id, model_json } = await readInput(c, S.LogModel);
  await c.var.services.tracking.runData.logModel(c.var.principal!, run_id, model_json);
  return c.json({});
});

r.post("/runs/log-inputs", requires("write"), async (c) => {
  const input = await readInput(c, S.LogInputs);
  await c.var.services.tracking.runData.logInputs(c.var.principal!, input.run_id, {
    datasets: input.datasets?.map((d) => ({
      tags: d.tags,
      dataset: d.dataset && {
        name: d.dataset.name,
        digest: d.dataset.digest,
        sourceType: d.dataset.source_type,
        source: d.dataset.source,
        schema: d.dataset.schema,
        profile: d.dataset.profile,
      },
    })),
    modelIds: input.models?.map((m) => m.model_id),
  });
  return c.json({});
});

r.post("/runs/outputs", requires("write"), async (c) => {
  const input = await readInput(c, S.LogOutputs);
  await c.var.services.tracking.runData.logOutputs(
    c.var.principal!,
    input.run_id,
    input.models.map((m) => ({ modelId: m.model_id, step: m.step })),
  );
  return c.json({});
});

r.get("/metrics/get-history", requires("read"), async (c) => {
  const input = await readInput(c, S.GetMetricHistory);
  const page = await c.var.services.tracking.runData.getMetricHistory({
    runId: input.run_id,
    metricKey: input.metric_key,
    maxResults: input.max_results,
    pageToken: input.page_token,
  });
  return c.json(pageJson("metrics", page.items, page.nextPageToken, metricJson));
});

r.get("/artifacts/list", requires("read"), async (c) => {
  const { run_id, path } = await readInput(c, S.ListArtifacts);
  return c.json(
    runArtifactsJson(await c.var.services.tracking.runArtifacts.listArtifacts(c.var.principal!, run_id, path)),
  );
});
