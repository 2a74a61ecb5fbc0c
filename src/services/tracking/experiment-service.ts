import {
  experimentAlreadyExists,
  experimentNameNotFound,
  experimentNotFound,
  InvalidParameterError,
  RegistryError,
} from "../../errors";
import type { ArtifactCaller } from "../../domain/artifact-roots";
import type { Clock } from "../../domain/clock";
import type { Page, Tag } from "../../domain/model";
import { decodePageToken, validateMaxResults } from "../../domain/paging";
import { parseTrackingFilter, parseTrackingOrderBy } from "../../domain/run-search";
import { DEFAULT_EXPERIMENT_ID, parseViewType, stagesFor, type Experiment } from "../../domain/tracking";
import {
  lastTagPerKey,
  validateArtifactLocation,
  validateExperimentName,
  validateExperimentTag,
} from "../../domain/tracking-limits";
import type { ExperimentRepository } from "../../repositories/experiment-repository";
import { page, type TrackingRules } from "./tracking-rules";

export interface SearchExperimentsInput {
  filter?: string;
  maxResults?: number;
  orderBy?: string[];
  pageToken?: string;
  viewType?: string | number;
}

// MLflow's paging limits: experiment search defaults to 1000 and stops at 50,000.
const EXPERIMENT_SEARCH = { fallback: 1000, max: 50_000 };

/** MLflow Tracking's experiments: create, read, search, rename, soft delete and restore, tags. */
export class ExperimentService {
  constructor(
    private readonly experiments: ExperimentRepository,
    private readonly rules: TrackingRules,
    private readonly clock: Clock,
  ) {}

  async createExperiment(input: { name: string; artifactLocation?: string; tags?: Tag[] }): Promise<string> {
    const name = validateExperimentName(input.name);
    const location = input.artifactLocation ? validateArtifactLocation(input.artifactLocation) : null;
    const tags = lastTagPerKey(input.tags ?? []);
    for (const t of tags) validateExperimentTag(t.key, t.value);
    if (await this.experiments.getByName(name)) throw experimentAlreadyExists(name);
    return this.experiments.create({ name, artifactLocation: location, tags, now: this.clock() });
  }

  /** Any experiment, active or deleted; the Default experiment "0" always exists. */
  getExperiment(experimentId: string): Promise<Experiment> {
    return this.rules.experiment(experimentId);
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
    const experiment = await this.rules.activeExperiment(experimentId);
    await this.experiments.setTag(experiment.experimentId, tag);
  }
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
