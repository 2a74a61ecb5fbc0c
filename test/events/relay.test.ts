import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, createModel, createVersion } from "../helpers";
import { RESEND_AFTER_MS, resendDelayMs } from "../../src/domain/resend-policy";
import { EventRelay, type EventQueue } from "../../src/events/event-relay";
import type { NewEvent, RegistryEvent } from "../../src/domain/events";
import { openDatabase } from "../../src/repositories/database";
import { EventRepository } from "../../src/repositories/event-repository";
import { eventRows, eventually, modelIdOf } from "./helpers";

const db = openDatabase(env.DB);
const repo = new EventRepository(db);

/** Writes `count` events of a made-up model straight into the outbox, as a committed batch would. */
async function seedOutbox(count: number): Promise<string> {
  const modelId = crypto.randomUUID().replaceAll("-", "");
  const events: NewEvent[] = Array.from({ length: count }, (_, i) => ({
    type: "model_version_tag.set",
    version: 1,
    from: null,
    to: null,
    data: { key: `k${i}`, value: "x".repeat(i % 3 === 0 ? 5000 : 10) },
  }));
  for (let i = 0; i < events.length; i += 50) {
    const statements = repo.inserts(modelId, {
      modelName: "seeded",
      actor: "seeder",
      timestamp: 1_000,
      events: events.slice(i, i + 50),
    });
    await db.batch(statements as [(typeof statements)[0], ...typeof statements]);
  }
  return modelId;
}

/** The real EVENTS queue, with a record of what was handed to it, batch by batch. */
function recordingQueue(forward: boolean): EventQueue & { batches: RegistryEvent[][] } {
  const batches: RegistryEvent[][] = [];
  return {
    batches,
    async sendBatch(messages) {
      const list = [...messages];
      if (forward) await env.EVENTS.sendBatch(list);
      batches.push(list.map((m) => m.body));
    },
  };
}

const stubOf = (modelId: string) => env.MODEL_COORDINATOR.get(env.MODEL_COORDINATOR.idFromName(modelId));

describe("the relay (EventRelay)", () => {
  it("hands never-sent events to the queue in sequence order, in the RegistryEvent shape, and marks them sent", async () => {
    const modelId = await seedOutbox(3);
    const queue = recordingQueue(true);
    const now = Date.now();
    const next = await new EventRelay(repo, queue, () => now).relay(modelId);
    expect(queue.batches).toHaveLength(1);
    expect(queue.batches[0]!.map((e) => e.sequence)).toEqual([1, 2, 3]);
    expect(queue.batches[0]![0]).toEqual({
      id: expect.any(String),
      type: "model_version_tag.set",
      modelId,
      modelName: "seeded",
      version: 1,
      from: null,
      to: null,
      actor: "seeder",
      timestamp: 1_000,
      sequence: 1,
      data: { key: "k0", value: "x".repeat(5000) },
    });
    expect((await eventRows(modelId)).map((r) => r.sent_at)).toEqual([now, now, now]);
    // Not fanned out yet: run again when a resend falls due.
    expect(next).toBe(now + RESEND_AFTER_MS);
  });

  it("re-sends after 30 s only what the consumer has not fanned out, and has nothing to do once all is fanned out", async () => {
    const modelId = await seedOutbox(3);
    const queue = recordingQueue(false);
    const t0 = Date.now();
    await new EventRelay(repo, queue, () => t0).relay(modelId);
    // Within the window: nothing is due again.
    expect(await new EventRelay(repo, queue, () => t0 + RESEND_AFTER_MS - 1).relay(modelId)).toBe(t0 + RESEND_AFTER_MS);
    expect(queue.batches).toHaveLength(1);
    const [first] = await eventRows(modelId);
    await env.DB.prepare("UPDATE events SET fanned_out_at = ? WHERE id = ?")
      .bind(t0 + 10, first!.id)
      .run();
    const t1 = t0 + RESEND_AFTER_MS + 1;
    // Sent twice now: the next resend waits twice as long.
    expect(await new EventRelay(repo, queue, () => t1).relay(modelId)).toBe(t1 + 2 * RESEND_AFTER_MS);
    expect(queue.batches[1]!.map((e) => e.sequence)).toEqual([2, 3]);
    expect((await eventRows(modelId)).map((r) => r.sent_at)).toEqual([t0, t1, t1]);
    expect((await eventRows(modelId)).map((r) => r.send_count)).toEqual([1, 2, 2]);
    await env.DB.prepare("UPDATE events SET fanned_out_at = ? WHERE model_id = ?")
      .bind(t1 + 10, modelId)
      .run();
    expect(await new EventRelay(repo, queue, () => t1 + 10 * RESEND_AFTER_MS).relay(modelId)).toBeNull();
    expect(queue.batches).toHaveLength(2);
  });

  it("splits a backlog into sendBatch calls within the queue's limits (100 messages, 256 KB), keeping order", async () => {
    const modelId = await seedOutbox(230);
    const queue = recordingQueue(false);
    await new EventRelay(repo, queue, () => Date.now()).relay(modelId);
    expect(queue.batches.flat().map((e) => e.sequence)).toEqual(Array.from({ length: 230 }, (_, i) => i + 1));
    for (const batch of queue.batches) {
      expect(batch.length).toBeLessThanOrEqual(100);
      expect(new TextEncoder().encode(JSON.stringify(batch)).length).toBeLessThan(256 * 1024);
    }
    expect((await eventRows(modelId)).every((r) => r.sent_at !== null)).toBe(true);
  });

  it("marks a full batch of 100 small events sent (more ids than D1 binds parameters per statement)", async () => {
    const modelId = crypto.randomUUID().replaceAll("-", "");
    const small: NewEvent[] = Array.from({ length: 150 }, (_, i) => ({
      type: "model_version_tag.deleted",
      version: 1,
      from: null,
      to: null,
      data: { key: `k${i}` },
    }));
    for (let i = 0; i < small.length; i += 50) {
      const statements = repo.inserts(modelId, {
        modelName: "seeded",
        actor: "seeder",
        timestamp: 1_000,
        events: small.slice(i, i + 50),
      });
      await db.batch(statements as [(typeof statements)[0], ...typeof statements]);
    }
    const queue = recordingQueue(false);
    await new EventRelay(repo, queue, () => Date.now()).relay(modelId);
    expect(queue.batches.map((b) => b.length)).toEqual([100, 50]);
    expect((await eventRows(modelId)).every((r) => r.sent_at !== null)).toBe(true);
  });

  it("leaves events unsent when the queue refuses them, so the next run sends them", async () => {
    const modelId = await seedOutbox(2);
    const failing: EventQueue = {
      sendBatch: async () => {
        throw new Error("queue unavailable");
      },
    };
    await expect(new EventRelay(repo, failing).relay(modelId)).rejects.toThrow("queue unavailable");
    expect((await eventRows(modelId)).map((r) => r.sent_at)).toEqual([null, null]);
    const queue = recordingQueue(false);
    await new EventRelay(repo, queue).relay(modelId);
    expect(queue.batches.flat().map((e) => e.sequence)).toEqual([1, 2]);
  });
});

describe("re-sends: back-off and a cap (RESEND_POLICY)", () => {
  it("waits 30 s, then twice as long after each send up to an hour, and stops after 10 sends", async () => {
    const modelId = await seedOutbox(1);
    const queue = recordingQueue(false);
    let now = Date.now();
    const waits: number[] = [];
    for (let send = 1; send <= 10; send++) {
      const next = await new EventRelay(repo, queue, () => now).relay(modelId);
      expect(queue.batches).toHaveLength(send);
      if (send === 10) {
        // The cap: nothing more will fall due, so no alarm for it.
        expect(next).toBeNull();
        break;
      }
      // Nothing is sent before its time.
      expect(await new EventRelay(repo, queue, () => next! - 1).relay(modelId)).toBe(next);
      expect(queue.batches).toHaveLength(send);
      waits.push(next! - now);
      now = next!;
    }
    expect(waits).toEqual([30, 60, 120, 240, 480, 960, 1920, 3600, 3600].map((s) => s * 1000));
    expect(waits).toEqual(Array.from({ length: 9 }, (_, i) => resendDelayMs(i + 1)));
    const [row] = await eventRows(modelId);
    expect(row!.send_count).toBe(10);
    // Given up: even days later the relay sends it no more.
    expect(await new EventRelay(repo, queue, () => now + 30 * 24 * 3600_000).relay(modelId)).toBeNull();
    expect(queue.batches).toHaveLength(10);
    await env.DB.prepare("UPDATE events SET fanned_out_at = ? WHERE model_id = ?").bind(now, modelId).run();
  });

  it("keeps the model's alarm for the events under the cap while another has given up", async () => {
    const modelId = await seedOutbox(2);
    const [stuck, owed] = await eventRows(modelId);
    const t0 = Date.now();
    await env.DB.prepare("UPDATE events SET send_count = 10, sent_at = ? WHERE id = ?").bind(t0, stuck!.id).run();
    await env.DB.prepare("UPDATE events SET send_count = 3, sent_at = ? WHERE id = ?").bind(t0, owed!.id).run();
    const queue = recordingQueue(false);
    expect(await new EventRelay(repo, queue, () => t0).relay(modelId)).toBe(t0 + resendDelayMs(3));
    expect(queue.batches).toHaveLength(0);
    expect(await new EventRelay(repo, queue, () => t0 + resendDelayMs(3)).relay(modelId)).toBe(
      t0 + resendDelayMs(3) + resendDelayMs(4),
    );
    expect(queue.batches.flat().map((e) => e.id)).toEqual([owed!.id]);
    await env.DB.prepare("UPDATE events SET fanned_out_at = ? WHERE model_id = ?").bind(t0, modelId).run();
  });
});

describe("the model coordinator's alarm", () => {
  it("fires on its own after a change and relays the change's events; the queue's consumer receives them", async () => {
    const name = await createModel();
    await createVersion(name);
    const id = await modelIdOf(name);
    await eventually(async () => (await eventRows(id)).every((r) => r.sent_at !== null));
    // Delivered through the real queue: its consumer (webhooks) marks each event fanned out.
    await eventually(async () => (await eventRows(id)).every((r) => r.fanned_out_at !== null));
    expect(await eventRows(id)).toHaveLength(3);
  });

  it("relays from a fresh instance after eviction (memory lost), from the model id it keeps in storage", async () => {
    const name = await createModel();
    const id = await modelIdOf(name);
    await eventually(async () => (await eventRows(id)).every((r) => r.sent_at !== null));
    const stub = stubOf(id);
    // As if a batch committed and the object died before relaying it: an event not yet sent and an alarm armed.
    await env.DB.prepare(
      "INSERT INTO events (id, model_id, model_name, sequence, type, timestamp, data) VALUES (?, ?, ?, 2, 'registered_model_tag.set', ?, '{}')",
    )
      .bind(crypto.randomUUID(), id, name, Date.now())
      .run();
    await runInDurableObject(stub, (_, state) => state.storage.setAlarm(Date.now() + 300));
    // Evict the instance (its memory is lost; storage and the alarm stay).
    await runInDurableObject(stub, (_, state) => state.abort("evicted by the test")).catch(() => undefined);
    await eventually(async () => (await eventRows(id)).every((r) => r.sent_at !== null));
  });

  it("runs on runDurableObjectAlarm, re-sends what is owed, and stops re-arming once every event is fanned out", async () => {
    const name = await createModel();
    const id = await modelIdOf(name);
    const stub = stubOf(id);
    await eventually(async () => (await eventRows(id)).every((r) => r.fanned_out_at !== null));
    // Owed again, last sent long ago; the next alarm far away.
    const t0 = Date.now();
    await env.DB.prepare("UPDATE events SET sent_at = ?, fanned_out_at = NULL WHERE model_id = ?")
      .bind(t0 - 2 * RESEND_AFTER_MS, id)
      .run();
    await runInDurableObject(stub, (_, state) => state.storage.setAlarm(t0 + 3_600_000));
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const [row] = await eventRows(id);
    expect(row!.sent_at).toBeGreaterThanOrEqual(t0);
    // Once fanned out, a run leaves no alarm behind.
    await env.DB.prepare("UPDATE events SET fanned_out_at = ? WHERE model_id = ?").bind(Date.now(), id).run();
    await runInDurableObject(stub, (instance) => instance.alarm());
    expect(await runInDurableObject(stub, (_, state) => state.storage.getAlarm())).toBeNull();
  });

  it("is armed by a change before its batch: an alarm is set even when the batch then fails", async () => {
    const name = await createModel();
    const taken = await createModel();
    const id = await modelIdOf(name);
    const stub = stubOf(id);
    await eventually(async () => (await eventRows(id)).every((r) => r.sent_at !== null));
    await runInDurableObject(stub, (_, state) => state.storage.deleteAlarm());
    const before = Date.now();
    const res = await call("POST", "/registered-models/rename", { name, new_name: taken });
    expect(res.status).toBe(400);
    const armed = await runInDurableObject(stub, (_, state) => state.storage.getAlarm());
    // Either still pending, or it already ran and re-armed for the resend window of the unfanned event.
    expect(armed).not.toBeNull();
    expect(armed!).toBeGreaterThanOrEqual(before);
  });
});
