import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { backgroundServicesFor, createServices } from "../../src/services";
import { DELIVERIES_DEAD_LETTER_QUEUE, DELIVERIES_QUEUE, EVENTS_QUEUE } from "../../src/webhooks/queues";

/** A deployment that forgot its secrets: requests refuse (503), the background work must not. */
const withoutSecrets = (): Env =>
  ({ ...env, MODELGATE_SIGNING_KEYS: undefined, MODELGATE_ADMIN_TOKEN: undefined }) as Env;

async function consume(bindings: Env, queue: string, bodies: unknown[]) {
  const batch = createMessageBatch(
    queue,
    bodies.map((body, i) => ({ id: `m${i}`, timestamp: new Date(), attempts: 1, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, bindings);
  return getQueueResult(batch, ctx);
}

describe("the consumers that need no secret (built by backgroundServicesFor)", () => {
  it("run while the request services refuse for want of the signing keys", async () => {
    const bindings = withoutSecrets();
    expect(() => createServices(bindings)).toThrow(/MODELGATE_SIGNING_KEYS/);

    const event = {
      id: crypto.randomUUID(),
      type: "registered_model.created",
      modelId: crypto.randomUUID().replaceAll("-", ""),
      modelName: `secretless-${crypto.randomUUID()}`,
      version: null,
      from: null,
      to: "secretless",
      actor: null,
      timestamp: Date.now(),
      sequence: 1,
      data: {},
    };
    const events = await consume(bindings, EVENTS_QUEUE, [event]);
    expect(events.explicitAcks).toEqual(["m0"]);
    expect(events.retryMessages).toEqual([]);

    const deliveries = await consume(bindings, DELIVERIES_QUEUE, [{ deliveryId: "no-such-delivery" }]);
    expect(deliveries.explicitAcks).toEqual(["m0"]);
    const dead = await consume(bindings, DELIVERIES_DEAD_LETTER_QUEUE, [{ deliveryId: "no-such-delivery" }]);
    expect(dead.explicitAcks).toEqual(["m0"]);
  });

  it("sweep webhook deliveries and run the scheduled maintenance without the secrets", async () => {
    const bindings = withoutSecrets();
    expect(typeof (await backgroundServicesFor(bindings).webhookDispatch.sweep())).toBe("boolean");
    const controller = { scheduledTime: Date.now(), cron: "0 * * * *", noRetry: () => undefined };
    await expect(worker.scheduled(controller, bindings)).resolves.toBeUndefined();
  });
});
