import type { RegistryEvent } from "../domain/events";
import type { WebhookDeliveryRepository } from "../repositories/webhook-delivery-repository";
import type { WebhookRepository } from "../repositories/webhook-repository";
import { backoffSeconds, outcomeOf, type Outcome } from "../webhooks/retry-policy";
import type { WebhookConfig } from "../webhooks/webhook-config";
import { webhookEntityAction, webhookEventOf } from "../domain/webhook-events";
import { webhookBody } from "../webhooks/webhook-payload";
import { sendWebhook, type SendResult } from "../webhooks/webhook-sender";
import { ATTEMPT_HEADER, EVENT_ID_HEADER, SEQUENCE_HEADER } from "../webhooks/webhook-signature";
import type { DeliveryAttempt, Webhook, WebhookDelivery } from "../domain/webhooks";
import type { WebhookSecretBox } from "../webhooks/webhook-secret-box";
import { checkWebhookUrl } from "../webhooks/webhook-url-policy";

/** The deliveries queue, as the dispatcher sees it. */
export interface DeliveryQueue {
  enqueue(deliveryIds: string[]): Promise<void>;
}

/** Makes sure the sweep runs again soon (the dispatcher Durable Object's alarm). */
export interface SweepScheduler {
  armSweep(): Promise<void>;
}

/** What the queue consumer does with a delivery message. */
export type SendDecision = { retry: false } | { retry: true; delaySeconds: number };

const SWEEP_BATCH = 90;
const SWEEP_ROUNDS = 20;

/**
 * Turns registry events into webhook deliveries and sends them: the fan-out (events queue), one
 * attempt per delivery message (deliveries queue), the dead-letter record (its DLQ) and the sweep
 * that re-enqueues deliveries whose queue message was lost.
 */
export class WebhookDispatchService {
  constructor(
    private readonly webhooks: WebhookRepository,
    private readonly deliveries: WebhookDeliveryRepository,
    private readonly queue: DeliveryQueue,
    private readonly scheduler: SweepScheduler,
    private readonly config: WebhookConfig,
    private readonly box: WebhookSecretBox,
    private readonly send: (request: Parameters<typeof sendWebhook>[0]) => Promise<SendResult> = sendWebhook,
  ) {}

  /**
   * One delivery per ACTIVE webhook subscribed to an event (and to its model, for filtered ones)
   * and created before the change, written with the events' `fanned_out_at` in one batch, then
   * queued in sequence order. Takes a queue batch at once: a burst of changes costs four D1
   * round trips, not four per event. An event already fanned out is a duplicate from the
   * at-least-once relay: its deliveries exist, and any whose enqueue was lost is the sweep's.
   */
  async fanOut(batch: RegistryEvent[], now = Date.now()): Promise<string[]> {
    if (batch.length === 0) return [];
    const done = await this.deliveries.fannedOut(batch.map((e) => e.id));
    const todo = batch.filter((e) => !done.has(e.id));
    if (todo.length === 0) return [];
    const active = await this.webhooks.active();
    const rows = todo.flatMap((event) => {
      const subscribed = active.filter((w) => subscribes(w, event));
      if (subscribed.length === 0) return [];
      const { entity, action } = webhookEntityAction(webhookEventOf(event));
      const payload = JSON.stringify(webhookBody(event));
      return subscribed.map(
        (webhook): WebhookDelivery => ({
          id: crypto.randomUUID(),
          webhookId: webhook.id,
          eventId: event.id,
          entity,
          action,
          modelId: event.modelId,
          modelName: event.modelName,
          sequence: event.sequence,
          payload,
          status: "pending",
          attempts: 0,
          createdAt: now,
          updatedAt: now,
          nextAttemptAt: now,
          deliveredAt: null,
          deadAt: null,
          lastStatusCode: null,
          lastError: null,
        }),
      );
    });
    const ids = todo.map((e) => e.id);
    await this.deliveries.fanOut(ids, rows, now);
    if (rows.length === 0) return [];
    const pending = await this.deliveries.pendingIdsForEvents(ids);
    await this.enqueue(pending);
    return pending;
  }

  /** Queues deliveries and makes sure the sweep will notice if their messages are lost. */
  async enqueue(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.queue.enqueue(ids);
    await this.scheduler.armSweep();
  }

  /**
   * One attempt at a delivery, recorded with its outcome in one batch. A delivery no longer
   * pending (a duplicate message) is left alone.
   */
  async deliver(deliveryId: string): Promise<SendDecision> {
    const found = await this.deliveries.forSending(deliveryId);
    if (found?.delivery.status !== "pending") return { retry: false };
    const { delivery } = found;
    const attempt = delivery.attempts + 1;

    let refusal: string | null = null;
    let secret: string | null = null;
    if (found.webhookStatus !== "ACTIVE")
      refusal = `The webhook is ${found.webhookStatus}; replay the delivery once it is ACTIVE.`;
    else {
      try {
        checkWebhookUrl(found.url, this.config.allowHosts);
        // A secret that cannot be opened fails the delivery: it is never sent unsigned.
        secret = await this.signingSecret(delivery.webhookId, found.storedSecret);
      } catch (error) {
        refusal = error instanceof Error ? error.message : String(error);
      }
    }
    if (refusal !== null) {
      const now = Date.now();
      await this.record(
        { deliveryId, attempt, startedAt: now, durationMs: 0, statusCode: null, error: refusal, outcome: "failed" },
        now,
      );
      return { retry: false };
    }

    const result = await this.send({
      url: found.url,
      secret,
      deliveryId,
      body: delivery.payload,
      headers: {
        ...(delivery.eventId ? { [EVENT_ID_HEADER]: delivery.eventId } : {}),
        ...(delivery.sequence !== null ? { [SEQUENCE_HEADER]: String(delivery.sequence) } : {}),
        [ATTEMPT_HEADER]: String(attempt),
      },
      timeoutMs: this.config.timeoutMs,
    });
    const outcome: Outcome = result.statusCode === null ? "retry" : outcomeOf(result.statusCode);
    const delaySeconds =
      outcome === "retry"
        ? (result.retryAfterSeconds ??
          backoffSeconds(attempt, this.config.retryBaseSeconds, this.config.retryMaxSeconds))
        : 0;
    const finishedAt = result.startedAt + result.durationMs;
    await this.record(
      {
        deliveryId,
        attempt,
        startedAt: result.startedAt,
        durationMs: result.durationMs,
        statusCode: result.statusCode,
        error: result.error,
        outcome,
      },
      finishedAt + delaySeconds * 1000,
    );
    if (outcome !== "retry") return { retry: false };
    await this.scheduler.armSweep();
    return { retry: true, delaySeconds };
  }

  /**
   * The secret to sign a webhook's requests with, opened from its stored form. A secret stored in
   * plain text (before encryption) or sealed with an older key is sealed with the first key on the
   * way (best effort: the send does not wait on it failing).
   */
  async signingSecret(webhookId: string, stored: string | null): Promise<string | null> {
    if (stored === null) return null;
    const secret = await this.box.open(webhookId, stored);
    if (this.box.sealPrefix !== null && !this.box.isCurrent(stored)) {
      try {
        await this.webhooks.replaceSecret(webhookId, stored, await this.box.seal(webhookId, secret));
      } catch (error) {
        console.error("webhooks: sealing a secret again failed", webhookId, String(error));
      }
    }
    return secret;
  }

  private async record(attempt: DeliveryAttempt, nextAttemptAt: number): Promise<void> {
    await this.deliveries.recordAttempt(attempt, {
      status: attempt.outcome === "retry" ? "pending" : attempt.outcome,
      nextAttemptAt,
      deliveredAt: attempt.outcome === "delivered" ? attempt.startedAt + attempt.durationMs : null,
    });
  }

  /** A delivery message reached the dead-letter queue: its retries are used up. */
  async deadLettered(deliveryId: string, now = Date.now()): Promise<void> {
    await this.deliveries.markDead(deliveryId, now);
  }

  /**
   * Re-enqueues pending deliveries whose queue message is overdue (lost: Miniflare keeps queued
   * messages in memory, and a deployed queue can drop a send whose Worker died). Answers whether
   * any delivery is still pending, so the caller knows to look again later.
   */
  async sweep(now = Date.now()): Promise<boolean> {
    for (let round = 0; round < SWEEP_ROUNDS; round++) {
      const overdue = await this.deliveries.claimOverdue(now - this.config.sweepAfterMs, now, SWEEP_BATCH);
      if (overdue.length > 0) await this.queue.enqueue(overdue);
      if (overdue.length < SWEEP_BATCH) break;
    }
    return this.deliveries.hasPending();
  }
}

/**
 * Whether `webhook` wants `event`: its webhook event (a change on a prompt is a prompt event, as
 * MLflow sends it), its model (when filtered), and made after the webhook existed.
 */
function subscribes(webhook: Webhook, event: RegistryEvent): boolean {
  return (
    webhook.status === "ACTIVE" &&
    webhook.creationTimestamp <= event.timestamp &&
    (webhook.modelId === null || webhook.modelId === event.modelId) &&
    webhook.events.includes(webhookEventOf(event))
  );
}
