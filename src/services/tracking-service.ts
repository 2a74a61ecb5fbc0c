import {
  experimentAlreadyExists,
  experimentNameNotFound,
  experimentNotFound,
  InvalidParameterError,
  loggedModelNotFound,
  NotFoundError,
  RegistryError,
  runNotFound,
} from "../errors";
import type { Page, Tag } from "../domain/model";
import { artifactPathOf, validateArtifactPath } from "../domain/artifact-path";
import { decodePageToken, encodePageToken, validateMaxResults } from "../domain/paging";
import { pythonJsonDumps } from "../domain/python-json";
import { parseLoggedModelOrderBy, parseTrackingFilter, parseTrackingOrderBy } from "../domain/run-search";
import {
  DEFAULT_EXPERIMENT_ID,
  LOGGED_MODELS_TAG,
  MODEL_VERSIONS_TAG,
  RUN_NAME_TAG,
  latestPerKey,
  loggedModelArtifactUri,
  newLoggedModelId,
  newRunId,
  parseLoggedModelStatus,
  parseRunStatus,
  parseViewType,
  randomName,
  runArtifactUri,
  stagesFor,
  type DatasetInput,
  type Experiment,
  type LoggedModel,
  type Metric,
  type Run,
  type RunArtifacts,
  type RunInfo,
  type RunLineage,
} from "../domain/tracking";
import {
  lastTagPerKey,
  parseModelJson,
  validateArtifactLocation,
  validateBatchLimits,
  validateDatasetInputs,
  validateExperimentName,
  validateExperimentTag,
  validateLoggedModelName,
  validateMetric,
  validateParam,
  validateParamKeysUnique,
  validateRunTag,
  type DatasetInputInput,
  type MetricInput,
} from "../domain/tracking-limits";
import type { ArtifactCaller } from "../artifacts/artifact-roots";
import { authorizeArtifactRead, type ArtifactAccessIndex } from "./artifact-service";
import type { ExperimentRepository } from "../repositories/experiment-repository";
import type { LoggedModelRepository } from "../repositories/logged-model-repository";
import type { RunRepository } from "../repositories/run-repository";
import { MAX_JSON_LIST_TAG_LENGTH, ParamRaceError } from "../repositories/tracking-sql";

export interface SearchExperimentsInput {
  filter?: string;
  maxResults?: number;
  orderBy?: string[];
  pageToken?: string;
  viewType?: string | number;
}

export interface SearchRunsInput {
  experimentIds: string[];
  filter?: string;
  runViewType?: string | number;
  maxResults?: number;
  orderBy?: string[];
  pageToken?: string;
}

export interface SearchLoggedModelsInput {
  experimentIds: string[];
  filter?: string;
  datasets?: { datasetName?: string; datasetDigest?: string }[];
  maxResults?: number;
  orderBy?: { fieldName: string; ascending?: boolean }[];
  pageToken?: string;
}

/** One folder of the artifact store, and what its access rule needs (the artifact index provides both). */
export interface ArtifactLister extends ArtifactAccessIndex {
  list(dir: string): Promise<{ path: string; isDir: boolean; size: number | null }[]>;
}

export interface LogBatchInput {
  metrics?: MetricInput[];
  params?: Tag[];
  tags?: Tag[];
}

// MLflow's paging limits: experiment and run search default to 1000 and stop at 50,000; metric
// history pages hold 25,000 points (what the client asks for); logged-model search defaults to 100.
const EXPERIMENT_SEARCH = { fallback: 1000, max: 50_000 };
const RUN_SEARCH = { fallback: 1000, max: 50_000 };
const METRIC_HISTORY = { fallback: 25_000, max: 100_000 };
const LOGGED_MODEL_SEARCH = { fallback: 100, max: 50_000 };
/** How often a write retries after a concurrent request logged the same param first. */
const PARAM_RACE_RETRIES = 3;
/** Fields of a model's MLmodel that MLflow leaves out of the run's log-model history (they can be large). */
const MODEL_HISTORY_OMITTED = ["signature", "saved_input_example_info"];

/**
 * MLflow Tracking: experiments, runs and what they log, and MLflow 3 logged models. Input rules
 * live in domain/, storage in the repositories; this class applies MLflow's state rules (active
 * experiments and runs only, params never change) and knows nothing of HTTP.
 */
export class TrackingService {
  constructor(
    private readonly experiments: ExperimentRepository,
    private readonly runs: RunRepository,
    private readonly loggedModels: LoggedModelRepository,
    private readonly artifacts: ArtifactLister,
    private readonly clock: () => number = Date.now,
  ) {}

  // ---- Experiments ----------------------------------------------------------------------------

  async createExperiment(input: { name: string; artifactLocation?: string; tags?: Tag[] }): Promise<string> {
    const name = validateExperimentName(input.name);
    const location = input.artifactLocation ? validateArtifactLocation(input.artifactLocation) : null;
    const tags = lastTagPerKey(input.tags ?? []);
    for (const t of tags) validateExperimentTag(t.key, t.value);
    if (await this.experiments.getByName(name)) throw experimentAlreadyExists(name);
    return this.experiments.create({ name, artifactLocation: location, tags, now: this.clock() });
  }

  /** Any experiment, active or deleted; the Default experiment "0" always exists. */
  async getExperiment(experimentId: string): Promise<Experiment> {
    const id = experimentId === "" ? DEFAULT_EXPERIMENT_ID : experimentId;
    const experiment = await this.experiments.get(id);
    if (!experiment) throw experimentNotFound(id);
    return experiment;
  }

  async getExperimentByName(name: string): Promise<Experiment> {
    const experiment = await this.experiments.getByName(name);
    if (!experiment) throw experimentNameNotFound(name);
    return experiment;
  }

  async searchExperiments(input: SearchExperimentsInput): Promise<Page<Experiment>> {
    const conditions = parseTrackingFilter(input.filter, "experiment");
    const orderBy = parseTrackingOrderBy(input.orderBy, "experiment");
    const limit = validateMaxResults(input.maxResults, EXPERIMENT_SEARCH.fallback, EXPERIMENT_SEARCH.max);
    const offset = decodePageToken(input.pageToken);
    const stages = stagesFor(parseViewType(input.viewType));
    const rows = await this.experiments.search({ conditions, orderBy, stages, offset, limit: limit + 1 });
    return page(rows, offset, limit);
  }

  async renameExperiment(caller: ArtifactCaller, experimentId: string, newName: string | undefined): Promise<void> {
    sharedExperimentsOnlyByUnrestricted(caller, "rename");
    const experiment = await this.getExperiment(experimentId);
    // MLflow's handler renames only when a new name is given.
    if (newName === undefined) return;
    const name = validateExperimentName(newName);
    if (experiment.lifecycleStage !== "active")
      throw new InvalidParameterError("Cannot rename a non-active experiment.");
    if (name === experiment.name) return;
    await this.experiments.rename(experiment.experimentId, name, this.clock());
  }

  /** Marks the experiment and all its runs deleted (MLflow's soft delete); restore undoes both. */
  async deleteExperiment(caller: ArtifactCaller, experimentId: string): Promise<void> {
    sharedExperimentsOnlyByUnrestricted(caller, "delete");
    const experiment = await this.getExperiment(experimentId);
    if (experiment.experimentId === DEFAULT_EXPERIMENT_ID) {
      throw new InvalidParameterError(
        `Cannot delete the default experiment '${DEFAULT_EXPERIMENT_ID}'. This is an internally reserved experiment.`,
      );
    }
    if (experiment.lifecycleStage !== "active") throw experimentNotFound(experiment.experimentId);
    await this.experiments.setLifecycle(experiment.experimentId, "deleted", this.clock());
  }

  async restoreExperiment(experimentId: string): Promise<void> {
    const experiment = await this.getExperiment(experimentId);
    if (experiment.lifecycleStage !== "deleted") throw experimentNotFound(experiment.experimentId);
    await this.experiments.setLifecycle(experiment.experimentId, "active", this.clock());
  }

  async setExperimentTag(experimentId: string, tag: Tag): Promise<void> {
    validateExperimentTag(tag.key, tag.value);
    const experiment = await this.activeExperiment(experimentId);
    await this.experiments.setTag(experiment.experimentId, tag);
  }

  // ---- Runs -----------------------------------------------------------------------------------

  /** `createdByToken`: the id of the token creating the run (per-model tokens reach only their own runs' artifacts). */
  async createRun(input: {
    experimentId?: string;
    userId?: string;
    startTime?: number;
    tags?: Tag[];
    runName?: string;
    createdByToken?: string | null;
  }): Promise<Run> {
    const tags = lastTagPerKey(input.tags ?? []);
    for (const t of tags) validateRunTag(t.key, t.value);
    const nameTag = tags.find((t) => t.key === RUN_NAME_TAG)?.value;
    if (input.runName && nameTag && input.runName !== nameTag) {
      throw new InvalidParameterError(
        `Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values (run_name='${input.runName}', mlflow.runName='${nameTag}').`,
      );
    }
    const runName = input.runName || nameTag || randomName();
    validateRunTag(RUN_NAME_TAG, runName);
    if (!nameTag) tags.push({ key: RUN_NAME_TAG, value: runName });
    const experiment = await this.activeExperiment(input.experimentId || DEFAULT_EXPERIMENT_ID);
    const runId = newRunId();
    const info: RunInfo = {
      runId,
      experimentId: experiment.experimentId,
      runName,
      userId: input.userId ?? null,
      status: "RUNNING",
      startTime: input.startTime ?? this.clock(),
      endTime: null,
      artifactUri: runArtifactUri(experiment.artifactLocation, runId),
      lifecycleStage: "active",
    };
    await this.runs.create(info, tags, input.createdByToken ?? null);
    return this.getRun(runId);
  }

  /** A run with its params, latest metrics, tags, inputs and outputs; deleted runs too. */
  async getRun(runId: string): Promise<Run> {
    const run = await this.runs.getRun(runId);
    if (!run) throw runNotFound(runId);
    return run;
  }

  /** Everything a lineage view shows about a run: its data and its experiment. */
  async getRunLineage(runId: string): Promise<RunLineage> {
    const run = await this.getRun(runId);
    const experiment = await this.getExperiment(run.info.experimentId);
    return { run: run.info, params: run.data.params, metrics: run.data.metrics, tags: run.data.tags, experiment };
  }

  async updateRun(
    caller: ArtifactCaller,
    input: { runId: string; status?: string | number; endTime?: number; runName?: string },
  ): Promise<RunInfo> {
    const status = input.status === undefined ? undefined : parseRunStatus(input.status);
    if (input.runName) validateRunTag(RUN_NAME_TAG, input.runName);
    await this.writableRun(caller, input.runId);
    await this.runs.updateInfo(input.runId, { status, endTime: input.endTime, runName: input.runName || undefined });
    return (await this.getRun(input.runId)).info;
  }

  async deleteRun(caller: ArtifactCaller, runId: string): Promise<void> {
    await this.writableRun(caller, runId, "any");
    await this.runs.setLifecycle(runId, "deleted", this.clock());
  }

  async restoreRun(caller: ArtifactCaller, runId: string): Promise<void> {
    await this.writableRun(caller, runId, "any");
    await this.runs.setLifecycle(runId, "active", this.clock());
  }

  async searchRuns(input: SearchRunsInput): Promise<Page<Run>> {
    const conditions = parseTrackingFilter(input.filter, "run");
    const orderBy = parseTrackingOrderBy(input.orderBy, "run");
    const limit = validateMaxResults(input.maxResults, RUN_SEARCH.fallback, RUN_SEARCH.max);
    const offset = decodePageToken(input.pageToken);
    const stages = stagesFor(parseViewType(input.runViewType));
    const rows = await this.runs.search({
      experimentIds: input.experimentIds,
      conditions,
      orderBy,
      stages,
      offset,
      limit: limit + 1,
    });
    return page(rows, offset, limit);
  }

  logMetric(caller: ArtifactCaller, runId: string, metric: MetricInput): Promise<void> {
    return this.logBatch(caller, runId, { metrics: [metric] });
  }

  logParam(caller: ArtifactCaller, runId: string, param: Tag): Promise<void> {
    return this.logBatch(caller, runId, { params: [param] });
  }

  setTag(caller: ArtifactCaller, runId: string, tag: Tag): Promise<void> {
    return this.logBatch(caller, runId, { tags: [tag] });
  }

  /**
   * Logs metrics, params and tags to an active run in one atomic write. A param's value cannot
   * change once logged (the same value again is fine); a tag named mlflow.runName renames the run.
   */
  async logBatch(caller: ArtifactCaller, runId: string, input: LogBatchInput): Promise<void> {
    const metricsIn = input.metrics ?? [];
    const params = input.params ?? [];
    const tagsIn = input.tags ?? [];
    validateBatchLimits(metricsIn.length, params.length, tagsIn.length);
    const metrics = dedupeMetrics(metricsIn.map(toMetric));
    for (const p of params) validateParam(p.key, p.value);
    const tags = lastTagPerKey(tagsIn);
    for (const t of tags) validateRunTag(t.key, t.value);
    validateParamKeysUnique(params);
    await this.writableRun(caller, runId);
    const modelMetrics = metrics.filter((m) => m.modelId);
    await this.requireLoggedModels(modelMetrics.map((m) => m.modelId!));
    const runName = tags.find((t) => t.key === RUN_NAME_TAG)?.value ?? null;
    for (let attempt = 1; ; attempt++) {
      const newParams = unloggedParams(
        params,
        await this.runs.paramsOf(
          runId,
          params.map((p) => p.key),
        ),
        `run ID='${runId}'`,
      );
      try {
        await this.runs.logData(runId, {
          metrics,
          latest: latestPerKey(metrics),
          modelMetrics,
          newParams,
          tags,
          runName,
        });
        return;
      } catch (error) {
        if (!(error instanceof ParamRaceError) || attempt >= PARAM_RACE_RETRIES) throw unexpected(error);
      }
    }
  }

  async deleteTag(caller: ArtifactCaller, runId: string, key: string): Promise<void> {
    await this.writableRun(caller, runId);
    if (!(await this.runs.deleteTag(runId, key)))
      throw new NotFoundError(`No tag with name: ${key} in run with id ${runId}`);
  }

  /** MLflow 2's log_model: appends the model's description to the run's mlflow.log-model.history tag. */
  async logModel(caller: ArtifactCaller, runId: string, modelJson: string): Promise<void> {
    const model = parseModelJson(modelJson);
    for (const field of MODEL_HISTORY_OMITTED) delete model[field];
    const entry = pythonJsonDumps(model);
    await this.writableRun(caller, runId);
    if (!(await this.runs.appendLoggedModel(runId, entry))) {
      throw new InvalidParameterError(
        `The run's ${LOGGED_MODELS_TAG} tag cannot take this model: it would exceed ${MAX_JSON_LIST_TAG_LENGTH} characters.`,
      );
    }
  }

  async logInputs(
    caller: ArtifactCaller,
    runId: string,
    input: { datasets?: DatasetInputInput[]; modelIds?: string[] },
  ): Promise<void> {
    const datasets = input.datasets ?? [];
    validateDatasetInputs(datasets);
    await this.writableRun(caller, runId);
    const modelIds = [...new Set(input.modelIds ?? [])];
    await this.requireLoggedModels(modelIds);
    // One input per dataset name and digest, the first occurrence winning (as MLflow).
    const unique = new Map<string, DatasetInput>();
    for (const d of datasets) {
      const dataset = d.dataset!;
      const key = JSON.stringify([dataset.name, dataset.digest]);
      if (unique.has(key)) continue;
      unique.set(key, {
        tags: d.tags ?? [],
        dataset: {
          name: dataset.name!,
          digest: dataset.digest!,
          sourceType: dataset.sourceType!,
          source: dataset.source!,
          schema: dataset.schema ?? null,
          profile: dataset.profile ?? null,
        },
      });
    }
    await this.runs.logInputs(runId, [...unique.values()], modelIds);
  }

  /** MLflow 3: records the logged models a run produced. */
  async logOutputs(caller: ArtifactCaller, runId: string, models: { modelId: string; step?: number }[]): Promise<void> {
    await this.writableRun(caller, runId);
    await this.requireLoggedModels(models.map((m) => m.modelId));
    await this.runs.logOutputs(
      runId,
      models.map((m) => ({ modelId: m.modelId, step: m.step ?? 0 })),
    );
  }

  async getMetricHistory(input: {
    runId: string;
    metricKey: string;
    maxResults?: number;
    pageToken?: string;
  }): Promise<Page<Metric>> {
    const limit = validateMaxResults(input.maxResults, METRIC_HISTORY.fallback, METRIC_HISTORY.max);
    const offset = decodePageToken(input.pageToken);
    await this.existingRun(input.runId);
    const rows = await this.runs.metricHistory(input.runId, input.metricKey, offset, limit + 1);
    return page(rows, offset, limit);
  }

  /**
   * MLflow's artifacts/list: one folder of a run's artifacts, paths relative to the run's root. Runs
   * stored outside the proxied store (another artifact location) list as empty: their files are
   * not here.
   */
  async listArtifacts(caller: ArtifactCaller, runId: string, path?: string): Promise<RunArtifacts> {
    const relative = path === undefined ? "" : validateArtifactPath(path.replace(/\/+$/, ""), { allowEmpty: true });
    const run = await this.getRun(runId);
    const root = artifactPathOf(run.info.artifactUri);
    if (root === null) return { rootUri: run.info.artifactUri, files: [] };
    const dir = relative === "" ? root : `${root}/${relative}`;
    await authorizeArtifactRead(this.artifacts, caller, dir);
    const entries = await this.artifacts.list(dir);
    return {
      rootUri: run.info.artifactUri,
      files: entries.map((e) => ({
        path: relative === "" ? e.path : `${relative}/${e.path}`,
        isDir: e.isDir,
        fileSize: e.size,
      })),
    };
  }

  // ---- MLflow 3 logged models -----------------------------------------------------------------

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
    const experiment = await this.activeExperiment(input.experimentId);
    if (input.sourceRunId) await this.existingRun(input.sourceRunId);
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
  async getLoggedModel(modelId: string): Promise<LoggedModel> {
    const model = await this.loggedModels.get(modelId);
    if (!model) throw loggedModelNotFound(modelId);
    return model;
  }

  /** Finalizes a logged model once its files are uploaded (READY) or could not be (UPLOAD_FAILED). */
  async finalizeLoggedModel(caller: ArtifactCaller, modelId: string, status: string | number): Promise<LoggedModel> {
    const parsed = parseLoggedModelStatus(status);
    if (parsed === "LOGGED_MODEL_PENDING") {
      throw new InvalidParameterError(
        "A logged model is finalized as LOGGED_MODEL_READY or LOGGED_MODEL_UPLOAD_FAILED.",
      );
    }
    await this.writableLoggedModel(caller, modelId);
    await this.loggedModels.finalize(modelId, parsed, this.clock());
    return this.getLoggedModel(modelId);
  }

  async deleteLoggedModel(caller: ArtifactCaller, modelId: string): Promise<void> {
    await this.writableLoggedModel(caller, modelId);
    await this.loggedModels.setLifecycle(modelId, "deleted", this.clock());
  }

  async setLoggedModelTags(caller: ArtifactCaller, modelId: string, tags: Tag[]): Promise<void> {
    const unique = lastTagPerKey(tags);
    for (const t of unique) validateRunTag(t.key, t.value);
    await this.writableLoggedModel(caller, modelId);
    await this.loggedModels.setTags(modelId, unique);
  }

  async deleteLoggedModelTag(caller: ArtifactCaller, modelId: string, key: string): Promise<void> {
    await this.writableLoggedModel(caller, modelId);
    if (!(await this.loggedModels.deleteTag(modelId, key))) {
      throw new NotFoundError(`No tag with key '${key}' found for model with ID '${modelId}'.`);
    }
  }

  /** Params of a logged model follow the run rule: a value never changes once logged. */
  async logLoggedModelParams(caller: ArtifactCaller, modelId: string, params: Tag[]): Promise<void> {
    for (const p of params) validateParam(p.key, p.value);
    validateParamKeysUnique(params);
    await this.writableLoggedModel(caller, modelId);
    for (let attempt = 1; ; attempt++) {
      const existing = await this.loggedModels.paramsOf(
        modelId,
        params.map((p) => p.key),
      );
      const newParams = unloggedParams(params, existing, `logged model ID='${modelId}'`);
      try {
        await this.loggedModels.logParams(modelId, newParams);
        return;
      } catch (error) {
        if (!(error instanceof ParamRaceError) || attempt >= PARAM_RACE_RETRIES) throw unexpected(error);
      }
    }
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

  // ---- State rules ----------------------------------------------------------------------------

  private async activeExperiment(experimentId: string): Promise<Experiment> {
    const experiment = await this.getExperiment(experimentId);
    if (experiment.lifecycleStage !== "active") {
      throw new InvalidParameterError(
        `The experiment ${experiment.experimentId} must be in the 'active' state. Current state is ${experiment.lifecycleStage}.`,
      );
    }
    return experiment;
  }

  private async existingRun(runId: string): Promise<RunInfo> {
    const info = await this.runs.getInfo(runId);
    if (!info) throw runNotFound(runId);
    return info;
  }

  private async activeRun(runId: string): Promise<RunInfo> {
    const info = await this.existingRun(runId);
    if (info.lifecycleStage !== "active") {
      throw new InvalidParameterError(
        `The run ${runId} must be in the 'active' state. Current state is ${info.lifecycleStage}.`,
      );
    }
    return info;
  }

  /**
   * The run, if `caller` may change it: a token narrowed to models changes only the runs it
   * created. A run's params, metrics and tags are the lineage of the versions registered from it
   * and feed promotion policies, so another team's token must not rewrite them.
   */
  private async writableRun(
    caller: ArtifactCaller,
    runId: string,
    state: "active" | "any" = "active",
  ): Promise<RunInfo> {
    const info = state === "active" ? await this.activeRun(runId) : await this.existingRun(runId);
    await this.requireCreator(caller, "run", runId, info.artifactUri);
    return info;
  }

  private async writableLoggedModel(caller: ArtifactCaller, modelId: string): Promise<LoggedModel> {
    const model = await this.getLoggedModel(modelId);
    await this.requireCreator(caller, "logged_model", modelId, model.artifactUri);
    return model;
  }

  /** Who created a run or logged model is recorded with its artifact root; the artifact index answers. */
  private async requireCreator(
    caller: ArtifactCaller,
    kind: "run" | "logged_model",
    id: string,
    artifactUri: string,
  ): Promise<void> {
    if (caller.models === null) return;
    const root = artifactPathOf(artifactUri);
    const owners = root === null ? [] : await this.artifacts.owners(root);
    const own = owners.some(
      (o) => o.kind === kind && o.id === id && o.createdByToken !== null && o.createdByToken === caller.tokenId,
    );
    if (!own) {
      throw new RegistryError(
        "PERMISSION_DENIED",
        `This token may not change ${kind === "run" ? "run" : "logged model"} ${id}: a token narrowed to models changes only what it created.`,
      );
    }
  }

  private async requireLoggedModels(modelIds: string[]): Promise<void> {
    const wanted = [...new Set(modelIds)];
    if (wanted.length === 0) return;
    const found = await this.loggedModels.existing(wanted);
    const missing = wanted.find((id) => !found.has(id));
    if (missing !== undefined) throw loggedModelNotFound(missing);
  }
}

/** The params not logged yet; a different value for a logged key is refused, the same value skipped. */
function unloggedParams(params: Tag[], existing: Map<string, string>, owner: string): Tag[] {
  const changed = params.filter((p) => existing.has(p.key) && existing.get(p.key) !== p.value);
  if (changed.length === 1) {
    const p = changed[0];
    throw new InvalidParameterError(
      `Changing param values is not allowed. Param with key='${p.key}' was already logged with value='${existing.get(p.key)}' for ${owner}. Attempted logging new value '${p.value}'.`,
    );
  }
  if (changed.length > 1) {
    const list = changed.map(
      (p) => `{'key': '${p.key}', 'old_value': '${existing.get(p.key)}', 'new_value': '${p.value}'}`,
    );
    throw new InvalidParameterError(
      `Changing param values is not allowed. Params were already logged='[${list.join(", ")}]' for ${owner}.`,
    );
  }
  return params.filter((p) => !existing.has(p.key));
}

function page<T>(rows: T[], offset: number, limit: number): Page<T> {
  return rows.length > limit
    ? { items: rows.slice(0, limit), nextPageToken: encodePageToken(offset + limit) }
    : { items: rows, nextPageToken: null };
}

function toMetric(m: MetricInput): Metric {
  return {
    key: m.key,
    value: validateMetric(m),
    timestamp: m.timestamp,
    step: m.step ?? 0,
    modelId: m.modelId || null,
    datasetName: m.datasetName || null,
    datasetDigest: m.datasetDigest || null,
  };
}

/** Logging the very same point twice keeps one (MLflow de-duplicates within a request too). */
function dedupeMetrics(metrics: Metric[]): Metric[] {
  const seen = new Set<string>();
  return metrics.filter((m) => {
    const key = JSON.stringify([
      m.key,
      String(m.value),
      m.timestamp,
      m.step,
      m.modelId,
      m.datasetName,
      m.datasetDigest,
    ]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** A race that persists past the retries is not the caller's fault. */
function unexpected(error: unknown): unknown {
  return error instanceof ParamRaceError
    ? new RegistryError("TEMPORARILY_UNAVAILABLE", "Concurrent writes to the same params; retry.")
    : error;
}

/** Experiments are shared by every team: only an unrestricted token renames or deletes one. */
function sharedExperimentsOnlyByUnrestricted(caller: ArtifactCaller, action: "rename" | "delete"): void {
  if (caller.models !== null) {
    throw new RegistryError(
      "PERMISSION_DENIED",
      `A token narrowed to models cannot ${action} an experiment: experiments are shared by every team.`,
    );
  }
}
