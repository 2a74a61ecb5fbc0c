import { and, asc, desc, eq, inArray, isNull, lt, or, sql, type SQL } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type {
  DeliveryAttempt,
  DeliveryStatus,
  DeliveryWithAttempts,
  ModelGrants,
  WebhookDelivery,
  WebhookStatus,
} from "../domain/webhooks";
import type { Database } from "./database";
import { translateD1Error } from "./d1-errors";
import { events } from "./events-schema";
import { registeredModels } from "./schema";
import { webhookDeliveries, webhookDeliveryAttempts, webhooks } from "./webhook-schema";

type Statement = BatchItem<"sqlite">;
type DeliveryRow = typeof webhookDeliveries.$inferSelect;

/** The row is the record, field for field (the schema types its status). */
function toDelivery(row: DeliveryRow): WebhookDelivery {
  return row;
}

function toAttempt(row: typeof webhookDeliveryAttempts.$inferSelect): DeliveryAttempt {
  return {
    deliveryId: row.deliveryId,
    attempt: row.attempt,
    startedAt: row.startedAt,
    durationMs: row.durationMs,
    statusCode: row.statusCode,
    error: row.error,
    outcome: row.outcome,
  };
}

/** What sending a delivery needs: the delivery and where and how to send it. */
export interface DeliveryToSend {
  delivery: WebhookDelivery;
  url: string;
  /** The webhook's secret as stored (sealed, or plain text from before encryption). */
  storedSecret: string | null;
  webhookStatus: WebhookStatus;
}

/** How an attempt leaves its delivery. */
export interface AttemptResult {
  status: DeliveryStatus;
  nextAttemptAt: number;
  deliveredAt: number | null;
}

/**
 * The deliveries a caller holding `within` may read: test deliveries (no model) and those of
 * events of a model whose current name (or, once it is gone, its name at the event) is one of
 * `within`. A webhook's filter can change, so its log may hold other models' events.
 */
function readableBy(within: ModelGrants): SQL | undefined {
  if (within === null) return undefined;
  return or(
    isNull(webhookDeliveries.modelId),
    sql`coalesce((SELECT ${registeredModels.name} FROM ${registeredModels} WHERE ${registeredModels.id} = ${webhookDeliveries.modelId}), ${webhookDeliveries.modelName}) IN (SELECT value FROM json_each(${JSON.stringify(within)}))`,
  );
}

export class WebhookDeliveryRepository {
  constructor(private readonly db: Database) {}

  private async run(statements: Statement[]): Promise<unknown[]> {
    try {
      return await this.db.batch(statements as [Statement, ...Statement[]]);
    } catch (error) {
      throw translateD1Error(error);
    }
  }

  private async read<T>(query: Promise<T>): Promise<T> {
    try {
      return await query;
    } catch (error) {
      throw translateD1Error(error);
    }
  }

  /** Which of these outbox rows are already turned into deliveries (one query for a queue batch). */
  async fannedOut(eventIds: string[]): Promise<Set<string>> {
    const rows = await this.read(
      this.db
        .select({ id: events.id })
        .from(events)
        .where(and(inArray(events.id, eventIds), sql`${events.fannedOutAt} IS NOT NULL`)),
    );
    return new Set(rows.map((r) => r.id));
  }

  /**
   * One atomic batch: a delivery per (event, webhook) (a second fan-out of the same event inserts
   * nothing: unique (event_id, webhook_id)) and the events marked fanned out, so the relay stops
   * sending them.
   */
  async fanOut(eventIds: string[], deliveries: WebhookDelivery[], now: number): Promise<void> {
    // One INSERT per delivery: D1 binds at most 100 parameters per statement.
    const statements: Statement[] = deliveries.map((d) =>
      this.db.insert(webhookDeliveries).values(d).onConflictDoNothing(),
    );
    statements.push(
      this.db
        .update(events)
        .set({ fannedOutAt: now })
        .where(and(inArray(events.id, eventIds), isNull(events.fannedOutAt))),
    );
    await this.run(statements);
  }

  async pendingIdsForEvents(eventIds: string[]): Promise<string[]> {
    const rows = await this.read(
      this.db
        .select({ id: webhookDeliveries.id })
        .from(webhookDeliveries)
        .where(and(inArray(webhookDeliveries.eventId, eventIds), eq(webhookDeliveries.status, "pending")))
        .orderBy(asc(webhookDeliveries.sequence)),
    );
    return rows.map((r) => r.id);
  }

  async forSending(id: string): Promise<DeliveryToSend | null> {
    const row = await this.read(
      this.db
        .select({
          delivery: webhookDeliveries,
          url: webhooks.url,
          secret: webhooks.secret,
          webhookStatus: webhooks.status,
        })
        .from(webhookDeliveries)
        .innerJoin(webhooks, eq(webhooks.id, webhookDeliveries.webhookId))
        .where(eq(webhookDeliveries.id, id))
        .get(),
    );
    return row
      ? { delivery: toDelivery(row.delivery), url: row.url, storedSecret: row.secret, webhookStatus: row.webhookStatus }
      : null;
  }

  /** The attempt and its effect on the delivery, in one batch. */
  async recordAttempt(attempt: DeliveryAttempt, result: AttemptResult): Promise<void> {
    await this.run([
      this.db.insert(webhookDeliveryAttempts).values(attempt),
      this.db
        .update(webhookDeliveries)
        .set({
          status: result.status,
          attempts: sql`max(${webhookDeliveries.attempts}, ${attempt.attempt})`,
          updatedAt: attempt.startedAt + attempt.durationMs,
          nextAttemptAt: result.nextAttemptAt,
          deliveredAt: result.deliveredAt,
          lastStatusCode: attempt.statusCode,
          lastError: attempt.error,
        })
        .where(eq(webhookDeliveries.id, attempt.deliveryId)),
    ]);
  }

  /** A test delivery and its single attempt, in one batch. */
  async insertWithAttempt(delivery: WebhookDelivery, attempt: DeliveryAttempt): Promise<void> {
    await this.run([
      this.db.insert(webhookDeliveries).values(delivery),
      this.db.insert(webhookDeliveryAttempts).values(attempt),
    ]);
  }

  /** Marks a delivery dead (it reached the dead-letter queue); false if it was not pending. */
  async markDead(id: string, now: number): Promise<boolean> {
    const rows = await this.read(
      this.db
        .update(webhookDeliveries)
        .set({ status: "dead", deadAt: now, updatedAt: now })
        .where(and(eq(webhookDeliveries.id, id), eq(webhookDeliveries.status, "pending")))
        .returning({ id: webhookDeliveries.id }),
    );
    return rows.length > 0;
  }

  /**
   * Claims up to `limit` pending deliveries expected on the queue before `before` and still not
   * sent (their message was lost): moves their expected time to `now` and answers their ids, in
   * one statement, so a crash right after leaves them overdue again, never forgotten.
   */
  async claimOverdue(before: number, now: number, limit: number): Promise<string[]> {
    const overdue = this.db
      .select({ id: webhookDeliveries.id })
      .from(webhookDeliveries)
      .where(and(eq(webhookDeliveries.status, "pending"), lt(webhookDeliveries.nextAttemptAt, before)))
      .orderBy(asc(webhookDeliveries.nextAttemptAt))
      .limit(limit);
    const rows = await this.read(
      this.db
        .update(webhookDeliveries)
        .set({ nextAttemptAt: now })
        .where(and(inArray(webhookDeliveries.id, overdue), eq(webhookDeliveries.status, "pending")))
        .returning({ id: webhookDeliveries.id }),
    );
    return rows.map((r) => r.id);
  }

  async hasPending(): Promise<boolean> {
    const row = await this.read(
      this.db
        .select({ id: webhookDeliveries.id })
        .from(webhookDeliveries)
        .where(eq(webhookDeliveries.status, "pending"))
        .limit(1)
        .get(),
    );
    return row !== undefined;
  }

  /**
   * Retention: deletes up to `limit` deliveries that are settled and untouched since their cutoff:
   * DELIVERED or FAILED ones last updated before `settledBefore`, DEAD ones (dead-lettered, kept
   * until replayed) last updated before `deadBefore`. PENDING ones are never deleted. Their
   * attempts go with them (foreign key, on delete cascade). One statement, four bound parameters;
   * it walks the webhooks and, within each, the (webhook_id, created_at) index up to the later
   * cutoff (a delivery is created before it is last updated), so it never reads the whole table.
   */
  async deleteSettledBefore(settledBefore: number, deadBefore: number, limit: number): Promise<number> {
    const createdBefore = Math.max(settledBefore, deadBefore);
    const expired = this.db
      .select({ id: webhookDeliveries.id })
      // CROSS JOIN keeps webhooks as the outer loop (SQLite never reorders it), so each webhook's
      // deliveries are a range of the index.
      .from(webhooks)
      .crossJoin(webhookDeliveries)
      .where(
        and(
          eq(webhookDeliveries.webhookId, webhooks.id),
          lt(webhookDeliveries.createdAt, createdBefore),
          or(
            and(
              inArray(webhookDeliveries.status, ["delivered", "failed"]),
              lt(webhookDeliveries.updatedAt, settledBefore),
            ),
            and(eq(webhookDeliveries.status, "dead"), lt(webhookDeliveries.updatedAt, deadBefore)),
          ),
        ),
      )
      .limit(limit);
    // Counted by RETURNING: D1's `changes` also counts the attempts the cascade deletes.
    const deleted = await this.read(
      this.db
        .delete(webhookDeliveries)
        .where(inArray(webhookDeliveries.id, expired))
        .returning({ id: webhookDeliveries.id }),
    );
    return deleted.length;
  }

  async get(webhookId: string, id: string, within: ModelGrants): Promise<WebhookDelivery | null> {
    const row = await this.read(
      this.db
        .select()
        .from(webhookDeliveries)
        .where(and(eq(webhookDeliveries.id, id), eq(webhookDeliveries.webhookId, webhookId), readableBy(within)))
        .get(),
    );
    return row ? toDelivery(row) : null;
  }

  /** Makes a dead or failed delivery pending again; false when it is neither. */
  async reopen(webhookId: string, id: string, now: number, within: ModelGrants): Promise<boolean> {
    const rows = await this.read(
      this.db
        .update(webhookDeliveries)
        .set({ status: "pending", nextAttemptAt: now, updatedAt: now, deadAt: null })
        .where(
          and(
            eq(webhookDeliveries.id, id),
            eq(webhookDeliveries.webhookId, webhookId),
            inArray(webhookDeliveries.status, ["dead", "failed"]),
            readableBy(within),
          ),
        )
        .returning({ id: webhookDeliveries.id }),
    );
    return rows.length > 0;
  }

  /** A webhook's deliveries `within` may read, newest first, each with its attempts (oldest first). */
  async listForWebhook(
    webhookId: string,
    offset: number,
    limit: number,
    within: ModelGrants,
  ): Promise<DeliveryWithAttempts[]> {
    const where = and(eq(webhookDeliveries.webhookId, webhookId), readableBy(within));
    const rows = await this.read(
      this.db
        .select()
        .from(webhookDeliveries)
        .where(where)
        .orderBy(desc(webhookDeliveries.createdAt), desc(webhookDeliveries.id))
        .limit(limit)
        .offset(offset),
    );
    if (rows.length === 0) return [];
    // The page's ids as a subquery, not a list of bound values (D1 allows 100 per statement).
    const page = this.db
      .select({ id: webhookDeliveries.id })
      .from(webhookDeliveries)
      .where(where)
      .orderBy(desc(webhookDeliveries.createdAt), desc(webhookDeliveries.id))
      .limit(limit)
      .offset(offset);
    const attempts = await this.read(
      this.db
        .select()
        .from(webhookDeliveryAttempts)
        .where(inArray(webhookDeliveryAttempts.deliveryId, page))
        .orderBy(asc(webhookDeliveryAttempts.attempt), asc(webhookDeliveryAttempts.id)),
    );
    return rows.map((r) => ({
      ...toDelivery(r),
      attemptLog: attempts.filter((a) => a.deliveryId === r.id).map(toAttempt),
    }));
  }
}
