import { InvalidParameterError, NotFoundError } from "../../errors";
import type { ArtifactCaller } from "../../domain/artifact-roots";
import type { Page, Tag } from "../../domain/model";
import { decodePageToken, validateMaxResults } from "../../domain/paging";
import { pythonJsonDumps } from "../../domain/python-json";
import { LOGGED_MODELS_TAG, RUN_NAME_TAG, latestPerKey, type DatasetInput, type Metric } from "../../domain/tracking";
import {
  lastTagPerKey,
  parseModelJson,
  validateBatchLimits,
  validateDatasetInputs,
  validateMetric,
  validateParam,
  validateParamKeysUnique,
  validateRunTag,
  type DatasetInputInput,
  type MetricInput,
} from "../../domain/tracking-limits";
import type { RunRepository } from "../../repositories/run-repository";
import { MAX_JSON_LIST_TAG_LENGTH } from "../../repositories/tracking-sql";
import { logNewParams, page, type TrackingRules } from "./tracking-rules";

export interface LogBatchInput {
  metrics?: MetricInput[];
  params?: Tag[];
  tags?: Tag[];
}

// Metric history pages hold 25,000 points by default (what MLflow's client asks for).
const METRIC_HISTORY = { fallback: 25_000, max: 100_000 };
/** Fields of a model's MLmodel that MLflow leaves out of the run's log-model history (they can be large). */
const MODEL_HISTORY_OMITTED = ["signature", "saved_input_example_info"];

/**
 * What runs log: metrics, params and tags, MLflow 2's log-model history, dataset inputs and MLflow 3
 * model outputs, and metric history. Writes go to active runs the caller may change; params never change.
 */
export class RunDataService {
  constructor(
    private readonly runs: RunRepository,
    private readonly rules: TrackingRules,
  ) {}

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
    await this.rules.writableRun(caller, runId);
    const modelMetrics = metrics.filter((m) => m.modelId);
    await this.rules.requireLoggedModels(modelMetrics.map((m) => m.modelId!));
    const runName = tags.find((t) => t.key === RUN_NAME_TAG)?.value ?? null;
    await logNewParams(
      params,
      `run ID='${runId}'`,
      (keys) => this.runs.paramsOf(runId, keys),
      (newParams) =>
        this.runs.logData(runId, { metrics, latest: latestPerKey(metrics), modelMetrics, newParams, tags, runName }),
    );
  }

  async deleteTag(caller: ArtifactCaller, runId: string, key: string): Promise<void> {
    await this.rules.writableRun(caller, runId);
    if (!(await this.runs.deleteTag(runId, key)))
      throw new NotFoundError(`No tag with name: ${key} in run with id ${runId}`);
  }

  /** MLflow 2's log_model: appends the model's description to the run's mlflow.log-model.history tag. */
  async logModel(caller: ArtifactCaller, runId: string, modelJson: string): Promise<void> {
    const model = parseModelJson(modelJson);
    for (const field of MODEL_HISTORY_OMITTED) delete model[field];
    const entry = pythonJsonDumps(model);
    await this.rules.writableRun(caller, runId);
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
    await this.rules.writableRun(caller, runId);
    const modelIds = [...new Set(input.modelIds ?? [])];
    await this.rules.requireLoggedModels(modelIds);
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
    await this.rules.writableRun(caller, runId);
    await this.rules.requireLoggedModels(models.map((m) => m.modelId));
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
    await this.rules.existingRun(input.runId);
    const rows = await this.runs.metricHistory(input.runId, input.metricKey, offset, limit + 1);
    return page(rows, offset, limit);
  }
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
