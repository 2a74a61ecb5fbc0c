// Queue names as wrangler.toml declares them; a batch says which queue it came from.
export const EVENTS_QUEUE = "modelgate-events";
export const DELIVERIES_QUEUE = "modelgate-webhook-deliveries";
export const DELIVERIES_DEAD_LETTER_QUEUE = "modelgate-webhook-deliveries-dlq";

/** The body of a message on the deliveries queue (and its dead-letter queue). */
export interface DeliveryMessage {
  deliveryId: string;
}

/** The name of the one WebhookDispatcher Durable Object (a singleton). */
export const DISPATCHER_NAME = "webhook-dispatcher";
