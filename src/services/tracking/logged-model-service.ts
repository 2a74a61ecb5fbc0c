import { InvalidParameterError, NotFoundError } from "../../errors";
import type { ArtifactCaller } from "../../domain/artifact-roots";
import type { Clock } from "../../domain/clock";
import type { Page, Tag } from "../../domain/model";
import { decodePageToken, validateMaxResults } from "../../domain/paging";
import { pythonJsonDumps } from "../../domain/python-json";
import { parseLoggedModelOrderBy, parseTrackingFilter } from "../../domain/run-search";
import {
  MODEL_VERSIONS_TAG,
  loggedModelArtifactUri,
  newLoggedModelId,
  parseLoggedModelStatus,
  randomName,
  type LoggedModel,
} from "../../domain/tracking";
import {
  lastTagPerKey,
  validateLoggedModelName,
  validateParam,
  validateParamKeysUnique,
  validateRunTag,
} from "../../domain/tracking-limits";
import type { LoggedModelRepository } from "../../repositories/logged-model-repository";
import { MAX_JSON_LIST_TAG_LENGTH } from "../../repositories/tracking-sql";
import { logNewParams, page, type TrackingRules } from "./tracking-rules";

export interface SearchLoggedModelsInput {
  experimentIds: string[];
  filter?: string;
  datasets?: { datasetName?: string; datasetDigest?: string }[];
  maxResults?: number;
  orderBy?: { fieldName: string; ascending?: boolean }[];
  pageToken?: string;
}

// MLflow's paging limits: logged-model search defaults to 100 and stops at 50,000.
const LOGGED_MODEL_SEARCH = { fallback: 100, max: 50_000 };

/** MLflow 3 logged models: create, finalize, tags and params (which never change once logged), search. */
export class LoggedModelService {
  constructor(
    private readonly loggedModels: LoggedModelRepository,
    private readonly rules: TrackingRules,
    private readonly clock: Clock,
  ) {}

  async createLoggedModel(input: {
    experimentId: string;
    name?: string;
    modelType?: string;
    sourceRunId?: string;
    params?: Tag[];
    tags?: Tag[];
    /** The id of the token creating the model (per-model tokens reach only their own models' artifacts). */
    createdByToken?: string | null;
  }): Promise<LoggedModel> {
    validateLoggedModelName(input.name);
    const params = input.params ?? [];
    for (const p of params) validateParam(p.key, p.value);
    validateParamKeysUnique(params);
    const tags = lastTagPerKey(input.tags ?? []);
    for (const t of tags) validateRunTag(t.key, t.value);
    const experiment = await this.rules.activeExperiment(input.experimentId);
    if (input.sourceRunId) await this.rules.existingRun(input.sourceRunId);
    const modelId = newLoggedModelId();
    await this.loggedModels.create(
      {
        modelId,
        experimentId: experiment.experimentId,
        name: input.name ?? randomName(),
        modelType: input.modelType ?? "",
        sourceRunId: input.sourceRunId || null,
        status: "LOGGED_MODEL_PENDING",
        artifactUri: loggedModelArtifactUri(experiment.artifactLocation, modelId),
        creationTime: this.clock(),
        createdByToken: input.createdByToken ?? null,
      },
      tags,
      params,
    );
    return this.getLoggedModel(modelId);
  }

  /** A logged model that is not deleted, with its tags, params and metrics. */
  getLoggedModel(modelId: string): Promise<LoggedModel> {
    return this.rules.loggedModel(modelId);
  }

  /** Finalizes a logged model once its files are uploaded (READY) or could not be (UPLOAD_FAILED). */
  async finalizeLoggedModel(caller: ArtifactCaller, modelId: string, status: string | number): Promise<LoggedModel> {
    const parsed = parseLoggedModelStatus(status);
    if (parsed === "LOGGED_MODEL_PENDING") {
      throw new InvalidParameterError(
        "A logged model is finalized as LOGGED_MODEL_READY or LOGGED_MODEL_UPLOAD_FAILED.",
      );
    }
    await this.rules.writableLoggedModel(caller, modelId);
    await this.loggedModels.finalize(modelId, parsed, this.clock());
    return this.getLoggedModel(modelId);
  }

  async deleteLoggedModel(caller: ArtifactCaller, modelId: string): Promise<void> {
    await this.rules.writableLoggedModel(caller, modelId);
    await this.loggedModels.setLifecycle(modelId, "deleted", this.clock());
  }

  async setLoggedModelTags(caller: ArtifactCaller, modelId: string, tags: Tag[]): Promise<void> {
    const unique = lastTagPerKey(tags);
    for (const t of unique) validateRunTag(t.key, t.value);
    await this.rules.writableLoggedModel(caller, modelId);
    await this.loggedModels.setTags(modelId, unique);
  }

  async deleteLoggedModelTag(caller: ArtifactCaller, modelId: string, key: string): Promise<void> {
    await this.rules.writableLoggedModel(caller, modelId);
    if (!(await this.loggedModels.deleteTag(modelId, key))) {
      throw new NotFoundError(`No tag with key '${key}' found for model with ID '${modelId}'.`);
    }
  }

  /** Params of a logged model follow the run rule: a value never changes once logged. */
  async logLoggedModelParams(caller: ArtifactCaller, modelId: string, params: Tag[]): Promise<void> {
    for (const p of params) validateParam(p.key, p.value);
    validateParamKeysUnique(params);
    await this.rules.writableLoggedModel(caller, modelId);
    await logNewParams(
      params,
      `logged model ID='${modelId}'`,
      (keys) => this.loggedModels.paramsOf(modelId, keys),
      (newParams) => this.loggedModels.logParams(modelId, newParams),
    );
  }

  async searchLoggedModels(input: SearchLoggedModelsInput): Promise<Page<LoggedModel>> {
    const conditions = parseTrackingFilter(input.filter, "logged_model");
    const orderBy = parseLoggedModelOrderBy(input.orderBy);
    const datasets = (input.datasets ?? []).map((d) => {
      if (!d.datasetName) throw new InvalidParameterError("`dataset_name` in the `datasets` clause must be specified.");
      return { datasetName: d.datasetName, datasetDigest: d.datasetDigest };
    });
    const limit = validateMaxResults(input.maxResults, LOGGED_MODEL_SEARCH.fallback, LOGGED_MODEL_SEARCH.max);
    const offset = decodePageToken(input.pageToken);
    const rows = await this.loggedModels.search({
      experimentIds: input.experimentIds,
      conditions,
      datasets,
      orderBy,
      offset,
      limit: limit + 1,
    });
    return page(rows, offset, limit);
  }

  /**
   * For the registry: records that registered model `name` version `version` was made from this
   * logged model, in its mlflow.modelVersions tag, as MLflow 3's server does on model-versions/create.
   */
  async recordModelVersion(modelId: string, name: string, version: number): Promise<void> {
    await this.getLoggedModel(modelId);
    if (!(await this.loggedModels.appendModelVersion(modelId, pythonJsonDumps({ name, version })))) {
      throw new InvalidParameterError(
        `The logged model's ${MODEL_VERSIONS_TAG} tag would exceed ${MAX_JSON_LIST_TAG_LENGTH} characters.`,
      );
    }
  }
}
