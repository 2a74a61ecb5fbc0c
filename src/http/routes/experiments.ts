import { Hono } from "hono";
import { requires } from "../auth";
import type { AppEnv } from "../context";
import { readInput } from "../input";
import * as S from "../schemas/tracking";
import { pageJson } from "../serializers";
import { experimentJson } from "../tracking-serializers";

// Scopes: reads need `read`, creating and logging `write` (what a training job holds), deletes and
// restores `admin`, like the registry's deletes.
export const experimentRoutes = new Hono<AppEnv>();
const r = experimentRoutes;

r.get("/experiments/get-by-name", requires("read"), async (c) => {
  const { experiment_name } = await readInput(c, S.GetExperimentByName);
  return c.json({
    experiment: experimentJson(await c.var.services.tracking.experiments.getExperimentByName(experiment_name)),
  });
});

r.post("/experiments/create", requires("write"), async (c) => {
  const input = await readInput(c, S.CreateExperiment);
  const experimentId = await c.var.services.tracking.experiments.createExperiment({
    name: input.name,
    artifactLocation: input.artifact_location,
    tags: input.tags,
  });
  return c.json({ experiment_id: experimentId });
});

r.get("/experiments/get", requires("read"), async (c) => {
  const { experiment_id } = await readInput(c, S.GetExperiment);
  return c.json({ experiment: experimentJson(await c.var.services.tracking.experiments.getExperiment(experiment_id)) });
});

r.on(["GET", "POST"], "/experiments/search", requires("read", undefined, { readSentAsPost: true }), async (c) => {
  const input = await readInput(c, S.SearchExperiments);
  const page = await c.var.services.tracking.experiments.searchExperiments({
    filter: input.filter,
    maxResults: input.max_results,
    orderBy: input.order_by,
    pageToken: input.page_token,
    viewType: input.view_type,
  });
  return c.json(pageJson("experiments", page.items, page.nextPageToken, experimentJson));
});

r.post("/experiments/update", requires("write"), async (c) => {
  const { experiment_id, new_name } = await readInput(c, S.UpdateExperiment);
  await c.var.services.tracking.experiments.renameExperiment(c.var.principal!, experiment_id, new_name);
  return c.json({});
});

r.post("/experiments/delete", requires("admin"), async (c) => {
  const { experiment_id } = await readInput(c, S.DeleteExperiment);
  await c.var.services.tracking.experiments.deleteExperiment(c.var.principal!, experiment_id);
  return c.json({});
});

r.post("/experiments/restore", requires("admin"), async (c) => {
  const { experiment_id } = await readInput(c, S.RestoreExperiment);
  await c.var.services.tracking.experiments.restoreExperiment(experiment_id);
  return c.json({});
});

r.post("/experiments/set-experiment-tag", requires("write"), async (c) => {
  const { experiment_id, key, value } = await readInput(c, S.SetExperimentTag);
  await c.var.services.tracking.experiments.setExperimentTag(experiment_id, { key, value });
  return c.json({});
});
