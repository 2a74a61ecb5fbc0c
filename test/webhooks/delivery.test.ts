import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { call, expectError, MODELGATE_API } from "../helpers";
import {
  deliveriesOf,
  emit,
  eventually,
  fakeModelId,
  outboxEvent,
  receiver,
  uniqueKey,
  verifyMlflowSignature,
  webhookFor,
} from "./helpers";
import { DISPATCHER_NAME } from "../../src/webhooks/queues";

// Deliveries go through the real queues, with real retry delays: seconds, not milliseconds.
vi.setConfig({ testTimeout: 60_000 });

const MV_CREATED = [{ entity: "model_version", action: "created" }];

async function receipts(key: string, count: number, timeoutMs = 20_000) {
  return eventually(
    async () => {
      const log = await receiver.log(key);
      return log.length >= count ? log : null;
    },
    timeoutMs,
    `${count} receipt(s) at ${key}`,
  );
}

async function deliveryWhere(webhookId: string, predicate: (d: Record<string, any>) => boolean, timeoutMs = 20_000) {
  return eventually(
    async () => (await deliveriesOf(webhookId)).find(predicate),
    timeoutMs,
    "a delivery in the expected state",
  );
}

/**
 * Resolves once the relay has fanned `event` out. Fan-out writes every delivery of an event in one
 * batch and only those are ever sent, so after this a webhook without a delivery row for the event
 * will never receive it: absence is checked on that, not after a wait.
 */
async function fannedOut(event: { id: string }): Promise<void> {
  await eventually(
    async () => {
      const row = await env.DB.prepare("SELECT fanned_out_at FROM events WHERE id = ?")
        .bind(event.id)
        .first<{ fanned_out_at: number | null }>();
      return row?.fanned_out_at;
    },
    20_000,
    "the event fanned out",
  );
}

async function deliveryCount(webhookId: string, eventId?: string): Promise<number> {
  const row = await env.DB.prepare(
    `SELECT count(*) AS n FROM webhook_deliveries WHERE webhook_id = ?${eventId ? " AND event_id = ?" : ""}`,
  )
    .bind(...(eventId ? [webhookId, eventId] : [webhookId]))
    .first<{ n: number }>();
  return row?.n ?? 0;
}

describe("fan-out and signed delivery through the queues", () => {
  it("delivers an event to each ACTIVE subscribed webhook, signed as MLflow signs, with sequence and event id headers", async () => {
    const model = fakeModelId();
    const [hit, otherEvent, disabled, otherModel] = [
      uniqueKey("hit"),
      uniqueKey("other-event"),
      uniqueKey("disabled"),
      uniqueKey("other-model"),
    ];
    const target = await webhookFor(model, { url: receiver.hook(hit), events: MV_CREATED, secret: "receiver-secret" });
    const bystanders = [
      await webhookFor(model, {
        url: receiver.hook(otherEvent),
        events: [{ entity: "model_version_tag", action: "set" }],
      }),
      await webhookFor(model, { url: receiver.hook(disabled), events: MV_CREATED, status: "DISABLED" }),
      await webhookFor(fakeModelId(), { url: receiver.hook(otherModel), events: MV_CREATED }),
    ];
    const event = await emit(model, "model_version.created", {
      version: 3,
      sequence: 7,
      data: { source: "runs:/abc/model", run_id: "abc", tags: JSON.stringify({ team: "risk" }), description: "v3" },
    });

    const received = (await receipts(hit, 1))[0]!;
    expect(await verifyMlflowSignature("receiver-secret", received.headers, received.body)).toBe(true);
    expect(await verifyMlflowSignature("another-secret", received.headers, received.body)).toBe(false);
    expect(received.headers["content-type"]).toBe("application/json");
    expect(received.headers["x-modelgate-event-id"]).toBe(event.id);
    expect(received.headers["x-modelgate-sequence"]).toBe("7");
    expect(Number(received.headers["x-mlflow-timestamp"])).toBeCloseTo(Date.now() / 1000, -2);
    const body = JSON.parse(received.body);
    expect(Object.keys(body)).toEqual(["entity", "action", "timestamp", "data"]);
    expect(body).toEqual({
      entity: "model_version",
      action: "created",
      timestamp: new Date(event.timestamp).toISOString().replace("Z", "+00:00"),
      data: {
        name: "webhook-test-model",
        version: "3",
        source: "runs:/abc/model",
        run_id: "abc",
        tags: { team: "risk" },
        description: "v3",
      },
    });

    const row = await env.DB.prepare("SELECT fanned_out_at FROM events WHERE id = ?")
      .bind(event.id)
      .first<{ fanned_out_at: number | null }>();
    expect(row?.fanned_out_at).toBeGreaterThan(0);
    const delivered = await deliveryWhere(target.webhook_id, (d) => d.status === "DELIVERED");
    expect(delivered).toMatchObject({
      delivery_id: received.headers["x-mlflow-delivery-id"],
      event_id: event.id,
      entity: "model_version",
      action: "created",
      sequence: 7,
      attempt_count: 1,
      last_status_code: 200,
      attempts: [{ attempt: 1, status_code: 200, outcome: "DELIVERED" }],
    });
    expect(delivered.attempts[0].duration_ms).toBeGreaterThanOrEqual(0);
    for (const w of bystanders) expect(await deliveryCount(w.webhook_id)).toBe(0);
    expect(await receiver.log(otherEvent)).toEqual([]);
    expect(await receiver.log(disabled)).toEqual([]);
    expect(await receiver.log(otherModel)).toEqual([]);
  });

  it("delivers a model's events to a webhook filtered on that model", async () => {
    const model = fakeModelId();
    const key = uniqueKey("filtered");
    const modelId = `filtered-${crypto.randomUUID()}`;
    const webhookId = crypto.randomUUID().replaceAll("-", "");
    await env.DB.prepare(
      "INSERT INTO webhooks (id, name, url, events, model_id, model_name, status, creation_timestamp, last_updated_timestamp) VALUES (?, 'f', ?, ?, ?, 'm', 'ACTIVE', 0, 0)",
    )
      .bind(webhookId, receiver.hook(key), JSON.stringify(["model_version_alias.created"]), modelId)
      .run();
    await emit(modelId, "model_version_alias.created", { version: 2, to: "2", data: { alias: "champion" } });
    const another = await emit(model, "model_version_alias.created", {
      version: 2,
      to: "2",
      data: { alias: "champion" },
    });
    const received = (await receipts(key, 1))[0]!;
    expect(JSON.parse(received.body).data).toEqual({ name: "webhook-test-model", alias: "champion", version: "2" });
    await fannedOut(another);
    expect(await deliveryCount(webhookId, another.id)).toBe(0);
    expect(await deliveryCount(webhookId)).toBe(1);
  });

  it("fans an event out to many webhooks in one batch (one statement per delivery: D1 binds at most 100 values)", async () => {
    const model = fakeModelId();
    const keys = Array.from({ length: 8 }, () => uniqueKey("many"));
    for (const key of keys)
      await webhookFor(model, {
        url: receiver.hook(key),
        events: [{ entity: "registered_model_tag", action: "deleted" }],
      });
    const event = await emit(model, "registered_model_tag.deleted", { data: { key: "obsolete" } });
    for (const key of keys) {
      const received = (await receipts(key, 1))[0]!;
      expect(JSON.parse(received.body)).toMatchObject({
        entity: "registered_model_tag",
        action: "deleted",
        data: { name: "webhook-test-model", key: "obsolete" },
      });
    }
    const count = await env.DB.prepare("SELECT count(*) AS n FROM webhook_deliveries WHERE event_id = ?")
      .bind(event.id)
      .first<{ n: number }>();
    expect(count?.n).toBeGreaterThanOrEqual(8);
  });

  it("does not deliver a change made before the webhook existed (relayed late), yet marks the event fanned out", async () => {
    const model = fakeModelId();
    const key = uniqueKey("late");
    const w = await webhookFor(model, { url: receiver.hook(key), events: MV_CREATED });
    const event = await emit(model, "model_version.created", { timestamp: Date.now() - 60_000 });
    await fannedOut(event);
    expect(await deliveryCount(w.webhook_id)).toBe(0);
    expect(await receiver.log(key)).toEqual([]);
  });

  it("fans an event out once: the relay's duplicate message makes no second delivery", async () => {
    const model = fakeModelId();
    const key = uniqueKey("dup");
    const w = await webhookFor(model, {
      url: receiver.hook(key),
      events: [{ entity: "registered_model", action: "created" }],
    });
    const event = await emit(model, "registered_model.created");
    await receipts(key, 1);
    await env.EVENTS.send(event);
    await env.EVENTS.send(event);
    // The barrier: an event sent after the duplicates on the same queue, to the same webhook. Once it
    // has been delivered, the queue has consumed the duplicates before it.
    const later = await emit(model, "registered_model.created");
    await receipts(key, 2);
    await fannedOut(later);
    expect(await deliveryCount(w.webhook_id, later.id)).toBe(1);
    const log = await receiver.log(key);
    expect(log.map((r) => r.headers["x-modelgate-event-id"])).toEqual([event.id, later.id]);
    expect(await deliveriesOf(w.webhook_id)).toHaveLength(2);
    expect(await deliveryCount(w.webhook_id, event.id)).toBe(1);
  });
});

describe("retries, the dead-letter queue and replay", () => {
  it("retries a 500 with backoff and a 429 after its Retry-After, then delivers; same delivery id throughout", async () => {
    const model = fakeModelId();
    const key = uniqueKey("flaky");
    await receiver.script(key, [
      { status: 500, body: "boom" },
      { status: 429, headers: { "Retry-After": "2" } },
    ]);
    const w = await webhookFor(model, { url: receiver.hook(key), events: MV_CREATED, secret: "s" });
    await emit(model, "model_version.created", { data: { source: "s3://b/m" } });
    const log = await receipts(key, 3, 30_000);
    expect(new Set(log.map((r) => r.headers["x-mlflow-delivery-id"])).size).toBe(1);
    expect(log.map((r) => r.headers["x-modelgate-attempt"])).toEqual(["1", "2", "3"]);
    // Backoff: the first retry after ~1 s (MODELGATE_WEBHOOK_RETRY_BASE_SECONDS=1), the second after Retry-After (2 s).
    expect(log[1]!.receivedAt - log[0]!.receivedAt).toBeGreaterThanOrEqual(900);
    expect(log[2]!.receivedAt - log[1]!.receivedAt).toBeGreaterThanOrEqual(1900);
    for (const r of log) expect(await verifyMlflowSignature("s", r.headers, r.body)).toBe(true);
    const delivered = await deliveryWhere(w.webhook_id, (d) => d.status === "DELIVERED");
    expect(delivered.attempts.map((a: any) => [a.attempt, a.status_code, a.outcome])).toEqual([
      [1, 500, "RETRY"],
      [2, 429, "RETRY"],
      [3, 200, "DELIVERED"],
    ]);
    expect(delivered.attempts[0].error).toBe("HTTP 500: boom");
  });

  it("retries a timeout (no answer within MODELGATE_WEBHOOK_TIMEOUT_SECONDS)", async () => {
    const model = fakeModelId();
    const key = uniqueKey("slow");
    await receiver.script(key, [{ status: 200, delayMs: 3000 }]);
    const w = await webhookFor(model, { url: receiver.hook(key), events: MV_CREATED });
    await emit(model, "model_version.created");
    const delivered = await deliveryWhere(w.webhook_id, (d) => d.status === "DELIVERED", 30_000);
    expect(delivered.attempts[0]).toMatchObject({ attempt: 1, outcome: "RETRY", error: "Timed out after 2000 ms" });
    expect(delivered.attempts[0].status_code).toBeUndefined();
    expect(delivered.attempts[1]).toMatchObject({ attempt: 2, status_code: 200, outcome: "DELIVERED" });
  });

  it("after the last try the delivery is dead-lettered and marked dead; replay delivers it", async () => {
    const model = fakeModelId();
    const key = uniqueKey("down");
    // Retry-After: 0 keeps the six tries (max_retries = 5 in wrangler.toml) quick.
    await receiver.script(
      key,
      Array.from({ length: 6 }, () => ({ status: 503, headers: { "Retry-After": "0" }, body: "maintenance" })),
    );
    const w = await webhookFor(model, { url: receiver.hook(key), events: MV_CREATED });
    const event = await emit(model, "model_version.created");
    const dead = await deliveryWhere(w.webhook_id, (d) => d.status === "DEAD", 30_000);
    expect(await receiver.log(key)).toHaveLength(6);
    expect(dead).toMatchObject({ event_id: event.id, attempt_count: 6, last_status_code: 503 });
    expect(dead.dead_at).toBeGreaterThan(0);
    expect(dead.attempts.map((a: any) => a.outcome)).toEqual(Array(6).fill("RETRY"));

    const replayed = await call(
      "POST",
      `/webhooks/${w.webhook_id}/deliveries/${dead.delivery_id}/replay`,
      {},
      MODELGATE_API,
    );
    expect(replayed.status).toBe(200);
    expect(replayed.body.delivery).toMatchObject({ delivery_id: dead.delivery_id, status: "PENDING" });
    const delivered = await deliveryWhere(
      w.webhook_id,
      (d) => d.delivery_id === dead.delivery_id && d.status === "DELIVERED",
    );
    expect(delivered.attempts).toHaveLength(7);
    expect(delivered.attempts[6]).toMatchObject({ attempt: 7, status_code: 200, outcome: "DELIVERED" });
    const log = await receiver.log(key);
    expect(log).toHaveLength(7);
    expect(log[6]!.body).toBe(log[0]!.body);
    expect(log[6]!.headers["x-mlflow-delivery-id"]).toBe(dead.delivery_id);
  });

  it("does not retry a final 4xx; the failed delivery can be replayed", async () => {
    const model = fakeModelId();
    const key = uniqueKey("gone");
    await receiver.script(key, [{ status: 410, body: "gone" }]);
    const w = await webhookFor(model, { url: receiver.hook(key), events: MV_CREATED });
    await emit(model, "model_version.created");
    const failed = await deliveryWhere(w.webhook_id, (d) => d.status === "FAILED");
    expect(failed.attempts).toEqual([expect.objectContaining({ attempt: 1, status_code: 410, outcome: "FAILED" })]);
    expect(await receiver.log(key)).toHaveLength(1);
    expect(
      (await call("POST", `/webhooks/${w.webhook_id}/deliveries/${failed.delivery_id}/replay`, {}, MODELGATE_API))
        .status,
    ).toBe(200);
    const replayed = await deliveryWhere(
      w.webhook_id,
      (d) => d.delivery_id === failed.delivery_id && d.status === "DELIVERED",
    );
    // Exactly the failed try and the replay: no retry of the 410 came in between.
    expect(replayed.attempts.map((a: { outcome: string }) => a.outcome)).toEqual(["FAILED", "DELIVERED"]);
    expect(await receiver.log(key)).toHaveLength(2);
  });

  it("fails a pending delivery once its webhook is disabled; replayed after re-enabling, it is delivered", async () => {
    const model = fakeModelId();
    const key = uniqueKey("paused");
    await receiver.script(key, [{ status: 503, headers: { "Retry-After": "2" } }]);
    const w = await webhookFor(model, { url: receiver.hook(key), events: MV_CREATED });
    await emit(model, "model_version.created");
    await receipts(key, 1);
    expect((await call("PATCH", `/webhooks/${w.webhook_id}`, { status: "DISABLED" })).status).toBe(200);
    const failed = await deliveryWhere(w.webhook_id, (d) => d.status === "FAILED");
    expect(failed.attempts.at(-1)).toMatchObject({
      attempt: 2,
      outcome: "FAILED",
      error: "The webhook is DISABLED; replay the delivery once it is ACTIVE.",
    });
    expect(await receiver.log(key)).toHaveLength(1);
    expect((await call("PATCH", `/webhooks/${w.webhook_id}`, { status: "ACTIVE" })).status).toBe(200);
    expect(
      (await call("POST", `/webhooks/${w.webhook_id}/deliveries/${failed.delivery_id}/replay`, {}, MODELGATE_API))
        .status,
    ).toBe(200);
    await deliveryWhere(w.webhook_id, (d) => d.delivery_id === failed.delivery_id && d.status === "DELIVERED");
    expect(await receiver.log(key)).toHaveLength(2);
  });

  it("refuses to replay a delivered delivery, an unknown one, or one of another webhook", async () => {
    const model = fakeModelId();
    const key = uniqueKey("ok");
    const w = await webhookFor(model, { url: receiver.hook(key), events: MV_CREATED });
    const other = await webhookFor(model, { url: receiver.hook(uniqueKey()), events: MV_CREATED });
    await emit(model, "model_version.created");
    const delivered = await deliveryWhere(w.webhook_id, (d) => d.status === "DELIVERED");
    const replay = (webhookId: string, deliveryId: string) =>
      call("POST", `/webhooks/${webhookId}/deliveries/${deliveryId}/replay`, {}, MODELGATE_API);
    expectError(
      await replay(w.webhook_id, delivered.delivery_id),
      409,
      "RESOURCE_CONFLICT",
      /is delivered; only dead or failed deliveries can be replayed/,
    );
    expectError(await replay(w.webhook_id, "no-such-delivery"), 404, "RESOURCE_DOES_NOT_EXIST");
    expectError(await replay(other.webhook_id, delivered.delivery_id), 404, "RESOURCE_DOES_NOT_EXIST");
    expectError(await replay("no-such-webhook", delivered.delivery_id), 404, "RESOURCE_DOES_NOT_EXIST");
  });

  it("checks the address again at send time: a webhook pointing inside is refused, not called", async () => {
    const model = fakeModelId();
    const webhookId = crypto.randomUUID().replaceAll("-", "");
    // Written directly: the API would refuse this URL at creation.
    await env.DB.prepare(
      "INSERT INTO webhooks (id, name, url, events, status, creation_timestamp, last_updated_timestamp) VALUES (?, 'inside', 'http://10.1.2.3/hook', ?, 'ACTIVE', 0, 0)",
    )
      .bind(webhookId, JSON.stringify(["model_version.created"]))
      .run();
    await emit(model, "model_version.created");
    const failed = await deliveryWhere(webhookId, (d) => d.status === "FAILED");
    expect(failed.attempts[0]).toMatchObject({
      outcome: "FAILED",
      error: expect.stringMatching(/'10\.1\.2\.3' is a private address/),
    });
    expect(failed.attempts[0].status_code).toBeUndefined();
  });
});

describe("the delivery log", () => {
  it("lists a webhook's deliveries newest first, paged", async () => {
    const model = fakeModelId();
    const key = uniqueKey("paged");
    const w = await webhookFor(model, { url: receiver.hook(key), events: MV_CREATED });
    for (let i = 0; i < 3; i++) {
      await emit(model, "model_version.created", { version: i + 1 });
      await receipts(key, i + 1);
    }
    const first = await call("GET", `/webhooks/${w.webhook_id}/deliveries`, { max_results: 2 }, MODELGATE_API);
    expect(first.status).toBe(200);
    expect(first.body.deliveries).toHaveLength(2);
    expect(first.body.next_page_token).toBeTruthy();
    const second = await call(
      "GET",
      `/webhooks/${w.webhook_id}/deliveries`,
      { max_results: 2, page_token: first.body.next_page_token },
      MODELGATE_API,
    );
    expect(second.body.deliveries).toHaveLength(1);
    expect(second.body.next_page_token).toBeUndefined();
    const all = [...first.body.deliveries, ...second.body.deliveries];
    const created = all.map((d: any) => d.created_at);
    expect(created).toEqual([...created].sort((a, b) => b - a));
    expectError(await call("GET", "/webhooks/unknown/deliveries", {}, MODELGATE_API), 404, "RESOURCE_DOES_NOT_EXIST");
    expectError(
      await call("GET", `/webhooks/${w.webhook_id}/deliveries`, { max_results: -1 }, MODELGATE_API),
      400,
      "INVALID_PARAMETER_VALUE",
    );
  });

  it("deleting a webhook deletes its deliveries and their attempts", async () => {
    const model = fakeModelId();
    const key = uniqueKey("deleted");
    const w = await webhookFor(model, { url: receiver.hook(key), events: MV_CREATED });
    await emit(model, "model_version.created");
    const d = await deliveryWhere(w.webhook_id, (x) => x.status === "DELIVERED");
    expect((await call("DELETE", `/webhooks/${w.webhook_id}`)).status).toBe(200);
    const rows = await env.DB.prepare(
      "SELECT (SELECT count(*) FROM webhook_deliveries WHERE webhook_id = ?1) AS deliveries, (SELECT count(*) FROM webhook_delivery_attempts WHERE delivery_id = ?2) AS attempts",
    )
      .bind(w.webhook_id, d.delivery_id)
      .first<{ deliveries: number; attempts: number }>();
    expect(rows).toEqual({ deliveries: 0, attempts: 0 });
  });
});

describe("the sweep (a delivery whose queue message was lost)", () => {
  it("re-enqueues an overdue pending delivery when the dispatcher's alarm fires", async () => {
    const model = fakeModelId();
    const key = uniqueKey("lost");
    const w = await webhookFor(model, { url: receiver.hook(key), events: MV_CREATED });
    const event = await outboxEvent(model, "model_version.created");
    const deliveryId = crypto.randomUUID();
    const longAgo = Date.now() - 10 * 60_000;
    // As a crash leaves it: the delivery written, its queue message gone.
    await env.DB.prepare(
      "INSERT INTO webhook_deliveries (id, webhook_id, event_id, entity, action, model_id, model_name, sequence, payload, status, attempts, created_at, updated_at, next_attempt_at) VALUES (?, ?, ?, 'model_version', 'created', ?, 'm', 1, ?, 'pending', 0, ?, ?, ?)",
    )
      .bind(
        deliveryId,
        w.webhook_id,
        event.id,
        event.modelId,
        JSON.stringify({ entity: "model_version", action: "created", timestamp: "t", data: {} }),
        longAgo,
        longAgo,
        longAgo,
      )
      .run();
    // Nothing queued it: only the sweep can send it.
    expect(await receiver.log(key)).toEqual([]);

    const dispatcher = env.WEBHOOK_DISPATCHER.get(env.WEBHOOK_DISPATCHER.idFromName(DISPATCHER_NAME));
    await dispatcher.arm(60_000);
    expect(await runDurableObjectAlarm(dispatcher)).toBe(true);
    const received = (await receipts(key, 1))[0]!;
    expect(received.headers["x-mlflow-delivery-id"]).toBe(deliveryId);
    await deliveryWhere(w.webhook_id, (d) => d.delivery_id === deliveryId && d.status === "DELIVERED");
  });

  it("leaves alone a pending delivery that is only waiting for its retry", async () => {
    const model = fakeModelId();
    const key = uniqueKey("waiting");
    const w = await webhookFor(model, { url: receiver.hook(key), events: MV_CREATED });
    const event = await outboxEvent(model, "model_version.created");
    const now = Date.now();
    const deliveryId = crypto.randomUUID();
    const retryAt = now + 30 * 60_000;
    await env.DB.prepare(
      "INSERT INTO webhook_deliveries (id, webhook_id, event_id, entity, action, payload, status, attempts, created_at, updated_at, next_attempt_at) VALUES (?, ?, ?, 'model_version', 'created', '{}', 'pending', 1, ?, ?, ?)",
    )
      .bind(deliveryId, w.webhook_id, event.id, now, now, retryAt)
      .run();
    const dispatcher = env.WEBHOOK_DISPATCHER.get(env.WEBHOOK_DISPATCHER.idFromName(DISPATCHER_NAME));
    await dispatcher.arm(60_000);
    expect(await runDurableObjectAlarm(dispatcher)).toBe(true);
    // The sweep queues only what it claims, and claiming moves next_attempt_at to now: the alarm has
    // finished, so an untouched row was not queued.
    const row = await env.DB.prepare("SELECT next_attempt_at, status FROM webhook_deliveries WHERE id = ?")
      .bind(deliveryId)
      .first<{ next_attempt_at: number; status: string }>();
    expect(row).toEqual({ next_attempt_at: retryAt, status: "pending" });
    expect(await receiver.log(key)).toEqual([]);
  });
});
