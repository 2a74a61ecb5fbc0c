import { createApp } from "./app";
import { servicesFor } from "./services";
import { consumeQueue } from "./webhooks/queue-consumer";

export { ModelCoordinator } from "./coordinator/model-coordinator";
export { WebhookDispatcher } from "./webhooks/webhook-dispatcher";

const app = createApp();

export default {
  fetch: app.fetch,
  // Registry events → webhook deliveries → attempts, and the deliveries' dead-letter queue.
  queue: (batch, env) => consumeQueue(batch, servicesFor(env).webhookDispatch),
} satisfies ExportedHandler<Env>;
