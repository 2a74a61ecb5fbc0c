import { z } from "zod";
import { WEBHOOK_STATUSES } from "../../domain/webhooks";
import { int } from "../input";

// MLflow 3's webhook messages (mlflow/protos/webhooks.proto), plus Modelgate's `model_name` filter.

/** `{entity, action}`: proto enum names (`MODEL_VERSION`, `CREATED`) or the payload's lower case. */
export const WebhookEvent = z.object({ entity: z.string(), action: z.string() });

const WebhookStatus = z
  .string()
  .transform((s) => s.toUpperCase())
  .pipe(z.enum(WEBHOOK_STATUSES));

export const CreateWebhook = z.object({
  name: z.string(),
  url: z.string(),
  events: z.array(WebhookEvent),
  description: z.string().optional(),
  secret: z.string().optional(),
  status: WebhookStatus.optional(),
  model_name: z.string().optional(),
});

export const UpdateWebhook = z.object({
  name: z.string().optional(),
  url: z.string().optional(),
  events: z.array(WebhookEvent).optional(),
  description: z.string().optional(),
  secret: z.string().optional(),
  status: WebhookStatus.optional(),
  model_name: z.string().optional(),
});

export const ListWebhooks = z.object({
  max_results: int.optional(),
  page_token: z.string().optional(),
});

export const TestWebhook = z.object({
  event: WebhookEvent.optional(),
});

export const ListWebhookDeliveries = ListWebhooks;
