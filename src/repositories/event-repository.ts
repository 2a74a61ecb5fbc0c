import { and, asc, eq, gt, gte, inArray, isNotNull, isNull, lt, lte, notExists, or, sql, type SQL } from "drizzle-orm";
import { alias } from "drizzle-orm/sqlite-core";
import type { BatchItem } from "drizzle-orm/batch";
import type { GivenUpEvents, Outbox, RegistryEvent, RegistryEventType } from "../domain/events";
import type { ResendPolicy } from "../domain/resend-policy";
import type { Database } from "./database";
import { translateD1Error } from "./d1-errors";
import { events } from "./events-schema";
import { registeredModels } from "./schema";
import { inJsonList } from "./tracking-sql";

type Statement = BatchItem<"sqlite">;

/** `resendDelayMs(send_count)` in SQL: the wait after the latest send before the next (src/domain/resend-policy.ts). */
function resendDelay(policy: ResendPolicy): SQL {
  return sql`min(${policy.firstResendMs} * (1 << max(0, min(${events.sendCount} - 1, 40))), ${policy.maxResendMs})`;
}

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
            type: sql<RegistryEventType>`${e.type}`.as("type"),
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

  /**
   * Events still owed to the queue and due now: not fanned out, fewer than `policy.maxSends`
   * sends, and never sent or last sent at least the policy's resend delay ago.
   */
  async due(modelId: string, now: number, policy: ResendPolicy, limit: number): Promise<RegistryEvent[]> {
    const rows = await this.guard(() =>
      this.db
        .select()
        .from(events)
        .where(
          and(
            eq(events.modelId, modelId),
            isNull(events.fannedOutAt),
            lt(events.sendCount, policy.maxSends),
            or(isNull(events.sentAt), lte(sql`${events.sentAt} + ${resendDelay(policy)}`, now)),
          ),
        )
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
        .set({ sentAt: at, sendCount: sql`${events.sendCount} + 1` })
        // One bound parameter for the ids: D1 binds at most 100 per statement and a relay round sends 100.
        .where(and(eq(events.modelId, modelId), inJsonList(events.id, ids), isNull(events.fannedOutAt))),
    );
  }

  /**
   * When the model's next resend falls due: the earliest among its events not fanned out and not
   * at the cap (0 for one never sent); null when there is none (all fanned out or given up).
   */
  async nextResendAt(modelId: string, policy: ResendPolicy): Promise<number | null> {
    const row = await this.guard(() =>
      this.db
        .select({
          n: sql<number>`count(*)`,
          next: sql<number | null>`min(coalesce(${events.sentAt} + ${resendDelay(policy)}, 0))`,
        })
        .from(events)
        .where(and(eq(events.modelId, modelId), isNull(events.fannedOutAt), lt(events.sendCount, policy.maxSends)))
        .get(),
    );
    return row && row.n > 0 ? (row.next ?? 0) : null;
  }

  /**
   * Events the relay gave up on: sent `policy.maxSends` times and still not fanned out a full
   * resend delay after the last send. Counted per model (the pending partial index: only rows not
   * fanned out are read).
   */
  async givenUp(now: number, policy: ResendPolicy): Promise<GivenUpEvents[]> {
    return this.guard(() =>
      this.db
        .select({
          modelId: events.modelId,
          modelName: sql<string>`max(${events.modelName})`,
          count: sql<number>`count(*)`,
          oldest: sql<number>`min(${events.timestamp})`,
        })
        .from(events)
        .where(
          and(
            isNull(events.fannedOutAt),
            gte(events.sendCount, policy.maxSends),
            lte(sql`${events.sentAt} + ${resendDelay(policy)}`, now),
          ),
        )
        .groupBy(events.modelId)
        .orderBy(sql`min(${events.timestamp})`),
    );
  }

  /**
   * Gives the events the relay gave up on (all, or one model's) a fresh set of sends (their count
   * back to 0): they are due at once. Answers the models they belong to.
   */
  async release(policy: ResendPolicy, modelId?: string): Promise<string[]> {
    const rows = await this.guard(() =>
      this.db
        .update(events)
        .set({ sendCount: 0 })
        .where(
          and(
            isNull(events.fannedOutAt),
            gte(events.sendCount, policy.maxSends),
            modelId === undefined ? undefined : eq(events.modelId, modelId),
          ),
        )
        .returning({ modelId: events.modelId }),
    );
    return [...new Set(rows.map((r) => r.modelId))];
  }

  /**
   * Models with an event owed to the queue whose send is overdue by more than `graceMs` (never
   * sent since it was written, or its resend long past due): their coordinator's alarm is not
   * relaying them (lost, or released by an operator), so maintenance relays them itself.
   */
  async overdueModels(now: number, graceMs: number, policy: ResendPolicy, limit: number): Promise<string[]> {
    const rows = await this.guard(() =>
      this.db
        .selectDistinct({ modelId: events.modelId })
        .from(events)
        .where(
          and(
            isNull(events.fannedOutAt),
            lt(events.sendCount, policy.maxSends),
            lt(sql`coalesce(${events.sentAt} + ${resendDelay(policy)}, ${events.timestamp})`, now - graceMs),
          ),
        )
        .limit(limit),
    );
    return rows.map((r) => r.modelId);
  }

  /**
   * Retention: deletes up to `limit` events fanned out (turned into webhook deliveries) and written
   * before `before`, oldest first, in one statement (two bound parameters). Each live model's
   * newest event stays, whatever its age: the next event's sequence number is counted from it.
   * A deleted model's events all go (nothing will be numbered after them). Answers how many went.
   */
  async deleteFannedOutBefore(before: number, limit: number): Promise<number> {
    const newest = alias(events, "newest");
    const expired = this.db
      .select({ id: events.id })
      .from(events)
      .where(
        and(
          lt(events.timestamp, before),
          isNotNull(events.fannedOutAt),
          or(
            lt(
              events.sequence,
              this.db
                .select({ n: sql`max(${newest.sequence})` })
                .from(newest)
                .where(eq(newest.modelId, events.modelId)),
            ),
            notExists(
              this.db.select({ one: sql`1` }).from(registeredModels).where(eq(registeredModels.id, events.modelId)),
            ),
          ),
        ),
      )
      .orderBy(asc(events.timestamp))
      .limit(limit);
    const result = await this.guard(() => this.db.delete(events).where(inArray(events.id, expired)).run());
    return result.meta.changes ?? 0;
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
    type: row.type,
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
