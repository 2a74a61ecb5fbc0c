import { Hono, type Context } from "hono";
import { requires, modelFromInput } from "../auth";
import type { AppEnv } from "../context";
import { readInput } from "../input";
import { policyRecordJson } from "../policy-serializers";
import * as S from "../schemas/policies";

/**
 * Promotion policies, under /api/2.0/modelgate (docs/policies.md). Reading needs `read`; setting
 * or clearing needs `admin`: a policy binds the holders of `promote`, so they must not be able to
 * lift it themselves.
 */
export const policyRoutes = new Hono<AppEnv>();
const r = policyRoutes;

r.get("/registered-models/policy", requires("read", modelFromInput), async (c) => {
  const { name } = await readInput(c, S.GetPolicy);
  return c.json(policyRecordJson(await c.var.services.policies.getPolicy(name)));
});

async function setPolicy(c: Context<AppEnv>) {
  const { name, policy } = await readInput(c, S.SetPolicy);
  return c.json(policyRecordJson(await c.var.services.policies.setPolicy(name, policy, c.var.actor)));
}
// PUT replaces the policy; POST is the same, for clients that only POST (as MLflow's API does).
r.put("/registered-models/policy", requires("admin", modelFromInput), setPolicy);
r.post("/registered-models/policy", requires("admin", modelFromInput), setPolicy);

r.delete("/registered-models/policy", requires("admin", modelFromInput), async (c) => {
  const { name } = await readInput(c, S.DeletePolicy);
  await c.var.services.policies.clearPolicy(name);
  return c.json({});
});
