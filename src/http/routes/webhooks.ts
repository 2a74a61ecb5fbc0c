import { Hono } from "hono";
import { requires } from "../auth";
import type { AppEnv } from "../context";
import { readInput } from "../input";
import { CreateWebhook, ListWebhookDeliveries, ListWebhooks, TestWebhook, UpdateWebhook } from "../schemas/webhooks";
import { deliveryJson, testResultJson, webhookJson } from "../webhook-serializers";

/** MLflow 3's webhook API, under /api/2.0/mlflow and /ajax-api/2.0/mlflow. Admin only. */
export const webhookRoutes = new Hono<AppEnv>();

/** MLflow's field names to the service's: create and update take the same fields. */
function webhookFields<T extends { model_name?: string }>({ model_name, ...fields }: T) {
  return { ...fields, modelName: model_name };
}

webhookRoutes.post("/webhooks", requires("admin"), async (c) => {
  const input = await readInput(c, CreateWebhook);
  const webhook = await c.var.services.webhooks.create(webhookFields(input));
  return c.json({ webhook: webhookJson(webhook) });
});

webhookRoutes.get("/webhooks", requires("admin"), async (c) => {
  const input = await readInput(c, ListWebhooks);
  const page = await c.var.services.webhooks.list(input.max_results, input.page_token);
  return c.json({ webhooks: page.items.map(webhookJson), ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}) });
});

webhookRoutes.get("/webhooks/:webhook_id", requires("admin"), async (c) => {
  return c.json({ webhook: webhookJson(await c.var.services.webhooks.get(c.req.param("webhook_id"))) });
});

webhookRoutes.patch("/webhooks/:webhook_id", requires("admin"), async (c) => {
  const input = await readInput(c, UpdateWebhook);
  const webhook = await c.var.services.webhooks.update(c.req.param("webhook_id"), webhookFields(input));
  return c.json({ webhook: webhookJson(webhook) });
});

webhookRoutes.delete("/webhooks/:webhook_id", requires("admin"), async (c) => {
  await c.var.services.webhooks.delete(c.req.param("webhook_id"));
  return c.json({});
});

webhookRoutes.post("/webhooks/:webhook_id/test", requires("admin"), async (c) => {
  const input = await readInput(c, TestWebhook);
  return c.json(testResultJson(await c.var.services.webhooks.test(c.req.param("webhook_id"), input.event)));
});

/** Modelgate's delivery log and replay, under /api/2.0/modelgate. Admin only. */
export const webhookDeliveryRoutes = new Hono<AppEnv>();

webhookDeliveryRoutes.get("/webhooks/:webhook_id/deliveries", requires("admin"), async (c) => {
  const input = await readInput(c, ListWebhookDeliveries);
  const page = await c.var.services.webhooks.listDeliveries(c.req.param("webhook_id"), input.max_results, input.page_token);
  return c.json({ deliveries: page.items.map(deliveryJson), ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}) });
});

webhookDeliveryRoutes.post("/webhooks/:webhook_id/deliveries/:delivery_id/replay", requires("admin"), async (c) => {
  const delivery = await c.var.services.webhooks.replay(c.req.param("webhook_id"), c.req.param("delivery_id"));
  return c.json({ delivery: deliveryJson(delivery) });
});
