import {
  loggedModelNotFound,
  experimentNotFound,
  InvalidParameterError,
  RegistryError,
  runNotFound,
} from "../../errors";
import { artifactPathOf } from "../../domain/artifact-path";
import type { Page, Tag } from "../../domain/model";
import { encodePageToken } from "../../domain/paging";
import {
  DEFAULT_EXPERIMENT_ID,
  type Experiment,
  type LoggedModel,
  type Run,
  type RunInfo,
} from "../../domain/tracking";
import type { ArtifactCaller } from "../../domain/artifact-roots";
import type { ArtifactAccessIndex } from "../artifact-service";
import type { ExperimentRepository } from "../../repositories/experiment-repository";
import type { LoggedModelRepository } from "../../repositories/logged-model-repository";
import type { RunRepository } from "../../repositories/run-repository";
import { ParamRaceError } from "../../repositories/tracking-sql";

/** One folder of the artifact store, and what its access rule needs (the artifact index provides both). */
export interface ArtifactLister extends ArtifactAccessIndex {
  list(dir: string): Promise<{ path: string; isDir: boolean; size: number | null }[]>;
}

/** How often a write retries after a concurrent request logged the same param first. */
const PARAM_RACE_RETRIES = 3;

/**
 * The lookups and MLflow's state rules every tracking service applies: active experiments and
 * runs only, a token narrowed to models changes only what it created, referenced logged models exist.
 */
export class TrackingRules {
  constructor(
    private readonly experiments: ExperimentRepository,
    private readonly runs: RunRepository,
    private readonly loggedModels: LoggedModelRepository,
    private readonly artifacts: ArtifactAccessIndex,
  ) {}

  /** Any experiment, active or deleted; the Default experiment "0" always exists. */
  async experiment(experimentId: string): Promise<Experiment> {
    const id = experimentId === "" ? DEFAULT_EXPERIMENT_ID : experimentId;
    const experiment = await this.experiments.get(id);
    if (!experiment) throw experimentNotFound(id);
    return experiment;
  }

  async activeExperiment(experimentId: string): Promise<Experiment> {
    const experiment = await this.experiment(experimentId);
    if (experiment.lifecycleStage !== "active") {
      throw new InvalidParameterError(
        `The experiment ${experiment.experimentId} must be in the 'active' state. Current state is ${experiment.lifecycleStage}.`,
      );
    }
    return experiment;
  }

  /** A run with its params, latest metrics, tags, inputs and outputs; deleted runs too. */
  async run(runId: string): Promise<Run> {
    const run = await this.runs.getRun(runId);
    if (!run) throw runNotFound(runId);
    return run;
  }

  async existingRun(runId: string): Promise<RunInfo> {
    const info = await this.runs.getInfo(runId);
    if (!info) throw runNotFound(runId);
    return info;
  }

  /**
   * The run, if `caller` may change it: a token narrowed to models changes only the runs it
   * created. A run's params, metrics and tags are the lineage of the versions registered from it
   * and feed promotion policies, so another team's token must not rewrite them.
   */
  async writableRun(caller: ArtifactCaller, runId: string, state: "active" | "any" = "active"): Promise<RunInfo> {
    const info = await this.existingRun(runId);
    if (state === "active" && info.lifecycleStage !== "active") {
      throw new InvalidParameterError(
        `The run ${runId} must be in the 'active' state. Current state is ${info.lifecycleStage}.`,
      );
    }
    await this.requireCreator(caller, "run", runId, info.artifactUri);
    return info;
  }

  /** A logged model that is not deleted, with its tags, params and metrics. */
  async loggedModel(modelId: string): Promise<LoggedModel> {
    const model = await this.loggedModels.get(modelId);
    if (!model) throw loggedModelNotFound(modelId);
    return model;
  }

  async writableLoggedModel(caller: ArtifactCaller, modelId: string): Promise<LoggedModel> {
    const model = await this.loggedModel(modelId);
    await this.requireCreator(caller, "logged_model", modelId, model.artifactUri);
    return model;
  }

  async requireLoggedModels(modelIds: string[]): Promise<void> {
    const wanted = [...new Set(modelIds)];
    if (wanted.length === 0) return;
    const found = await this.loggedModels.existing(wanted);
    const missing = wanted.find((id) => !found.has(id));
    if (missing !== undefined) throw loggedModelNotFound(missing);
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
}

/**
 * Logs the params not logged yet (runs and logged models share the rule: a value never changes once
 * logged, the same value again is skipped), retrying when a concurrent request logged one first.
 */
export async function logNewParams(
  params: Tag[],
  owner: string,
  logged: (keys: string[]) => Promise<Map<string, string>>,
  write: (newParams: Tag[]) => Promise<void>,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const newParams = unloggedParams(params, await logged(params.map((p) => p.key)), owner);
    try {
      await write(newParams);
      return;
    } catch (error) {
      if (!(error instanceof ParamRaceError)) throw error;
      // A race that persists past the retries is not the caller's fault.
      if (attempt >= PARAM_RACE_RETRIES)
        throw new RegistryError("TEMPORARILY_UNAVAILABLE", "Concurrent writes to the same params; retry.");
    }
  }
}

/** The params not logged yet; a different value for a logged key is refused, the same value skipped. */
function unloggedParams(params: Tag[], existing: Map<string, string>, owner: string): Tag[] {
  const changed = params.filter((p) => existing.has(p.key) && existing.get(p.key) !== p.value);
  if (changed.length === 1) {
    const p = changed[0]!;
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

/** One page of a search that read `limit + 1` rows: the extra row says whether another page follows. */
export function page<T>(rows: T[], offset: number, limit: number): Page<T> {
  return rows.length > limit
    ? { items: rows.slice(0, limit), nextPageToken: encodePageToken(offset + limit) }
    : { items: rows, nextPageToken: null };
}
