import { systemClock, type Clock } from "../../domain/clock";
import type { ExperimentRepository } from "../../repositories/experiment-repository";
import type { LoggedModelRepository } from "../../repositories/logged-model-repository";
import type { RunRepository } from "../../repositories/run-repository";
import { ExperimentService } from "./experiment-service";
import { LoggedModelService } from "./logged-model-service";
import { RunArtifactService } from "./run-artifact-service";
import { RunDataService } from "./run-data-service";
import { RunService } from "./run-service";
import { TrackingRules, type ArtifactLister } from "./tracking-rules";

export type { ArtifactLister } from "./tracking-rules";
export type { SearchExperimentsInput } from "./experiment-service";
export type { SearchLoggedModelsInput } from "./logged-model-service";
export type { LogBatchInput } from "./run-data-service";
export type { SearchRunsInput } from "./run-service";
export { ExperimentService, LoggedModelService, RunArtifactService, RunDataService, RunService };

/**
 * MLflow Tracking, one service per resource over the same repositories and state rules: what the
 * composition root exposes as `services.tracking`.
 */
export function createTrackingServices(
  experiments: ExperimentRepository,
  runs: RunRepository,
  loggedModels: LoggedModelRepository,
  artifacts: ArtifactLister,
  clock: Clock = systemClock,
) {
  const rules = new TrackingRules(experiments, runs, loggedModels, artifacts);
  return {
    experiments: new ExperimentService(experiments, rules, clock),
    runs: new RunService(runs, rules, clock),
    runData: new RunDataService(runs, rules),
    runArtifacts: new RunArtifactService(artifacts, rules),
    loggedModels: new LoggedModelService(loggedModels, rules, clock),
  };
}

export type TrackingServices = ReturnType<typeof createTrackingServices>;
