import { versionNotFound } from "../errors";
import type { FileRef, ModelVersion, RegisteredModel, Tag, VersionStatus } from "../domain/model";
import { versionsToArchive, type Stage } from "../domain/stages";
import type { ModelState } from "../coordinator/model-state";
import type { ModelRepository, StageChange, VersionRecord } from "../repositories/model-repository";

export interface NewVersion {
  source: string;
  runId: string | null;
  runLink: string;
  description: string;
  userId: string | null;
  loggedModelId: string | null;
  storageLocation: string | null;
  status: VersionStatus;
  statusMessage: string | null;
  tags: Tag[];
  /** The artifact path whose files become the version's manifest; null when there is none to record. */
  manifestPath: string | null;
}

export interface Transition {
  version: number;
  stage: Stage;
  archiveExisting: boolean;
  actor: string;
  comment: string | null;
}

/**
 * The registry's write rules for one model, run inside that model's coordinator (one at a time).
 * Each method checks the rule against the in-memory state, writes one D1 batch, and only then
 * updates the state, so a failed write leaves memory and database as they were.
 */
export class ModelWriter {
  constructor(
    private readonly repo: ModelRepository,
    private readonly clock: () => number = Date.now,
  ) {}

  async rename(state: ModelState, newName: string): Promise<RegisteredModel> {
    const now = this.clock();
    await this.repo.renameModel(state.model.id, newName, now);
    state.model = { ...state.model, name: newName };
    state.changed(now);
    return state.toRegisteredModel();
  }

  async updateDescription(state: ModelState, description: string): Promise<RegisteredModel> {
    const now = this.clock();
    await this.repo.updateModelDescription(state.model.id, description, now);
    state.model = { ...state.model, description };
    state.changed(now);
    return state.toRegisteredModel();
  }

  /** Returns the files the model's versions held, so edge caches can drop them. */
  async deleteModel(state: ModelState): Promise<FileRef[]> {
    const files = await this.repo.deleteModel(state.model.id);
    return files.map((f) => ({ modelId: state.model.id, ...f }));
  }

  async setModelTag(state: ModelState, tag: Tag): Promise<void> {
    await this.repo.setModelTag(state.model.id, tag);
    state.tags.set(tag.key, tag.value);
  }

  async deleteModelTag(state: ModelState, key: string): Promise<void> {
    if (!state.tags.has(key)) return; // MLflow: deleting an absent tag is a no-op
    await this.repo.deleteModelTag(state.model.id, key);
    state.tags.delete(key);
  }

  async createVersion(state: ModelState, input: NewVersion): Promise<ModelVersion> {
    const now = this.clock();
    const { manifestPath, ...fields } = input;
    const record: VersionRecord = {
      ...fields,
      version: state.model.nextVersion,
      currentStage: "None",
      creationTime: now,
      lastUpdatedTime: now,
    };
    await this.repo.createVersion(state.model.id, record, manifestPath);
    state.versions.set(record.version, record);
    state.model = { ...state.model, nextVersion: record.version + 1 };
    state.changed(now);
    return state.version(record.version)!;
  }

  async updateVersionDescription(state: ModelState, version: number, description: string): Promise<ModelVersion> {
    const record = this.existing(state, version);
    const now = this.clock();
    await this.repo.updateVersionDescription(state.model.id, version, description, now);
    state.versions.set(version, { ...record, description, lastUpdatedTime: now });
    state.changed();
    return state.version(version)!;
  }

  /** Returns the files the version held, so edge caches can drop them. */
  async deleteVersion(state: ModelState, version: number): Promise<FileRef[]> {
    this.existing(state, version);
    const now = this.clock();
    const paths = await this.repo.deleteVersion(state.model.id, version, now);
    state.versions.delete(version);
    for (const [alias, v] of state.aliases) if (v === version) state.aliases.delete(alias);
    state.changed(now);
    return paths.map((path) => ({ modelId: state.model.id, version, path }));
  }

  async setVersionTag(state: ModelState, version: number, tag: Tag): Promise<void> {
    const record = this.existing(state, version);
    await this.repo.setVersionTag(state.model.id, version, tag);
    const tags = record.tags.filter((t) => t.key !== tag.key).concat(tag);
    state.versions.set(version, { ...record, tags });
    state.changed();
  }

  async deleteVersionTag(state: ModelState, version: number, key: string): Promise<void> {
    const record = this.existing(state, version);
    if (!record.tags.some((t) => t.key === key)) return;
    await this.repo.deleteVersionTag(state.model.id, version, key);
    state.versions.set(version, { ...record, tags: record.tags.filter((t) => t.key !== key) });
    state.changed();
  }

  async transition(state: ModelState, t: Transition): Promise<ModelVersion> {
    const record = this.existing(state, t.version);
    const archived = versionsToArchive(state.versions.values(), t.version, t.stage, t.archiveExisting);
    const changes: StageChange[] = [
      { version: t.version, fromStage: record.currentStage, toStage: t.stage, comment: t.comment },
      ...archived.map((v) => ({
        version: v,
        fromStage: state.versions.get(v)!.currentStage,
        toStage: "Archived" as const,
        comment: `Archived by the transition of version ${t.version} to ${t.stage}`,
      })),
    ];
    const now = this.clock();
    await this.repo.transition(state.model.id, changes, t.actor, now);
    for (const c of changes) {
      state.versions.set(c.version, { ...state.versions.get(c.version)!, currentStage: c.toStage, lastUpdatedTime: now });
    }
    state.changed(now);
    return state.version(t.version)!;
  }

  async setAlias(state: ModelState, alias: string, version: number): Promise<void> {
    this.existing(state, version);
    await this.repo.setAlias(state.model.id, alias, version);
    state.aliases.set(alias, version);
    state.changed();
  }

  async deleteAlias(state: ModelState, alias: string): Promise<void> {
    if (!state.aliases.has(alias)) return; // as MLflow's store: deleting an absent alias is a no-op
    await this.repo.deleteAlias(state.model.id, alias);
    state.aliases.delete(alias);
    state.changed();
  }

  private existing(state: ModelState, version: number): VersionRecord {
    const record = state.versions.get(version);
    if (!record) throw versionNotFound(state.name, version);
    return record;
  }
}
