import { and, desc, eq, isNotNull, ne, sql, type SQL } from "drizzle-orm";
import type { WebhookEventType } from "../domain/webhook-events";
import type { ModelGrants, Webhook } from "../domain/webhooks";
import type { Database } from "./database";
import { translateD1Error } from "./d1-errors";
import { registeredModels } from "./schema";
import { webhooks } from "./webhook-schema";

type Row = typeof webhooks.$inferSelect;

function toWebhook(row: Row, currentModelName: string | null): Webhook {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    url: row.url,
    storedSecret: row.secret,
    events: JSON.parse(row.events) as WebhookEventType[],
    modelId: row.modelId,
    modelName: row.modelId === null ? null : (currentModelName ?? row.modelName),
    status: row.status,
    creationTimestamp: row.creationTimestamp,
    lastUpdatedTimestamp: row.lastUpdatedTimestamp,
  };
}

function toRow(w: Webhook): Row {
  return {
    id: w.id,
    name: w.name,
    description: w.description,
    url: w.url,
    secret: w.storedSecret,
    events: JSON.stringify(w.events),
    modelId: w.modelId,
    modelName: w.modelName,
    status: w.status,
    creationTimestamp: w.creationTimestamp,
    lastUpdatedTimestamp: w.lastUpdatedTimestamp,
  };
}

/**
 * The webhooks a caller holding `within` governs, as a condition on `webhooks` usable in SELECT,
 * UPDATE and DELETE alike: those filtered to a model whose current name (or, once the model is
 * gone, its name when the filter was set) is one of `within`. No condition for every model. The
 * names travel as one JSON parameter (D1 binds at most 100 per statement).
 */
export function governedBy(within: ModelGrants): SQL | undefined {
  if (within === null) return undefined;
  return and(
    isNotNull(webhooks.modelId),
    sql`coalesce((SELECT ${registeredModels.name} FROM ${registeredModels} WHERE ${registeredModels.id} = ${webhooks.modelId}), ${webhooks.modelName}) IN (SELECT value FROM json_each(${JSON.stringify(within)}))`,
  );
}

/** Webhooks; the model filter's current name comes from a join, so a rename shows at once. */
export class WebhookRepository {
  constructor(private readonly db: Database) {}

  private select() {
    return this.db
      .select({ row: webhooks, currentModelName: registeredModels.name })
      .from(webhooks)
      .leftJoin(registeredModels, eq(registeredModels.id, webhooks.modelId));
  }

  async insert(webhook: Webhook): Promise<void> {
    try {
      await this.db.insert(webhooks).values(toRow(webhook));
    } catch (error) {
      throw translateD1Error(error);
    }
  }

  /** Writes the webhook if the row is (still) one `within` governs; false otherwise. */
  async update(webhook: Webhook, within: ModelGrants): Promise<boolean> {
    try {
      const { id, creationTimestamp: _, ...rest } = toRow(webhook);
      const updated = await this.db
        .update(webhooks)
        .set(rest)
        .where(and(eq(webhooks.id, id), governedBy(within)))
        .returning({ id: webhooks.id });
      return updated.length > 0;
    } catch (error) {
      throw translateD1Error(error);
    }
  }

  /** The webhook, if `within` governs it. */
  async get(id: string, within: ModelGrants): Promise<Webhook | null> {
    try {
      const found = await this.select()
        .where(and(eq(webhooks.id, id), governedBy(within)))
        .get();
      return found ? toWebhook(found.row, found.currentModelName) : null;
    } catch (error) {
      throw translateD1Error(error);
    }
  }

  /** Newest first, as MLflow lists them; only those `within` governs (filtered in the query, so pages are full). */
  async list(offset: number, limit: number, within: ModelGrants): Promise<Webhook[]> {
    try {
      const rows = await this.select()
        .where(governedBy(within))
        .orderBy(desc(webhooks.creationTimestamp), desc(webhooks.id))
        .limit(limit)
        .offset(offset);
      return rows.map((r) => toWebhook(r.row, r.currentModelName));
    } catch (error) {
      throw translateD1Error(error);
    }
  }

  /** Deletes the webhook, if `within` governs it, and by cascade its deliveries and their attempts (one statement). */
  async delete(id: string, within: ModelGrants): Promise<boolean> {
    try {
      const deleted = await this.db
        .delete(webhooks)
        .where(and(eq(webhooks.id, id), governedBy(within)))
        .returning({ id: webhooks.id });
      return deleted.length > 0;
    } catch (error) {
      throw translateD1Error(error);
    }
  }

  /** Replaces a stored secret by `next` if it is still `expected` (a concurrent PATCH wins); false otherwise. */
  async replaceSecret(id: string, expected: string, next: string): Promise<boolean> {
    try {
      const updated = await this.db
        .update(webhooks)
        .set({ secret: next })
        .where(and(eq(webhooks.id, id), eq(webhooks.secret, expected)))
        .returning({ id: webhooks.id });
      return updated.length > 0;
    } catch (error) {
      throw translateD1Error(error);
    }
  }

  /** Webhooks whose stored secret does not start with `prefix` (plain text, or sealed with another key). */
  async secretsWithout(prefix: string): Promise<{ id: string; storedSecret: string }[]> {
    try {
      const rows = await this.db
        .select({ id: webhooks.id, storedSecret: webhooks.secret })
        .from(webhooks)
        .where(and(isNotNull(webhooks.secret), ne(sql`substr(${webhooks.secret}, 1, ${prefix.length})`, prefix)))
        .orderBy(webhooks.id);
      return rows.map((r) => ({ id: r.id, storedSecret: r.storedSecret! }));
    } catch (error) {
      throw translateD1Error(error);
    }
  }

  /** Every ACTIVE webhook: few, read once per queue batch and matched against its events in memory. */
  async active(): Promise<Webhook[]> {
    try {
      const rows = await this.select().where(eq(webhooks.status, "ACTIVE"));
      return rows.map((r) => toWebhook(r.row, r.currentModelName));
    } catch (error) {
      throw translateD1Error(error);
    }
  }
}
