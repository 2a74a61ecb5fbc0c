import { and, asc, desc, eq, inArray, sql, type SQL } from "drizzle-orm";
import type { ModelAlias, ModelVersion, RegisteredModel, Tag, VersionStatus } from "../domain/model";
import type { OrderTerm } from "../domain/order-by";
import { PROMPT_TAG, promptScope, type Condition } from "../domain/search-filter";
import type { Stage } from "../domain/stages";
import type { Database } from "./database";
import { translateD1Error } from "./d1-errors";
import { compare } from "./tracking-sql";
import {
  modelVersions,
  modelVersionTags,
  registeredModelAliases,
  registeredModels,
  registeredModelTags,
} from "./schema";

export interface SearchQuery {
  conditions: Condition[];
  orderBy: OrderTerm[];
  offset: number;
  limit: number;
  /** Only these models (a token narrowed to them); null means every model. */
  visibleModels: string[] | null;
}

/** The visibility condition, in the query itself so a page is never short because of it. */
const visible = (models: string[] | null): SQL[] =>
  models === null ? [] : [models.length > 0 ? inArray(registeredModels.name, models) : sql`0`];

type Column = SQL | typeof registeredModels.name;

const MODEL_COLUMNS = { name: registeredModels.name } as const;
const VERSION_COLUMNS: Record<string, Column> = {
  name: registeredModels.name,
  version_number: sql`${modelVersions.version}`,
  run_id: sql`${modelVersions.runId}`,
  source_path: sql`${modelVersions.source}`,
};

/** Search over all models and versions; D1 answers these (the coordinators only know one model each). */
export class SearchRepository {
  constructor(private readonly db: Database) {}

  async searchModels(query: SearchQuery): Promise<RegisteredModel[]> {
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
    const order = query.orderBy.map((t) => {
      const column =
        t.field === "name"
          ? registeredModels.name
          : t.field === "creation_timestamp"
            ? registeredModels.creationTime
            : registeredModels.lastUpdatedTime;
      return t.direction === "ASC" ? asc(column) : desc(column);
    });
    try {
      const rows = await this.db
        .select()
        .from(registeredModels)
        .where(and(...where))
        .orderBy(...order, asc(registeredModels.name))
        .limit(query.limit)
        .offset(query.offset);
      return await this.hydrateModels(rows);
    } catch (error) {
      throw translateD1Error(error);
    }
  }

  async searchVersions(query: SearchQuery): Promise<ModelVersion[]> {
    const scope = promptScope(query.conditions);
    const where = scope.conditions.map((c) =>
      c.kind === "tag"
        ? sql`EXISTS (SELECT 1 FROM ${modelVersionTags} WHERE ${modelVersionTags.modelId} = ${modelVersions.modelId} AND ${modelVersionTags.version} = ${modelVersions.version} AND ${modelVersionTags.key} = ${c.key} AND ${compare(sql`${modelVersionTags.value}`, c.comparator, c.value)})`
        : compare(VERSION_COLUMNS[c.key], c.comparator, c.value),
    );
    where.push(...visible(query.visibleModels));
    // MLflow 3.5.1 hides every version of a model any of whose versions is tagged as a prompt
    // version (its anti-join is by model name on model-version tags), unless asked for prompts.
    if (!scope.prompts) {
      where.push(
        sql`NOT EXISTS (SELECT 1 FROM ${modelVersionTags} WHERE ${modelVersionTags.modelId} = ${modelVersions.modelId} AND ${modelVersionTags.key} = ${PROMPT_TAG} AND ${modelVersionTags.value} = 'true')`,
      );
    }
    const orderTerms =
      query.orderBy.length > 0 ? query.orderBy : [{ field: "last_updated_timestamp", direction: "DESC" } as const];
    const order = orderTerms.map((t) => {
      const column =
        t.field === "name"
          ? registeredModels.name
          : t.field === "version_number"
            ? modelVersions.version
            : t.field === "creation_timestamp"
              ? modelVersions.creationTime
              : modelVersions.lastUpdatedTime;
      return t.direction === "ASC" ? asc(column) : desc(column);
    });
    try {
      const rows = await this.db
        .select({ version: modelVersions, name: registeredModels.name })
        .from(modelVersions)
        .innerJoin(registeredModels, eq(registeredModels.id, modelVersions.modelId))
        .where(and(...where))
        .orderBy(...order, asc(registeredModels.name), desc(modelVersions.version))
        .limit(query.limit)
        .offset(query.offset);
      return await this.hydrateVersions(rows.map((r) => ({ ...r.version, name: r.name })));
    } catch (error) {
      throw translateD1Error(error);
    }
  }

  private async hydrateModels(rows: (typeof registeredModels.$inferSelect)[]): Promise<RegisteredModel[]> {
    if (rows.length === 0) return [];
    const ids = JSON.stringify(rows.map((r) => r.id));
    const inPage = (column: SQL | typeof registeredModelTags.modelId) =>
      sql`${column} IN (SELECT value FROM json_each(${ids}))`;
    const [tags, aliases, latest, firstVersions] = await this.db.batch([
      this.db.select().from(registeredModelTags).where(inPage(registeredModelTags.modelId)),
      this.db
        .select()
        .from(registeredModelAliases)
        .where(inPage(sql`${registeredModelAliases.modelId}`))
        .orderBy(asc(registeredModelAliases.alias)),
      this.db
        .select()
        .from(modelVersions)
        .where(
          and(
            inPage(sql`${modelVersions.modelId}`),
            eq(modelVersions.status, "READY"),
            sql`${modelVersions.version} = (SELECT max(m2.version) FROM ${modelVersions} m2 WHERE m2.model_id = ${modelVersions.modelId} AND m2.current_stage = ${modelVersions.currentStage} AND m2.status = 'READY')`,
          ),
        ),
      this.db
        .select({
          modelId: modelVersions.modelId,
          stage: modelVersions.currentStage,
          first: sql<number>`min(${modelVersions.version})`,
        })
        .from(modelVersions)
        .where(and(inPage(sql`${modelVersions.modelId}`), eq(modelVersions.status, "READY")))
        .groupBy(modelVersions.modelId, modelVersions.currentStage),
    ]);
    const names = new Map(rows.map((r) => [r.id, r.name]));
    const latestVersions = await this.hydrateVersions(latest.map((v) => ({ ...v, name: names.get(v.modelId)! })));
    const firstSeen = new Map(firstVersions.map((f) => [`${f.modelId}|${f.stage}`, f.first]));
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      description: r.description,
      userId: r.userId,
      creationTime: r.creationTime,
      lastUpdatedTime: r.lastUpdatedTime,
      tags: tags.filter((t) => t.modelId === r.id).map(({ key, value }) => ({ key, value })),
      aliases: aliases.filter((a) => a.modelId === r.id).map(({ alias, version }): ModelAlias => ({ alias, version })),
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

  private async hydrateVersions(
    rows: (typeof modelVersions.$inferSelect & { name: string })[],
  ): Promise<ModelVersion[]> {
    if (rows.length === 0) return [];
    const keys = JSON.stringify(rows.map((r) => [r.modelId, r.version]));
    // Raw statements cannot join a D1 batch in drizzle; these two reads run side by side instead.
    const [tags, aliases] = await Promise.all([
      this.db.all<{ model_id: string; version: number; key: string; value: string }>(
        sql`SELECT t.model_id, t.version, t.key, t.value FROM json_each(${keys}) j JOIN ${modelVersionTags} t ON t.model_id = json_extract(j.value, '$[0]') AND t.version = json_extract(j.value, '$[1]')`,
      ),
      this.db.all<{ model_id: string; version: number; alias: string }>(
        sql`SELECT a.model_id, a.version, a.alias FROM json_each(${keys}) j JOIN ${registeredModelAliases} a ON a.model_id = json_extract(j.value, '$[0]') AND a.version = json_extract(j.value, '$[1]') ORDER BY a.alias`,
      ),
    ]);
    const key = (modelId: string, version: number) => `${modelId}\u0000${version}`;
    const tagsOf = new Map<string, Tag[]>();
    for (const t of tags) {
      const k = key(t.model_id, t.version);
      tagsOf.set(k, [...(tagsOf.get(k) ?? []), { key: t.key, value: t.value }]);
    }
    const aliasesOf = new Map<string, string[]>();
    for (const a of aliases) {
      const k = key(a.model_id, a.version);
      aliasesOf.set(k, [...(aliasesOf.get(k) ?? []), a.alias]);
    }
    return rows.map((r) => ({
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
      tags: tagsOf.get(key(r.modelId, r.version)) ?? [],
      aliases: aliasesOf.get(key(r.modelId, r.version)) ?? [],
    }));
  }
}
