import { describe, expect, it } from "vitest";
import { InvalidParameterError } from "../../src/errors";
import { pythonJsonDumps } from "../../src/domain/python-json";
import {
  appendToUri,
  isNewerMetric,
  latestPerKey,
  loggedModelArtifactUri,
  newLoggedModelId,
  newRunId,
  parseLoggedModelStatus,
  parseRunStatus,
  parseViewType,
  randomName,
  runArtifactUri,
  stagesFor,
  type Metric,
} from "../../src/domain/tracking";

describe("enums", () => {
  it.each<[string | number, string]>([
    ["RUNNING", "RUNNING"],
    ["finished", "FINISHED"],
    [1, "RUNNING"],
    ["2", "SCHEDULED"],
    [3, "FINISHED"],
    [4, "FAILED"],
    [5, "KILLED"],
  ])("reads the run status %j", (input, expected) => {
    expect(parseRunStatus(input)).toBe(expected);
  });

  it.each<[string | number]>([["DONE"], [0], [6], [""]])("refuses the run status %j", (input) => {
    expect(() => parseRunStatus(input)).toThrow(InvalidParameterError);
  });

  it("reads view types, ACTIVE_ONLY by default", () => {
    expect(parseViewType(undefined)).toBe("ACTIVE_ONLY");
    expect(parseViewType("")).toBe("ACTIVE_ONLY");
    expect(parseViewType("deleted_only")).toBe("DELETED_ONLY");
    expect(parseViewType(3)).toBe("ALL");
    expect(() => parseViewType("SOME")).toThrow(InvalidParameterError);
    expect(stagesFor("ACTIVE_ONLY")).toEqual(["active"]);
    expect(stagesFor("DELETED_ONLY")).toEqual(["deleted"]);
    expect(stagesFor("ALL")).toEqual(["active", "deleted"]);
  });

  it("reads logged model statuses", () => {
    expect(parseLoggedModelStatus("LOGGED_MODEL_READY")).toBe("LOGGED_MODEL_READY");
    expect(parseLoggedModelStatus(3)).toBe("LOGGED_MODEL_UPLOAD_FAILED");
    expect(() => parseLoggedModelStatus("READY")).toThrow(InvalidParameterError);
  });
});

describe("the latest metric rule (step, then timestamp, then value)", () => {
  const m = (step: number, timestamp: number, value: number): Metric => ({ key: "k", step, timestamp, value });
  it.each<[Metric, Metric, boolean]>([
    [m(2, 0, 0), m(1, 9, 9), true],
    [m(1, 9, 9), m(2, 0, 0), false],
    [m(1, 2, 0), m(1, 1, 9), true],
    [m(1, 1, 2), m(1, 1, 1), true],
    [m(1, 1, 1), m(1, 1, 1), false],
    [m(1, 1, Number.NaN), m(1, 1, -1), true],
    [m(1, 1, Number.NaN), m(1, 1, 1), false],
  ])("%j is newer than %j: %s", (a, b, expected) => {
    expect(isNewerMetric(a, b)).toBe(expected);
  });

  it("keeps one metric per key, the newest, in order of first appearance", () => {
    const metrics: Metric[] = [
      { key: "a", value: 1, timestamp: 1, step: 0 },
      { key: "b", value: 5, timestamp: 1, step: 0 },
      { key: "a", value: 2, timestamp: 1, step: 3 },
      { key: "a", value: 3, timestamp: 9, step: 1 },
    ];
    expect(latestPerKey(metrics)).toEqual([
      { key: "a", value: 2, timestamp: 1, step: 3 },
      { key: "b", value: 5, timestamp: 1, step: 0 },
    ]);
  });
});

describe("ids and artifact locations", () => {
  it("makes MLflow-shaped ids", () => {
    expect(newRunId()).toMatch(/^[0-9a-f]{32}$/);
    expect(newLoggedModelId()).toMatch(/^m-[0-9a-f]{32}$/);
    expect(newRunId()).not.toBe(newRunId());
  });

  it("joins URIs with exactly one slash, as append_to_uri_path", () => {
    expect(runArtifactUri("mlflow-artifacts:/1", "abc")).toBe("mlflow-artifacts:/1/abc/artifacts");
    expect(runArtifactUri("mlflow-artifacts:/1/", "abc")).toBe("mlflow-artifacts:/1/abc/artifacts");
    expect(loggedModelArtifactUri("mlflow-artifacts:/7", "m-1")).toBe("mlflow-artifacts:/7/models/m-1/artifacts");
    expect(appendToUri("s3://b", "x", "y")).toBe("s3://b/x/y");
  });

  it("makes up names like MLflow's", () => {
    expect(randomName()).toMatch(/^[a-z]+-[a-z]+-\d{1,3}$/);
    expect(randomName(() => 0)).toBe("able-ant-0");
  });
});

describe("Python-style JSON", () => {
  it.each<[unknown, string]>([
    [null, "null"],
    [true, "true"],
    [1, "1"],
    [1.5, "1.5"],
    ['a"b\\c\n', '"a\\"b\\\\c\\n"'],
    ["é€😀\u007f", '"\\u00e9\\u20ac\\ud83d\\ude00\\u007f"'],
    [[1, "a", [null]], '[1, "a", [null]]'],
    [{ a: 1, b: { c: [] } }, '{"a": 1, "b": {"c": []}}'],
    [{}, "{}"],
  ])("dumps %j as json.dumps does", (value, expected) => {
    expect(pythonJsonDumps(value)).toBe(expected);
  });

  it("round-trips through JSON.parse", () => {
    const value = { run_id: "r", flavors: { sklearn: { code: null, v: "1.2" } }, size: 451 };
    expect(JSON.parse(pythonJsonDumps(value))).toEqual(value);
  });
});
