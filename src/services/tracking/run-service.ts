import { InvalidParameterError } from "../../errors";
import type { ArtifactCaller } from "../../domain/artifact-roots";
import type { Clock } from "../../domain/clock";
import type { Page, Tag } from "../../domain/model";
import { decodePageToken, validateMaxResults } from "../../domain/paging";
import { parseTrackingFilter, parseTrackingOrderBy } from "../../domain/run-search";
import {
  DEFAULT_EXPERIMENT_ID,
  RUN_NAME_TAG,
  newRunId,
  parseRunStatus,
  parseViewType,
  randomName,
  runArtifactUri,
  stagesFor,
  type Run,
  type RunInfo,
  type RunLineage,
} from "../../domain/tracking";
import { lastTagPerKey, validateRunTag } from "../../domain/tracking-limits";
import type { RunRepository } from "../../repositories/run-repository";
import { page, type TrackingRules } from "./tracking-rules";

export interface SearchRunsInput {
  experimentIds: string[];
  filter?: string;
  runViewType?: string | number;
  maxResults?: number;
  orderBy?: string[];
  pageToken?: string;
}

// MLflow's paging limits: run search defaults to 1000 and stops at 50,000.
const RUN_SEARCH = { fallback: 1000, max: 50_000 };

/** MLflow Tracking's runs: create, read, update, soft delete and restore, search; what they log is RunDataService's. */
export class RunService {
  constructor(
    private readonly runs: RunRepository,
    private readonly rules: TrackingRules,
    private readonly clock: Clock,
  ) {}

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
    const experiment = await this.rules.activeExperiment(input.experimentId || DEFAULT_EXPERIMENT_ID);
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
  getRun(runId: string): Promise<Run> {
    return this.rules.run(runId);
  }

  /** Everything a lineage view shows about a run: its data and its experiment. */
  async getRunLineage(runId: string): Promise<RunLineage> {
    const run = await this.getRun(runId);
    const experiment = await this.rules.experiment(run.info.experimentId);
    return { run: run.info, params: run.data.params, metrics: run.data.metrics, tags: run.data.tags, experiment };
  }

  async updateRun(
    caller: ArtifactCaller,
    input: { runId: string; status?: string | number; endTime?: number; runName?: string },
  ): Promise<RunInfo> {
    const status = input.status === undefined ? undefined : parseRunStatus(input.status);
    if (input.runName) validateRunTag(RUN_NAME_TAG, input.runName);
    await this.rules.writableRun(caller, input.runId);
    await this.runs.updateInfo(input.runId, { status, endTime: input.endTime, runName: input.runName || undefined });
    return (await this.getRun(input.runId)).info;
  }

  async deleteRun(caller: ArtifactCaller, runId: string): Promise<void> {
    await this.rules.writableRun(caller, runId, "any");
    await this.runs.setLifecycle(runId, "deleted", this.clock());
  }

  async restoreRun(caller: ArtifactCaller, runId: string): Promise<void> {
    await this.rules.writableRun(caller, runId, "any");
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
}
