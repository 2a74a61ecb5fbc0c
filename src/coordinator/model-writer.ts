import { versionNotFound } from "../errors";
import type {
  FileRef,
  ModelRecord,
  ModelVersion,
  RegisteredModel,
  StageChange,
  Tag,
  VersionRecord,
} from "../domain/model";
import { planRollback, rollbackComment, type RollbackPlan } from "../domain/rollback";
import { isPromptModel, isPromptRequest } from "../domain/search-filter";
import { checkMayEnter, checkMayTakeAlias, versionsToArchive, type Stage } from "../domain/stages";
import type { NewEvent, Outbox } from "../domain/events";
import type { ModelRepository } from "../repositories/model-repository";
import type { Actor, NewVersion, RollbackRequest, RollbackResult, Transition } from "./contract";
import type { ModelState } from "./model-state";

/**
 * The registry's write rules for one model, run inside that model's coordinator (one at a time).
 * Each method checks the rule against the in-memory state, writes one D1 batch, and only then
 * updates the state, so a failed write leaves memory and database as they were. Every change that
 * writes passes the events describing it (src/domain/events.ts) into that same batch;
 * a call that changes nothing (deleting an absent tag) writes neither.
 */
export class ModelWriter {
  constructor(
    private readonly repo: ModelRepository,
    private readonly clock: () => number = Date.now,
  ) {}

  async createModel(model: ModelRecord, tags: Tag[], actor: Actor): Promise<void> {
    // Tags given at creation are part of the creation: no tag events of their own.
    const created = event("registered_model.created", {
      to: model.name,
      data: { ...creationDetails(tags, model.description), ...promptMark(isPromptRequest(tags)) },
    });
    await this.repo.createModel(model, tags, outbox(model.name, actor, model.creationTime, [created]));
  }

  async rename(state: ModelState, newName: string, actor: Actor): Promise<RegisteredModel> {
    const now = this.clock();
    const renamed = event("registered_model.renamed", { from: state.name, to: newName });
    await this.repo.renameModel(state.model.id, newName, now, outbox(newName, actor, now, [renamed]));
    state.renamed(newName, now);
    return state.toRegisteredModel();
  }

  async updateDescription(state: ModelState, description: string): Promise<RegisteredModel> {
    const now = this.clock();
    await this.repo.updateModelDescription(state.model.id, description, now);
    state.described(description, now);
    return state.toRegisteredModel();
  }

  /** Returns the files the model's versions held, so edge caches can drop them. */
  async deleteModel(state: ModelState, actor: Actor): Promise<FileRef[]> {
    const deleted = event("registered_model.deleted", { from: state.name });
    const files = await this.repo.deleteModel(state.model.id, outbox(state.name, actor, this.clock(), [deleted]));
    return files.map((f) => ({ modelId: state.model.id, ...f }));
  }

  async setModelTag(state: ModelState, tag: Tag, actor: Actor): Promise<void> {
    const after = new Map(state.tags).set(tag.key, tag.value);
    const set = event("registered_model_tag.set", {
      data: { key: tag.key, value: tag.value, ...promptMark(isPromptModel(after)) },
    });
    await this.repo.setModelTag(state.model.id, tag, outbox(state.name, actor, this.clock(), [set]));
    state.tagSet(tag);
  }

  async deleteModelTag(state: ModelState, key: string, actor: Actor): Promise<void> {
    if (!state.tags.has(key)) return; // MLflow: deleting an absent tag is a no-op
    const after = new Map(state.tags);
    after.delete(key);
    const deleted = event("registered_model_tag.deleted", { data: { key, ...promptMark(isPromptModel(after)) } });
    await this.repo.deleteModelTag(state.model.id, key, outbox(state.name, actor, this.clock(), [deleted]));
    state.tagDeleted(key);
  }

  async createVersion(state: ModelState, input: NewVersion, actor: Actor): Promise<ModelVersion> {
    const now = this.clock();
    const { manifestPath, ...fields } = input;
    const record: VersionRecord = {
      ...fields,
      version: state.model.nextVersion,
      currentStage: "None",
      creationTime: now,
      lastUpdatedTime: now,
    };
    // The version's status is settled before it is written (VersionSources), so its creation and
    // its READY or FAILED_REGISTRATION event land together.
    const v = record.version;
    const events = [
      event("model_version.created", {
        version: v,
        to: record.status,
        data: {
          ...compact({ source: record.source, run_id: record.runId, status: record.status }),
          ...creationDetails(record.tags, record.description),
          ...promptMark(isPromptRequest(record.tags)),
        },
      }),
    ];
    if (record.status === "READY")
      events.push(
        event("model_version.ready", {
          version: v,
          to: "READY",
          data: compact({ storage_location: record.storageLocation }),
        }),
      );
    if (record.status === "FAILED_REGISTRATION") {
      events.push(
        event("model_version.failed", {
          version: v,
          to: "FAILED_REGISTRATION",
          data: compact({ status_message: record.statusMessage }),
        }),
      );
    }
    await this.repo.createVersion(state.model.id, record, manifestPath, outbox(state.name, actor, now, events));
    state.versionAdded(record, now);
    return state.version(record.version)!;
  }

  async updateVersionDescription(state: ModelState, version: number, description: string): Promise<ModelVersion> {
    this.existing(state, version);
    const now = this.clock();
    await this.repo.updateVersionDescription(state.model.id, version, description, now);
    state.versionUpdated(version, { description, lastUpdatedTime: now });
    return state.version(version)!;
  }

  /** Returns the files the version held, so edge caches can drop them. */
  async deleteVersion(state: ModelState, version: number, actor: Actor): Promise<FileRef[]> {
    const record = this.existing(state, version);
    const now = this.clock();
    // Its aliases go with it, each with its own event, as if deleted one by one.
    const events = [
      event("model_version.deleted", { version, from: record.currentStage }),
      ...state.aliasesOf(version).map((alias) =>
        event("model_version_alias.deleted", {
          version,
          from: String(version),
          data: { alias, reason: "version_deleted", ...promptMark(isPromptModel(state.tags)) },
        }),
      ),
    ];
    const paths = await this.repo.deleteVersion(state.model.id, version, now, outbox(state.name, actor, now, events));
    state.versionDeleted(version, now);
    return paths.map((path) => ({ modelId: state.model.id, version, path }));
  }

  async setVersionTag(state: ModelState, version: number, tag: Tag, actor: Actor): Promise<void> {
    const record = this.existing(state, version);
    const set = event("model_version_tag.set", {
      version,
      data: { key: tag.key, value: tag.value, ...promptMark(isPromptModel(state.tags)) },
    });
    await this.repo.setVersionTag(state.model.id, version, tag, outbox(state.name, actor, this.clock(), [set]));
    const tags = record.tags.filter((t) => t.key !== tag.key).concat(tag);
    state.versionUpdated(version, { tags });
  }

  async deleteVersionTag(state: ModelState, version: number, key: string, actor: Actor): Promise<void> {
    const record = this.existing(state, version);
    if (!record.tags.some((t) => t.key === key)) return;
    const deleted = event("model_version_tag.deleted", {
      version,
      data: { key, ...promptMark(isPromptModel(state.tags)) },
    });
    await this.repo.deleteVersionTag(state.model.id, version, key, outbox(state.name, actor, this.clock(), [deleted]));
    state.versionUpdated(version, { tags: record.tags.filter((t) => t.key !== key) });
  }

  /** `reason: "rollback"` marks a rollback's history rows and events (see `rollback`). */
  async transition(state: ModelState, t: Transition, reason?: "rollback"): Promise<ModelVersion> {
    const record = this.admit(state, t.version, t.stage);
    const archived = versionsToArchive(state.versions.values(), t.version, t.stage, t.archiveExisting);
    const changes: StageChange[] = [
      { version: t.version, fromStage: record.currentStage, toStage: t.stage, comment: t.comment },
      ...archived.map((v) => ({
        version: v,
        fromStage: state.versions.get(v)!.currentStage,
        toStage: "Archived" as const,
        comment:
          reason === "rollback"
            ? `Archived by the rollback to version ${t.version}`
            : `Archived by the transition of version ${t.version} to ${t.stage}`,
      })),
    ];
    const now = this.clock();
    // One event per history row: the requested transition, then each version it archived.
    const events = changes.map((c, i) =>
      event("model_version.stage_transitioned", {
        version: c.version,
        from: c.fromStage,
        to: c.toStage,
        data: compact({
          comment: c.comment,
          reason,
          ...(i === 0 ? { archive_existing_versions: String(t.archiveExisting) } : { archived_by: String(t.version) }),
        }),
      }),
    );
    await this.repo.transition(state.model.id, changes, t.actor, now, outbox(state.name, t.actor, now, events));
    state.stagesChanged(changes, now);
    return state.version(t.version)!;
  }

  /**
   * Restores the version `planRollback` chose (domain/rollback.ts), as one transition: the target
   * to Production, the current Production version archived, both history rows and their events
   * in one batch. The history is read from D1 here, inside the coordinator's queue, so no other
   * change of the model can slip in between the decision and the write.
   */
  async rollback(state: ModelState, plan: RollbackPlan, request: RollbackRequest): Promise<RollbackResult> {
    const transition = {
      version: plan.target,
      stage: "Production" as const,
      archiveExisting: false,
      actor: request.actor,
      comment: rollbackComment(plan.target, request.comment),
    };
    const restored = await this.transition(state, transition, "rollback");
    return { restored, archived: plan.current };
  }

  /**
   * What a rollback would do now (domain/rollback.ts `planRollback`), from this state and the
   * model's Production history in D1. The coordinator asks it inside its queue before acting, and
   * outside it for a preview, which acting decides again.
   */
  async planRollback(state: ModelState, request: { expectedCurrent?: number; target?: number }): Promise<RollbackPlan> {
    return planRollback(
      {
        name: state.name,
        current: state.latestVersions(["Production"])[0]?.version,
        history: await this.repo.productionHistory(state.model.id),
        versionOf: (v) => state.versions.get(v),
      },
      request,
    );
  }

  /**
   * The version, when it may enter `stage` now: it exists, and only a READY version enters Staging
   * or Production (domain/stages.ts). The coordinator asks before its promotion policy, so a
   * refusal names the status whatever the policy says.
   */
  admit(state: ModelState, version: number, stage: Stage): VersionRecord {
    const record = this.existing(state, version);
    checkMayEnter(state.name, record, stage);
    return record;
  }

  /** Only a READY version takes an alias. Setting an alias to the version it already names changes nothing and writes nothing. */
  async setAlias(state: ModelState, alias: string, version: number, actor: Actor): Promise<void> {
    checkMayTakeAlias(state.name, this.existing(state, version), alias);
    const previous = state.aliases.get(alias);
    if (previous === version) return;
    const set = event("model_version_alias.created", {
      version,
      from: previous === undefined ? null : String(previous),
      to: String(version),
      data: { alias, ...promptMark(isPromptModel(state.tags)) },
    });
    await this.repo.setAlias(state.model.id, alias, version, outbox(state.name, actor, this.clock(), [set]));
    state.aliasSet(alias, version);
  }

  async deleteAlias(state: ModelState, alias: string, actor: Actor): Promise<void> {
    const version = state.aliases.get(alias);
    if (version === undefined) return; // as MLflow's store: deleting an absent alias is a no-op
    const deleted = event("model_version_alias.deleted", {
      version,
      from: String(version),
      data: { alias, ...promptMark(isPromptModel(state.tags)) },
    });
    await this.repo.deleteAlias(state.model.id, alias, outbox(state.name, actor, this.clock(), [deleted]));
    state.aliasDeleted(alias);
  }

  private existing(state: ModelState, version: number): VersionRecord {
    const record = state.versions.get(version);
    if (!record) throw versionNotFound(state.name, version);
    return record;
  }
}

function event(type: NewEvent["type"], fields: Partial<Omit<NewEvent, "type">> = {}): NewEvent {
  return {
    type,
    version: fields.version ?? null,
    from: fields.from ?? null,
    to: fields.to ?? null,
    data: fields.data ?? {},
  };
}

function outbox(modelName: string, actor: Actor, timestamp: number, events: NewEvent[]): Outbox {
  return { modelName, actor, timestamp, events };
}

/**
 * `prompt: "true"` in the data of a change on an MLflow 3 prompt, decided when the change is made,
 * as MLflow's server decides it: webhooks then deliver it as the prompt event (webhook-events.ts).
 */
function promptMark(isPrompt: boolean): Record<string, string> {
  return isPrompt ? { prompt: "true" } : {};
}

/** Event data holds strings only: unset fields are left out. */
function compact(data: Record<string, string | null | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(data)) if (value !== null && value !== undefined) out[key] = value;
  return out;
}

/** What MLflow's `created` webhook payloads carry besides the name: the tags (as a JSON object) and the description. */
function creationDetails(tags: readonly Tag[], description: string | null | undefined): Record<string, string> {
  return compact({
    tags: tags.length > 0 ? JSON.stringify(Object.fromEntries(tags.map((t) => [t.key, t.value]))) : undefined,
    description: description || undefined,
  });
}
