import type { Tag } from "../domain/model";

// What the pages choose to show of runs' metrics, free of rendering and storage so it can be
// tested alone: which metrics are "key", which way is better, how a version table sorts, and how a
// logged history becomes a curve small enough to draw.

/** The model tag holding the metrics a user pinned (comma-separated; MLflow metric keys hold no commas). */
export const KEY_METRICS_TAG = "modelgate.key_metrics";
/** Key metrics picked when none are pinned. */
export const DEFAULT_KEY_METRICS = 3;
/** At most this many pinned metrics are shown as columns. */
export const MAX_PINNED_METRICS = 6;

export function pinnedMetrics(tags: Tag[]): string[] {
  const value = tags.find((t) => t.key === KEY_METRICS_TAG)?.value ?? "";
  const keys = value
    .split(",")
    .map((k) => k.trim())
    .filter((k) => k !== "");
  return [...new Set(keys)].slice(0, MAX_PINNED_METRICS);
}

/** The tag value that pins `keys` (in the order given, without repeats or empty names). */
export function pinnedValue(keys: string[]): string {
  return [...new Set(keys.map((k) => k.trim()).filter((k) => k !== "" && !k.includes(",")))]
    .slice(0, MAX_PINNED_METRICS)
    .join(",");
}

/**
 * Metric keys ranked by how many of the given runs logged them, most first (ties by name): the
 * model's "most-logged" metrics. Each entry of `runs` is one run's set of keys.
 */
export function mostLogged(runs: Iterable<Iterable<string>>): string[] {
  const counts = new Map<string, number>();
  for (const keys of runs) for (const key of new Set(keys)) counts.set(key, (counts.get(key) ?? 0) + 1);
  return rankCounts(counts);
}

/** Keys by count, most first, ties by name. */
export function rankCounts(counts: Map<string, number>): string[] {
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([key]) => key);
}

/** The key metrics: the pinned ones if any, else the `count` most-logged. */
export function keyMetrics(pinned: string[], ranked: string[], count = DEFAULT_KEY_METRICS): string[] {
  return pinned.length > 0 ? pinned : ranked.slice(0, count);
}

export type Direction = "lower" | "higher";

// Word parts of common metric names. A name matching neither list has no "better" direction: the
// pages then mark no best value rather than guess.
const LOWER = new Set([
  "loss",
  "logloss",
  "err",
  "error",
  "errors",
  "rmse",
  "mse",
  "mae",
  "mape",
  "smape",
  "rmsle",
  "msle",
  "perplexity",
  "latency",
  "brier",
  "wer",
  "cer",
  "fpr",
  "fnr",
]);
const HIGHER = new Set([
  "acc",
  "accuracy",
  "auc",
  "roc",
  "f1",
  "precision",
  "recall",
  "r2",
  "iou",
  "bleu",
  "rouge",
  "ndcg",
  "dice",
  "tpr",
  "map",
  "mrr",
  "top1",
  "top5",
]);

/** Whether a lower or a higher value of the metric is better, read from its name; null when the name does not say. */
export function metricDirection(key: string): Direction | null {
  const words = key
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
  // The last word that says decides: val_loss, f1_score, roc_auc, error_rate_at_top1 …
  for (let i = words.length - 1; i >= 0; i--) {
    const word = words[i]!;
    if (LOWER.has(word)) return "lower";
    if (HIGHER.has(word)) return "higher";
  }
  return null;
}

/** A value the pages can place on an axis or compare (MLflow stores ±Infinity as ±MAX_VALUE). */
export const plottable = (v: number | null | undefined): v is number =>
  v !== null && v !== undefined && Number.isFinite(v) && Math.abs(v) < Number.MAX_VALUE;

/** The best of some values by the metric's direction, or null when there is no direction or no usable value. */
export function bestValue(key: string, values: (number | null | undefined)[]): number | null {
  const direction = metricDirection(key);
  const usable = values.filter(plottable);
  if (!direction || usable.length < 2) return null;
  return direction === "lower" ? Math.min(...usable) : Math.max(...usable);
}

// Sorting the versions table.

export type SortOrder = "asc" | "desc";
export interface VersionSort {
  /** `version`, `created`, `run` or `metric:<key>`. */
  by: string;
  order: SortOrder;
}
export const DEFAULT_SORT: VersionSort = { by: "version", order: "desc" };

/** The sort a URL asks for; anything unknown falls back to newest version first. */
export function parseSort(by: string | undefined, order: string | undefined): VersionSort {
  if (!by) return DEFAULT_SORT;
  const known =
    by === "version" || by === "created" || by === "run" || (by.startsWith("metric:") && by.length > "metric:".length);
  if (!known) return DEFAULT_SORT;
  return {
    by,
    order:
      order === "asc"
        ? "asc"
        : order === "desc"
          ? "desc"
          : by === "version" || by === "created"
            ? "desc"
            : defaultOrder(by),
  };
}

/** A metric column's first click sorts best first when the name says which way is better. */
export function defaultOrder(by: string): SortOrder {
  if (!by.startsWith("metric:")) return by === "run" ? "asc" : "desc";
  return metricDirection(by.slice("metric:".length)) === "lower" ? "asc" : "desc";
}

export interface SortableVersion {
  number: number;
  creationTime: number;
  runName: string | null;
  metrics: Map<string, number>;
}

/**
 * Sorts rows by the given column. Rows without a value (no run, metric not logged, NaN) come last
 * whatever the order; ties fall back to the newest version first.
 */
export function sortVersions<T extends SortableVersion>(rows: T[], sort: VersionSort): T[] {
  const sign = sort.order === "asc" ? 1 : -1;
  const sortKey = (row: T): number | string | null => {
    if (sort.by === "version") return row.number;
    if (sort.by === "created") return row.creationTime;
    if (sort.by === "run") return row.runName || null;
    const v = row.metrics.get(sort.by.slice("metric:".length));
    return v === undefined || Number.isNaN(v) ? null : v;
  };
  return [...rows].sort((a, b) => {
    const x = sortKey(a);
    const y = sortKey(b);
    if (x === null || y === null) return x === y ? b.number - a.number : x === null ? 1 : -1;
    const c = typeof x === "string" ? x.localeCompare(String(y)) : x - (y as number);
    return c !== 0 ? sign * c : b.number - a.number;
  });
}

// Per-step curves.

export interface StepPoint {
  step: number;
  value: number;
}

/**
 * One value per step, steps ascending: where a step was logged more than once, the value logged
 * last (MLflow's history keeps all; a chart shows the latest). NaN and ±Infinity are left out.
 */
export function curveOf(history: { step: number; value: number; timestamp: number }[]): StepPoint[] {
  const byStep = new Map<number, { value: number; timestamp: number }>();
  for (const p of history) {
    const seen = byStep.get(p.step);
    if (!seen || p.timestamp >= seen.timestamp) byStep.set(p.step, { value: p.value, timestamp: p.timestamp });
  }
  return [...byStep]
    .filter(([, p]) => plottable(p.value))
    .sort((a, b) => a[0] - b[0])
    .map(([step, p]) => ({ step, value: p.value }));
}

/**
 * At most about `max` points: the first and last points always, and in between the lowest and the
 * highest point of each of `max / 2` equal runs of points, so spikes survive.
 */
export function downsample(points: StepPoint[], max = 300): StepPoint[] {
  if (points.length <= max) return points;
  const buckets = Math.max(1, Math.floor((max - 2) / 2));
  const inner = points.slice(1, -1);
  // More than `max` points (max ≥ 0): the first and the last exist.
  const out: StepPoint[] = [points[0]!];
  for (let b = 0; b < buckets; b++) {
    const part = inner.slice(Math.floor((b * inner.length) / buckets), Math.floor(((b + 1) * inner.length) / buckets));
    if (part.length === 0) continue;
    let lo = part[0]!;
    let hi = lo;
    for (const p of part) {
      if (p.value < lo.value) lo = p;
      if (p.value > hi.value) hi = p;
    }
    if (lo === hi) out.push(lo);
    else out.push(...(lo.step < hi.step ? [lo, hi] : [hi, lo]));
  }
  out.push(points[points.length - 1]!);
  return out;
}
