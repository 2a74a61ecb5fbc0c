import type { Json } from "../helpers";

// Shared by the replays of the recorded MLflow client traffic (tracking-replay.test.ts,
// workflow-replay.test.ts): reading the fixtures, mapping the recorded server-made ids onto ours,
// and comparing an answer with the one MLflow's own server gave.

/** One recorded HTTP exchange (see test/fixtures/README.md). */
export interface Exchange {
  method: string;
  path: string;
  /** GET parameters, each a list. */
  query: Record<string, string[]>;
  /** JSON body; for artifact uploads only `{_bytes, _content_type}`. */
  req: Json | null;
  status: number;
  /** JSON body; for artifact downloads only `{_bytes, _content_type}`. */
  resp: Json;
}

export const exchanges = (jsonl: string): Exchange[] =>
  jsonl
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as Exchange);

/** Server clock readings of the Tracking API: only their type can match. */
export const TRACKING_CLOCK_FIELDS: ReadonlySet<string> = new Set([
  "creation_time",
  "last_update_time",
  "creation_timestamp_ms",
  "last_updated_timestamp_ms",
]);

/** Server clock readings of the Model Registry: only their type can match. */
export const REGISTRY_CLOCK_FIELDS: ReadonlySet<string> = new Set(["creation_timestamp", "last_updated_timestamp"]);

/** Recorded ids and names → ours. */
export class Substitutions {
  private readonly experiments = new Map<string, string>();
  private readonly strings = new Map<string, string>();

  experiment(recorded: string, ours: string) {
    this.experiments.set(recorded, ours);
  }

  /** Our experiment id for a recorded one (the recorded one when not learned). */
  experimentId(recorded: string): string {
    return this.experiments.get(recorded) ?? recorded;
  }

  text(recorded: string, ours: string) {
    this.strings.set(recorded, ours);
  }

  apply(value: unknown, key?: string): unknown {
    if (Array.isArray(value)) return value.map((v) => this.apply(v, key));
    if (value && typeof value === "object") {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.apply(v, k)]));
    }
    if (typeof value !== "string") return value;
    if ((key === "experiment_id" || key === "experiment_ids") && this.experiments.has(value))
      return this.experiments.get(value);
    let out = value.replace(/^mlflow-artifacts:\/(\d+)(?=\/|$)/, (whole, id: string) =>
      this.experiments.has(id) ? `mlflow-artifacts:/${this.experiments.get(id)}` : whole,
    );
    for (const [from, to] of this.strings) out = out.split(from).join(to);
    return out;
  }

  /**
   * A proxied-artifact path (`<experiment_id>/<run_id>/artifacts/...` or
   * `<experiment_id>/models/<model_id>/artifacts/...`): its first segment is an experiment id.
   */
  artifactPath(recorded: string): string {
    const [first = "", ...rest] = recorded.split("/");
    return this.apply([this.experimentId(first), ...rest].join("/")) as string;
  }
}

export interface ContractOptions {
  /** Fields compared by type only (server clock readings). */
  clockFields: ReadonlySet<string>;
  /**
   * MLflow omits empty lists, so a list field the recorded answer leaves out was empty: ours may
   * leave it out or send `[]`, but not items (a stale alias, a version that should be gone).
   * Likewise an omitted `next_page_token` means "no more pages".
   */
  omittedMeansEmpty?: boolean;
}

/**
 * Every field of `expected` must be in `actual`, equal (clock fields: same type). Extra fields are
 * fine, except (with `omittedMeansEmpty`) non-empty lists and page tokens where MLflow sent none.
 */
export function contractProblems(
  expected: unknown,
  actual: unknown,
  path: string,
  problems: string[],
  options: ContractOptions,
): void {
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return void problems.push(`${path}: expected a list, got ${JSON.stringify(actual)}`);
    if (actual.length !== expected.length)
      problems.push(`${path}: expected ${expected.length} items, got ${actual.length}`);
    for (const [i, e] of expected.entries()) contractProblems(e, actual[i], `${path}[${i}]`, problems, options);
    return;
  }
  if (expected && typeof expected === "object") {
    if (!actual || typeof actual !== "object" || Array.isArray(actual)) {
      return void problems.push(`${path}: expected an object, got ${JSON.stringify(actual)}`);
    }
    for (const [k, e] of Object.entries(expected)) {
      const a = (actual as Json)[k];
      if (options.clockFields.has(k)) {
        if (typeof a !== typeof e) problems.push(`${path}.${k}: expected a ${typeof e}, got ${JSON.stringify(a)}`);
      } else {
        contractProblems(e, a, `${path}.${k}`, problems, options);
      }
    }
    if (options.omittedMeansEmpty) {
      for (const [k, a] of Object.entries(actual)) {
        if (k in expected) continue;
        if (Array.isArray(a) && a.length > 0)
          problems.push(`${path}.${k}: expected none (MLflow omitted the list), got ${JSON.stringify(a)}`);
        if (k === "next_page_token" && a)
          problems.push(`${path}.${k}: expected no further page, got ${JSON.stringify(a)}`);
      }
    }
    return;
  }
  if (actual !== expected)
    problems.push(`${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}
