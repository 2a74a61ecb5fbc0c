import { and, eq, sql, type SQL } from "drizzle-orm";
import { experimentAlreadyExists } from "../errors";
import type { Tag } from "../domain/model";
import type { Condition, OrderTerm } from "../domain/run-search";
import { ARTIFACT_ROOT, type Experiment, type LifecycleStage } from "../domain/tracking";
import type { Database } from "./database";
import {
  compare,
  experimentKey,
  inJsonList,
  jsonChunks,
  jsonField,
  nullsLast,
  read,
  runBatch,
  selectFromJson,
} from "./tracking-sql";
import { experiments, experimentTags, runs } from "./tracking-schema";

export interface ExperimentSearchQuery {
  conditions: Condition[];
  orderBy: OrderTerm[];
  stages: LifecycleStage[];
  offset: number;
  limit: number;
}

type ExperimentRow = typeof experiments.$inferSelect;

/** Experiments and their tags. Every write is one D1 batch. */
export class ExperimentRepository {
  constructor(private readonly db: Database) {}

  /**
   * Creates an experiment with its tags and returns its id. Without an artifact location it gets
   * `mlflow-artifacts:/<id>`, which needs the id, so a second statement in the same batch sets it.
   */
  async create(input: { name: string; artifactLocation: string | null; tags: Tag[]; now: number }): Promise<string> {
    const byName = sql`(SELECT ${experiments.id} FROM ${experiments} WHERE ${experiments.name} = ${input.name})`;
    const statements = [
      this.db.insert(experiments).values({
        name: input.name,
        artifactLocation: input.artifactLocation ?? "",
        lifecycleStage: "active",
        creationTime: input.now,
        lastUpdateTime: input.now,
      }),
      ...(input.artifactLocation === null
        ? [
            this.db
              .update(experiments)
              .set({ artifactLocation: sql`${ARTIFACT_ROOT} || ${experiments.id}` })
              .where(eq(experiments.name, input.name)),
          ]
        : []),
      ...jsonChunks(input.tags).map((json) =>
        this.db
          .insert(experimentTags)
          .select(
            selectFromJson(experimentTags, json, {
              experimentId: byName,
              key: jsonField("key"),
              value: jsonField("value"),
            }),
          )
          .onConflictDoUpdate({
            target: [experimentTags.experimentId, experimentTags.key],
            set: { value: sql`excluded.value` },
          }),
      ),
    ];
    await runBatch(this.db, statements, () => experimentAlreadyExists(input.name));
    const row = await read(() =>
      this.db.select({ id: experiments.id }).from(experiments).where(eq(experiments.name, input.name)).get(),
    );
    return String(row!.id);
  }

  async get(experimentId: string): Promise<Experiment | null> {
    const id = experimentKey(experimentId);
    if (id === null) return null;
    return this.getWhere(eq(experiments.id, id));
  }

  async getByName(name: string): Promise<Experiment | null> {
    return this.getWhere(eq(experiments.name, name));
  }

  async rename(experimentId: string, newName: string, now: number): Promise<void> {
    await runBatch(
      this.db,
      [
        this.db
          .update(experiments)
          .set({ name: newName, lastUpdateTime: now })
          .where(eq(experiments.id, Number(experimentId))),
      ],
      () => experimentAlreadyExists(newName),
    );
  }

  /** Deleting or restoring an experiment does the same to all its runs, as MLflow's SQL store does. */
  async setLifecycle(experimentId: string, stage: LifecycleStage, now: number): Promise<void> {
    const id = Number(experimentId);
    await runBatch(this.db, [
      this.db.update(experiments).set({ lifecycleStage: stage, lastUpdateTime: now }).where(eq(experiments.id, id)),
      this.db
        .update(runs)
        .set({ lifecycleStage: stage, deletedTime: stage === "deleted" ? now : null })
        .where(eq(runs.experimentId, id)),
    ]);
  }

  async setTag(experimentId: string, tag: Tag): Promise<void> {
    await runBatch(this.db, [
      this.db
        .insert(experimentTags)
        .values({ experimentId: Number(experimentId), key: tag.key, value: tag.value })
        .onConflictDoUpdate({ target: [experimentTags.experimentId, experimentTags.key], set: { value: tag.value } }),
    ]);
  }

  async search(query: ExperimentSearchQuery): Promise<Experiment[]> {
    const where: SQL[] = [inJsonList(experiments.lifecycleStage, query.stages)];
    for (const c of query.conditions) {
      if (c.kind === "tag") {
        where.push(
          sql`EXISTS (SELECT 1 FROM ${experimentTags} WHERE ${experimentTags.experimentId} = ${experiments.id} AND ${experimentTags.key} = ${c.key} AND ${compare(experimentTags.value, c.comparator, c.value)})`,
        );
      } else if (c.kind === "attribute") {
        where.push(compare(ATTRIBUTE_COLUMNS[c.key]!, c.comparator, c.value));
      }
    }
    const terms = query.orderBy.length > 0 ? query.orderBy : DEFAULT_ORDER;
    const order = terms.flatMap((t) => nullsLast(sql`${ATTRIBUTE_COLUMNS[t.key]}`, t.ascending));
    // The id breaks ties, so paging visits every experiment exactly once.
    if (!terms.some((t) => t.key === "experiment_id")) order.push(sql`${experiments.id} ASC`);
    const rows = await read(() =>
      this.db
        .select()
        .from(experiments)
        .where(and(...where))
        .orderBy(...order)
        .limit(query.limit)
        .offset(query.offset),
    );
    return this.hydrate(rows);
  }

  private async getWhere(condition: SQL | undefined): Promise<Experiment | null> {
    const row = await read(() => this.db.select().from(experiments).where(condition).get());
    if (!row) return null;
    return (await this.hydrate([row]))[0] ?? null;
  }

  private async hydrate(rows: ExperimentRow[]): Promise<Experiment[]> {
    if (rows.length === 0) return [];
    const tags = await read(() =>
      this.db
        .select()
        .from(experimentTags)
        .where(
          inJsonList(
            experimentTags.experimentId,
            rows.map((r) => r.id),
          ),
        )
        .orderBy(sql`rowid`),
    );
    return rows.map((r) => ({
      experimentId: String(r.id),
      name: r.name,
      artifactLocation: r.artifactLocation,
      lifecycleStage: r.lifecycleStage as LifecycleStage,
      creationTime: r.creationTime,
      lastUpdateTime: r.lastUpdateTime,
      tags: tags.filter((t) => t.experimentId === r.id).map(({ key, value }) => ({ key, value })),
    }));
  }
}

/** A column for every attribute run-search.ts accepts for experiments (it refuses any other name). */
const ATTRIBUTE_COLUMNS: Record<string, SQL | typeof experiments.name> = {
  name: experiments.name,
  experiment_id: sql`${experiments.id}`,
  creation_time: sql`${experiments.creationTime}`,
  last_update_time: sql`${experiments.lastUpdateTime}`,
};

// MLflow's default: newest first, then by id.
const DEFAULT_ORDER: OrderTerm[] = [
  { kind: "attribute", key: "creation_time", ascending: false },
  { kind: "attribute", key: "experiment_id", ascending: true },
];
