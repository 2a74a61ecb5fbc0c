import { and, asc, desc, eq, or, sql, type SQL } from "drizzle-orm";
import type { ModelAlias, ModelVersion, RegisteredModel, Tag, VersionStatus } from "../domain/model";
import type { OrderTerm, SortField, SortValue } from "../domain/order-by";
import { PROMPT_TAG, promptScope } from "../domain/search-filter";
import type { Condition } from "../domain/search-grammar";
import { STAGES, type Stage } from "../domain/stages";
import type { Database } from "./database";
import { translateD1Error } from "./d1-errors";
import { compare, inJsonList } from "./tracking-sql";
import {
  modelVersions,
  modelVersionTags,
  registeredModelAliases,
  registeredModels,
  registeredModelTags,
} from "./schema";

export interface SearchQuery {
  conditions: Condition[];
  /** The complete order (domain/order-by completeOrder): the terms asked for, then the tiebreakers. */
  order: OrderTerm[];
  /** The previous page's last row's values for `order`: this page starts right after it. */
  after: SortValue[] | null;
  limit: number;
  /** Only these models (a token narrowed to them); null means every model. */
  visibleModels: string[] | null;
}

/**
 * The visibility condition, in the query itself so a page is never short because of it. The names
 * travel as one JSON parameter: D1 binds at most 100, and a token may be narrowed to more models.
 */
const visible = (models: string[] | null): SQL[] =>
  models === null ? [] : [inJsonList(registeredModels.name, models)];

type Column = SQL | typeof registeredModels.name;

const MODEL_COLUMNS = { name: registeredModels.name } as const;
/** A column for every version attribute search-filter.ts accepts (it refuses any other name). */
const VERSION_COLUMNS: Record<string, Column> = {
  name: registeredModels.name,
  version_number: sql`${modelVersions.version}`,
  run_id: sql`${modelVersions.runId}`,
  source_path: sql`${modelVersions.source}`,
};

type Ordered = Record<SortField, Column>;
const MODEL_ORDER: Ordered = {
  name: registeredModels.name,
  creation_timestamp: sql`${registeredModels.creationTime}`,
  last_updated_timestamp: sql`${registeredModels.lastUpdatedTime}`,
  // Refused for models by parseOrderBy; here only to make the table total.
  version_number: registeredModels.name,
};
const VERSION_ORDER: Ordered = {
  name: registeredModels.name,
  version_number: sql`${modelVersions.version}`,
  creation_timestamp: sql`${modelVersions.creationTime}`,
  last_updated_timestamp: sql`${modelVersions.lastUpdatedTime}`,
};

const orderBy = (columns: Ordered, order: OrderTerm[]): SQL[] =>
  order.map((t) => (t.ascending ? asc(columns[t.key]) : desc(columns[t.key])));

/**
 * The keyset condition: rows after `key` in `order`, i.e. (t1, t2, ...) > (k1, k2, ...) with each
 * term's own direction, spelt out as OR-ed prefixes because the directions may differ. The first
 * term's bound is repeated on its own (`t1 >= k1`) so that SQLite seeks the index that orders the
 * answer to it rather than testing the OR on every row. Every order column is NOT NULL.
 */
function startAfter(columns: Ordered, order: OrderTerm[], key: SortValue[] | null): SQL[] {
  if (!key) return [];
  // `i` indexes `order`, never empty: completeOrder() ends every order with its tie-breakers.
  const col = (i: number) => columns[order[i]!.key];
  const beyond = (i: number) => (order[i]!.ascending ? sql`${col(i)} > ${key[i]}` : sql`${col(i)} < ${key[i]}`);
  const prefixes = order.map((_, i) => and(...order.slice(0, i).map((_, j) => sql`${col(j)} = ${key[j]}`), beyond(i)));
  const bound = order[0]!.ascending ? sql`${col(0)} >= ${key[0]}` : sql`${col(0)} <= ${key[0]}`;
  return [bound, or(...prefixes) as SQL];
}

// A row's tags and aliases come back in the row itself, as JSON built by correlated subqueries (each
// a seek on the primary key): one D1 round trip answers a page of versions, where fetching them
// after the page took two more (locally ~1.5 ms of the Worker's time each, more than the seeks).
// The outer row's columns are named in full: drizzle writes a lone table's columns unqualified,
// and inside these subqueries an unqualified name would mean the subquery's own table.
const MV = { modelId: sql.raw(`"model_versions"."model_id"`), version: sql.raw(`"model_versions"."version"`) };
const RM_ID = sql.raw(`"registered_models"."id"`);
const versionTags = sql<string>`(SELECT json_group_array(json_array(t.key, t.value)) FROM ${modelVersionTags} t WHERE t.model_id = ${MV.modelId} AND t.version = ${MV.version})`;
const versionAliases = sql<string>`(SELECT json_group_array(alias) FROM (SELECT a.alias FROM ${registeredModelAliases} a WHERE a.model_id = ${MV.modelId} AND a.version = ${MV.version} ORDER BY a.alias) ordered)`;
const modelTags = sql<string>`(SELECT json_group_array(json_array(t.key, t.value)) FROM ${registeredModelTags} t WHERE t.model_id = ${RM_ID})`;
const modelAliases = sql<string>`(SELECT json_group_array(json_array(alias, version)) FROM (SELECT a.alias, a.version FROM ${registeredModelAliases} a WHERE a.model_id = ${RM_ID} ORDER BY a.alias) ordered)`;

type VersionRow = typeof modelVersions.$inferSelect & { name: string; tags: string; aliases: string };

const parseTags = (json: string): Tag[] =>
  (JSON.parse(json) as [string, string][]).map(([key, value]) => ({ key, value }));

/** Search over all models and versions; D1 answers these (the coordinators only know one model each). */
export class SearchRepository {
  constructor(private readonly db: Database) {}

  /** The statement searchModels runs for one page, unexecuted (test/search/query-plans.test.ts reads its plan). */
  modelsQuery(query: SearchQuery) {
    const scope = promptScope(query.conditions);
    const where = scope.conditions.map((c) =>
      c.kind === "tag"
        ? sql`EXISTS (SELECT 1 FROM ${registeredModelTags} WHERE ${registeredModelTags.modelId} = ${registeredModels.id} AND ${registeredModelTags.key} = ${c.key} AND ${compare(sql`${registeredModelTags.value}`, c.comparator, c.value)})`
        : compare(MODEL_COLUMNS.name, c.comparator, c.value),
    );
    where.push(...visible(query.visibleModels));
    // MLflow 3 keeps prompts (models tagged mlflow.prompt.is_prompt = 'true', exactly) out of model search unless asked for.
    if (!scope.prompts) {
      where.push(
        sql`NOT EXISTS (SELECT 1 FROM ${registeredModelTags} WHERE ${registeredModelTags.modelId} = ${registeredModels.id} AND ${registeredModelTags.key} = ${PROMPT_TAG} AND ${registeredModelTags.value} = 'true')`,
      );
    }
    where.push(...startAfter(MODEL_ORDER, query.order, query.after));
    return this.db
      .select({ model: registeredModels, tags: modelTags, aliases: modelAliases })
      .from(registeredModels)
      .where(and(...where))
      .orderBy(...orderBy(MODEL_ORDER, query.order))
      .limit(query.limit);
  }

  async searchModels(query: SearchQuery): Promise<RegisteredModel[]> {
    try {
      return await this.hydrateModels(await this.modelsQuery(query));
    } catch (error) {
      throw translateD1Error(error);
    }
  }

  /** The statement searchVersions runs for one page, unexecuted (for the query-plan test). */
  versionsQuery(query: SearchQuery) {
    const scope = promptScope(query.conditions);
    const where = scope.conditions.map((c) =>
      c.kind === "tag"
        ? sql`EXISTS (SELECT 1 FROM ${modelVersionTags} WHERE ${modelVersionTags.modelId} = ${modelVersions.modelId} AND ${modelVersionTags.version} = ${modelVersions.version} AND ${modelVersionTags.key} = ${c.key} AND ${compare(sql`${modelVersionTags.value}`, c.comparator, c.value)})`
        : compare(VERSION_COLUMNS[c.key]!, c.comparator, c.value),
    );
    where.push(...visible(query.visibleModels));
    // MLflow 3.5.1 hides every version of a model any of whose versions is tagged as a prompt
    // version (its anti-join is by model name on model-version tags), unless asked for prompts.
    // One seek per row on model_version_tags (key, value, model_id, version).
    if (!scope.prompts) {
      where.push(
        sql`NOT EXISTS (SELECT 1 FROM ${modelVersionTags} WHERE ${modelVersionTags.key} = ${PROMPT_TAG} AND ${modelVersionTags.value} = 'true' AND ${modelVersionTags.modelId} = ${modelVersions.modelId})`,
      );
    }
    where.push(...startAfter(VERSION_ORDER, query.order, query.after));
    return this.db
      .select({ version: modelVersions, name: registeredModels.name, tags: versionTags, aliases: versionAliases })
      .from(modelVersions)
      .innerJoin(registeredModels, eq(registeredModels.id, modelVersions.modelId))
      .where(and(...where))
      .orderBy(...orderBy(VERSION_ORDER, query.order))
      .limit(query.limit);
  }

  async searchVersions(query: SearchQuery): Promise<ModelVersion[]> {
    try {
      const rows = await this.versionsQuery(query);
      return rows.map((r) => toVersion({ ...r.version, name: r.name, tags: r.tags, aliases: r.aliases }));
    } catch (error) {
      throw translateD1Error(error);
    }
  }

  /**
   * latest_versions of these models, with the lowest READY version number in each one's stage
   * (MLflow lists stages in the order they first appear going up the version numbers). Per
   * (model, stage), max(version) and min(version) over READY versions are each one seek on
   * model_versions (model_id, current_stage, status, version): a model's other versions are not
   * read, however many it has.
   */
  latestQuery(modelIds: string[]) {
    const pairs = JSON.stringify(modelIds.flatMap((id) => STAGES.map((stage) => [id, stage])));
    const ready = (modelId: SQL, stage: SQL) =>
      sql`FROM ${modelVersions} m2 WHERE m2.model_id = ${modelId} AND m2.current_stage = ${stage} AND m2.status = 'READY'`;
    return this.db
      .select({
        version: modelVersions,
        tags: versionTags,
        aliases: versionAliases,
        first: sql<number>`(SELECT min(m2.version) ${ready(sql`${modelVersions.modelId}`, sql`${modelVersions.currentStage}`)})`,
      })
      .from(modelVersions)
      .where(
        sql`(${modelVersions.modelId}, ${modelVersions.version}) IN (SELECT json_extract(p.value, '$[0]'), (SELECT max(m2.version) ${ready(sql`json_extract(p.value, '$[0]')`, sql`json_extract(p.value, '$[1]')`)}) FROM json_each(${pairs}) p)`,
      );
  }

  private async hydrateModels(
    rows: { model: typeof registeredModels.$inferSelect; tags: string; aliases: string }[],
  ): Promise<RegisteredModel[]> {
    if (rows.length === 0) return [];
    const latest = await this.latestQuery(rows.map((r) => r.model.id));
    const names = new Map(rows.map((r) => [r.model.id, r.model.name]));
    const firstSeen = new Map(latest.map(({ version: v, first }) => [`${v.modelId}|${v.currentStage}`, first]));
    const latestVersions = latest.map(({ version: v, tags, aliases }) =>
      toVersion({ ...v, name: names.get(v.modelId)!, tags, aliases }),
    );
    return rows.map(({ model: r, tags, aliases }) => ({
      id: r.id,
      name: r.name,
      description: r.description,
      userId: r.userId,
      creationTime: r.creationTime,
      lastUpdatedTime: r.lastUpdatedTime,
      tags: parseTags(tags),
      aliases: (JSON.parse(aliases) as [string, number][]).map(([alias, version]): ModelAlias => ({ alias, version })),
      // MLflow's order: stages as they first appear going up the version numbers.
      latestVersions: latestVersions
        .filter((v) => v.modelId === r.id)
        .sort(
          (a, b) =>
            (firstSeen.get(`${a.modelId}|${a.currentStage}`) ?? 0) -
            (firstSeen.get(`${b.modelId}|${b.currentStage}`) ?? 0),
        ),
    }));
  }
}

function toVersion(r: VersionRow): ModelVersion {
  return {
    modelId: r.modelId,
    name: r.name,
    version: r.version,
    description: r.description,
    userId: r.userId,
    source: r.source,
    runId: r.runId,
    runLink: r.runLink,
    loggedModelId: r.loggedModelId,
    status: r.status as VersionStatus,
    statusMessage: r.statusMessage,
    currentStage: r.currentStage as Stage,
    creationTime: r.creationTime,
    lastUpdatedTime: r.lastUpdatedTime,
    storageLocation: r.storageLocation,
    tags: parseTags(r.tags),
    aliases: JSON.parse(r.aliases) as string[],
  };
}
