import { desc, eq } from "drizzle-orm";
import type { RegistryEventType } from "../events/registry-event";
import type { Webhook, WebhookStatus } from "../webhooks/webhook-types";
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
    secret: row.secret,
    events: JSON.parse(row.events) as RegistryEventType[],
    modelId: row.modelId,
    modelName: row.modelId === null ? null : (currentModelName ?? row.modelName),
    status: row.status as WebhookStatus,
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
    secret: w.secret,
    events: JSON.stringify(w.events),
    modelId: w.modelId,
    modelName: w.modelName,
    status: w.status,
    creationTimestamp: w.creationTimestamp,
    lastUpdatedTimestamp: w.lastUpdatedTimestamp,
  };
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

  async update(webhook: Webhook): Promise<boolean> {
    try {
      const { id, creationTimestamp: _, ...rest } = toRow(webhook);
      const updated = await this.db.update(webhooks).set(rest).where(eq(webhooks.id, id)).returning({ id: webhooks.id });
      return updated.length > 0;
    } catch (error) {
      throw translateD1Error(error);
    }
  }

  async get(id: string): Promise<Webhook | null> {
    try {
      const found = await this.select().where(eq(webhooks.id, id)).get();
      return found ? toWebhook(found.row, found.currentModelName) : null;
    } catch (error) {
      throw translateD1Error(error);
    }
  }

  /** Newest first, as MLflow lists them. */
  async list(offset: number, limit: number): Promise<Webhook[]> {
    try {
      const rows = await this.select().orderBy(desc(webhooks.creationTimestamp), desc(webhooks.id)).limit(limit).offset(offset);
      return rows.map((r) => toWebhook(r.row, r.currentModelName));
    } catch (error) {
      throw translateD1Error(error);
    }
  }

  /** Deletes the webhook and, by cascade, its deliveries and their attempts (one statement). */
  async delete(id: string): Promise<boolean> {
    try {
      const deleted = await this.db.delete(webhooks).where(eq(webhooks.id, id)).returning({ id: webhooks.id });
      return deleted.length > 0;
    } catch (error) {
      throw translateD1Error(error);
    }
  }

  /**
   * The ACTIVE webhooks subscribed to `type`, for every model or for `modelId`, that existed at
   * `at` (the time of the change: a webhook created after it does not receive it).
   */
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
