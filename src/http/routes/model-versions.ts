import { Hono } from "hono";
import { requires, modelFromInput } from "../auth";
import type { AppEnv } from "../context";
import { readInput } from "../input";
import * as S from "../schemas/model-registry";
import { modelVersionJson, pageJson, versionAnswer } from "../serializers";

export const modelVersionRoutes = new Hono<AppEnv>();
const r = modelVersionRoutes;

r.post("/model-versions/create", requires("write", modelFromInput), async (c) => {
  const input = await readInput(c, S.CreateModelVersion);
  const version = await c.var.services.registry.createVersion({
    name: input.name,
    source: input.source,
    runId: input.run_id,
    runLink: input.run_link,
    description: input.description,
    tags: input.tags,
    loggedModelId: input.model_id,
    userId: c.var.userId,
    actor: c.var.actor,
  });
  return c.json({ model_version: modelVersionJson(version) });
});

r.get("/model-versions/get", requires("read", modelFromInput), async (c) => {
  const { name, version } = await readInput(c, S.GetModelVersion);
  return versionAnswer(c, await c.var.services.registry.getVersion(name, version));
});

r.patch("/model-versions/update", requires("write", modelFromInput), async (c) => {
  const { name, version, description } = await readInput(c, S.UpdateModelVersion);
  return c.json({ model_version: modelVersionJson(await c.var.services.registry.updateVersion(name, version, description)) });
});

r.delete("/model-versions/delete", requires("admin", modelFromInput), async (c) => {
  const { name, version } = await readInput(c, S.DeleteModelVersion);
  await c.var.services.registry.deleteVersion(name, version, c.var.actor);
  return c.json({});
});

r.get("/model-versions/search", requires("read"), async (c) => {
  const input = await readInput(c, S.SearchModelVersions);
  const page = await c.var.services.registry.searchVersions({
    filter: input.filter,
    maxResults: input.max_results,
    orderBy: input.order_by,
    pageToken: input.page_token,
  });
  return c.json(pageJson("model_versions", page.items, page.nextPageToken, modelVersionJson));
});

r.post("/model-versions/transition-stage", requires("promote", modelFromInput), async (c) => {
  const input = await readInput(c, S.TransitionModelVersionStage);
  const version = await c.var.services.registry.transitionStage({
    name: input.name,
    version: input.version,
    stage: input.stage,
    archiveExisting: input.archive_existing_versions ?? false,
    comment: input.comment,
    actor: c.var.actor,
    caller: c.var.principal,
  });
  return c.json({ model_version: modelVersionJson(version) });
});

r.get("/model-versions/get-download-uri", requires("read", modelFromInput), async (c) => {
  const { name, version } = await readInput(c, S.GetModelVersionDownloadUri);
  return c.json({ artifact_uri: await c.var.services.registry.getDownloadUri(name, version) });
});

r.post("/model-versions/set-tag", requires("write", modelFromInput), async (c) => {
  const { name, version, key, value } = await readInput(c, S.SetModelVersionTag);
  await c.var.services.registry.setVersionTag(name, version, { key, value }, c.var.actor);
  return c.json({});
});

r.delete("/model-versions/delete-tag", requires("write", modelFromInput), async (c) => {
  const { name, version, key } = await readInput(c, S.DeleteModelVersionTag);
  await c.var.services.registry.deleteVersionTag(name, version, key, c.var.actor);
  return c.json({});
});
