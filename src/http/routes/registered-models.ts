import { Hono } from "hono";
import { requires, modelFromInput } from "../auth";
import type { AppEnv } from "../context";
import { readInput } from "../input";
import * as S from "../schemas/model-registry";
import { latestVersionsAnswer, pageJson, registeredModelAnswer, registeredModelJson, versionAnswer } from "../serializers";

export const registeredModelRoutes = new Hono<AppEnv>();
const r = registeredModelRoutes;

r.post("/registered-models/create", requires("write", modelFromInput), async (c) => {
  const input = await readInput(c, S.CreateRegisteredModel);
  const model = await c.var.services.registry.createModel({ ...input, userId: c.var.userId, actor: c.var.actor });
  return c.json({ registered_model: registeredModelJson(model) });
});

r.get("/registered-models/get", requires("read", modelFromInput), async (c) => {
  const { name } = await readInput(c, S.GetRegisteredModel);
  return registeredModelAnswer(c, await c.var.services.registry.getModel(name));
});

r.post("/registered-models/rename", requires("promote", modelFromInput), async (c) => {
  const { name, new_name } = await readInput(c, S.RenameRegisteredModel);
  return c.json({ registered_model: registeredModelJson(await c.var.services.registry.renameModel(name, new_name, c.var.actor)) });
});

r.patch("/registered-models/update", requires("write", modelFromInput), async (c) => {
  const { name, description } = await readInput(c, S.UpdateRegisteredModel);
  return c.json({ registered_model: registeredModelJson(await c.var.services.registry.updateModel(name, description)) });
});

r.delete("/registered-models/delete", requires("admin", modelFromInput), async (c) => {
  const { name } = await readInput(c, S.DeleteRegisteredModel);
  await c.var.services.registry.deleteModel(name, c.var.actor);
  return c.json({});
});

r.get("/registered-models/search", requires("read"), async (c) => {
  const input = await readInput(c, S.SearchRegisteredModels);
  const page = await c.var.services.registry.searchModels({
    filter: input.filter,
    maxResults: input.max_results,
    orderBy: input.order_by,
    pageToken: input.page_token,
  });
  return c.json(pageJson("registered_models", page.items, page.nextPageToken, registeredModelJson));
});

r.on(["GET", "POST"], "/registered-models/get-latest-versions", requires("read", modelFromInput), async (c) => {
  const { name, stages } = await readInput(c, S.GetLatestVersions);
  return latestVersionsAnswer(c, await c.var.services.registry.getLatestVersions(name, stages));
});

r.post("/registered-models/set-tag", requires("write", modelFromInput), async (c) => {
  const { name, key, value } = await readInput(c, S.SetRegisteredModelTag);
  await c.var.services.registry.setModelTag(name, { key, value }, c.var.actor);
  return c.json({});
});

r.delete("/registered-models/delete-tag", requires("write", modelFromInput), async (c) => {
  const { name, key } = await readInput(c, S.DeleteRegisteredModelTag);
  await c.var.services.registry.deleteModelTag(name, key, c.var.actor);
  return c.json({});
});

r.post("/registered-models/alias", requires("promote", modelFromInput), async (c) => {
  const { name, alias, version } = await readInput(c, S.SetRegisteredModelAlias);
  await c.var.services.registry.setAlias(name, alias, version, c.var.actor);
  return c.json({});
});

r.delete("/registered-models/alias", requires("promote", modelFromInput), async (c) => {
  const { name, alias } = await readInput(c, S.DeleteRegisteredModelAlias);
  await c.var.services.registry.deleteAlias(name, alias, c.var.actor);
  return c.json({});
});

r.get("/registered-models/alias", requires("read", modelFromInput), async (c) => {
  const { name, alias } = await readInput(c, S.GetModelVersionByAlias);
  return versionAnswer(c, await c.var.services.registry.getVersionByAlias(name, alias));
});
