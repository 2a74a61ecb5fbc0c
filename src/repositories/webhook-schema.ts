import { sql } from "drizzle-orm";
import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import type { AttemptOutcome, DeliveryStatus, WebhookStatus } from "../domain/webhooks";

/**
 * Webhooks as MLflow 3 defines them, plus an optional model filter. The secret is kept because
 * every delivery is signed with it; it is never returned by the API.
 */
export const webhooks = sqliteTable(
  "webhooks",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    description: text("description"),
    url: text("url").notNull(),
    secret: text("secret"),
    /** JSON list of "entity.action" strings. */
    events: text("events").notNull(),
    /** The model filter: only that model's events (by immutable id, so a rename keeps it). */
    modelId: text("model_id"),
    /** The model's name when the filter was set (shown if the model is gone). */
    modelName: text("model_name"),
    status: text("status").$type<WebhookStatus>().notNull(),
    creationTimestamp: integer("creation_timestamp").notNull(),
    lastUpdatedTimestamp: integer("last_updated_timestamp").notNull(),
  },
  (t) => [index("webhooks_status_idx").on(t.status), index("webhooks_model_idx").on(t.modelId)],
);

/**
 * One event owed to one webhook. `payload` is the exact JSON body, fixed at fan-out, so retries
 * and replays send the same bytes (only the signature's timestamp changes). `next_attempt_at`
 * is when the delivery is next expected on the queue; the sweep re-enqueues pending rows whose
 * time has long passed (their queue message was lost).
 */
export const webhookDeliveries = sqliteTable(
  "webhook_deliveries",
  {
    id: text("id").primaryKey(),
    webhookId: text("webhook_id")
      .notNull()
      .references(() => webhooks.id, { onDelete: "cascade" }),
    /** The registry event (D1 `events.id`); null for a test delivery. */
    eventId: text("event_id"),
    entity: text("entity").notNull(),
    action: text("action").notNull(),
    modelId: text("model_id"),
    modelName: text("model_name"),
    sequence: integer("sequence"),
    payload: text("payload").notNull(),
    /** pending | delivered | failed (a permanent 4xx) | dead (retries used up, dead-lettered). */
    status: text("status").$type<DeliveryStatus>().notNull(),
    attempts: integer("attempts").notNull().default(0),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    nextAttemptAt: integer("next_attempt_at").notNull(),
    deliveredAt: integer("delivered_at"),
    deadAt: integer("dead_at"),
    lastStatusCode: integer("last_status_code"),
    lastError: text("last_error"),
  },
  (t) => [
    uniqueIndex("webhook_deliveries_event_webhook_uq").on(t.eventId, t.webhookId),
    index("webhook_deliveries_webhook_idx").on(t.webhookId, t.createdAt),
    index("webhook_deliveries_pending_idx").on(t.nextAttemptAt).where(sql`status = 'pending'`),
  ],
);

/** Every try of every delivery: when, how long, and what the receiver answered (or the error). */
export const webhookDeliveryAttempts = sqliteTable(
  "webhook_delivery_attempts",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    deliveryId: text("delivery_id")
      .notNull()
      .references(() => webhookDeliveries.id, { onDelete: "cascade" }),
    attempt: integer("attempt").notNull(),
    startedAt: integer("started_at").notNull(),
    durationMs: integer("duration_ms").notNull(),
    statusCode: integer("status_code"),
    error: text("error"),
    /** delivered | retry | failed */
    outcome: text("outcome").$type<AttemptOutcome>().notNull(),
  },
  (t) => [index("webhook_delivery_attempts_delivery_idx").on(t.deliveryId, t.attempt)],
);
