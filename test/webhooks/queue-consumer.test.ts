import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { DELIVERIES_DEAD_LETTER_QUEUE, DELIVERIES_QUEUE, EVENTS_QUEUE } from "../../src/webhooks/queues";
import { createWebhook, fakeModelId, receiver, uniqueKey, webhookFor } from "./helpers";

// The Worker's queue() handler called directly with batches built by cloudflare:test, to see
// exactly which messages it acknowledges and which it retries.
/** A pending delivery row for `webhookId`, written straight into D1 as the fan-out would; its id. */
async function pendingDelivery(webhookId: string, attempts: number, now: number): Promise<string> {
  const id = crypto.randomUUID();
  await env.DB.prepare(
    "INSERT INTO webhook_deliveries (id, webhook_id, entity, action, payload, status, attempts, created_at, updated_at, next_attempt_at) VALUES (?, ?, 'model_version', 'created', '{}', 'pending', ?, ?, ?, ?)",
  )
    .bind(id, webhookId, attempts, now, now, now)
    .run();
  return id;
}

async function consume(queue: string, bodies: unknown[], attempts = 1) {
  const batch = createMessageBatch(
    queue,
    bodies.map((body, i) => ({ id: `m${i}`, timestamp: new Date(), attempts, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, env);
  return getQueueResult(batch, ctx);
}

describe("the queue handler", () => {
  it("acknowledges unreadable event and delivery messages instead of retrying them forever", async () => {
    const events = await consume(EVENTS_QUEUE, [{ nonsense: true }, "text", null]);
    expect(events.explicitAcks.sort()).toEqual(["m0", "m1", "m2"]);
    expect(events.retryMessages).toEqual([]);
    const deliveries = await consume(DELIVERIES_QUEUE, [{ deliveryId: 42 }, {}]);
    expect(deliveries.explicitAcks.sort()).toEqual(["m0", "m1"]);
    expect(deliveries.retryMessages).toEqual([]);
  });

  it("acknowledges a delivery message whose delivery is gone (its webhook was deleted)", async () => {
    const result = await consume(DELIVERIES_QUEUE, [{ deliveryId: "no-such-delivery" }]);
    expect(result.explicitAcks).toEqual(["m0"]);
  });

  it("retries a delivery the receiver refused for now, with the delay its Retry-After asks", async () => {
    const key = uniqueKey("direct");
    await receiver.script(key, [{ status: 503, headers: { "Retry-After": "7" } }]);
    const w = await webhookFor(fakeModelId(), {
      url: receiver.hook(key),
      events: [{ entity: "model_version", action: "created" }],
    });
    const now = Date.now();
    const deliveryId = await pendingDelivery(w.webhook_id, 0, now);
    const result = await consume(DELIVERIES_QUEUE, [{ deliveryId }]);
    // cloudflare:test's batch records that retry() was called, not its delaySeconds; the delay shows
    // in the delivery's next_attempt_at (and the real queue honours it: delivery.test.ts).
    expect(result.retryMessages).toEqual([{ msgId: "m0" }]);
    expect(result.explicitAcks).toEqual([]);
    const row = await env.DB.prepare(
      "SELECT status, attempts, last_status_code, next_attempt_at FROM webhook_deliveries WHERE id = ?",
    )
      .bind(deliveryId)
      .first<{ status: string; attempts: number; last_status_code: number; next_attempt_at: number }>();
    expect(row).toMatchObject({ status: "pending", attempts: 1, last_status_code: 503 });
    expect(row!.next_attempt_at).toBeGreaterThanOrEqual(now + 7000);
  });

  it("marks a dead-lettered delivery dead, once", async () => {
    const w = await createWebhook({
      url: receiver.hook(uniqueKey()),
      events: [{ entity: "model_version", action: "created" }],
      status: "DISABLED",
    });
    const now = Date.now();
    const deliveryId = await pendingDelivery(w.webhook_id, 6, now);
    const result = await consume(DELIVERIES_DEAD_LETTER_QUEUE, [{ deliveryId }, { deliveryId }]);
    expect(result.explicitAcks.sort()).toEqual(["m0", "m1"]);
    const row = await env.DB.prepare("SELECT status, dead_at FROM webhook_deliveries WHERE id = ?")
      .bind(deliveryId)
      .first<{ status: string; dead_at: number }>();
    expect(row?.status).toBe("dead");
    expect(row?.dead_at).toBeGreaterThanOrEqual(now);
  });

  it("retries a whole batch from a queue it does not know", async () => {
    const result = await consume("some-other-queue", [{ deliveryId: "x" }]);
    expect(result.retryBatch.retry).toBe(true);
  });
});
