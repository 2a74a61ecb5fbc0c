import { Hono } from "hono";
import { heldAnswers } from "../answer-memory";
import { byName, guard } from "../auth";
import { registeredVersionSource } from "../../domain/model-ref";
import type { AppEnv } from "../context";
import * as S from "../schemas/model-registry";
import { versionKey } from "../../domain/scans";
import { modelVersionJson, versionAnswer, versionPageJson } from "../serializers";

export const modelVersionRoutes = new Hono<AppEnv>();
const r = modelVersionRoutes;

// A version copied from another registered version (`models:/B/1`, as copy_model_version sends)
// reads that model's files: the token needs read on it too.
r.post(
  "/model-versions/create",
  guard("write", S.CreateModelVersion, (i) => [i.name, sourceModel(i.source)]),
  async (c) => {
    const input = c.var.input;
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
      caller: c.var.principal!,
    });
    return c.json({ model_version: modelVersionJson(version) });
  },
);

r.get("/model-versions/get", guard("read", S.GetModelVersion, byName), async (c) => {
  const { name, version } = c.var.input;
  const found = await c.var.services.registry.getVersion(name, version);
  const scans = await c.var.services.scans.statusOf([found]);
  return versionAnswer(c, found, scans.get(versionKey(found)));
});

r.patch("/model-versions/update", guard("write", S.UpdateModelVersion, byName), async (c) => {
  const { name, version, description } = c.var.input;
  return c.json({
    model_version: modelVersionJson(await c.var.services.registry.updateVersion(name, version, description)),
  });
});

r.delete("/model-versions/delete", guard("admin", S.DeleteModelVersion, byName), async (c) => {
  const { name, version } = c.var.input;
  await c.var.services.registry.deleteVersion(name, version, c.var.actor);
  return c.json({});
});

r.get("/model-versions/search", guard("read", S.SearchModelVersions), heldAnswers(), async (c) => {
  const input = c.var.input;
  const page = await c.var.services.registry.searchVersions({
    visibleTo: c.var.principal!,
    filter: input.filter,
    maxResults: input.max_results,
    orderBy: input.order_by,
    pageToken: input.page_token,
  });
  const scans = await c.var.services.scans.statusOf(page.items);
  return c.json(versionPageJson(page.items, page.nextPageToken, scans));
});

r.post("/model-versions/transition-stage", guard("promote", S.TransitionModelVersionStage, byName), async (c) => {
  const input = c.var.input;
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

r.get("/model-versions/get-download-uri", guard("read", S.GetModelVersionDownloadUri, byName), async (c) => {
  const { name, version } = c.var.input;
  return c.json({ artifact_uri: await c.var.services.registry.getDownloadUri(name, version) });
});

r.post("/model-versions/set-tag", guard("write", S.SetModelVersionTag, byName), async (c) => {
  const { name, version, key, value } = c.var.input;
  await c.var.services.registry.setVersionTag(name, version, { key, value }, c.var.actor);
  return c.json({});
});

r.delete("/model-versions/delete-tag", guard("write", S.DeleteModelVersionTag, byName), async (c) => {
  const { name, version, key } = c.var.input;
  await c.var.services.registry.deleteVersionTag(name, version, key, c.var.actor);
  return c.json({});
});

const sourceModel = (source: string) => {
  const copied = registeredVersionSource(source);
  return copied ? { model: copied.name, scope: "read" as const } : null;
};
