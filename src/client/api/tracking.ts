import type * as Tracking from "../../http/schemas/tracking";
import { ModelgateHttpError } from "../errors";
import { compact, MLFLOW, tagList, type Transport } from "../transport";
import type { RequestOf, RunJson } from "../wire-types";

/** What `modelgate push` logs: runs, a metric, and the experiment they go to. */
export class TrackingApi {
  constructor(private readonly http: Transport) {}

  async createRun(
    input: { experimentId?: string; runName?: string; tags?: Record<string, string> } = {},
  ): Promise<RunJson> {
    const body: RequestOf<typeof Tracking.CreateRun> = compact({
      experiment_id: input.experimentId ?? "0",
      run_name: input.runName,
      start_time: Date.now(),
      tags: tagList(input.tags),
    });
    return (await this.http.api<{ run: RunJson }>("POST", `${MLFLOW}/runs/create`, body)).run;
  }

  async getRun(runId: string): Promise<RunJson> {
    return (await this.http.api<{ run: RunJson }>("GET", `${MLFLOW}/runs/get`, { run_id: runId })).run;
  }

  async finishRun(runId: string, status: "FINISHED" | "FAILED" | "KILLED" = "FINISHED"): Promise<void> {
    await this.http.api("POST", `${MLFLOW}/runs/update`, { run_id: runId, status, end_time: Date.now() });
  }

  async logMetric(runId: string, key: string, value: number, step = 0): Promise<void> {
    await this.http.api("POST", `${MLFLOW}/runs/log-metric`, {
      run_id: runId,
      key,
      value,
      timestamp: Date.now(),
      step,
    });
  }

  /** The experiment's id, creating the experiment when it does not exist yet. */
  async experimentId(name: string): Promise<string> {
    try {
      const query: RequestOf<typeof Tracking.GetExperimentByName> = { experiment_name: name };
      return (
        await this.http.api<{ experiment: { experiment_id: string } }>(
          "GET",
          `${MLFLOW}/experiments/get-by-name`,
          query,
        )
      ).experiment.experiment_id;
    } catch (error) {
      if (!(error instanceof ModelgateHttpError && error.errorCode === "RESOURCE_DOES_NOT_EXIST")) throw error;
      const body: RequestOf<typeof Tracking.CreateExperiment> = { name };
      return (await this.http.api<{ experiment_id: string }>("POST", `${MLFLOW}/experiments/create`, body))
        .experiment_id;
    }
  }
}
