import { and, asc, eq, gt, isNull, lte, or, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { RegistryEvent, RegistryEventType } from "../events/registry-event";
import type { Database } from "./database";
import { translateD1Error } from "./d1-errors";
import { events } from "./events-schema";
import { inJsonList } from "./tracking-sql";

/** An event as a writer describes it; the outbox adds the id, model, actor, time and sequence. */
export interface NewEvent {
  type: RegistryEventType;
  version: number | null;
  from: string | null;
  to: string | null;
  data: Record<string, string>;
}

/** The events of one change, with what they share: which model, who, when. */
export interface Outbox {
  modelName: string;
  actor: string | null;
  timestamp: number;
  events: NewEvent[];
}

type Statement = BatchItem<"sqlite">;

/**
 * The outbox (D1 `events`). Writers never insert events on their own: `inserts` gives statements
 * that the model repository runs in the same batch as the change they describe.
 */
export class EventRepository {
  constructor(private readonly db: Database) {}

  /**
   * One INSERT ... SELECT per event: the sequence is the model's highest so far plus one, read by
   * the statement itself. Statements of a batch run in order inside one transaction, so events of
   * one batch number consecutively, and the unique index (model_id, sequence) refuses a collision.
   */
  inserts(modelId: string, outbox: Outbox): Statement[] {
    return outbox.events.map((e) =>
      this.db.insert(events).select(
        this.db
          .select({
            id: sql<string>`${crypto.randomUUID()}`.as("id"),
            modelId: sql<string>`${modelId}`.as("model_id"),
            modelName: sql<string>`${outbox.modelName}`.as("model_name"),
            sequence: sql<number>`coalesce(max(${events.sequence}), 0) + 1`.as("sequence"),
            type: sql<string>`${e.type}`.as("type"),
            version: sql<number | null>`${e.version}`.as("version"),
            fromValue: sql<string | null>`${e.from}`.as("from_value"),
            toValue: sql<string | null>`${e.to}`.as("to_value"),
            actor: sql<string | null>`${outbox.actor}`.as("actor"),
            timestamp: sql<number>`${outbox.timestamp}`.as("timestamp"),
            data: sql<string>`${JSON.stringify(e.data)}`.as("data"),
            sentAt: sql<number | null>`null`.as("sent_at"),
            sendCount: sql<number>`0`.as("send_count"),
            fannedOutAt: sql<number | null>`null`.as("fanned_out_at"),
          })
          .from(events)
          .where(eq(events.modelId, modelId)),
      ),
    );
  }

  /** A model's events after `afterSequence`, in sequence order. */
  async page(modelId: string, afterSequence: number, limit: number): Promise<RegistryEvent[]> {
    const rows = await this.guard(() =>
      this.db
        .select()
        .from(events)
        .where(and(eq(events.modelId, modelId), gt(events.sequence, afterSequence)))
        .orderBy(asc(events.sequence))
        .limit(limit),
    );
    return rows.map(toEvent);
  }

  /** Events still owed to the queue: never fanned out, and never sent or last sent at or before `sentBefore`. */
  async due(modelId: string, sentBefore: number, limit: number): Promise<RegistryEvent[]> {
    const rows = await this.guard(() =>
      this.db
        .select()
        .from(events)
        .where(and(eq(events.modelId, modelId), isNull(events.fannedOutAt), or(isNull(events.sentAt), lte(events.sentAt, sentBefore))))
        .orderBy(asc(events.sequence))
        .limit(limit),
    );
    return rows.map(toEvent);
  }

  async markSent(modelId: string, ids: string[], at: number): Promise<void> {
    if (ids.length === 0) return;
    await this.guard(() =>
      this.db
        .update(events)
        .set({ sentAt: at })
        // One bound parameter for the ids: D1 binds at most 100 per statement and a relay round sends 100.
        .where(and(eq(events.modelId, modelId), inJsonList(events.id, ids), isNull(events.fannedOutAt))),
    );
  }

  /**
   * Among the model's events not yet fanned out, the earliest last-sent time (0 for one never
   * sent); null when every event has been fanned out.
   */
  async oldestUnfannedSend(modelId: string): Promise<number | null> {
    const row = await this.guard(() =>
      this.db
        .select({ n: sql<number>`count(*)`, oldest: sql<number | null>`min(coalesce(${events.sentAt}, 0))` })
        .from(events)
        .where(and(eq(events.modelId, modelId), isNull(events.fannedOutAt)))
        .get(),
    );
    return row && row.n > 0 ? (row.oldest ?? 0) : null;
  }

  private async guard<T>(query: () => Promise<T>): Promise<T> {
    try {
      return await query();
    } catch (error) {
      throw translateD1Error(error);
    }
  }
}

function toEvent(row: typeof events.$inferSelect): RegistryEvent {
  return {
    id: row.id,
    type: row.type as RegistryEventType,
    modelId: row.modelId,
    modelName: row.modelName,
    version: row.version,
    from: row.fromValue,
    to: row.toValue,
    actor: row.actor,
    timestamp: row.timestamp,
    sequence: row.sequence,
    data: JSON.parse(row.data) as Record<string, string>,
  };
}
