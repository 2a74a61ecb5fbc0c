import { InvalidParameterError, modelNotFound, NotFoundError, RegistryError, versionNotFound } from "../errors";
import type { Principal } from "../domain/principal";
import { canonicalRef, type ModelRef } from "../domain/model-ref";
import { callerOf, type Caller } from "../domain/promotion-policy";
import {
  parseVersion,
  validateAlias,
  validateComment,
  validateDescription,
  validateModelName,
  validateSource,
  validateTag,
} from "../domain/limits";
import type { ModelVersion, Page, RegisteredModel, StageTransition, Tag } from "../domain/model";
import { completeOrder, type OrderTerm, parseOrderBy, type Sortable, sortKeyOf } from "../domain/order-by";
import {
  decodePageToken,
  decodeSeekToken,
  encodePageToken,
  encodeSeekToken,
  validateMaxResults,
} from "../domain/paging";
import { parseSearchFilter } from "../domain/search-filter";
import { parseStage, type Stage } from "../domain/stages";
import type { RollbackPlan } from "../domain/rollback";
import type { Changed, RollbackResult } from "../coordinator/contract";
import type { CoordinatorCall, CoordinatorClient } from "../coordinator/coordinator-client";
import type { ModelRepository } from "../repositories/model-repository";
import type { SearchRepository } from "../repositories/search-repository";
import type { VersionSources } from "./version-sources";

export interface SearchInput {
  /** Whose search it is: a principal narrowed to models sees only those (filtered in the query). */
  visibleTo: Principal;
  filter?: string;
  maxResults?: number;
  orderBy?: string[];
  pageToken?: string;
}

export interface CreateVersionInput {
  name: string;
  /** Who registers it, as its events record it. */
  actor: string | null;
  /** Whose rights the source's files are read with (a token narrowed to models reaches only its own). */
  caller: Principal;
  source: string;
  runId?: string;
  runLink?: string;
  description?: string;
  tags?: Tag[];
  loggedModelId?: string;
  userId?: string;
}

// MLflow's search limits (registered models: default 100, at most 1000; versions: at most 200,000).
const MODEL_SEARCH = { fallback: 100, max: 1000 };
const VERSION_SEARCH = { fallback: 10_000, max: 200_000 };
const TRANSITIONS_PAGE = { fallback: 100, max: 1000 };

/**
 * Told what a mutation changed (refs whose resolution moved, files retired), so whatever caches
 * the model's answers drops them. The composition root decides who listens (src/services.ts).
 */
export type ChangeSink = (changed: Changed) => Promise<void>;

/**
 * The Model Registry's operations. Input rules that need no state are checked here; rules that
 * depend on a model's state run in its coordinator (ModelWriter). Knows nothing of HTTP.
 */
export class RegistryService {
  constructor(
    private readonly coordinators: CoordinatorClient,
    private readonly models: ModelRepository,
    private readonly search: SearchRepository,
    private readonly sources: VersionSources,
    private readonly onChanged: ChangeSink = async () => undefined,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Runs a mutation in the model's coordinator and passes on what it changed. */
  private async change<T>(name: string, invoke: CoordinatorCall<T>): Promise<T> {
    const { value, changed } = await this.coordinators.mutate(name, invoke);
    if (changed) await this.onChanged(changed);
    return value;
  }

  /** The immutable id of the model named `name` as this isolate last saw it, at most `maxAgeMs` ago. */
  async modelId(name: string, maxAgeMs: number): Promise<string> {
    const id = await this.coordinators.idOf(validateModelName(name), maxAgeMs);
    if (!id) throw modelNotFound(name);
    return id;
  }

  async createModel(input: {
    name: string;
    description?: string;
    tags?: Tag[];
    userId?: string;
    actor: string | null;
  }): Promise<RegisteredModel> {
    const name = validateModelName(input.name);
    const tags = uniqueTags(input.tags ?? []);
    const description = input.description === undefined ? null : validateDescription(input.description);
    const now = this.clock();
    const id = crypto.randomUUID().replaceAll("-", "");
    const record = {
      id,
      name,
      description,
      userId: input.userId ?? null,
      creationTime: now,
      lastUpdatedTime: now,
      nextVersion: 1,
    };
    const reply = await this.coordinators.stubFor(id).createModel(record, tags, input.actor);
    if (!reply.ok) throw new RegistryError(reply.code, reply.message);
    this.coordinators.created(name, id);
    return reply.value;
  }

  getModel(name: string): Promise<RegisteredModel> {
    return this.coordinators.model(validateModelName(name));
  }

  async renameModel(name: string, newName: string, actor: string | null): Promise<RegisteredModel> {
    validateModelName(name);
    validateModelName(newName);
    const model = await this.change(name, (c, id) => c.rename(id, name, newName, actor));
    this.coordinators.renamed(name, newName, model.id);
    return model;
  }

  updateModel(name: string, description: string | undefined): Promise<RegisteredModel> {
    validateModelName(name);
    const text = validateDescription(description ?? "");
    return this.change(name, (c, id) => c.updateDescription(id, name, text));
  }

  async deleteModel(name: string, actor: string | null): Promise<void> {
    await this.change(validateModelName(name), (c, id) => c.deleteModel(id, name, actor));
    this.coordinators.forget(name);
  }

  async searchModels(input: SearchInput): Promise<Page<RegisteredModel>> {
    const conditions = parseSearchFilter(input.filter, "registered_model");
    const order = completeOrder("registered_model", parseOrderBy(input.orderBy, "registered_model"));
    const limit = validateMaxResults(input.maxResults, MODEL_SEARCH.fallback, MODEL_SEARCH.max);
    const after = decodeSeekToken(input.pageToken, order);
    const rows = await this.search.searchModels({
      conditions,
      order,
      after,
      limit: limit + 1,
      visibleModels: input.visibleTo.models,
    });
    return seekPage(rows, order, limit);
  }

  async searchVersions(input: SearchInput): Promise<Page<ModelVersion>> {
    const conditions = parseSearchFilter(input.filter, "model_version");
    const order = completeOrder("model_version", parseOrderBy(input.orderBy, "model_version"));
    const limit = validateMaxResults(input.maxResults, VERSION_SEARCH.fallback, VERSION_SEARCH.max);
    const after = decodeSeekToken(input.pageToken, order);
    const rows = await this.search.searchVersions({
      conditions,
      order,
      after,
      limit: limit + 1,
      visibleModels: input.visibleTo.models,
    });
    return seekPage(rows, order, limit);
  }

  getLatestVersions(name: string, stages: string[] | undefined): Promise<ModelVersion[]> {
    validateModelName(name);
    const wanted: Stage[] = (stages ?? []).map(parseStage);
    return this.coordinators.latestVersions(name, wanted);
  }

  async setModelTag(name: string, tag: Tag, actor: string | null): Promise<void> {
    validateModelName(name);
    validateTag(tag.key, tag.value);
    await this.change(name, (c, id) => c.setModelTag(id, name, tag, actor));
  }

  async deleteModelTag(name: string, key: string, actor: string | null): Promise<void> {
    validateModelName(name);
    await this.change(name, (c, id) => c.deleteModelTag(id, name, key, actor));
  }

  async setAlias(name: string, alias: string, version: string, actor: string | null): Promise<void> {
    validateModelName(name);
    validateAlias(alias);
    const number = parseVersion(version);
    await this.change(name, (c, id) => c.setAlias(id, name, alias, number, actor));
  }

  async deleteAlias(name: string, alias: string, actor: string | null): Promise<void> {
    validateModelName(name);
    validateAlias(alias);
    await this.change(name, (c, id) => c.deleteAlias(id, name, alias, actor));
  }

  async getVersionByAlias(name: string, alias: string): Promise<ModelVersion> {
    validateModelName(name);
    const version = await this.coordinators.versionByAlias(name, alias);
    // MLflow answers a missing alias with INVALID_PARAMETER_VALUE (400), not a 404.
    if (!version) throw new InvalidParameterError(`Registered model alias ${alias} not found.`);
    return version;
  }

  async createVersion(input: CreateVersionInput): Promise<ModelVersion> {
    const name = validateModelName(input.name);
    const source = validateSource(input.source);
    const tags = uniqueTags(input.tags ?? []);
    const description = validateDescription(input.description ?? "");
    const origin = await this.sources.resolve(
      { source, runId: input.runId ?? null, loggedModelId: input.loggedModelId ?? null },
      input.caller,
    );
    const created = await this.change(name, (c, id) =>
      c.createVersion(
        id,
        name,
        {
          source,
          runId: origin.runId,
          runLink: input.runLink ?? "",
          description,
          userId: input.userId ?? null,
          loggedModelId: input.loggedModelId ?? null,
          storageLocation: origin.storageLocation,
          status: origin.status,
          statusMessage: origin.statusMessage,
          manifestPath: origin.manifestPath,
          tags,
        },
        input.actor,
      ),
    );
    await this.sources.registered(created.loggedModelId, name, created.version, created.status);
    return created;
  }

  async getVersion(name: string, version: string): Promise<ModelVersion> {
    validateModelName(name);
    const number = parseVersion(version);
    const found = await this.coordinators.version(name, number);
    if (!found) throw versionNotFound(name, version);
    return found;
  }

  updateVersion(name: string, version: string, description: string | undefined): Promise<ModelVersion> {
    validateModelName(name);
    const number = parseVersion(version);
    const text = validateDescription(description ?? "");
    return this.change(name, (c, id) => c.updateVersionDescription(id, name, number, text));
  }

  async deleteVersion(name: string, version: string, actor: string | null): Promise<void> {
    validateModelName(name);
    const number = parseVersion(version);
    await this.change(name, (c, id) => c.deleteVersion(id, name, number, actor));
  }

  async setVersionTag(name: string, version: string, tag: Tag, actor: string | null): Promise<void> {
    validateModelName(name);
    const number = parseVersion(version);
    validateTag(tag.key, tag.value);
    await this.change(name, (c, id) => c.setVersionTag(id, name, number, tag, actor));
  }

  async deleteVersionTag(name: string, version: string, key: string, actor: string | null): Promise<void> {
    validateModelName(name);
    const number = parseVersion(version);
    await this.change(name, (c, id) => c.deleteVersionTag(id, name, number, key, actor));
  }

  transitionStage(input: {
    name: string;
    version: string;
    stage: string;
    archiveExisting: boolean;
    actor: string;
    comment?: string;
    /** Who asks, for the promotion policy's scope rules; without one, scope rules refuse. */
    caller?: Caller;
  }): Promise<ModelVersion> {
    const name = validateModelName(input.name);
    const version = parseVersion(input.version);
    const stage = parseStage(input.stage);
    const comment = input.comment === undefined ? null : validateComment(input.comment);
    const caller = callerOf(input.caller);
    return this.change(name, (c, id) =>
      c.transition(
        id,
        name,
        { version, stage, archiveExisting: input.archiveExisting, actor: input.actor, comment },
        caller,
      ),
    );
  }

  /**
   * Restores the previous Production version, or `version` when given (domain/rollback.ts), in one
   * coordinator mutation: the target back to Production, the current one archived, both history
   * rows and their events in one batch. `expectedCurrent` refuses when Production is no longer the
   * version the caller saw.
   */
  rollback(input: {
    name: string;
    actor: string;
    comment?: string;
    version?: string;
    expectedCurrent?: number;
    caller?: Caller;
  }): Promise<RollbackResult> {
    const name = validateModelName(input.name);
    const comment = input.comment === undefined ? null : validateComment(input.comment);
    const target = input.version === undefined ? undefined : parseVersion(input.version);
    const caller = callerOf(input.caller);
    const request = { actor: input.actor, comment, expectedCurrent: input.expectedCurrent, target };
    return this.change(name, (c, id) => c.rollback(id, name, request, caller));
  }

  /**
   * What a rollback would do now (the UI's offer and confirmation): planned by the coordinator by
   * the rule `rollback` acts on (domain/rollback.ts `planRollback`), writing nothing. Acting decides
   * again, so a preview that went stale cannot roll back something else.
   */
  previewRollback(name: string, version?: string): Promise<RollbackPlan> {
    validateModelName(name);
    const target = version === undefined ? undefined : parseVersion(version);
    return this.coordinators.planRollback(name, target);
  }

  /** The version a ref (`Production`, `@champion`, `3`, `latest`) points at now. */
  async resolveRef(name: string, ref: ModelRef): Promise<ModelVersion> {
    validateModelName(name);
    const found = await this.coordinators.resolveRef(name, ref);
    if (!found) throw new NotFoundError(`Model ${name} has no version for '${canonicalRef(ref)}'.`);
    return found;
  }

  /** Where the client downloads a version's files from: the location resolved at registration. */
  async getDownloadUri(name: string, version: string): Promise<string> {
    const found = await this.getVersion(name, version);
    return found.storageLocation ?? found.source;
  }

  async listTransitions(input: {
    name: string;
    version?: string;
    pageToken?: string;
    maxResults?: number;
  }): Promise<Page<StageTransition>> {
    const name = validateModelName(input.name);
    const version = input.version === undefined ? undefined : parseVersion(input.version);
    const limit = validateMaxResults(input.maxResults, TRANSITIONS_PAGE.fallback, TRANSITIONS_PAGE.max);
    const offset = decodePageToken(input.pageToken);
    const model = await this.getModel(name);
    const rows = await this.models.listTransitions(model.id, version, offset, limit + 1);
    return page(rows, offset, limit);
  }
}

/** A search page (one row more than `limit` was asked for): the next token carries the last row's sort key. */
function seekPage<T extends Sortable>(rows: T[], order: OrderTerm[], limit: number): Page<T> {
  return rows.length > limit
    ? { items: rows.slice(0, limit), nextPageToken: encodeSeekToken(order, sortKeyOf(order, rows[limit - 1]!)) }
    : { items: rows, nextPageToken: null };
}

function page<T>(rows: T[], offset: number, limit: number): Page<T> {
  return rows.length > limit
    ? { items: rows.slice(0, limit), nextPageToken: encodePageToken(offset + limit) }
    : { items: rows, nextPageToken: null };
}

function uniqueTags(tags: Tag[]): Tag[] {
  const byKey = new Map<string, string>();
  for (const t of tags) {
    validateTag(t.key, t.value);
    byKey.set(t.key, t.value);
  }
  return [...byKey].map(([key, value]) => ({ key, value }));
}
