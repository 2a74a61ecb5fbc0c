import type { RunStatus } from "./tracking";

// What the pages show of several runs at once (a model's versions table, a comparison), read in
// one go by repositories/run-data-repository.ts rather than one run at a time.

export interface RunSummary {
  runId: string;
  name: string;
  status: RunStatus;
  /** The latest value of each metric the run logged. */
  metrics: Map<string, number>;
}

export interface MetricHistory {
  /** Each key's points, in step order (then time), as logged. */
  byKey: Map<string, { step: number; value: number; timestamp: number }[]>;
  /** True when the run logged more points than were read (the curves then end early). */
  truncated: boolean;
}
