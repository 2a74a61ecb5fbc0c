import { and, asc, count, eq, sql } from "drizzle-orm";
import type { Database } from "./database";
import { modelVersions } from "./schema";
import { runLatestMetrics, runMetrics, runs } from "./tracking-schema";
import { inJsonList, loadedMetricValue, read } from "./tracking-sql";
import type { MetricHistory, RunSummary } from "../domain/run-overview";
import type { RunStatus } from "../domain/tracking";

// Reads only the pages need, several runs or models at once, that the tracking and registry
// services answer one run at a time (a versions table would cost a run lookup per row). Read-only;
// callers pass ids they already got through the registry for the person looking (the models and
// versions they may see), and nothing here reaches beyond those ids. The composition root hands it
// to the UI as `services.runData`.

/** Points read per run for the curves; far more than a chart can show, and a bound on the work. */
export const MAX_HISTORY_POINTS = 20_000;

export class RunDataRepository {
  constructor(private readonly db: Database) {}

  /** Name, status and latest metrics of each run that exists, by id. */
  async runSummaries(runIds: string[]): Promise<Map<string, RunSummary>> {
    const ids = [...new Set(runIds)];
    const out = new Map<string, RunSummary>();
    if (ids.length === 0) return out;
    const [rows, latest] = await read(() =>
      this.db.batch([
        this.db
          .select({ runId: runs.runId, name: runs.name, status: runs.status })
          .from(runs)
          .where(inJsonList(runs.runId, ids)),
        this.db
          .select()
          .from(runLatestMetrics)
          .where(inJsonList(runLatestMetrics.runId, ids))
          .orderBy(asc(runLatestMetrics.key)),
      ]),
    );
    for (const r of rows)
      out.set(r.runId, { runId: r.runId, name: r.name, status: r.status as RunStatus, metrics: new Map() });
    for (const m of latest) out.get(m.runId)?.metrics.set(m.key, loadedMetricValue(m.value, m.isNan));
    return out;
  }

  /** Every logged point of each run's metrics (of `keys` only, when given), at most MAX_HISTORY_POINTS per run. */
  async histories(runIds: string[], keys?: string[]): Promise<Map<string, MetricHistory>> {
    const ids = [...new Set(runIds)];
    const out = new Map<string, MetricHistory>();
    if (ids.length === 0 || keys?.length === 0) return out;
    const query = (runId: string) =>
      this.db
        .select({
          key: runMetrics.key,
          step: runMetrics.step,
          value: runMetrics.value,
          isNan: runMetrics.isNan,
          timestamp: runMetrics.timestamp,
        })
        .from(runMetrics)
        .where(keys ? and(eq(runMetrics.runId, runId), inJsonList(runMetrics.key, keys)) : eq(runMetrics.runId, runId))
        .orderBy(asc(runMetrics.key), asc(runMetrics.step), asc(runMetrics.timestamp), asc(runMetrics.id))
        .limit(MAX_HISTORY_POINTS + 1);
    const [first, ...rest] = ids.map(query);
    if (!first) return out;
    const answers = await read(() => this.db.batch([first, ...rest]));
    ids.forEach((runId, i) => {
      const rows = answers[i] ?? [];
      const byKey = new Map<string, { step: number; value: number; timestamp: number }[]>();
      for (const r of rows.slice(0, MAX_HISTORY_POINTS)) {
        let points = byKey.get(r.key);
        if (!points) byKey.set(r.key, (points = []));
        points.push({ step: r.step, value: loadedMetricValue(r.value, r.isNan), timestamp: r.timestamp });
      }
      out.set(runId, { byKey, truncated: rows.length > MAX_HISTORY_POINTS });
    });
    return out;
  }

  /** How many versions each model has, by model id. */
  async versionCounts(modelIds: string[]): Promise<Map<string, number>> {
    if (modelIds.length === 0) return new Map();
    const rows = await read(() =>
      this.db
        .select({ modelId: modelVersions.modelId, versions: count() })
        .from(modelVersions)
        .where(inJsonList(modelVersions.modelId, modelIds))
        .groupBy(modelVersions.modelId),
    );
    return new Map(rows.map((r) => [r.modelId, r.versions]));
  }

  /** Per model: each metric key and how many of its versions' runs logged it. */
  async metricUsage(modelIds: string[]): Promise<Map<string, Map<string, number>>> {
    const out = new Map<string, Map<string, number>>();
    if (modelIds.length === 0) return out;
    const rows = await read(() =>
      this.db
        .select({
          modelId: modelVersions.modelId,
          key: runLatestMetrics.key,
          runs: sql<number>`count(distinct ${runLatestMetrics.runId})`,
        })
        .from(modelVersions)
        .innerJoin(runLatestMetrics, eq(runLatestMetrics.runId, modelVersions.runId))
        .where(inJsonList(modelVersions.modelId, modelIds))
        .groupBy(modelVersions.modelId, runLatestMetrics.key),
    );
    for (const r of rows) {
      let keys = out.get(r.modelId);
      if (!keys) out.set(r.modelId, (keys = new Map()));
      keys.set(r.key, Number(r.runs));
    }
    return out;
  }
}
