import { and, asc, desc, eq, sql, type SQL } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { modelAlreadyExists } from "../errors";
import type { ModelRecord, ModelSnapshot, StageChange, StageTransition, Tag, VersionRecord } from "../domain/model";
import type { Database } from "./database";
import { translateD1Error } from "./d1-errors";
import type { Outbox } from "../domain/events";
import { EventRepository } from "./event-repository";
import { underPath } from "./artifact-repository";
import {
  artifactObjects,
  modelVersionFiles,
  modelVersions,
  modelVersionTags,
  registeredModelAliases,
  registeredModels,
  registeredModelTags,
  stageTransitions,
} from "./schema";

type Statement = BatchItem<"sqlite">;

/**
 * Reads and writes one registered model's rows. Every write method is one D1 batch, so it is
 * atomic; the coordinator calls them one at a time per model. Each write takes the events that
 * describe it (`Outbox`) and inserts them first in the same batch: no change without its events,
 * no event without its change.
 */
export class ModelRepository {
  /**
   * `events`: whose statements put a write's events into its batch; the composition root passes the
   * one it built over the same database (the default serves tests that only read).
   */
  constructor(
    private readonly db: Database,
    private readonly events: EventRepository = new EventRepository(db),
  ) {}

  async findIdByName(name: string): Promise<string | null> {
    const row = await this.db
      .select({ id: registeredModels.id })
      .from(registeredModels)
      .where(eq(registeredModels.name, name))
      .get();
    return row?.id ?? null;
  }

  async loadSnapshot(modelId: string): Promise<ModelSnapshot | null> {
    const [models, tags, aliases, versions, versionTags] = await this.db.batch([
      this.db.select().from(registeredModels).where(eq(registeredModels.id, modelId)),
      this.db
        .select({ key: registeredModelTags.key, value: registeredModelTags.value })
        .from(registeredModelTags)
        .where(eq(registeredModelTags.modelId, modelId)),
      this.db
        .select({ alias: registeredModelAliases.alias, version: registeredModelAliases.version })
        .from(registeredModelAliases)
        .where(eq(registeredModelAliases.modelId, modelId))
        .orderBy(asc(registeredModelAliases.alias)),
      this.db
        .select()
        .from(modelVersions)
        .where(eq(modelVersions.modelId, modelId))
        .orderBy(asc(modelVersions.version)),
      this.db
        .select({ version: modelVersionTags.version, key: modelVersionTags.key, value: modelVersionTags.value })
        .from(modelVersionTags)
        .where(eq(modelVersionTags.modelId, modelId)),
    ]);
    const model = models[0];
    if (!model) return null;
    const tagsByVersion = new Map<number, Tag[]>();
    for (const t of versionTags) {
      const list = tagsByVersion.get(t.version) ?? [];
      list.push({ key: t.key, value: t.value });
      tagsByVersion.set(t.version, list);
    }
    return {
      model,
      tags,
      aliases,
      versions: versions.map((v) => ({
        version: v.version,
        description: v.description,
        userId: v.userId,
        source: v.source,
        runId: v.runId,
        runLink: v.runLink,
        loggedModelId: v.loggedModelId,
        status: v.status,
        statusMessage: v.statusMessage,
        currentStage: v.currentStage,
        creationTime: v.creationTime,
        lastUpdatedTime: v.lastUpdatedTime,
        storageLocation: v.storageLocation,
        tags: tagsByVersion.get(v.version) ?? [],
      })),
    };
  }

  async createModel(model: ModelRecord, tags: Tag[], outbox: Outbox): Promise<void> {
    await this.run(
      model.id,
      outbox,
      [
        this.db.insert(registeredModels).values(model),
        ...tags.map((t) => this.db.insert(registeredModelTags).values({ modelId: model.id, ...t })),
      ],
      () => modelAlreadyExists(model.name),
    );
  }

  async renameModel(modelId: string, newName: string, now: number, outbox: Outbox): Promise<void> {
    await this.run(
      modelId,
      outbox,
      [
        this.db
          .update(registeredModels)
          .set({ name: newName, lastUpdatedTime: now })
          .where(eq(registeredModels.id, modelId)),
      ],
      () => modelAlreadyExists(newName),
    );
  }

  async updateModelDescription(modelId: string, description: string, now: number): Promise<void> {
    await this.run(modelId, null, [this.touchModel(modelId, now, { description })]);
  }

  /** Deletes the model and everything of it; returns the manifest files its versions held. */
  async deleteModel(modelId: string, outbox: Outbox): Promise<{ version: number; path: string }[]> {
    // Children first, explicitly, so the delete does not depend on foreign-key cascades being on.
    const [, files] = await this.run(modelId, outbox, [
      this.db.delete(registeredModelAliases).where(eq(registeredModelAliases.modelId, modelId)),
      this.db
        .delete(modelVersionFiles)
        .where(eq(modelVersionFiles.modelId, modelId))
        .returning({ version: modelVersionFiles.version, path: modelVersionFiles.path }),
      this.db.delete(modelVersionTags).where(eq(modelVersionTags.modelId, modelId)),
      this.db.delete(modelVersions).where(eq(modelVersions.modelId, modelId)),
      this.db.delete(registeredModelTags).where(eq(registeredModelTags.modelId, modelId)),
      this.db.delete(stageTransitions).where(eq(stageTransitions.modelId, modelId)),
      this.db.delete(registeredModels).where(eq(registeredModels.id, modelId)),
    ]);
    return files as { version: number; path: string }[];
  }

  async setModelTag(modelId: string, tag: Tag, outbox: Outbox): Promise<void> {
    await this.run(modelId, outbox, [
      this.db
        .insert(registeredModelTags)
        .values({ modelId, ...tag })
        .onConflictDoUpdate({
          target: [registeredModelTags.modelId, registeredModelTags.key],
          set: { value: tag.value },
        }),
    ]);
  }

  async deleteModelTag(modelId: string, key: string, outbox: Outbox): Promise<void> {
    await this.run(modelId, outbox, [
      this.db
        .delete(registeredModelTags)
        .where(and(eq(registeredModelTags.modelId, modelId), eq(registeredModelTags.key, key))),
    ]);
  }

  /**
   * Inserts the version with its tags and its manifest (every file under `manifestPath`, as the
   * artifact index holds them at this instant) and advances the version counter, atomically.
   */
  async createVersion(
    modelId: string,
    version: VersionRecord,
    manifestPath: string | null,
    outbox: Outbox,
  ): Promise<void> {
    const { tags, ...row } = version;
    await this.run(modelId, outbox, [
      this.db.insert(modelVersions).values({ modelId, ...row }),
      ...tags.map((t) => this.db.insert(modelVersionTags).values({ modelId, version: version.version, ...t })),
      ...(manifestPath === null ? [] : [this.insertManifest(modelId, version.version, manifestPath)]),
      this.touchModel(modelId, version.creationTime, { nextVersion: version.version + 1 }),
    ]);
  }

  private insertManifest(modelId: string, version: number, root: string) {
    const basename = root.slice(root.lastIndexOf("/") + 1);
    return this.db.insert(modelVersionFiles).select(
      this.db
        .select({
          modelId: sql<string>`${modelId}`.as("model_id"),
          version: sql<number>`${version}`.as("version"),
          // A single-file source keeps its own name; files under a folder are relative to it.
          path: sql<string>`CASE WHEN ${artifactObjects.path} = ${root} THEN ${basename} ELSE substr(${artifactObjects.path}, ${root.length + 2}) END`.as(
            "path",
          ),
          artifactPath: sql<string>`${artifactObjects.path}`.as("artifact_path"),
          blobKey: sql<string>`${artifactObjects.blobKey}`.as("blob_key"),
          size: sql<number>`${artifactObjects.size}`.as("size"),
          sha256: sql<string>`${artifactObjects.sha256}`.as("sha256"),
        })
        .from(artifactObjects)
        .where(underPath(artifactObjects.path, root)),
    );
  }

  async updateVersionDescription(modelId: string, version: number, description: string, now: number): Promise<void> {
    await this.run(modelId, null, [
      this.db.update(modelVersions).set({ description, lastUpdatedTime: now }).where(this.versionKey(modelId, version)),
    ]);
  }

  /** Deletes the version; returns the paths of the manifest files it held. */
  async deleteVersion(modelId: string, version: number, now: number, outbox: Outbox): Promise<string[]> {
    const [files] = await this.run(modelId, outbox, [
      // Its files become ordinary run artifacts again (mutable, deletable).
      this.db
        .delete(modelVersionFiles)
        .where(and(eq(modelVersionFiles.modelId, modelId), eq(modelVersionFiles.version, version)))
        .returning({ path: modelVersionFiles.path }),
      this.db
        .delete(registeredModelAliases)
        .where(and(eq(registeredModelAliases.modelId, modelId), eq(registeredModelAliases.version, version))),
      this.db
        .delete(modelVersionTags)
        .where(and(eq(modelVersionTags.modelId, modelId), eq(modelVersionTags.version, version))),
      this.db.delete(modelVersions).where(this.versionKey(modelId, version)),
      this.touchModel(modelId, now),
    ]);
    return (files as { path: string }[]).map((f) => f.path);
  }

  async setVersionTag(modelId: string, version: number, tag: Tag, outbox: Outbox): Promise<void> {
    await this.run(modelId, outbox, [
      this.db
        .insert(modelVersionTags)
        .values({ modelId, version, ...tag })
        .onConflictDoUpdate({
          target: [modelVersionTags.modelId, modelVersionTags.version, modelVersionTags.key],
          set: { value: tag.value },
        }),
    ]);
  }

  async deleteVersionTag(modelId: string, version: number, key: string, outbox: Outbox): Promise<void> {
    await this.run(modelId, outbox, [
      this.db
        .delete(modelVersionTags)
        .where(
          and(
            eq(modelVersionTags.modelId, modelId),
            eq(modelVersionTags.version, version),
            eq(modelVersionTags.key, key),
          ),
        ),
    ]);
  }

  /**
   * Applies stage changes and their history rows in one batch. Versions leaving a stage come first,
   * so the partial unique index on Production never sees two rows at once.
   */
  async transition(modelId: string, changes: StageChange[], actor: string, now: number, outbox: Outbox): Promise<void> {
    const ordered = [...changes].sort((a, b) => Number(b.toStage === "Archived") - Number(a.toStage === "Archived"));
    await this.run(modelId, outbox, [
      ...ordered.map((c) =>
        this.db
          .update(modelVersions)
          .set({ currentStage: c.toStage, lastUpdatedTime: now })
          .where(this.versionKey(modelId, c.version)),
      ),
      ...changes.map((c) =>
        this.db.insert(stageTransitions).values({
          modelId,
          version: c.version,
          fromStage: c.fromStage,
          toStage: c.toStage,
          actor,
          comment: c.comment,
          timestamp: now,
        }),
      ),
      this.touchModel(modelId, now),
    ]);
  }

  async setAlias(modelId: string, alias: string, version: number, outbox: Outbox): Promise<void> {
    await this.run(modelId, outbox, [
      this.db
        .insert(registeredModelAliases)
        .values({ modelId, alias, version })
        .onConflictDoUpdate({
          target: [registeredModelAliases.modelId, registeredModelAliases.alias],
          set: { version },
        }),
    ]);
  }

  async deleteAlias(modelId: string, alias: string, outbox: Outbox): Promise<void> {
    await this.run(modelId, outbox, [
      this.db
        .delete(registeredModelAliases)
        .where(and(eq(registeredModelAliases.modelId, modelId), eq(registeredModelAliases.alias, alias))),
    ]);
  }

  async listTransitions(
    modelId: string,
    version: number | undefined,
    offset: number,
    limit: number,
  ): Promise<StageTransition[]> {
    const where: SQL[] = [eq(stageTransitions.modelId, modelId)];
    if (version !== undefined) where.push(eq(stageTransitions.version, version));
    const rows = await this.db
      .select()
      .from(stageTransitions)
      .where(and(...where))
      .orderBy(desc(stageTransitions.id))
      .limit(limit)
      .offset(offset);
    return rows.map(toTransition);
  }

  /** The model's promotions to Production, newest first: all a rollback needs of the history. */
  async productionHistory(modelId: string, limit = 10_000): Promise<StageTransition[]> {
    const rows = await this.db
      .select()
      .from(stageTransitions)
      .where(and(eq(stageTransitions.modelId, modelId), eq(stageTransitions.toStage, "Production")))
      .orderBy(desc(stageTransitions.id))
      .limit(limit);
    return rows.map(toTransition);
  }

  private versionKey(modelId: string, version: number) {
    return and(eq(modelVersions.modelId, modelId), eq(modelVersions.version, version));
  }

  private touchModel(modelId: string, now: number, extra: Partial<typeof registeredModels.$inferInsert> = {}) {
    return this.db
      .update(registeredModels)
      .set({ lastUpdatedTime: sql`max(${registeredModels.lastUpdatedTime}, ${now})`, ...extra })
      .where(eq(registeredModels.id, modelId));
  }

  /**
   * Runs the outbox's event inserts and then the statements as one atomic batch; answers each
   * statement's result, in order (the event inserts' results left out). Events go first, so a
   * statement that fails later in the batch visibly takes its events with it.
   */
  private async run(
    modelId: string,
    outbox: Outbox | null,
    statements: Statement[],
    duplicate?: () => ReturnType<typeof modelAlreadyExists>,
  ): Promise<unknown[]> {
    const inserts = outbox ? this.events.inserts(modelId, outbox) : [];
    try {
      const results = await this.db.batch([...inserts, ...statements] as [Statement, ...Statement[]]);
      return results.slice(inserts.length);
    } catch (error) {
      throw translateD1Error(error, duplicate);
    }
  }
}

function toTransition(r: typeof stageTransitions.$inferSelect): StageTransition {
  return {
    version: r.version,
    fromStage: r.fromStage,
    toStage: r.toStage,
    actor: r.actor,
    comment: r.comment,
    timestamp: r.timestamp,
  };
}
