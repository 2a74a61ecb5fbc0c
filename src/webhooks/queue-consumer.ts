import { z } from "zod";
import { REGISTRY_EVENT_TYPES, type RegistryEvent } from "../domain/events";
import { backoffSeconds } from "./retry-policy";
import { DELIVERIES_DEAD_LETTER_QUEUE, DELIVERIES_QUEUE, EVENTS_QUEUE } from "./queues";

const RegistryEventMessage = z.object({
  id: z.string().min(1),
  type: z.enum(REGISTRY_EVENT_TYPES),
  modelId: z.string(),
  modelName: z.string(),
  version: z.number().int().nullable(),
  from: z.string().nullable(),
  to: z.string().nullable(),
  actor: z.string().nullable(),
  timestamp: z.number(),
  sequence: z.number().int(),
  data: z.record(z.string(), z.string()),
}) satisfies z.ZodType<RegistryEvent>;

/** What the queues hand their messages to (src/services/webhook-dispatch-service.ts). */
export interface Dispatch {
  fanOut(events: RegistryEvent[]): Promise<unknown>;
  deliver(deliveryId: string): Promise<{ retry: false } | { retry: true; delaySeconds: number }>;
  deadLettered(deliveryId: string): Promise<unknown>;
}

const DeliveryMessageBody = z.object({ deliveryId: z.string().min(1) });

/** A failure of our own (D1 unreachable, ...): try the message again a little later. */
const retryAfterOwnFailure = (message: Message) =>
  message.retry({ delaySeconds: backoffSeconds(message.attempts, 2, 60) });

/**
 * The Worker's queue handler: registry events become deliveries, delivery messages become one
 * attempt each, and dead-lettered deliveries are recorded as dead. A malformed message is logged
 * and acknowledged (sending it again cannot make it readable).
 */
export async function consumeQueue(
  batch: MessageBatch<unknown>,
  dispatch: Dispatch,
  /** Other work a batch of events starts (version scans); a failure retries the batch, and fan-out is idempotent. */
  afterFanOut: (events: RegistryEvent[]) => Promise<void> = async () => undefined,
): Promise<void> {
  switch (batch.queue) {
    case EVENTS_QUEUE: {
      // The whole batch at once, in order: a model's events arrive in sequence order, and their
      // deliveries are queued so.
      const readable: { message: Message; event: RegistryEvent }[] = [];
      for (const message of batch.messages) {
        const event = RegistryEventMessage.safeParse(message.body);
        if (event.success) readable.push({ message, event: event.data });
        else {
          console.error("webhooks: unreadable event message", message.id, event.error.issues[0]?.message);
          message.ack();
        }
      }
      try {
        await dispatch.fanOut(readable.map((r) => r.event));
        await afterFanOut(readable.map((r) => r.event));
        for (const r of readable) r.message.ack();
      } catch (error) {
        console.error("webhooks: fan-out failed", readable.map((r) => r.event.id).join(","), String(error));
        for (const r of readable) retryAfterOwnFailure(r.message);
      }
      return;
    }
    case DELIVERIES_QUEUE:
      await Promise.all(
        batch.messages.map(async (message) => {
          const body = DeliveryMessageBody.safeParse(message.body);
          if (!body.success) {
            console.error("webhooks: unreadable delivery message", message.id);
            message.ack();
            return;
          }
          try {
            const decision = await dispatch.deliver(body.data.deliveryId);
            if (decision.retry) message.retry({ delaySeconds: decision.delaySeconds });
            else message.ack();
          } catch (error) {
            console.error("webhooks: delivery failed", body.data.deliveryId, String(error));
            retryAfterOwnFailure(message);
          }
        }),
      );
      return;
    case DELIVERIES_DEAD_LETTER_QUEUE:
      for (const message of batch.messages) {
        const body = DeliveryMessageBody.safeParse(message.body);
        if (!body.success) {
          message.ack();
          continue;
        }
        try {
          await dispatch.deadLettered(body.data.deliveryId);
          message.ack();
        } catch (error) {
          console.error("webhooks: recording a dead delivery failed", body.data.deliveryId, String(error));
          retryAfterOwnFailure(message);
        }
      }
      return;
    default:
      console.error(`webhooks: a batch from unknown queue '${batch.queue}'`);
      batch.retryAll();
  }
}
