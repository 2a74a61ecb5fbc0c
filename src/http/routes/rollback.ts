import { Hono } from "hono";
import { byName, guard } from "../auth";
import type { AppEnv } from "../context";
import { RollbackRegisteredModel } from "../schemas/modelgate";
import { modelVersionJson } from "../serializers";

/** Restores the previous Production version (or `version`), under /api/2.0/modelgate (same scope as a promotion). */
export const rollbackRoutes = new Hono<AppEnv>();

rollbackRoutes.post("/registered-models/rollback", guard("promote", RollbackRegisteredModel, byName), async (c) => {
  const { name, version, comment } = c.var.input;
  const done = await c.var.services.registry.rollback({
    name,
    version,
    comment,
    actor: c.var.actor,
    caller: c.var.principal,
  });
  return c.json({ model_version: modelVersionJson(done.restored), archived_version: String(done.archived) });
});
