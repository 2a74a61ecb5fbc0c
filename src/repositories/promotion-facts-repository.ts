import { and, desc, eq, inArray } from "drizzle-orm";
import type { MetricFact } from "../domain/promotion-policy";
import type { Database } from "./database";
import { stageTransitions } from "./schema";
import { runLatestMetrics } from "./tracking-schema";
import { read } from "./tracking-sql";

/**
 * The D1 facts a promotion policy may need beyond the coordinator's memory: when a version last
 * entered Staging (the transition history) and its run's latest metric values. Read-only; the
 * coordinator asks only for what the policy's rules look at.
 */
export class PromotionFactsRepository {
  constructor(private readonly db: Database) {}

  /** The time of the newest history row moving `version` into Staging, or null. */
  async stagingEnteredAt(modelId: string, version: number): Promise<number | null> {
    const row = await read(() =>
      this.db
        .select({ timestamp: stageTransitions.timestamp })
        .from(stageTransitions)
        .where(
          and(
            eq(stageTransitions.modelId, modelId),
            eq(stageTransitions.version, version),
            eq(stageTransitions.toStage, "Staging"),
          ),
        )
        .orderBy(desc(stageTransitions.id))
        .limit(1)
        .get(),
    );
    return row?.timestamp ?? null;
  }

  /** The latest value of each of `keys` the run logged; keys it never logged are absent. */
  async latestMetrics(runId: string, keys: string[]): Promise<Map<string, MetricFact>> {
    const facts = new Map<string, MetricFact>();
    if (keys.length === 0) return facts;
    const rows = await read(() =>
      this.db
        .select({ key: runLatestMetrics.key, value: runLatestMetrics.value, isNan: runLatestMetrics.isNan })
        .from(runLatestMetrics)
        .where(and(eq(runLatestMetrics.runId, runId), inArray(runLatestMetrics.key, keys)))
        .all(),
    );
    for (const r of rows) facts.set(r.key, { value: r.value, isNan: r.isNan !== 0 });
    return facts;
  }
}
