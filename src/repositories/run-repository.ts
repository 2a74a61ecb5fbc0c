import { and, asc, eq, sql, type SQL } from "drizzle-orm";
import type { Tag } from "../domain/model";
import {
  DATASET_CONTEXT_TAG,
  type Comparator,
  type Condition,
  type DatasetKey,
  type OrderTerm,
} from "../domain/run-search";
import {
  LOGGED_MODELS_TAG,
  RUN_NAME_TAG,
  type DatasetInput,
  type LifecycleStage,
  type Metric,
  type Run,
  type RunInfo,
  type RunStatus,
} from "../domain/tracking";
import type { Database } from "./database";
import {
  appendToJsonList,
  compare,
  experimentKey,
  inJsonList,
  jsonChunks,
  jsonField,
  loadedMetricValue,
  MAX_JSON_LIST_TAG_LENGTH,
  nullsLast,
  ParamRaceError,
  read,
  runBatch,
  selectFromJson,
  storedMetricValue,
  type Statement,
} from "./tracking-sql";
import {
  loggedModelMetrics,
  runDatasetInputs,
  runLatestMetrics,
  runMetrics,
  runModelLinks,
  runParams,
  runs,
  runTags,
} from "./tracking-schema";

/** Everything one logging request writes to a run, applied as one batch. */
export interface RunDataWrite {
  /** History points; an exact repeat of a stored point is kept once. */
  metrics: Metric[];
  /** The newest point per key in this request; replaces the stored latest value only if newer. */
  latest: Metric[];
  /** Metrics that carry a model_id, recorded on that logged model too. */
  modelMetrics: Metric[];
  /** Params not logged before. A racing insert of the same key fails the whole batch. */
  newParams: Tag[];
  tags: Tag[];
  /** Set when the request sets the mlflow.runName tag: the run's name follows it. */
  runName: string | null;
}

export interface RunSearchQuery {
  experimentIds: string[];
  conditions: Condition[];
  orderBy: OrderTerm[];
  stages: LifecycleStage[];
  offset: number;
  limit: number;
}

type RunRow = typeof runs.$inferSelect;

const HYDRATE_CHUNK = 2000;
/** run_dataset_inputs has 8 columns a caller sets: 12 rows bind 96 parameters. */
const DATASET_ROWS_PER_STATEMENT = 12;

/** Runs and everything logged to them. Every write is one D1 batch. */
export class RunRepository {
  constructor(private readonly db: Database) {}

  /** `createdByToken`: the token that created the run (null for the bootstrap admin or with auth off). */
  async create(info: RunInfo, tags: Tag[], createdByToken: string | null = null): Promise<void> {
    await runBatch(this.db, [
      this.db.insert(runs).values({
        runId: info.runId,
        createdByToken,
        experimentId: Number(info.experimentId),
        name: info.runName,
        userId: info.userId,
        status: info.status,
        startTime: info.startTime,
        endTime: info.endTime,
        artifactUri: info.artifactUri,
        lifecycleStage: info.lifecycleStage,
      }),
      ...this.upsertTags(info.runId, tags),
    ]);
  }

  async getInfo(runId: string): Promise<RunInfo | null> {
    const row = await read(() => this.db.select().from(runs).where(eq(runs.runId, runId)).get());
    return row ? toInfo(row) : null;
  }

  async getRun(runId: string): Promise<Run | null> {
    return (await this.getRuns([runId]))[0] ?? null;
  }

  /** Full runs (info, data, inputs, outputs) in the order of `runIds`; unknown ids are skipped. */
  async getRuns(runIds: string[]): Promise<Run[]> {
    const out: Run[] = [];
    for (let i = 0; i < runIds.length; i += HYDRATE_CHUNK)
      out.push(...(await this.hydrate(runIds.slice(i, i + HYDRATE_CHUNK))));
    return out;
  }

  async updateInfo(runId: string, patch: { status?: RunStatus; endTime?: number; runName?: string }): Promise<void> {
    const set: Partial<typeof runs.$inferInsert> = {};
    if (patch.status !== undefined) set.status = patch.status;
    if (patch.endTime !== undefined) set.endTime = patch.endTime;
    if (patch.runName !== undefined) set.name = patch.runName;
    const statements: Statement[] = [];
    if (Object.keys(set).length > 0) statements.push(this.db.update(runs).set(set).where(eq(runs.runId, runId)));
    if (patch.runName !== undefined)
      statements.push(...this.upsertTags(runId, [{ key: RUN_NAME_TAG, value: patch.runName }]));
    await runBatch(this.db, statements);
  }

  async setLifecycle(runId: string, stage: LifecycleStage, now: number): Promise<void> {
    await runBatch(this.db, [
      this.db
        .update(runs)
        .set({ lifecycleStage: stage, deletedTime: stage === "deleted" ? now : null })
        .where(eq(runs.runId, runId)),
    ]);
  }

  async paramsOf(runId: string, keys: string[]): Promise<Map<string, string>> {
    if (keys.length === 0) return new Map();
    const rows = await read(() =>
      this.db
        .select({ key: runParams.key, value: runParams.value })
        .from(runParams)
        .where(and(eq(runParams.runId, runId), inJsonList(runParams.key, keys))),
    );
    return new Map(rows.map((r) => [r.key, r.value]));
  }

  /** Writes metrics, params and tags atomically; throws ParamRaceError if a new param was logged meanwhile. */
  async logData(runId: string, write: RunDataWrite): Promise<void> {
    const statements: Statement[] = [];
    for (const json of jsonChunks(write.metrics.map(storedMetric))) {
      statements.push(
        this.db
          .insert(runMetrics)
          .select(
            selectFromJson(runMetrics, json, {
              id: sql`NULL`,
              runId: sql`${runId}`,
              key: jsonField("key"),
              value: jsonField("value"),
              isNan: jsonField("isNan"),
              timestamp: jsonField("timestamp"),
              step: jsonField("step"),
              modelId: jsonField("modelId"),
              datasetName: jsonField("datasetName"),
              datasetDigest: jsonField("datasetDigest"),
            }),
          )
          .onConflictDoNothing(),
      );
    }
    for (const json of jsonChunks(write.latest.map(storedMetric))) {
      statements.push(
        this.db
          .insert(runLatestMetrics)
          .select(
            selectFromJson(runLatestMetrics, json, {
              runId: sql`${runId}`,
              key: jsonField("key"),
              value: jsonField("value"),
              isNan: jsonField("isNan"),
              timestamp: jsonField("timestamp"),
              step: jsonField("step"),
            }),
          )
          .onConflictDoUpdate({
            target: [runLatestMetrics.runId, runLatestMetrics.key],
            set: {
              value: sql`excluded.value`,
              isNan: sql`excluded.is_nan`,
              timestamp: sql`excluded.timestamp`,
              step: sql`excluded.step`,
            },
            // MLflow's rule: the newer point has the greater (step, timestamp, value).
            setWhere: sql`(excluded.step, excluded.timestamp, excluded.value) > (${runLatestMetrics.step}, ${runLatestMetrics.timestamp}, ${runLatestMetrics.value})`,
          }),
      );
    }
    for (const json of jsonChunks(write.modelMetrics.map(storedMetric))) {
      statements.push(
        this.db
          .insert(loggedModelMetrics)
          .select(
            selectFromJson(loggedModelMetrics, json, {
              id: sql`NULL`,
              modelId: jsonField("modelId"),
              runId: sql`${runId}`,
              key: jsonField("key"),
              value: jsonField("value"),
              isNan: jsonField("isNan"),
              timestamp: jsonField("timestamp"),
              step: jsonField("step"),
              datasetName: jsonField("datasetName"),
              datasetDigest: jsonField("datasetDigest"),
            }),
          )
          .onConflictDoNothing(),
      );
    }
    for (const json of jsonChunks(write.newParams)) {
      // No conflict clause on purpose: a param logged by a racing request fails this batch.
      statements.push(
        this.db
          .insert(runParams)
          .select(
            selectFromJson(runParams, json, { runId: sql`${runId}`, key: jsonField("key"), value: jsonField("value") }),
          ),
      );
    }
    statements.push(...this.upsertTags(runId, write.tags));
    if (write.runName !== null)
      statements.push(this.db.update(runs).set({ name: write.runName }).where(eq(runs.runId, runId)));
    // Only the params insert can break a unique constraint here; every other insert resolves conflicts.
    await runBatch(this.db, statements, () => new ParamRaceError());
  }

  /** Deletes a tag; false when the run has no such tag. */
  async deleteTag(runId: string, key: string): Promise<boolean> {
    const deleted = await read(() =>
      this.db
        .delete(runTags)
        .where(and(eq(runTags.runId, runId), eq(runTags.key, key)))
        .returning({ key: runTags.key }),
    );
    return deleted.length > 0;
  }

  /**
   * Appends one model's JSON to the run's `mlflow.log-model.history` tag, in a single statement.
   * False when the list would outgrow MAX_JSON_LIST_TAG_LENGTH (nothing is written).
   */
  async appendLoggedModel(runId: string, entry: string): Promise<boolean> {
    const written = await read(() =>
      this.db
        .insert(runTags)
        .values({ runId, key: LOGGED_MODELS_TAG, value: `[${entry}]` })
        .onConflictDoUpdate({
          target: [runTags.runId, runTags.key],
          set: { value: appendToJsonList(runTags.value, entry) },
          setWhere: sql`length(${runTags.value}) + ${entry.length + 2} <= ${MAX_JSON_LIST_TAG_LENGTH}`,
        })
        .returning({ key: runTags.key }),
    );
    return written.length > 0;
  }

  /**
   * Records dataset inputs (one per name and digest) and MLflow 3 model inputs of a run. Dataset
   * schemas and profiles are large, so they are bound as plain values (no JSON escaping), a few
   * rows per statement to stay under D1's 100 bound parameters.
   */
  async logInputs(runId: string, datasets: DatasetInput[], modelIds: string[]): Promise<void> {
    const rows = datasets.map((d) => ({ runId, ...d.dataset, tags: JSON.stringify(d.tags) }));
    const statements: Statement[] = [];
    for (let i = 0; i < rows.length; i += DATASET_ROWS_PER_STATEMENT) {
      statements.push(
        this.db
          .insert(runDatasetInputs)
          .values(rows.slice(i, i + DATASET_ROWS_PER_STATEMENT))
          .onConflictDoNothing(),
      );
    }
    statements.push(
      ...this.linkModels(
        runId,
        "input",
        modelIds.map((modelId) => ({ modelId, step: null })),
      ),
    );
    await runBatch(this.db, statements);
  }

  /** MLflow 3: records the logged models a run produced, with the step they were logged at. */
  async logOutputs(runId: string, models: { modelId: string; step: number }[]): Promise<void> {
    await runBatch(this.db, this.linkModels(runId, "output", models));
  }

  async metricHistory(runId: string, key: string, offset: number, limit: number): Promise<Metric[]> {
    const rows = await read(() =>
      this.db
        .select()
        .from(runMetrics)
        .where(and(eq(runMetrics.runId, runId), eq(runMetrics.key, key)))
        .orderBy(asc(runMetrics.timestamp), asc(runMetrics.step), asc(runMetrics.value), asc(runMetrics.id))
        .limit(limit)
        .offset(offset),
    );
    return rows.map((r) => ({
      key: r.key,
      value: loadedMetricValue(r.value, r.isNan),
      timestamp: r.timestamp,
      step: r.step,
      modelId: r.modelId,
      datasetName: r.datasetName,
      datasetDigest: r.datasetDigest,
    }));
  }

  /** One page of runs; the run id breaks ties, so paging visits every run exactly once. */
  async search(query: RunSearchQuery): Promise<Run[]> {
    const experimentIds = query.experimentIds.map(experimentKey).filter((id): id is number => id !== null);
    if (experimentIds.length === 0) return [];
    const where: SQL[] = [inJsonList(runs.experimentId, experimentIds), inJsonList(runs.lifecycleStage, query.stages)];
    for (const c of query.conditions) where.push(this.condition(c));
    const order: SQL[] = query.orderBy.flatMap((t) => this.orderTerm(t));
    if (!query.orderBy.some((t) => t.kind === "attribute" && t.key === "start_time"))
      order.push(...nullsLast(sql`${runs.startTime}`, false));
    if (!query.orderBy.some((t) => t.kind === "attribute" && t.key === "run_id")) order.push(sql`${runs.runId} ASC`);
    const ids = await read(() =>
      this.db
        .select({ runId: runs.runId })
        .from(runs)
        .where(and(...where))
        .orderBy(...order)
        .limit(query.limit)
        .offset(query.offset),
    );
    return this.getRuns(ids.map((r) => r.runId));
  }

  private condition(c: Condition): SQL {
    switch (c.kind) {
      case "metric":
        return sql`EXISTS (SELECT 1 FROM ${runLatestMetrics} WHERE ${runLatestMetrics.runId} = ${runs.runId} AND ${runLatestMetrics.key} = ${c.key} AND ${runLatestMetrics.isNan} = 0 AND ${compare(runLatestMetrics.value, c.comparator, c.value)})`;
      case "param":
        return sql`EXISTS (SELECT 1 FROM ${runParams} WHERE ${runParams.runId} = ${runs.runId} AND ${runParams.key} = ${c.key} AND ${compare(runParams.value, c.comparator, c.value)})`;
      case "tag":
        return sql`EXISTS (SELECT 1 FROM ${runTags} WHERE ${runTags.runId} = ${runs.runId} AND ${runTags.key} = ${c.key} AND ${compare(runTags.value, c.comparator, c.value)})`;
      case "attribute":
        return compare(RUN_COLUMNS[c.key]!, c.comparator, c.value);
      case "dataset":
        return datasetCondition(c.key, c.comparator, c.value);
    }
  }

  private orderTerm(t: OrderTerm): SQL[] {
    switch (t.kind) {
      case "metric": {
        const latest = (column: SQL) =>
          sql`(SELECT ${column} FROM ${runLatestMetrics} WHERE ${runLatestMetrics.runId} = ${runs.runId} AND ${runLatestMetrics.key} = ${t.key})`;
        // Values first, then NaN, then runs without the metric, whichever the direction (as MLflow).
        return [
          sql`coalesce(${latest(sql`${runLatestMetrics.isNan}`)}, 2)`,
          t.ascending
            ? sql`${latest(sql`${runLatestMetrics.value}`)} ASC`
            : sql`${latest(sql`${runLatestMetrics.value}`)} DESC`,
        ];
      }
      case "param":
        return nullsLast(
          sql`(SELECT ${runParams.value} FROM ${runParams} WHERE ${runParams.runId} = ${runs.runId} AND ${runParams.key} = ${t.key})`,
          t.ascending,
        );
      case "tag":
        return nullsLast(
          sql`(SELECT ${runTags.value} FROM ${runTags} WHERE ${runTags.runId} = ${runs.runId} AND ${runTags.key} = ${t.key})`,
          t.ascending,
        );
      case "attribute":
        return nullsLast(sql`${RUN_COLUMNS[t.key]}`, t.ascending);
    }
  }

  private upsertTags(runId: string, tags: Tag[]): Statement[] {
    return jsonChunks(tags).map((json) =>
      this.db
        .insert(runTags)
        .select(
          selectFromJson(runTags, json, { runId: sql`${runId}`, key: jsonField("key"), value: jsonField("value") }),
        )
        .onConflictDoUpdate({ target: [runTags.runId, runTags.key], set: { value: sql`excluded.value` } }),
    );
  }

  private linkModels(
    runId: string,
    direction: "input" | "output",
    models: { modelId: string; step: number | null }[],
  ): Statement[] {
    return jsonChunks(models).map((json) =>
      this.db
        .insert(runModelLinks)
        .select(
          selectFromJson(runModelLinks, json, {
            runId: sql`${runId}`,
            modelId: jsonField("modelId"),
            direction: sql`${direction}`,
            step: jsonField("step"),
          }),
        )
        .onConflictDoUpdate({
          target: [runModelLinks.runId, runModelLinks.direction, runModelLinks.modelId],
          set: { step: sql`excluded.step` },
        }),
    );
  }

  private async hydrate(runIds: string[]): Promise<Run[]> {
    if (runIds.length === 0) return [];
    const [rows, tags, params, latest, datasets, links] = await read(() =>
      this.db.batch([
        this.db.select().from(runs).where(inJsonList(runs.runId, runIds)),
        this.db.select().from(runTags).where(inJsonList(runTags.runId, runIds)).orderBy(sql`rowid`),
        this.db.select().from(runParams).where(inJsonList(runParams.runId, runIds)).orderBy(sql`rowid`),
        this.db.select().from(runLatestMetrics).where(inJsonList(runLatestMetrics.runId, runIds)).orderBy(sql`rowid`),
        this.db
          .select()
          .from(runDatasetInputs)
          .where(inJsonList(runDatasetInputs.runId, runIds))
          .orderBy(asc(runDatasetInputs.id)),
        this.db.select().from(runModelLinks).where(inJsonList(runModelLinks.runId, runIds)).orderBy(sql`rowid`),
      ]),
    );
    const byRun = <T extends { runId: string }>(list: T[]) => {
      const map = new Map<string, T[]>();
      for (const item of list) map.set(item.runId, [...(map.get(item.runId) ?? []), item]);
      return map;
    };
    const tagsOf = byRun(tags);
    const paramsOf = byRun(params);
    const latestOf = byRun(latest);
    const datasetsOf = byRun(datasets);
    const linksOf = byRun(links);
    const rowOf = new Map(rows.map((r) => [r.runId, r]));
    return runIds.flatMap((id): Run[] => {
      const row = rowOf.get(id);
      if (!row) return [];
      const runLinks = linksOf.get(id) ?? [];
      return [
        {
          info: toInfo(row),
          data: {
            metrics: (latestOf.get(id) ?? []).map((m) => ({
              key: m.key,
              value: loadedMetricValue(m.value, m.isNan),
              timestamp: m.timestamp,
              step: m.step,
            })),
            params: (paramsOf.get(id) ?? []).map(({ key, value }) => ({ key, value })),
            tags: (tagsOf.get(id) ?? []).map(({ key, value }) => ({ key, value })),
          },
          inputs: {
            datasetInputs: (datasetsOf.get(id) ?? []).map((d) => ({
              tags: parseTags(d.tags),
              dataset: {
                name: d.name,
                digest: d.digest,
                sourceType: d.sourceType,
                source: d.source,
                schema: d.schema,
                profile: d.profile,
              },
            })),
            modelInputs: runLinks.filter((l) => l.direction === "input").map((l) => ({ modelId: l.modelId })),
          },
          outputs: {
            modelOutputs: runLinks
              .filter((l) => l.direction === "output")
              .map((l) => ({ modelId: l.modelId, step: l.step ?? 0 })),
          },
        },
      ];
    });
  }
}

/**
 * A run matches `dataset.<key>` when any of its dataset inputs does (MLflow joins runs to inputs):
 * name and digest are the dataset's, context is the input's `mlflow.data.context` tag, which a run
 * logged without a context lacks (so it matches no context condition, `!=` included).
 */
function datasetCondition(key: DatasetKey, comparator: Comparator, value: string | string[]): SQL {
  if (key === "context") {
    return sql`EXISTS (SELECT 1 FROM ${runDatasetInputs}, json_each(${runDatasetInputs.tags}) t WHERE ${runDatasetInputs.runId} = ${runs.runId} AND json_extract(t.value, '$.key') = ${DATASET_CONTEXT_TAG} AND ${compare(sql`json_extract(t.value, '$.value')`, comparator, value)})`;
  }
  const column = key === "name" ? runDatasetInputs.name : runDatasetInputs.digest;
  return sql`EXISTS (SELECT 1 FROM ${runDatasetInputs} WHERE ${runDatasetInputs.runId} = ${runs.runId} AND ${compare(column, comparator, value)})`;
}

/** A column for every attribute run-search.ts accepts for runs (it refuses any other name). */
const RUN_COLUMNS: Record<string, SQL> = {
  run_id: sql`${runs.runId}`,
  run_name: sql`${runs.name}`,
  status: sql`${runs.status}`,
  user_id: sql`${runs.userId}`,
  artifact_uri: sql`${runs.artifactUri}`,
  start_time: sql`${runs.startTime}`,
  end_time: sql`${runs.endTime}`,
  experiment_id: sql`${runs.experimentId}`,
};

function toInfo(row: RunRow): RunInfo {
  return {
    runId: row.runId,
    experimentId: String(row.experimentId),
    runName: row.name,
    userId: row.userId,
    status: row.status as RunStatus,
    startTime: row.startTime,
    endTime: row.endTime,
    artifactUri: row.artifactUri,
    lifecycleStage: row.lifecycleStage as LifecycleStage,
  };
}

/** A metric as stored: NaN as 0 with a flag, infinities as the largest double. */
function storedMetric(m: Metric) {
  return {
    key: m.key,
    ...storedMetricValue(m.value),
    timestamp: m.timestamp,
    step: m.step,
    modelId: m.modelId ?? null,
    datasetName: m.datasetName ?? null,
    datasetDigest: m.datasetDigest ?? null,
  };
}

function parseTags(json: string): Tag[] {
  try {
    const parsed = JSON.parse(json) as Tag[];
    return Array.isArray(parsed) ? parsed.map((t) => ({ key: String(t.key), value: String(t.value) })) : [];
  } catch {
    return [];
  }
}
