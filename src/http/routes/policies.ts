import { Hono } from "hono";
import { byName, guard } from "../auth";
import type { AppEnv } from "../context";
import { policyRecordJson } from "../policy-serializers";
import * as S from "../schemas/policies";

/**
 * Promotion policies, under /api/2.0/modelgate (docs/policies.md). Reading needs `read`; setting
 * or clearing needs `admin`: a policy binds the holders of `promote`, so they must not be able to
 * lift it themselves.
 */
export const policyRoutes = new Hono<AppEnv>();
const r = policyRoutes;

r.get("/registered-models/policy", guard("read", S.GetPolicy, byName), async (c) => {
  const { name } = c.var.input;
  return c.json(policyRecordJson(await c.var.services.policies.getPolicy(name)));
});

// PUT replaces the policy; POST is the same, for clients that only POST (as MLflow's API does).
r.on(["PUT", "POST"], "/registered-models/policy", guard("admin", S.SetPolicy, byName), async (c) => {
  const { name, policy } = c.var.input;
  return c.json(policyRecordJson(await c.var.services.policies.setPolicy(name, policy, c.var.actor)));
});

r.delete("/registered-models/policy", guard("admin", S.DeletePolicy, byName), async (c) => {
  const { name } = c.var.input;
  await c.var.services.policies.clearPolicy(name);
  return c.json({});
});
