import { Hono } from "hono";
import { heldAnswers } from "../answer-memory";
import { byName, guard } from "../auth";
import type { AppEnv } from "../context";
import * as S from "../schemas/model-registry";
import {
  latestVersionsAnswer,
  pageJson,
  registeredModelAnswer,
  registeredModelJson,
  versionAnswer,
} from "../serializers";

export const registeredModelRoutes = new Hono<AppEnv>();
const r = registeredModelRoutes;

r.post("/registered-models/create", guard("write", S.CreateRegisteredModel, byName), async (c) => {
  const input = c.var.input;
  const model = await c.var.services.registry.createModel({ ...input, userId: c.var.userId, actor: c.var.actor });
  return c.json({ registered_model: registeredModelJson(model) });
});

r.get("/registered-models/get", guard("read", S.GetRegisteredModel, byName), async (c) => {
  const { name } = c.var.input;
  return registeredModelAnswer(c, await c.var.services.registry.getModel(name));
});

// A rename needs rights on both names: the token must not be able to take a model over by
// renaming it to a name it holds, nor give one of its models a name it does not hold.
r.post(
  "/registered-models/rename",
  guard("promote", S.RenameRegisteredModel, (i) => [i.name, i.new_name]),
  async (c) => {
    const { name, new_name } = c.var.input;
    return c.json({
      registered_model: registeredModelJson(await c.var.services.registry.renameModel(name, new_name, c.var.actor)),
    });
  },
);

r.patch("/registered-models/update", guard("write", S.UpdateRegisteredModel, byName), async (c) => {
  const { name, description } = c.var.input;
  return c.json({
    registered_model: registeredModelJson(await c.var.services.registry.updateModel(name, description)),
  });
});

r.delete("/registered-models/delete", guard("admin", S.DeleteRegisteredModel, byName), async (c) => {
  const { name } = c.var.input;
  await c.var.services.registry.deleteModel(name, c.var.actor);
  return c.json({});
});

r.get("/registered-models/search", guard("read", S.SearchRegisteredModels), heldAnswers(), async (c) => {
  const input = c.var.input;
  const page = await c.var.services.registry.searchModels({
    visibleTo: c.var.principal!,
    filter: input.filter,
    maxResults: input.max_results,
    orderBy: input.order_by,
    pageToken: input.page_token,
  });
  return c.json(pageJson("registered_models", page.items, page.nextPageToken, registeredModelJson));
});

r.on(
  ["GET", "POST"],
  "/registered-models/get-latest-versions",
  guard("read", S.GetLatestVersions, byName, { readSentAsPost: true }),
  async (c) => {
    const { name, stages } = c.var.input;
    return latestVersionsAnswer(c, await c.var.services.registry.getLatestVersions(name, stages));
  },
);

r.post("/registered-models/set-tag", guard("write", S.SetRegisteredModelTag, byName), async (c) => {
  const { name, key, value } = c.var.input;
  await c.var.services.registry.setModelTag(name, { key, value }, c.var.actor);
  return c.json({});
});

r.delete("/registered-models/delete-tag", guard("write", S.DeleteRegisteredModelTag, byName), async (c) => {
  const { name, key } = c.var.input;
  await c.var.services.registry.deleteModelTag(name, key, c.var.actor);
  return c.json({});
});

r.post("/registered-models/alias", guard("promote", S.SetRegisteredModelAlias, byName), async (c) => {
  const { name, alias, version } = c.var.input;
  await c.var.services.registry.setAlias(name, alias, version, c.var.actor);
  return c.json({});
});

r.delete("/registered-models/alias", guard("promote", S.DeleteRegisteredModelAlias, byName), async (c) => {
  const { name, alias } = c.var.input;
  await c.var.services.registry.deleteAlias(name, alias, c.var.actor);
  return c.json({});
});

r.get("/registered-models/alias", guard("read", S.GetModelVersionByAlias, byName), async (c) => {
  const { name, alias } = c.var.input;
  return versionAnswer(c, await c.var.services.registry.getVersionByAlias(name, alias));
});
