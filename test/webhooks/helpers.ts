import { env } from "cloudflare:workers";
import { expect, inject } from "vitest";
import type { RegistryEvent, RegistryEventType } from "../../src/domain/events";
import { call, MODELGATE_API, retryUntil, type Json } from "../helpers";

/** The local receiver (test/webhooks/receiver.mjs), driven over HTTP from workerd. */
export const receiver = {
  base: () => inject("webhookReceiver"),
  hook: (key: string) => `${inject("webhookReceiver")}/hook/${key}`,
  async script(
    key: string,
    responses: { status: number; headers?: Record<string, string>; body?: string; delayMs?: number }[],
  ) {
    const res = await fetch(`${inject("webhookReceiver")}/_script/${key}`, {
      method: "PUT",
      body: JSON.stringify(responses),
    });
    expect(res.status).toBe(200);
  },
  async log(key: string): Promise<{ headers: Record<string, string>; body: string; receivedAt: number }[]> {
    return (await fetch(`${inject("webhookReceiver")}/_log/${key}`)).json();
  },
};

/**
 * Answers `probe`'s first truthy value (deliveries are made by the queues' consumers, whose work
 * sends no signal a test can wait on, see retryUntil), failing after about `timeoutMs`.
 */
export function eventually<T>(
  probe: () => Promise<T | undefined | null | false>,
  timeoutMs = 20_000,
  what = "condition",
): Promise<T> {
  return retryUntil(probe, { attempts: Math.ceil(timeoutMs / 100), intervalMs: 100, what });
}

let key = 0;
export function uniqueKey(prefix = "hook"): string {
  key += 1;
  return `${prefix}-${Date.now().toString(36)}-${key}-${Math.random().toString(36).slice(2, 8)}`;
}

export async function createWebhook(params: Json): Promise<Json> {
  const { status, body } = await call("POST", "/webhooks", { name: "test hook", ...params });
  if (status !== 200) throw new Error(`create webhook: ${status} ${JSON.stringify(body)}`);
  return body.webhook;
}

export async function deliveriesOf(webhookId: string, params: Json = {}): Promise<Json[]> {
  const { status, body } = await call("GET", `/webhooks/${webhookId}/deliveries`, params, MODELGATE_API);
  if (status !== 200) throw new Error(`deliveries: ${status} ${JSON.stringify(body)}`);
  return body.deliveries ?? [];
}

/** A model id that exists only in the events a test emits. */
export const fakeModelId = () => `test-model-${crypto.randomUUID()}`;

/**
 * A webhook filtered on `modelId` (set in D1 directly: the model exists only in this test's
 * events), so registry events from other suites never reach the test's receiver.
 */
export async function webhookFor(modelId: string, params: Json): Promise<Json> {
  const webhook = await createWebhook(params);
  await env.DB.prepare("UPDATE webhooks SET model_id = ?, model_name = 'webhook-test-model' WHERE id = ?")
    .bind(modelId, webhook.webhook_id)
    .run();
  return webhook;
}

let sequence = 0;
/**
 * A registry event as the outbox holds it (a row in D1 `events`) for a model that exists only in
 * this event, so no coordinator's relay ever sends it: the test sends it to the events queue itself.
 */
export async function outboxEvent(
  modelId: string,
  type: RegistryEventType,
  fields: Partial<RegistryEvent> = {},
): Promise<RegistryEvent> {
  sequence += 1;
  const event: RegistryEvent = {
    id: crypto.randomUUID(),
    type,
    modelId,
    modelName: "webhook-test-model",
    version: type.startsWith("model_version") ? 1 : null,
    from: null,
    to: null,
    actor: "tester",
    timestamp: Date.now(),
    sequence,
    data: {},
    ...fields,
  };
  await env.DB.prepare(
    "INSERT INTO events (id, model_id, model_name, sequence, type, version, from_value, to_value, actor, timestamp, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
  )
    .bind(
      event.id,
      event.modelId,
      event.modelName,
      event.sequence,
      event.type,
      event.version,
      event.from,
      event.to,
      event.actor,
      event.timestamp,
      JSON.stringify(event.data),
    )
    .run();
  return event;
}

/** Writes the event to the outbox and sends it to the events queue, as the relay does. */
export async function emit(
  modelId: string,
  type: RegistryEventType,
  fields: Partial<RegistryEvent> = {},
): Promise<RegistryEvent> {
  const event = await outboxEvent(modelId, type, fields);
  await env.EVENTS.send(event);
  return event;
}

/**
 * Verifies a delivery the way MLflow's docs show receivers doing it: `v1,` prefix, HMAC-SHA256 of
 * "<delivery_id>.<timestamp>.<raw body>" with the secret, base64, compared in constant time; and the
 * timestamp no older than 5 minutes.
 */
export async function verifyMlflowSignature(
  secret: string,
  headers: Record<string, string>,
  body: string,
): Promise<boolean> {
  const signature = headers["x-mlflow-signature"];
  const deliveryId = headers["x-mlflow-delivery-id"];
  const timestamp = headers["x-mlflow-timestamp"];
  if (!signature || !deliveryId || !timestamp || !signature.startsWith("v1,")) return false;
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return false;
  const encoder = new TextEncoder();
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  const mac = new Uint8Array(
    await crypto.subtle.sign("HMAC", key, encoder.encode(`${deliveryId}.${timestamp}.${body}`)),
  );
  const expected = encoder.encode(btoa(String.fromCharCode(...mac)));
  const given = encoder.encode(signature.slice(3));
  return expected.byteLength === given.byteLength && crypto.subtle.timingSafeEqual(expected, given);
}
