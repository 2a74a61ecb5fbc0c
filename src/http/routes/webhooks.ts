import { Hono, type Context } from "hono";
import { RegistryError } from "../../errors";
import type { ModelGrants } from "../../domain/webhooks";
import { requires } from "../auth";
import type { AppEnv } from "../context";
import { readInput } from "../input";
import { CreateWebhook, ListWebhookDeliveries, ListWebhooks, TestWebhook, UpdateWebhook } from "../schemas/webhooks";
import { deliveryJson, resealReportJson, testResultJson, webhookJson } from "../webhook-serializers";

// Admin only. The service narrows what a per-model admin token reaches to webhooks filtered to
// its models (docs/webhooks.md): routes hand it the caller's grants and name the webhook's model
// in the audit trail.

/** The models the authenticated caller holds (null: every model). */
function grants(c: Context<AppEnv>): ModelGrants {
  const principal = c.var.principal;
  if (!principal) throw new RegistryError("UNAUTHENTICATED", "Missing credentials.");
  return principal.models;
}

/** The audit row of this mutation names the webhook's model. */
function audit(c: Context<AppEnv>, modelName: string | null) {
  c.set("auditModel", modelName ?? undefined);
}

/** MLflow's field names to the service's: create and update take the same fields. */
function webhookFields<T extends { model_name?: string }>({ model_name, ...fields }: T) {
  return { ...fields, modelName: model_name };
}

/** MLflow 3's webhook API, under /api/2.0/mlflow and /ajax-api/2.0/mlflow. */
export const webhookRoutes = new Hono<AppEnv>();

webhookRoutes.post("/webhooks", requires("admin"), async (c) => {
  const input = await readInput(c, CreateWebhook);
  const webhook = await c.var.services.webhooks.create(grants(c), webhookFields(input));
  audit(c, webhook.modelName);
  return c.json({ webhook: webhookJson(webhook) });
});

webhookRoutes.get("/webhooks", requires("admin"), async (c) => {
  const input = await readInput(c, ListWebhooks);
  const page = await c.var.services.webhooks.list(grants(c), input.max_results, input.page_token);
  return c.json({
    webhooks: page.items.map(webhookJson),
    ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}),
  });
});

webhookRoutes.get("/webhooks/:webhook_id", requires("admin"), async (c) => {
  return c.json({ webhook: webhookJson(await c.var.services.webhooks.get(grants(c), c.req.param("webhook_id"))) });
});

webhookRoutes.patch("/webhooks/:webhook_id", requires("admin"), async (c) => {
  const input = await readInput(c, UpdateWebhook);
  const webhook = await c.var.services.webhooks.update(grants(c), c.req.param("webhook_id"), webhookFields(input));
  audit(c, webhook.modelName);
  return c.json({ webhook: webhookJson(webhook) });
});

webhookRoutes.delete("/webhooks/:webhook_id", requires("admin"), async (c) => {
  const webhook = await c.var.services.webhooks.delete(grants(c), c.req.param("webhook_id"));
  audit(c, webhook.modelName);
  return c.json({});
});

webhookRoutes.post("/webhooks/:webhook_id/test", requires("admin"), async (c) => {
  const input = await readInput(c, TestWebhook);
  const result = await c.var.services.webhooks.test(grants(c), c.req.param("webhook_id"), input.event);
  audit(c, result.webhook.modelName);
  return c.json(testResultJson(result));
});

/** Modelgate's delivery log, replay and the resealing of secrets after a key rotation, under /api/2.0/modelgate. */
export const webhookDeliveryRoutes = new Hono<AppEnv>();

webhookDeliveryRoutes.get("/webhooks/:webhook_id/deliveries", requires("admin"), async (c) => {
  const input = await readInput(c, ListWebhookDeliveries);
  const page = await c.var.services.webhooks.listDeliveries(
    grants(c),
    c.req.param("webhook_id"),
    input.max_results,
    input.page_token,
  );
  return c.json({
    deliveries: page.items.map(deliveryJson),
    ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}),
  });
});

webhookDeliveryRoutes.post("/webhooks/:webhook_id/deliveries/:delivery_id/replay", requires("admin"), async (c) => {
  const { webhook, delivery } = await c.var.services.webhooks.replay(
    grants(c),
    c.req.param("webhook_id"),
    c.req.param("delivery_id"),
  );
  audit(c, webhook.modelName);
  return c.json({ delivery: deliveryJson(delivery) });
});

webhookDeliveryRoutes.post("/webhooks/reseal-secrets", requires("admin"), async (c) => {
  return c.json(resealReportJson(await c.var.services.webhooks.resealSecrets(grants(c))));
});
