import { describe, expect, it } from "vitest";
import { InvalidParameterError } from "../../src/errors";
import {
  parseLoggedModelOrderBy,
  parseTrackingFilter,
  parseTrackingOrderBy,
  type Condition,
  type OrderTerm,
  type SearchEntity,
} from "../../src/domain/run-search";

function thrown(fn: () => unknown): InvalidParameterError {
  try {
    fn();
  } catch (error) {
    if (error instanceof InvalidParameterError) return error;
    throw error;
  }
  throw new Error("expected the call to throw");
}

const metric = (key: string, comparator: Condition["comparator"], value: number): Condition => ({
  kind: "metric",
  key,
  comparator,
  value,
});
const param = (key: string, comparator: Condition["comparator"], value: string): Condition => ({
  kind: "param",
  key,
  comparator,
  value,
});
const tag = (key: string, comparator: Condition["comparator"], value: string): Condition => ({
  kind: "tag",
  key,
  comparator,
  value,
});
const str = (key: string, comparator: Condition["comparator"], value: string | string[]): Condition => ({
  kind: "attribute",
  key,
  type: "string",
  comparator,
  value,
});
const dataset = (
  key: "name" | "digest" | "context",
  comparator: Condition["comparator"],
  value: string | string[],
): Condition => ({
  kind: "dataset",
  key,
  comparator,
  value,
});
const num = (key: string, comparator: Condition["comparator"], value: number): Condition => ({
  kind: "attribute",
  key,
  type: "number",
  comparator,
  value,
});

describe("tracking search filters", () => {
  it.each<[string | undefined]>([[undefined], [""], ["   "]])("reads %j as no conditions", (filter) => {
    expect(parseTrackingFilter(filter, "run")).toEqual([]);
  });

  it.each<[string, Condition[]]>([
    ["metrics.x > 0.5", [metric("x", ">", 0.5)]],
    ["metrics.x>0.5", [metric("x", ">", 0.5)]],
    ["metric.loss <= -1e-3", [metric("loss", "<=", -0.001)]],
    ["metrics.`val loss` < 2", [metric("val loss", "<", 2)]],
    ['metrics."f1 score" >= 0.9', [metric("f1 score", ">=", 0.9)]],
    ["metrics.acc = 1", [metric("acc", "=", 1)]],
    ["metrics.acc != 1", [metric("acc", "!=", 1)]],
    ["metrics.acc <> 1", [metric("acc", "!=", 1)]],
    ["params.p = 'v'", [param("p", "=", "v")]],
    ['params.p = "v"', [param("p", "=", "v")]],
    ["parameter.p LIKE 'v%'", [param("p", "LIKE", "v%")]],
    ["params.p ilike '%V'", [param("p", "ILIKE", "%V")]],
    ["tags.t = 'v'", [tag("t", "=", "v")]],
    ["tags.`mlflow.source.name` != 'x.py'", [tag("mlflow.source.name", "!=", "x.py")]],
    ["tag.team = 'a b'", [tag("team", "=", "a b")]],
    ["attributes.status = 'FINISHED'", [str("status", "=", "FINISHED")]],
    ["attribute.run_name = 'r'", [str("run_name", "=", "r")]],
    ["attributes.`run name` = 'r'", [str("run_name", "=", "r")]],
    ["run_name LIKE 'r%'", [str("run_name", "LIKE", "r%")]],
    ["attributes.run_id IN ('a', 'b')", [str("run_id", "IN", ["a", "b"])]],
    ["attributes.run_id NOT IN ('a')", [str("run_id", "NOT IN", ["a"])]],
    ["attributes.start_time > 1000", [num("start_time", ">", 1000)]],
    ["attributes.created >= 5", [num("start_time", ">=", 5)]],
    ["attributes.end_time < '7'", [num("end_time", "<", 7)]],
    [
      "metrics.rmse < 1 AND params.alpha = '0.5' and tags.t LIKE 'x%' AND attributes.status = 'FINISHED'",
      [metric("rmse", "<", 1), param("alpha", "=", "0.5"), tag("t", "LIKE", "x%"), str("status", "=", "FINISHED")],
    ],
    // MLflow's run-search dataset attributes (SearchUtils.DATASET_ATTRIBUTES), with the comparators it allows.
    ["dataset.name = 'houses'", [dataset("name", "=", "houses")]],
    ["datasets.digest != 'abc'", [dataset("digest", "!=", "abc")]],
    ["dataset.context LIKE 'train%'", [dataset("context", "LIKE", "train%")]],
    ["dataset.name ILIKE 'H%'", [dataset("name", "ILIKE", "H%")]],
    ["dataset.name IN ('a', 'b')", [dataset("name", "IN", ["a", "b"])]],
    ["dataset.context NOT IN ('eval')", [dataset("context", "NOT IN", ["eval"])]],
    ["dataset.`name` = 'q'", [dataset("name", "=", "q")]],
    ["dataset.name = 'h' AND metrics.rmse < 1", [dataset("name", "=", "h"), metric("rmse", "<", 1)]],
  ])("parses the run filter %s", (filter, expected) => {
    expect(parseTrackingFilter(filter, "run")).toEqual(expected);
  });

  it.each<[SearchEntity, string, string]>([
    ["run", "metrics.rmse > 'high'", "'metrics.rmse' must be compared with a number"],
    ["run", "metrics.rmse LIKE '1%'", "'LIKE' is not supported for 'metrics.rmse'"],
    ["run", "params.alpha > '1'", "'>' is not supported for 'params.alpha'"],
    ["run", "params.alpha = 0.5", "'params.alpha' must be compared with a quoted string"],
    ["run", "tags.t IN ('a')", "'IN' is not supported for 'tags.t'"],
    ["run", "attributes.colour = 'red'", "unsupported attribute 'attributes.colour'"],
    ["run", "colour = 'red'", "unsupported attribute 'colour'"],
    ["run", "dataset.colour = 'red'", "invalid dataset key 'colour'"],
    ["run", "dataset.Name = 'd'", "invalid dataset key 'Name'"],
    ["run", "dataset.name = 3", "'dataset.name' must be compared with a quoted string"],
    ["run", "dataset.digest > 'a'", "'>' is not supported for 'dataset.digest'"],
    ["run", "widgets.count = 3", "unknown entity type 'widgets'"],
    ["run", "attributes.start_time = 'soon'", "'attributes.start_time' must be compared with a number"],
    ["run", "metrics.a > 1 OR metrics.b > 1", "OR is not supported"],
    ["run", "metrics.a > 1 metrics.b > 1", "expected AND after a condition"],
    ["run", "metrics.a >", "got 'end of input'"],
    ["run", "metrics.a ~ 1", "unexpected character '~'"],
    ["run", "params.p = 'open", "unterminated quote"],
    ["run", "metrics. > 1", "missing a key"],
    ["run", "attributes.run_id IN 'a'", "IN expects a parenthesised list"],
    ["run", "attributes.run_id IN ('a'", "unterminated IN list"],
    ["experiment", "metrics.x > 1", "'metrics.x' is not supported in experiment search"],
    ["experiment", "params.x = 'a'", "'params.x' is not supported in experiment search"],
    ["logged_model", "datasets.name = 'x'", "not supported in logged model search"],
    ["logged_model", "metrics.rmse IN ('1')", "'IN' is not supported for 'metrics.rmse'"],
    ["logged_model", "params.alpha IN 'x'", "IN expects a parenthesised list"],
    ["logged_model", "creation_time NOT IN ('1')", "'NOT IN' is not supported for 'creation_time'"],
    ["experiment", "tags.t IN ('a')", "'IN' is not supported for 'tags.t'"],
  ])("refuses, naming the part, the %s filter %s", (entity, filter, message) => {
    const error = thrown(() => parseTrackingFilter(filter, entity));
    expect(error.code).toBe("INVALID_PARAMETER_VALUE");
    expect(error.message).toContain(message);
    expect(error.message).toContain("Invalid filter");
  });

  it("takes at most 20 conditions (D1 binds at most 100 parameters per statement)", () => {
    const conditions = (n: number) => Array.from({ length: n }, (_, i) => `metrics.m${i} > 0`).join(" AND ");
    expect(parseTrackingFilter(conditions(20), "run")).toHaveLength(20);
    expect(thrown(() => parseTrackingFilter(conditions(21), "run")).message).toContain("at most 20 conditions");
    expect(parseTrackingOrderBy(Array(10).fill("metrics.a"), "run")).toHaveLength(10);
    expect(thrown(() => parseTrackingOrderBy(Array(11).fill("metrics.a"), "run")).message).toContain(
      "at most 10 clauses",
    );
    expect(thrown(() => parseLoggedModelOrderBy(Array(11).fill({ fieldName: "name" }))).message).toContain(
      "at most 10 clauses",
    );
  });

  it.each<[string, Condition[]]>([
    ["name = 'e'", [str("name", "=", "e")]],
    ["attributes.name LIKE 'e%'", [str("name", "LIKE", "e%")]],
    ["creation_time > 5", [num("creation_time", ">", 5)]],
    ["last_update_time <= 5", [num("last_update_time", "<=", 5)]],
    ["tags.owner = 'me'", [tag("owner", "=", "me")]],
  ])("parses the experiment filter %s", (filter, expected) => {
    expect(parseTrackingFilter(filter, "experiment")).toEqual(expected);
  });

  it.each<[string, Condition[]]>([
    ["name = 'm'", [str("name", "=", "m")]],
    ["status = 'LOGGED_MODEL_READY'", [str("status", "=", "LOGGED_MODEL_READY")]],
    ["source_run_id = 'r'", [str("source_run_id", "=", "r")]],
    ["creation_time > 1", [num("creation_timestamp", ">", 1)]],
    [
      "metrics.rmse < 1 AND params.k = 'v' AND tags.t = 'x'",
      [metric("rmse", "<", 1), param("k", "=", "v"), tag("t", "=", "x")],
    ],
    // MLflow 3's logged-model grammar (search_logged_model_utils.py): IN and NOT IN on params and tags.
    ["params.alpha IN ('0.1', '0.9')", [{ kind: "param", key: "alpha", comparator: "IN", value: ["0.1", "0.9"] }]],
    ["tags.stage NOT IN ('dev')", [{ kind: "tag", key: "stage", comparator: "NOT IN", value: ["dev"] }]],
    ["params.alpha LIKE '0.%'", [param("alpha", "LIKE", "0.%")]],
  ])("parses the logged-model filter %s", (filter, expected) => {
    expect(parseTrackingFilter(filter, "logged_model")).toEqual(expected);
  });
});

describe("tracking order_by", () => {
  it.each<[string, OrderTerm]>([
    ["metrics.rmse ASC", { kind: "metric", key: "rmse", ascending: true }],
    ["metrics.rmse", { kind: "metric", key: "rmse", ascending: true }],
    ["metrics.`val loss` desc", { kind: "metric", key: "val loss", ascending: false }],
    ["params.alpha DESC", { kind: "param", key: "alpha", ascending: false }],
    ["tags.team ASC", { kind: "tag", key: "team", ascending: true }],
    ["attributes.start_time DESC", { kind: "attribute", key: "start_time", ascending: false }],
    ["start_time DESC", { kind: "attribute", key: "start_time", ascending: false }],
    ["attribute.created", { kind: "attribute", key: "start_time", ascending: true }],
    ["attributes.run_name ASC", { kind: "attribute", key: "run_name", ascending: true }],
  ])("parses the run clause %s", (clause, expected) => {
    expect(parseTrackingOrderBy([clause], "run")).toEqual([expected]);
  });

  it.each<[SearchEntity, string, string]>([
    ["run", "metrics.rmse SIDEWAYS", "unexpected 'SIDEWAYS'"],
    ["run", "attributes.colour", "cannot order by 'attributes.colour'"],
    ["run", "datasets.name", "cannot order by 'datasets.name'"],
    ["run", "", "it is empty"],
    ["experiment", "metrics.x", "cannot order by 'metrics.x'"],
    ["experiment", "colour DESC", "cannot order by 'colour'"],
  ])("refuses the %s clause %j", (entity, clause, message) => {
    const error = thrown(() => parseTrackingOrderBy([clause], entity));
    expect(error.message).toContain(message);
    expect(error.message).toContain("Invalid order_by clause");
  });

  it("parses experiment clauses", () => {
    expect(parseTrackingOrderBy(["name", "experiment_id DESC", "last_update_time ASC"], "experiment")).toEqual([
      { kind: "attribute", key: "name", ascending: true },
      { kind: "attribute", key: "experiment_id", ascending: false },
      { kind: "attribute", key: "last_update_time", ascending: true },
    ]);
  });

  it("parses logged-model order objects: attributes and metrics only", () => {
    expect(
      parseLoggedModelOrderBy([
        { fieldName: "creation_time", ascending: false },
        { fieldName: "metrics.rmse" },
        { fieldName: "name", ascending: true },
      ]),
    ).toEqual([
      { kind: "attribute", key: "creation_timestamp", ascending: false },
      { kind: "metric", key: "rmse", ascending: true },
      { kind: "attribute", key: "name", ascending: true },
    ]);
    expect(thrown(() => parseLoggedModelOrderBy([{ fieldName: "params.k" }])).message).toContain(
      "cannot order by 'params.k'",
    );
    expect(thrown(() => parseLoggedModelOrderBy([{ fieldName: "size" }])).message).toContain("cannot order by 'size'");
  });
});
