import type { EventRepository } from "../repositories/event-repository";
import type { TokenRepository } from "../repositories/token-repository";
import type { WebhookDeliveryRepository } from "../repositories/webhook-delivery-repository";
import type { MaintenanceConfig } from "./maintenance-config";

/**
 * How much one run may delete. Each statement deletes at most `rowsPerStatement` rows (chosen by
 * a subquery: a few bound parameters, far from D1's 100), and a run issues at most
 * `statementsPerTable` per table, so a run stays within D1's queries per invocation (50 on the
 * free plan) and its time limits however large the backlog; the rest waits for the next run.
 */
export interface RetentionLimits {
  rowsPerStatement: number;
  statementsPerTable: number;
}

/** An hourly run deletes up to 5,000 rows per table: 120,000 a day, far above what a registry writes. */
export const RETENTION_LIMITS: RetentionLimits = { rowsPerStatement: 500, statementsPerTable: 10 };

/** One table's part of a run: rows deleted, and whether it got through everything expired. */
export interface TableRetention {
  deleted: number;
  complete: boolean;
}

export interface RetentionReport {
  events: TableRetention;
  deliveries: TableRetention;
  /** null: audit rows are kept (no MODELGATE_AUDIT_RETENTION_DAYS). */
  audit: TableRetention | null;
}

/**
 * Deletes what has outlived its retention (MaintenanceConfig): events fanned out into deliveries,
 * settled webhook deliveries with their attempts, dead-lettered deliveries after their longer
 * keep, and audit rows when a retention is set for them. Run by the scheduled handler.
 */
export class Retention {
  constructor(
    private readonly events: EventRepository,
    private readonly deliveries: WebhookDeliveryRepository,
    private readonly tokens: TokenRepository,
    private readonly config: MaintenanceConfig,
    private readonly limits: RetentionLimits = RETENTION_LIMITS,
  ) {}

  /** One bounded pass at time `now`. A table that fails is reported after the others had their turn. */
  async run(now: number): Promise<RetentionReport> {
    const failures: unknown[] = [];
    const attempt = async (drain: () => Promise<TableRetention>): Promise<TableRetention> => {
      try {
        return await drain();
      } catch (error) {
        failures.push(error);
        return { deleted: 0, complete: false };
      }
    };
    const { eventRetentionMs, deliveryRetentionMs, deadDeliveryRetentionMs, auditRetentionMs } = this.config;
    const report: RetentionReport = {
      events: await attempt(() => this.drain((n) => this.events.deleteFannedOutBefore(now - eventRetentionMs, n))),
      deliveries: await attempt(() =>
        this.drain((n) =>
          this.deliveries.deleteSettledBefore(now - deliveryRetentionMs, now - deadDeliveryRetentionMs, n),
        ),
      ),
      audit:
        auditRetentionMs === null
          ? null
          : await attempt(() => this.drain((n) => this.tokens.deleteAuditBefore(now - auditRetentionMs, n))),
    };
    if (failures.length > 0)
      throw new AggregateError(failures, `retention: ${failures.length} table(s) failed (${JSON.stringify(report)})`);
    return report;
  }

  /** Deletes chunk after chunk until one comes back short (nothing more expired) or the run's budget is spent. */
  private async drain(deleteChunk: (limit: number) => Promise<number>): Promise<TableRetention> {
    let deleted = 0;
    for (let statement = 0; statement < this.limits.statementsPerTable; statement++) {
      const n = await deleteChunk(this.limits.rowsPerStatement);
      deleted += n;
      if (n < this.limits.rowsPerStatement) return { deleted, complete: true };
    }
    return { deleted, complete: false };
  }
}
