import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { RESEND_POLICY, resendDelayMs } from "../../src/domain/resend-policy";
import { readMaintenanceConfig } from "../../src/maintenance/maintenance-config";
import { MaintenanceService } from "../../src/maintenance/maintenance-service";
import { Retention } from "../../src/maintenance/retention";
import { openDatabase } from "../../src/repositories/database";
import { EventRepository } from "../../src/repositories/event-repository";
import { TokenRepository } from "../../src/repositories/token-repository";
import { WebhookDeliveryRepository } from "../../src/repositories/webhook-delivery-repository";
import { eventRows, eventually } from "../events/helpers";
import { DAY, insertEvent } from "./helpers";

/**
 * /health and the watchdog look at the whole outbox; this suite's events live in 1940, before the
 * retention suite's era (1950) and everything else, and its checks take "now" from 1940.
 */
const EPOCH = Date.UTC(1940, 0, 1);
const LAST_WAIT = resendDelayMs(RESEND_POLICY.maxSends);

const db = openDatabase(env.DB);
const events = new EventRepository(db);
/** The service as the Worker builds it (real D1, the real EVENTS queue), at a time the test sets. */
const maintenanceAt = (now: () => number) =>
  new MaintenanceService(
    events,
    new Retention(events, new WebhookDeliveryRepository(db), new TokenRepository(db), readMaintenanceConfig({})),
    env.EVENTS,
    [],
    RESEND_POLICY,
    now,
  );
const fakeModel = () => `outbox-health-${crypto.randomUUID()}`;

describe("events the relay gave up on", () => {
  it("turn /health's check from ok to degraded once the last send had its hour, with what a banner shows", async () => {
    let now = EPOCH + 10 * DAY;
    expect(await maintenanceAt(() => now).checkHealth()).toEqual({ status: "ok" });
    const model = fakeModel();
    const lastSend = now;
    await insertEvent(model, EPOCH, { fannedOutAt: null, sentAt: lastSend, sendCount: RESEND_POLICY.maxSends });
    await insertEvent(model, EPOCH + DAY, { fannedOutAt: null, sentAt: lastSend, sendCount: RESEND_POLICY.maxSends });
    // Just sent for the last time: the consumer still has its hour to fan them out.
    now = lastSend + LAST_WAIT - 1;
    expect(await maintenanceAt(() => now).checkHealth()).toEqual({ status: "ok" });
    now = lastSend + LAST_WAIT;
    expect(await maintenanceAt(() => now).checkHealth()).toEqual({
      status: "degraded",
      checkFailed: null,
      undeliveredEvents: {
        count: 2,
        oldestTimestamp: EPOCH,
        sends: 10,
        models: [{ modelId: model, modelName: "retention-model", count: 2, oldestTimestamp: EPOCH }],
      },
    });
    await env.DB.prepare("UPDATE events SET fanned_out_at = ? WHERE model_id = ?").bind(now, model).run();
    expect(await maintenanceAt(() => now).checkHealth()).toEqual({ status: "ok" });
  });

  it("asks D1 at most every 15 s per service instance (/health is polled)", async () => {
    let now = EPOCH + 20 * DAY;
    const service = maintenanceAt(() => now);
    expect(await service.checkHealth()).toEqual({ status: "ok" });
    const model = fakeModel();
    await insertEvent(model, EPOCH, { fannedOutAt: null, sentAt: EPOCH, sendCount: RESEND_POLICY.maxSends });
    now += 14_999;
    expect(await service.checkHealth()).toEqual({ status: "ok" });
    now += 1;
    expect((await service.checkHealth()).status).toBe("degraded");
    await env.DB.prepare("UPDATE events SET fanned_out_at = ? WHERE model_id = ?").bind(now, model).run();
  });

  it("are relayed again when an operator releases them, and fanned out by the real consumer", async () => {
    const now = EPOCH + 30 * DAY;
    const model = fakeModel();
    await insertEvent(model, EPOCH, { fannedOutAt: null, sentAt: EPOCH, sendCount: RESEND_POLICY.maxSends });
    const service = maintenanceAt(() => now);
    expect((await service.checkHealth()).status).toBe("degraded");
    expect(await service.releaseUndeliveredEvents(model)).toEqual({ models: 1 });
    const [row] = await eventRows(model);
    expect(row).toMatchObject({ send_count: 1, sent_at: now });
    await eventually(async () => (await eventRows(model))[0]?.fanned_out_at !== null);
    expect(await service.checkHealth()).toEqual({ status: "ok" });
  });

  it("report a check that cannot run as degraded, in the repository's words (no D1 text on a public endpoint)", async () => {
    const broken = new MaintenanceService(
      new EventRepository(
        openDatabase({
          prepare: () => {
            throw new Error("D1 is unreachable");
          },
          batch: () => Promise.reject(new Error("D1 is unreachable")),
        } as unknown as D1Database),
      ),
      null as unknown as Retention,
      env.EVENTS,
    );
    expect(await broken.checkHealth()).toMatchObject({
      status: "degraded",
      undeliveredEvents: null,
      checkFailed: "The registry database failed to complete the request.",
    });
  });
});

describe("the scheduled run's watchdog", () => {
  it("relays events owed to the queue that no alarm relays (overdue by more than 10 minutes), and leaves given-up ones alone", async () => {
    const now = EPOCH + 40 * DAY;
    const forgotten = fakeModel();
    await insertEvent(forgotten, now - 11 * 60_000, { fannedOutAt: null });
    const recent = fakeModel();
    await insertEvent(recent, now - 60_000, { fannedOutAt: null });
    const given = fakeModel();
    await insertEvent(given, EPOCH, { fannedOutAt: null, sentAt: EPOCH, sendCount: RESEND_POLICY.maxSends });
    const report = await maintenanceAt(() => now).runScheduled(now);
    expect(report.relayedModels).toBeGreaterThanOrEqual(1);
    expect(report.undeliveredEvents).toBeGreaterThanOrEqual(1);
    expect((await eventRows(forgotten))[0]).toMatchObject({ send_count: 1, sent_at: now });
    expect((await eventRows(recent))[0]).toMatchObject({ send_count: 0, sent_at: null });
    expect((await eventRows(given))[0]).toMatchObject({ send_count: 10, sent_at: EPOCH });
    await eventually(async () => (await eventRows(forgotten))[0]?.fanned_out_at !== null);
    await env.DB.prepare("UPDATE events SET fanned_out_at = ? WHERE model_id IN (?, ?)").bind(now, recent, given).run();
  });
});
