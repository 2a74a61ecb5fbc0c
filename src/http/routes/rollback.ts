import { Hono } from "hono";
import { requires, modelFromInput } from "../auth";
import type { AppEnv } from "../context";
import { readInput } from "../input";
import { RollbackRegisteredModel } from "../schemas/modelgate";
import { modelVersionJson } from "../serializers";

/** Restores the previous Production version, under /api/2.0/modelgate (same scope as a promotion). */
export const rollbackRoutes = new Hono<AppEnv>();

rollbackRoutes.post("/registered-models/rollback", requires("promote", modelFromInput), async (c) => {
  const { name, comment } = await readInput(c, RollbackRegisteredModel);
  const done = await c.var.services.registry.rollback({ name, comment, actor: c.var.actor, caller: c.var.principal });
  return c.json({ model_version: modelVersionJson(done.restored), archived_version: String(done.archived) });
});
