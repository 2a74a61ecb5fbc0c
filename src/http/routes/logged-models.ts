import { Hono } from "hono";
import { requires } from "../auth";
import type { AppEnv } from "../context";
import { readInput } from "../input";
import * as S from "../schemas/tracking";
import { pageJson } from "../serializers";
import { loggedModelJson } from "../tracking-serializers";

// MLflow 3 logged models (reads need the read scope, changes write, deletes admin). Every MLflow 3 `log_model` creates one, links it to the run, uploads its
// files under the model's artifact_uri and finalizes it.
export const loggedModelRoutes = new Hono<AppEnv>();
const r = loggedModelRoutes;

r.post("/logged-models", requires("write"), async (c) => {
  const input = await readInput(c, S.CreateLoggedModel);
  const model = await c.var.services.tracking.loggedModels.createLoggedModel({
    experimentId: input.experiment_id,
    name: input.name,
    modelType: input.model_type,
    sourceRunId: input.source_run_id,
    params: input.params,
    tags: input.tags,
    createdByToken: c.var.principal?.tokenId ?? null,
  });
  return c.json({ model: loggedModelJson(model) });
});

r.post("/logged-models/search", requires("read", undefined, { readSentAsPost: true }), async (c) => {
  const input = await readInput(c, S.SearchLoggedModels);
  const page = await c.var.services.tracking.loggedModels.searchLoggedModels({
    experimentIds: input.experiment_ids ?? [],
    filter: input.filter,
    datasets: input.datasets?.map((d) => ({ datasetName: d.dataset_name, datasetDigest: d.dataset_digest })),
    maxResults: input.max_results,
    orderBy: input.order_by?.map((o) => ({ fieldName: o.field_name, ascending: o.ascending })),
    pageToken: input.page_token,
  });
  return c.json(pageJson("models", page.items, page.nextPageToken, loggedModelJson));
});

r.get("/logged-models/:modelId", requires("read"), async (c) => {
  return c.json({
    model: loggedModelJson(await c.var.services.tracking.loggedModels.getLoggedModel(c.req.param("modelId"))),
  });
});

r.patch("/logged-models/:modelId", requires("write"), async (c) => {
  const { status } = await readInput(c, S.FinalizeLoggedModel);
  return c.json({
    model: loggedModelJson(
      await c.var.services.tracking.loggedModels.finalizeLoggedModel(c.var.principal!, c.req.param("modelId"), status),
    ),
  });
});

r.delete("/logged-models/:modelId", requires("admin"), async (c) => {
  await c.var.services.tracking.loggedModels.deleteLoggedModel(c.var.principal!, c.req.param("modelId"));
  return c.json({});
});

r.patch("/logged-models/:modelId/tags", requires("write"), async (c) => {
  const { tags } = await readInput(c, S.SetLoggedModelTags);
  await c.var.services.tracking.loggedModels.setLoggedModelTags(c.var.principal!, c.req.param("modelId"), tags ?? []);
  return c.json({});
});

// Tag keys may contain '/', so the key is the rest of the path.
r.delete("/logged-models/:modelId/tags/:key{.+}", requires("write"), async (c) => {
  await c.var.services.tracking.loggedModels.deleteLoggedModelTag(
    c.var.principal!,
    c.req.param("modelId"),
    c.req.param("key"),
  );
  return c.json({});
});

r.post("/logged-models/:modelId/params", requires("write"), async (c) => {
  const { params } = await readInput(c, S.LogLoggedModelParams);
  await c.var.services.tracking.loggedModels.logLoggedModelParams(
    c.var.principal!,
    c.req.param("modelId"),
    params ?? [],
  );
  return c.json({});
});
