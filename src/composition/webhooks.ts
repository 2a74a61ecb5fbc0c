import type { Database } from "../repositories/database";
import { WebhookDeliveryRepository } from "../repositories/webhook-delivery-repository";
import { WebhookRepository } from "../repositories/webhook-repository";
import { readWebhookConfig } from "../webhooks/webhook-config";
import { WebhookSecretBox } from "../webhooks/webhook-secret-box";
import { DISPATCHER_NAME, type DeliveryMessage } from "../webhooks/queues";
import { WebhookDispatchService, type DeliveryQueue, type SweepScheduler } from "../services/webhook-dispatch-service";
import { WebhookService } from "../services/webhook-service";

const SEND_BATCH = 100; // Queues' sendBatch limit

/** The webhook services, wired to the deliveries queue and the dispatcher object (part of the root, src/services.ts). */
export function webhookServices(db: Database, env: Env, resolveModelId: (name: string) => Promise<string | null>) {
  const webhookConfig = readWebhookConfig(env);
  const repository = new WebhookRepository(db);
  const deliveries = new WebhookDeliveryRepository(db);
  const queue: DeliveryQueue = {
    async enqueue(ids) {
      for (let i = 0; i < ids.length; i += SEND_BATCH) {
        await env.WEBHOOK_DELIVERIES.sendBatch(
          ids.slice(i, i + SEND_BATCH).map((deliveryId) => ({ body: { deliveryId } satisfies DeliveryMessage })),
        );
      }
    },
  };
  const scheduler: SweepScheduler = {
    async armSweep() {
      // A second past the sweep's threshold, so a delivery queued now is overdue by then if lost.
      await env.WEBHOOK_DISPATCHER.get(env.WEBHOOK_DISPATCHER.idFromName(DISPATCHER_NAME)).arm(
        webhookConfig.sweepAfterMs + 1000,
      );
    },
  };
  // Webhook secrets are sealed at rest with MODELGATE_WEBHOOK_KEYS; without it, storing a secret
  // is refused (503) and only webhooks without one (or from before encryption) send.
  const box = new WebhookSecretBox(env.MODELGATE_WEBHOOK_KEYS);
  const webhookDispatch = new WebhookDispatchService(repository, deliveries, queue, scheduler, webhookConfig, box);
  return {
    webhookConfig,
    webhookDispatch,
    webhooks: new WebhookService(repository, deliveries, webhookDispatch, resolveModelId, webhookConfig, box),
  };
}
