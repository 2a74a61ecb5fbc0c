import type {
  ModelAlias,
  ModelRecord,
  ModelSnapshot,
  ModelVersion,
  RegisteredModel,
  StageChange,
  Tag,
  VersionRecord,
} from "../domain/model";
import type { ModelRef } from "../domain/model-ref";
import { isServable, type Stage } from "../domain/stages";

/**
 * The coordinator's in-memory copy of one model. Every write to the model passes through its
 * coordinator, which updates this copy only after the D1 batch succeeded, so point reads answered
 * from it are as fresh as D1 itself. D1 stays the source of truth: a restarted object reloads.
 *
 * Only its own methods change it, each one dropping the projections it makes stale (the latest
 * versions per stage) and moving the model's last-updated time where MLflow moves it; readers
 * get read-only views.
 */
export class ModelState {
  private readonly tagMap = new Map<string, string>();
  private readonly aliasMap = new Map<string, number>();
  private readonly versionMap = new Map<number, VersionRecord>();
  private latestCache: ModelVersion[] | null = null;

  private constructor(private record: ModelRecord) {}

  static fromSnapshot(snapshot: ModelSnapshot): ModelState {
    const state = new ModelState(snapshot.model);
    for (const t of snapshot.tags) state.tagMap.set(t.key, t.value);
    for (const a of snapshot.aliases) state.aliasMap.set(a.alias, a.version);
    for (const v of snapshot.versions) state.versionMap.set(v.version, v);
    return state;
  }

  get model(): ModelRecord {
    return this.record;
  }

  get name(): string {
    return this.record.name;
  }

  get tags(): ReadonlyMap<string, string> {
    return this.tagMap;
  }

  get aliases(): ReadonlyMap<string, number> {
    return this.aliasMap;
  }

  get versions(): ReadonlyMap<number, VersionRecord> {
    return this.versionMap;
  }

  // --- mutations: each called after its D1 batch succeeded -------------------------------------

  renamed(newName: string, now: number): void {
    this.record = { ...this.record, name: newName };
    this.changed(now);
  }

  described(description: string, now: number): void {
    this.record = { ...this.record, description };
    this.changed(now);
  }

  tagSet(tag: Tag): void {
    this.tagMap.set(tag.key, tag.value);
  }

  tagDeleted(key: string): void {
    this.tagMap.delete(key);
  }

  /** A new version, numbered from the model's counter, which moves past it. */
  versionAdded(record: VersionRecord, now: number): void {
    this.versionMap.set(record.version, record);
    this.record = { ...this.record, nextVersion: record.version + 1 };
    this.changed(now);
  }

  /** A version's own fields changed (description, tags); the model's last-updated time does not move. */
  versionUpdated(
    version: number,
    change: Partial<Pick<VersionRecord, "description" | "tags" | "lastUpdatedTime">>,
  ): void {
    const record = this.versionMap.get(version);
    if (!record) return;
    this.versionMap.set(version, { ...record, ...change });
    this.changed();
  }

  /** The version is gone, and the aliases that named it with it. */
  versionDeleted(version: number, now: number): void {
    this.versionMap.delete(version);
    for (const [alias, v] of this.aliasMap) if (v === version) this.aliasMap.delete(alias);
    this.changed(now);
  }

  stagesChanged(changes: readonly StageChange[], now: number): void {
    for (const c of changes) {
      const record = this.versionMap.get(c.version);
      if (record) this.versionMap.set(c.version, { ...record, currentStage: c.toStage, lastUpdatedTime: now });
    }
    this.changed(now);
  }

  aliasSet(alias: string, version: number): void {
    this.aliasMap.set(alias, version);
    this.changed();
  }

  aliasDeleted(alias: string): void {
    this.aliasMap.delete(alias);
    this.changed();
  }

  /** Projections are cached until the versions or aliases change. */
  private changed(now?: number): void {
    this.latestCache = null;
    if (now !== undefined)
      this.record = { ...this.record, lastUpdatedTime: Math.max(this.record.lastUpdatedTime, now) };
  }

  // --- reads -------------------------------------------------------------------------------------

  version(version: number): ModelVersion | undefined {
    const record = this.versions.get(version);
    return record && this.project(record);
  }

  aliasesOf(version: number): string[] {
    const names: string[] = [];
    for (const [alias, v] of this.aliasMap) if (v === version) names.push(alias);
    return names.sort();
  }

  /**
   * Per stage, the highest-numbered READY version (MLflow's get-latest-versions), in stage order.
   * This is what get, get-latest-versions, resolve (`/v1`, `models:/`), the UI and rollback take
   * as "the version in Production". Only a READY version enters Staging or Production (the
   * writer's rule), so for those stages it is simply the version whose stage it is: the views that
   * read stages straight from D1 (model-versions/get and search) agree.
   */
  latestVersions(stages?: Stage[]): ModelVersion[] {
    this.latestCache ??= this.computeLatest();
    return stages && stages.length > 0
      ? this.latestCache.filter((v) => stages.includes(v.currentStage))
      : this.latestCache;
  }

  /**
   * What a resolution of each ref would show that can change (stage, aliases, status), so a
   * mutation can tell which cached resolutions it made stale by comparing before and after.
   */
  resolutionView(): Map<string, string> {
    const view = new Map<string, string>();
    for (const v of this.versions.values())
      view.set(String(v.version), `${v.currentStage}|${v.status}|${this.aliasesOf(v.version).join(",")}`);
    for (const [alias, version] of this.aliases) view.set(`@${alias}`, String(version));
    return view;
  }

  /** The version a ref points at now: a stage's latest READY version, an alias, a number, or the highest READY version. */
  resolve(ref: ModelRef): ModelVersion | undefined {
    switch (ref.kind) {
      case "version":
        return this.version(ref.version);
      case "alias": {
        const version = this.aliases.get(ref.alias);
        return version === undefined ? undefined : this.version(version);
      }
      case "stage":
        return this.latestVersions([ref.stage])[0];
      case "latest": {
        let best: VersionRecord | undefined;
        for (const v of this.versions.values())
          if (isServable(v.status) && (!best || v.version > best.version)) best = v;
        return best && this.project(best);
      }
    }
  }

  toRegisteredModel(): RegisteredModel {
    const tags: Tag[] = [...this.tags].map(([key, value]) => ({ key, value }));
    const aliases: ModelAlias[] = [...this.aliases].map(([alias, version]) => ({ alias, version }));
    aliases.sort((a, b) => a.alias.localeCompare(b.alias));
    return {
      id: this.model.id,
      name: this.model.name,
      description: this.model.description,
      userId: this.model.userId,
      creationTime: this.model.creationTime,
      lastUpdatedTime: this.model.lastUpdatedTime,
      tags,
      aliases,
      latestVersions: this.latestVersions(),
    };
  }

  /**
   * MLflow's order: stages in the order they first appear going up the version numbers (its
   * store fills a dict while iterating versions), each with its highest READY version.
   */
  private computeLatest(): ModelVersion[] {
    const best = new Map<Stage, VersionRecord>();
    const ascending = [...this.versions.values()].sort((a, b) => a.version - b.version);
    for (const v of ascending) {
      if (!isServable(v.status)) continue;
      const current = best.get(v.currentStage);
      if (!current || v.version > current.version) best.set(v.currentStage, v);
    }
    return [...best.values()].map((v) => this.project(v));
  }

  private project(record: VersionRecord): ModelVersion {
    return { ...record, modelId: this.model.id, name: this.model.name, aliases: this.aliasesOf(record.version) };
  }
}
