import { describe, expect, it } from "vitest";
import { fitNumber, stepTicks, tickLabel } from "../../src/ui/chart";
import { duration, shortSource } from "../../src/ui/format";
import {
  bestValue,
  curveOf,
  DEFAULT_SORT,
  downsample,
  KEY_METRICS_TAG,
  keyMetrics,
  metricDirection,
  mostLogged,
  parseSort,
  pinnedMetrics,
  pinnedValue,
  rankCounts,
  sortVersions,
} from "../../src/ui/metrics";

describe("key metrics", () => {
  it("ranks metrics by how many runs logged them, ties by name", () => {
    expect(mostLogged([["rmse", "mae"], ["rmse", "r2"], ["r2", "rmse", "loss"], []])).toEqual([
      "rmse",
      "r2",
      "loss",
      "mae",
    ]);
    expect(
      rankCounts(
        new Map([
          ["b", 2],
          ["a", 2],
          ["c", 5],
        ]),
      ),
    ).toEqual(["c", "a", "b"]);
  });

  it("uses the pinned metrics when there are any, else the three most-logged", () => {
    expect(keyMetrics([], ["rmse", "r2", "loss", "mae"])).toEqual(["rmse", "r2", "loss"]);
    expect(keyMetrics(["mae"], ["rmse", "r2", "loss", "mae"])).toEqual(["mae"]);
  });

  it("reads pins from the model tag, without repeats or blanks, at most six", () => {
    const tag = (value: string) => [
      { key: "team", value: "x" },
      { key: KEY_METRICS_TAG, value },
    ];
    expect(pinnedMetrics(tag("rmse, r2,,rmse"))).toEqual(["rmse", "r2"]);
    expect(pinnedMetrics(tag("a,b,c,d,e,f,g"))).toHaveLength(6);
    expect(pinnedMetrics([])).toEqual([]);
    expect(pinnedValue(["rmse", " r2 ", "rmse", "", "bad,key"])).toBe("rmse,r2");
  });
});

describe("which way is better", () => {
  it.each([
    ["rmse", "lower"],
    ["val_loss", "lower"],
    ["mean_absolute_error", "lower"],
    ["test-mape", "lower"],
    ["accuracy", "higher"],
    ["val_acc", "higher"],
    ["roc_auc", "higher"],
    ["f1_score", "higher"],
    ["r2", "higher"],
    ["training_score", null],
    ["epoch_time", null],
    ["throughput", null],
  ])("%s: %s is better", (key, direction) => {
    expect(metricDirection(key)).toBe(direction);
  });

  it("marks a best value only when the name says which way is better and two values compare", () => {
    expect(bestValue("rmse", [0.8, 0.7, null, Number.NaN])).toBe(0.7);
    expect(bestValue("accuracy", [0.8, 0.9, undefined])).toBe(0.9);
    expect(bestValue("throughput", [1, 2])).toBeNull();
    expect(bestValue("rmse", [0.7])).toBeNull();
  });
});

describe("sorting the versions table", () => {
  const row = (number: number, creationTime: number, runName: string | null, metrics: Record<string, number>) => ({
    number,
    creationTime,
    runName,
    metrics: new Map(Object.entries(metrics)),
  });
  const rows = [
    row(1, 10, "b", { rmse: 0.8 }),
    row(2, 30, null, {}),
    row(3, 20, "a", { rmse: 0.7 }),
    row(4, 40, "c", { rmse: Number.NaN }),
  ];
  const order = (by: string, dir?: string) => sortVersions(rows, parseSort(by, dir)).map((r) => r.number);

  it("sorts by a metric with versions lacking it (or NaN) last in either order", () => {
    expect(order("metric:rmse", "asc")).toEqual([3, 1, 4, 2]);
    expect(order("metric:rmse", "desc")).toEqual([1, 3, 4, 2]);
  });

  it("sorts by version, creation time and run name", () => {
    expect(order("version")).toEqual([4, 3, 2, 1]);
    expect(order("version", "asc")).toEqual([1, 2, 3, 4]);
    expect(order("created", "asc")).toEqual([1, 3, 2, 4]);
    expect(order("run", "asc")).toEqual([3, 1, 4, 2]);
  });

  it("falls back to newest first for an unknown column, and picks best-first for a metric's first click", () => {
    expect(parseSort("drop table", "asc")).toEqual(DEFAULT_SORT);
    expect(parseSort("metric:", undefined)).toEqual(DEFAULT_SORT);
    expect(parseSort("metric:rmse", undefined)).toEqual({ by: "metric:rmse", order: "asc" });
    expect(parseSort("metric:accuracy", undefined)).toEqual({ by: "metric:accuracy", order: "desc" });
  });
});

describe("curves", () => {
  it("keeps one value per step (the latest logged), in step order, without NaN or infinities", () => {
    const points = [
      { step: 2, value: 0.5, timestamp: 1 },
      { step: 0, value: 0.9, timestamp: 1 },
      { step: 1, value: 0.8, timestamp: 2 },
      { step: 1, value: 0.7, timestamp: 3 },
      { step: 3, value: Number.NaN, timestamp: 1 },
      { step: 4, value: Number.MAX_VALUE, timestamp: 1 },
    ];
    expect(curveOf(points)).toEqual([
      { step: 0, value: 0.9 },
      { step: 1, value: 0.7 },
      { step: 2, value: 0.5 },
    ]);
  });

  it("thins a long curve to about the asked size, keeping its ends and its spikes", () => {
    const long = Array.from({ length: 10_000 }, (_, step) => ({
      step,
      value: step === 5_000 ? 100 : Math.sin(step / 50),
    }));
    const thin = downsample(long, 300);
    expect(thin.length).toBeLessThanOrEqual(300);
    expect(thin[0]).toEqual(long[0]);
    expect(thin.at(-1)).toEqual(long.at(-1));
    expect(thin.some((p) => p.value === 100)).toBe(true);
    expect(thin.map((p) => p.step)).toEqual([...thin.map((p) => p.step)].sort((a, b) => a - b));
    const short = long.slice(0, 10);
    expect(downsample(short, 300)).toBe(short);
  });
});

describe("chart labels", () => {
  it("puts step ticks on whole steps only", () => {
    expect(stepTicks(0, 39)).toEqual([0, 10, 20, 30]);
    expect(stepTicks(0, 1)).toEqual([0, 1]);
    expect(stepTicks(7, 7)).toEqual([7]);
  });

  it("prints ticks with the decimals their spacing needs", () => {
    expect([0.5, 0.75, 1].map((t) => tickLabel(t, 0.25))).toEqual(["0.50", "0.75", "1.00"]);
    expect([0, 0.2, 0.4].map((t) => tickLabel(t, 0.2))).toEqual(["0.0", "0.2", "0.4"]);
    expect(tickLabel(2000, 500)).toBe("2000");
  });

  it("shortens a bar's value until it fits its column", () => {
    expect(fitNumber(0.71, 60, 14)).toBe("0.71");
    const narrow = fitNumber(0.123456789, 40, 12);
    expect(narrow.length * 12 * 0.62).toBeLessThanOrEqual(40);
    expect(Number(narrow)).toBeCloseTo(0.12, 2);
  });
});

describe("short sources", () => {
  it.each([
    ["mlflow-artifacts:/1/59ead59df7e46368464a878b9859477b/artifacts/model", "run 59ead59d · model"],
    ["mlflow-artifacts:/3/models/m-0123456789abcdef0123456789abcdef/artifacts", "logged model m-01234567"],
    ["runs:/64eee46a64bb4e23894db74a2d8c2f84/model", "runs:/64eee46a…/model"],
    ["models:/Other/3", "models:/Other/3"],
    ["s3://bucket/model", "s3://bucket/model"],
    ["s3://modelgate-bucket/teams/pricing/experiments/42/runs/abc/artifacts/model", "s3://modelgate-bucket/…/model"],
  ])("%s → %s", (source, short) => {
    expect(shortSource(source)).toBe(short);
  });

  it("writes durations in the largest sensible units", () => {
    expect([duration(850), duration(40_000), duration(200_000), duration(7_500_000)]).toEqual([
      "850 ms",
      "40 s",
      "3 min 20 s",
      "2 h 5 min",
    ]);
  });
});
