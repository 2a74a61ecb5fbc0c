import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { RESEND_POLICY } from "../../src/domain/resend-policy";
import { readMaintenanceConfig } from "../../src/maintenance/maintenance-config";
import { Retention } from "../../src/maintenance/retention";
import { openDatabase } from "../../src/repositories/database";
import { EventRepository } from "../../src/repositories/event-repository";
import { TokenRepository } from "../../src/repositories/token-repository";
import { WebhookDeliveryRepository } from "../../src/repositories/webhook-delivery-repository";
import { call, createModel } from "../helpers";
import { eventRows, modelIdOf } from "../events/helpers";
import { count, DAY, ERA, insertAudit, insertDelivery, insertEvent, quietWebhook } from "./helpers";

const retentionWith = (
  vars: Record<string, string> = {},
  limits?: { rowsPerStatement: number; statementsPerTable: number },
) => {
  const db = openDatabase(env.DB);
  return new Retention(
    new EventRepository(db),
    new WebhookDeliveryRepository(db),
    new TokenRepository(db),
    readMaintenanceConfig(vars),
    limits,
  );
};
const fakeModel = () => `retention-${crypto.randomUUID()}`;

describe("retention of the outbox (MODELGATE_EVENT_RETENTION_DAYS, default 30)", () => {
  it("deletes events fanned out more than 30 days ago; keeps newer ones and those never fanned out", async () => {
    const model = fakeModel();
    const old = await insertEvent(model, ERA, { sequence: 1 });
    const edge = await insertEvent(model, ERA + 2 * DAY, { sequence: 2 });
    const owed = await insertEvent(model, ERA, { sequence: 3, fannedOutAt: null, sentAt: ERA, sendCount: 10 });
    const recent = await insertEvent(model, ERA + 10 * DAY, { sequence: 4 });
    const report = await retentionWith().run(ERA + 32 * DAY);
    expect(report.events).toEqual({ deleted: 1, complete: true });
    expect((await eventRows(model)).map((r) => r.id)).toEqual([edge, owed, recent]);
    expect(old).not.toBe(edge);
  });

  it("keeps a live model's newest event, however old, so its sequence numbers continue; a deleted model's all go", async () => {
    const name = await createModel();
    const live = await modelIdOf(name);
    // Two old changes after the model's creation event (sequence 1, written now).
    await insertEvent(live, ERA, { sequence: 2 });
    await insertEvent(live, ERA, { sequence: 3 });
    const gone = fakeModel(); // no registered_models row: deleted
    await insertEvent(gone, ERA, { sequence: 1 });
    await insertEvent(gone, ERA, { sequence: 2 });
    await retentionWith().run(ERA + 31 * DAY);
    expect((await eventRows(live)).map((r) => r.sequence)).toEqual([1, 3]);
    expect(await eventRows(gone)).toEqual([]);
    expect((await call("POST", "/registered-models/set-tag", { name, key: "after", value: "retention" })).status).toBe(
      200,
    );
    expect((await eventRows(live)).map((r) => r.sequence)).toEqual([1, 3, 4]);
  });

  it("honours MODELGATE_EVENT_RETENTION_DAYS", async () => {
    const model = fakeModel();
    await insertEvent(model, ERA, { sequence: 1 });
    await insertEvent(model, ERA + 5 * DAY, { sequence: 2 });
    await insertEvent(model, ERA + 9 * DAY, { sequence: 3 });
    await retentionWith({ MODELGATE_EVENT_RETENTION_DAYS: "3" }).run(ERA + 10 * DAY);
    expect((await eventRows(model)).map((r) => r.sequence)).toEqual([3]);
  });
});

describe("retention of webhook deliveries (MODELGATE_DELIVERY_RETENTION_DAYS 30, dead ones MODELGATE_DEAD_DELIVERY_RETENTION_DAYS 90)", () => {
  it("deletes settled deliveries with their attempts after 30 days, dead ones after 90, pending ones never", async () => {
    const webhook = await quietWebhook();
    const now = ERA + 200 * DAY;
    const at = (daysAgo: number) => now - daysAgo * DAY;
    const rows = {
      deliveredOld: await insertDelivery(webhook, "delivered", at(40), at(40), 2),
      failedOld: await insertDelivery(webhook, "failed", at(35), at(35)),
      deliveredRecent: await insertDelivery(webhook, "delivered", at(10), at(10)),
      // Created long ago, replayed and delivered last week: counted from its last update.
      replayed: await insertDelivery(webhook, "delivered", at(100), at(7)),
      deadKept: await insertDelivery(webhook, "dead", at(60), at(60)),
      deadExpired: await insertDelivery(webhook, "dead", at(120), at(95), 6),
      pendingOld: await insertDelivery(webhook, "pending", at(150), at(150)),
    };
    const report = await retentionWith().run(now);
    expect(report.deliveries).toEqual({ deleted: 3, complete: true });
    const left = await env.DB.prepare("SELECT id FROM webhook_deliveries WHERE webhook_id = ?")
      .bind(webhook)
      .all<{ id: string }>();
    expect(new Set(left.results.map((r) => r.id))).toEqual(
      new Set([rows.deliveredRecent, rows.replayed, rows.deadKept, rows.pendingOld]),
    );
    for (const gone of [rows.deliveredOld, rows.failedOld, rows.deadExpired]) {
      expect(await count("webhook_delivery_attempts WHERE delivery_id = ?", gone)).toBe(0);
    }
    expect(await count("webhook_delivery_attempts WHERE delivery_id = ?", rows.deadKept)).toBe(1);
  });

  it("keeps a dead delivery until its own retention, however short the settled one", async () => {
    const webhook = await quietWebhook();
    const dead = await insertDelivery(webhook, "dead", ERA, ERA);
    await retentionWith({ MODELGATE_DELIVERY_RETENTION_DAYS: "1", MODELGATE_DEAD_DELIVERY_RETENTION_DAYS: "20" }).run(
      ERA + 10 * DAY,
    );
    expect(await count("webhook_deliveries WHERE id = ?", dead)).toBe(1);
    await retentionWith({ MODELGATE_DELIVERY_RETENTION_DAYS: "1", MODELGATE_DEAD_DELIVERY_RETENTION_DAYS: "20" }).run(
      ERA + 21 * DAY,
    );
    expect(await count("webhook_deliveries WHERE id = ?", dead)).toBe(0);
  });
});

describe("retention of the audit trail (MODELGATE_AUDIT_RETENTION_DAYS, default: kept)", () => {
  it("keeps every audit row by default", async () => {
    const actor = `retention-${crypto.randomUUID()}`;
    await insertAudit(ERA, actor);
    const report = await retentionWith().run(ERA + 10_000 * DAY);
    expect(report.audit).toBeNull();
    expect(await count("audit_events WHERE actor = ?", actor)).toBe(1);
  });

  it("deletes rows older than the configured days", async () => {
    const actor = `retention-${crypto.randomUUID()}`;
    await insertAudit(ERA, actor);
    await insertAudit(ERA + 5 * DAY, actor);
    await retentionWith({ MODELGATE_AUDIT_RETENTION_DAYS: "2" }).run(ERA + 6 * DAY);
    expect(await count("audit_events WHERE actor = ?", actor)).toBe(1);
  });
});

describe("bounded runs", () => {
  it("deletes in chunks and stops at the run's budget; the next run goes on", async () => {
    const actor = `retention-${crypto.randomUUID()}`;
    for (let i = 0; i < 5; i++) await insertAudit(ERA - (i + 2) * DAY, actor);
    const retention = retentionWith(
      { MODELGATE_AUDIT_RETENTION_DAYS: "1" },
      { rowsPerStatement: 2, statementsPerTable: 2 },
    );
    expect((await retention.run(ERA)).audit).toEqual({ deleted: 4, complete: false });
    expect(await count("audit_events WHERE actor = ?", actor)).toBe(1);
    expect((await retention.run(ERA)).audit).toEqual({ deleted: 1, complete: true });
    expect(await count("audit_events WHERE actor = ?", actor)).toBe(0);
  });

  it("chooses each chunk through an index, never by scanning events, deliveries or audit rows", async () => {
    // The statements as the repositories send them, with their parameters, explained by SQLite.
    const sent: { sql: string; params: unknown[] }[] = [];
    const recording = {
      prepare(sql: string) {
        const statement = env.DB.prepare(sql);
        return new Proxy(statement, {
          get(target, key) {
            if (key === "bind") return (...params: unknown[]) => (sent.push({ sql, params }), target.bind(...params));
            const value = Reflect.get(target, key);
            return typeof value === "function" ? value.bind(target) : value;
          },
        });
      },
      batch: (statements: D1PreparedStatement[]) => env.DB.batch(statements),
    } as unknown as D1Database;
    const db = openDatabase(recording);
    await new EventRepository(db).deleteFannedOutBefore(ERA, 10);
    await new WebhookDeliveryRepository(db).deleteSettledBefore(ERA, ERA, 10);
    await new TokenRepository(db).deleteAuditBefore(ERA, 10);
    // And the outbox checks that run on every scheduled run and /health: they read only the
    // partial index of events not fanned out.
    await new EventRepository(db).givenUp(ERA, RESEND_POLICY);
    await new EventRepository(db).overdueModels(ERA, 60_000, RESEND_POLICY, 5);
    expect(sent.map((s) => s.sql.split(" ")[0])).toEqual(["delete", "delete", "delete", "select", "select"]);
    for (const { sql, params } of sent) {
      expect(params.length).toBeLessThanOrEqual(100);
      const plan = await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`)
        .bind(...params)
        .all<{ detail: string }>();
      const details = plan.results.map((r) => r.detail);
      const scans = details.filter(
        (d) =>
          /^SCAN (events|webhook_deliveries|webhook_delivery_attempts|audit_events)\b/.test(d) &&
          !/USING (COVERING )?INDEX events_pending_idx/.test(d),
      );
      expect(scans, details.join("\n")).toEqual([]);
    }
  });
});

describe("the scheduled handler (the hourly Cron Trigger)", () => {
  it("runs retention with the configured days at the controller's scheduled time", async () => {
    const model = fakeModel();
    await insertEvent(model, ERA, { sequence: 1 });
    await insertEvent(model, ERA + 20 * DAY, { sequence: 2 });
    const webhook = await quietWebhook();
    const delivered = await insertDelivery(webhook, "delivered", ERA, ERA);
    const controller = createScheduledController({ scheduledTime: ERA + 31 * DAY, cron: "17 * * * *" });
    await worker.scheduled(controller, env);
    expect((await eventRows(model)).map((r) => r.sequence)).toEqual([2]);
    expect(await count("webhook_deliveries WHERE id = ?", delivered)).toBe(0);
  });
});

describe("readMaintenanceConfig", () => {
  it.each([
    [
      {},
      {
        eventRetentionMs: 30 * DAY,
        deliveryRetentionMs: 30 * DAY,
        deadDeliveryRetentionMs: 90 * DAY,
        auditRetentionMs: null,
        invalid: [],
      },
    ],
    [
      {
        MODELGATE_EVENT_RETENTION_DAYS: "7",
        MODELGATE_DELIVERY_RETENTION_DAYS: "0.5",
        MODELGATE_DEAD_DELIVERY_RETENTION_DAYS: "365",
        MODELGATE_AUDIT_RETENTION_DAYS: "400",
      },
      {
        eventRetentionMs: 7 * DAY,
        deliveryRetentionMs: DAY / 2,
        deadDeliveryRetentionMs: 365 * DAY,
        auditRetentionMs: 400 * DAY,
        invalid: [],
      },
    ],
    [
      { MODELGATE_EVENT_RETENTION_DAYS: "", MODELGATE_AUDIT_RETENTION_DAYS: " " },
      {
        eventRetentionMs: 30 * DAY,
        deliveryRetentionMs: 30 * DAY,
        deadDeliveryRetentionMs: 90 * DAY,
        auditRetentionMs: null,
        invalid: [],
      },
    ],
    [
      {
        MODELGATE_EVENT_RETENTION_DAYS: "3O",
        MODELGATE_DELIVERY_RETENTION_DAYS: "0",
        MODELGATE_AUDIT_RETENTION_DAYS: "-1",
      },
      {
        eventRetentionMs: 30 * DAY,
        deliveryRetentionMs: 30 * DAY,
        deadDeliveryRetentionMs: 90 * DAY,
        auditRetentionMs: null,
        invalid: [
          'MODELGATE_EVENT_RETENTION_DAYS="3O"',
          'MODELGATE_DELIVERY_RETENTION_DAYS="0"',
          'MODELGATE_AUDIT_RETENTION_DAYS="-1"',
        ],
      },
    ],
  ])("reads %j", (vars, expected) => {
    expect(readMaintenanceConfig(vars)).toEqual(expected);
  });
});
