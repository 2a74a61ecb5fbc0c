import { sql } from "drizzle-orm";
import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import type { RegistryEventType } from "../domain/events";

/**
 * The outbox: one row per registry change (see src/domain/events.ts), inserted in the same
 * D1 batch as the change. No foreign key to the model: a deleted model's events outlive it.
 * `sent_at`: last handed to the events queue; `fanned_out_at`: the queue's consumer turned it into
 * webhook deliveries (set in the same batch as those deliveries). A row with `fanned_out_at` null is
 * still owed to receivers and is sent again, with back-off, until it is fanned out or `send_count`
 * reaches the relay's cap (src/domain/resend-policy.ts): then it is reported by /health instead.
 */
export const events = sqliteTable(
  "events",
  {
    id: text("id").primaryKey(),
    modelId: text("model_id").notNull(),
    modelName: text("model_name").notNull(),
    sequence: integer("sequence").notNull(),
    type: text("type").$type<RegistryEventType>().notNull(),
    version: integer("version"),
    fromValue: text("from_value"),
    toValue: text("to_value"),
    actor: text("actor"),
    timestamp: integer("timestamp").notNull(),
    /** JSON object of strings. */
    data: text("data").notNull().default("{}"),
    sentAt: integer("sent_at"),
    /** How many times the relay has handed it to the events queue. */
    sendCount: integer("send_count").notNull().default(0),
    fannedOutAt: integer("fanned_out_at"),
  },
  (t) => [
    uniqueIndex("events_model_sequence_uq").on(t.modelId, t.sequence),
    index("events_pending_idx").on(t.modelId, t.sequence).where(sql`fanned_out_at IS NULL`),
    index("events_timestamp_idx").on(t.timestamp),
  ],
);
