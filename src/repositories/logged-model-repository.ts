import { and, asc, eq, ne, sql, type SQL } from "drizzle-orm";
import type { Tag } from "../domain/model";
import { InvalidParameterError } from "../errors";
import type { Condition, OrderTerm } from "../domain/run-search";
import {
  MODEL_VERSIONS_TAG,
  type LifecycleStage,
  type LoggedModel,
  type LoggedModelStatus,
  type NewLoggedModel,
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
  type Statement,
} from "./tracking-sql";
import { loggedModelMetrics, loggedModelParams, loggedModels, loggedModelTags } from "./tracking-schema";

export interface DatasetFilter {
  datasetName: string;
  datasetDigest?: string;
}

export interface LoggedModelSearchQuery {
  experimentIds: string[];
  conditions: Condition[];
  datasets: DatasetFilter[];
  orderBy: OrderTerm[];
  offset: number;
  limit: number;
}

type ModelRow = typeof loggedModels.$inferSelect;

/** MLflow 3 logged models with their tags, params and metrics. Every write is one D1 batch. */
export class LoggedModelRepository {
  constructor(private readonly db: Database) {}

  async create(model: NewLoggedModel, tags: Tag[], params: Tag[]): Promise<void> {
    await runBatch(this.db, [
      this.db.insert(loggedModels).values({
        modelId: model.modelId,
        experimentId: Number(model.experimentId),
        name: model.name,
        modelType: model.modelType,
        sourceRunId: model.sourceRunId,
        status: model.status,
        artifactUri: model.artifactUri,
        createdByToken: model.createdByToken,
        lifecycleStage: "active",
        creationTime: model.creationTime,
        lastUpdatedTime: model.creationTime,
      }),
      ...this.upsertTags(model.modelId, tags),
      ...this.insertParams(model.modelId, params),
    ]);
  }

  /** A model that is not deleted, or null. */
  async get(modelId: string): Promise<LoggedModel | null> {
    return (await this.getMany([modelId]))[0] ?? null;
  }

  /** Models that are not deleted, in the order of `modelIds`; unknown or deleted ids are skipped. */
  async getMany(modelIds: string[]): Promise<LoggedModel[]> {
    if (modelIds.length === 0) return [];
    const [rows, tags, params, metrics] = await read(() =>
      this.db.batch([
        this.db
          .select()
          .from(loggedModels)
          .where(and(inJsonList(loggedModels.modelId, modelIds), ne(loggedModels.lifecycleStage, "deleted"))),
        this.db
          .select()
          .from(loggedModelTags)
          .where(inJsonList(loggedModelTags.modelId, modelIds))
          .orderBy(asc(loggedModelTags.key)),
        this.db
          .select()
          .from(loggedModelParams)
          .where(inJsonList(loggedModelParams.modelId, modelIds))
          .orderBy(asc(loggedModelParams.key)),
        this.db
          .select()
          .from(loggedModelMetrics)
          .where(inJsonList(loggedModelMetrics.modelId, modelIds))
          .orderBy(asc(loggedModelMetrics.id)),
      ]),
    );
    const rowOf = new Map(rows.map((r) => [r.modelId, r]));
    return modelIds.flatMap((id) => {
      const row = rowOf.get(id);
      return row ? [toModel(row, tags, params, metrics)] : [];
    });
  }

  /** Which of these ids name models that exist and are not deleted. */
  async existing(modelIds: string[]): Promise<Set<string>> {
    if (modelIds.length === 0) return new Set();
    const rows = await read(() =>
      this.db
        .select({ modelId: loggedModels.modelId })
        .from(loggedModels)
        .where(and(inJsonList(loggedModels.modelId, modelIds), ne(loggedModels.lifecycleStage, "deleted"))),
    );
    return new Set(rows.map((r) => r.modelId));
  }

  async finalize(modelId: string, status: LoggedModelStatus, now: number): Promise<void> {
    await runBatch(this.db, [
      this.db.update(loggedModels).set({ status, lastUpdatedTime: now }).where(eq(loggedModels.modelId, modelId)),
    ]);
  }

  async setLifecycle(modelId: string, stage: LifecycleStage, now: number): Promise<void> {
    await runBatch(this.db, [
      this.db
        .update(loggedModels)
        .set({ lifecycleStage: stage, lastUpdatedTime: now })
        .where(eq(loggedModels.modelId, modelId)),
    ]);
  }

  async setTags(modelId: string, tags: Tag[]): Promise<void> {
    await runBatch(this.db, this.upsertTags(modelId, tags));
  }

  async deleteTag(modelId: string, key: string): Promise<boolean> {
    const deleted = await read(() =>
      this.db
        .delete(loggedModelTags)
        .where(and(eq(loggedModelTags.modelId, modelId), eq(loggedModelTags.key, key)))
        .returning({ key: loggedModelTags.key }),
    );
    return deleted.length > 0;
  }

  async paramsOf(modelId: string, keys: string[]): Promise<Map<string, string>> {
    if (keys.length === 0) return new Map();
    const rows = await read(() =>
      this.db
        .select({ key: loggedModelParams.key, value: loggedModelParams.value })
        .from(loggedModelParams)
        .where(and(eq(loggedModelParams.modelId, modelId), inJsonList(loggedModelParams.key, keys))),
    );
    return new Map(rows.map((r) => [r.key, r.value]));
  }

  /** Inserts params not logged before; throws ParamRaceError if one was logged meanwhile. */
  async logParams(modelId: string, params: Tag[]): Promise<void> {
    await runBatch(this.db, this.insertParams(modelId, params), () => new ParamRaceError());
  }

  /**
   * Appends `{"name": ..., "version": ...}` to the model's `mlflow.modelVersions` tag, in one
   * statement. False when the list would outgrow MAX_JSON_LIST_TAG_LENGTH (nothing is written).
   */
  async appendModelVersion(modelId: string, entry: string): Promise<boolean> {
    const written = await read(() =>
      this.db
        .insert(loggedModelTags)
        .values({ modelId, key: MODEL_VERSIONS_TAG, value: `[${entry}]` })
        .onConflictDoUpdate({
          target: [loggedModelTags.modelId, loggedModelTags.key],
          set: { value: appendToJsonList(loggedModelTags.value, entry) },
          setWhere: sql`length(${loggedModelTags.value}) + ${entry.length + 2} <= ${MAX_JSON_LIST_TAG_LENGTH}`,
        })
        .returning({ key: loggedModelTags.key }),
    );
    return written.length > 0;
  }

  async search(query: LoggedModelSearchQuery): Promise<LoggedModel[]> {
    const experimentIds = query.experimentIds.map(experimentKey).filter((id): id is number => id !== null);
    if (experimentIds.length === 0) return [];
    const datasetMatch = this.datasetMatch(query.datasets);
    const where: SQL[] = [
      inJsonList(loggedModels.experimentId, experimentIds),
      ne(loggedModels.lifecycleStage, "deleted") as SQL,
    ];
    for (const c of query.conditions) where.push(this.condition(c, datasetMatch));
    // With datasets but no metric filter, MLflow keeps the models that have any metric on those datasets.
    if (datasetMatch && !query.conditions.some((c) => c.kind === "metric")) {
      where.push(
        sql`EXISTS (SELECT 1 FROM ${loggedModelMetrics} WHERE ${loggedModelMetrics.modelId} = ${loggedModels.modelId} AND ${datasetMatch})`,
      );
    }
    const order: SQL[] = query.orderBy.flatMap((t) => this.orderTerm(t));
    if (!query.orderBy.some((t) => t.kind === "attribute" && t.key === "creation_timestamp"))
      order.push(sql`${loggedModels.creationTime} DESC`);
    order.push(sql`${loggedModels.modelId} ASC`);
    const ids = await read(() =>
      this.db
        .select({ modelId: loggedModels.modelId })
        .from(loggedModels)
        .where(and(...where))
        .orderBy(...order)
        .limit(query.limit)
        .offset(query.offset),
    );
    return this.getMany(ids.map((r) => r.modelId));
  }

  /** Metrics on any of the given datasets (a digest narrows a name), as one JSON parameter. */
  private datasetMatch(datasets: DatasetFilter[]): SQL | null {
    if (datasets.length === 0) return null;
    const list = JSON.stringify(datasets.map((d) => ({ name: d.datasetName, digest: d.datasetDigest ?? null })));
    return sql`EXISTS (SELECT 1 FROM json_each(${list}) d WHERE json_extract(d.value, '$.name') = ${loggedModelMetrics.datasetName} AND (json_extract(d.value, '$.digest') IS NULL OR json_extract(d.value, '$.digest') = ${loggedModelMetrics.datasetDigest}))`;
  }

  private condition(c: Condition, datasetMatch: SQL | null): SQL {
    switch (c.kind) {
      case "metric":
        return sql`EXISTS (SELECT 1 FROM ${loggedModelMetrics} WHERE ${loggedModelMetrics.modelId} = ${loggedModels.modelId} AND ${loggedModelMetrics.key} = ${c.key} AND ${loggedModelMetrics.isNan} = 0 AND ${compare(loggedModelMetrics.value, c.comparator, c.value)}${datasetMatch ? sql` AND ${datasetMatch}` : sql``})`;
      case "param":
        return sql`EXISTS (SELECT 1 FROM ${loggedModelParams} WHERE ${loggedModelParams.modelId} = ${loggedModels.modelId} AND ${loggedModelParams.key} = ${c.key} AND ${compare(loggedModelParams.value, c.comparator, c.value)})`;
      case "tag":
        return sql`EXISTS (SELECT 1 FROM ${loggedModelTags} WHERE ${loggedModelTags.modelId} = ${loggedModels.modelId} AND ${loggedModelTags.key} = ${c.key} AND ${compare(loggedModelTags.value, c.comparator, c.value)})`;
      case "attribute":
        return compare(MODEL_COLUMNS[c.key]!, c.comparator, c.value);
      case "dataset":
        // The logged-model grammar has no dataset.<key> (its datasets come as a field of their own),
        // so the parser never hands one over; refuse rather than ignore it if that ever changes.
        throw new InvalidParameterError(
          `Logged-model search cannot filter on dataset.${c.key}; use the datasets field.`,
        );
    }
  }

  private orderTerm(t: OrderTerm): SQL[] {
    if (t.kind === "metric") {
      // The model's latest value of the metric: newest timestamp, then highest step (as MLflow).
      const latest = sql`(SELECT ${loggedModelMetrics.value} FROM ${loggedModelMetrics} WHERE ${loggedModelMetrics.modelId} = ${loggedModels.modelId} AND ${loggedModelMetrics.key} = ${t.key} ORDER BY ${loggedModelMetrics.timestamp} DESC, ${loggedModelMetrics.step} DESC LIMIT 1)`;
      return nullsLast(latest, t.ascending);
    }
    return nullsLast(sql`${MODEL_COLUMNS[t.key]}`, t.ascending);
  }

  private upsertTags(modelId: string, tags: Tag[]): Statement[] {
    return jsonChunks(tags).map((json) =>
      this.db
        .insert(loggedModelTags)
        .select(
          selectFromJson(loggedModelTags, json, {
            modelId: sql`${modelId}`,
            key: jsonField("key"),
            value: jsonField("value"),
          }),
        )
        .onConflictDoUpdate({
          target: [loggedModelTags.modelId, loggedModelTags.key],
          set: { value: sql`excluded.value` },
        }),
    );
  }

  private insertParams(modelId: string, params: Tag[]): Statement[] {
    return jsonChunks(params).map((json) =>
      this.db.insert(loggedModelParams).select(
        selectFromJson(loggedModelParams, json, {
          modelId: sql`${modelId}`,
          key: jsonField("key"),
          value: jsonField("value"),
        }),
      ),
    );
  }
}

/** A column for every attribute run-search.ts accepts for logged models (it refuses any other name). */
const MODEL_COLUMNS: Record<string, SQL> = {
  name: sql`${loggedModels.name}`,
  model_id: sql`${loggedModels.modelId}`,
  model_type: sql`${loggedModels.modelType}`,
  status: sql`${loggedModels.status}`,
  source_run_id: sql`${loggedModels.sourceRunId}`,
  creation_timestamp: sql`${loggedModels.creationTime}`,
  last_updated_timestamp: sql`${loggedModels.lastUpdatedTime}`,
};

function toModel(
  row: ModelRow,
  tags: (typeof loggedModelTags.$inferSelect)[],
  params: (typeof loggedModelParams.$inferSelect)[],
  metrics: (typeof loggedModelMetrics.$inferSelect)[],
): LoggedModel {
  return {
    modelId: row.modelId,
    experimentId: String(row.experimentId),
    name: row.name,
    modelType: row.modelType,
    sourceRunId: row.sourceRunId,
    status: row.status as LoggedModelStatus,
    statusMessage: row.statusMessage,
    artifactUri: row.artifactUri,
    lifecycleStage: row.lifecycleStage as LifecycleStage,
    creationTime: row.creationTime,
    lastUpdatedTime: row.lastUpdatedTime,
    tags: tags.filter((t) => t.modelId === row.modelId).map(({ key, value }) => ({ key, value })),
    params: params.filter((p) => p.modelId === row.modelId).map(({ key, value }) => ({ key, value })),
    metrics: metrics
      .filter((m) => m.modelId === row.modelId)
      .map((m) => ({
        key: m.key,
        value: loadedMetricValue(m.value, m.isNan),
        timestamp: m.timestamp,
        step: m.step,
        modelId: m.modelId,
        runId: m.runId,
        datasetName: m.datasetName,
        datasetDigest: m.datasetDigest,
      })),
  };
}
