import { describe, expect, it } from "vitest";
import { normalizePosixPath, validateKey } from "../../src/domain/keys";
import { InvalidParameterError } from "../../src/errors";
import {
  lastTagPerKey,
  parseMetricValue,
  parseModelJson,
  validateArtifactLocation,
  validateBatchLimits,
  validateDatasetInputs,
  validateExperimentName,
  validateExperimentTag,
  validateLoggedModelName,
  validateMetric,
  validateParam,
  validateParamKeysUnique,
  validateRunTag,
} from "../../src/domain/tracking-limits";

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof InvalidParameterError) return error.message;
    throw error;
  }
  throw new Error("expected the call to throw");
}

describe("posix path normalization (as Python's posixpath.normpath)", () => {
  it.each([
    ["a", "a"],
    ["a/b", "a/b"],
    ["a//b", "a/b"],
    ["a/./b", "a/b"],
    ["a/../b", "b"],
    ["a/", "a"],
    ["./a", "a"],
    ["../a", "../a"],
    ["/a", "/a"],
    ["//a", "//a"],
    ["///a", "/a"],
    ["", "."],
    [".", "."],
    ["..", ".."],
    ["/..", "/"],
  ])("normpath(%j) = %j", (input, expected) => {
    expect(normalizePosixPath(input)).toBe(expected);
  });
});

describe("metric, param and tag keys", () => {
  it.each(["loss", "val loss", "a/b", "a.b-c_d", "train:acc", "ünïcode", "x".repeat(250)])("accepts %j", (key) => {
    expect(() => validateKey("metric", key)).not.toThrow();
  });

  it.each([
    ["", "would resolve to '.'"],
    ["a//b", "would resolve to 'a/b'"],
    ["a/", "would resolve to 'a'"],
    ["/a", "would resolve to '/a'"],
    ["../a", "would resolve to '../a'"],
    ["a/../b", "would resolve to 'b'"],
    ["a*b", "Names may only contain"],
    ["a\u0000b", "Names may only contain"],
    ["tab\tkey", "Names may only contain"],
  ])("refuses %j", (key, expected) => {
    expect(message(() => validateKey("metric", key))).toContain(expected);
    expect(message(() => validateKey("metric", key))).toContain("Invalid metric name");
  });

  it("applies MLflow's length limits", () => {
    expect(message(() => validateParam("k".repeat(251), "v"))).toContain("Param key");
    expect(message(() => validateParam("k", "v".repeat(6001)))).toBe(
      `Param value '${"v".repeat(250)}' had length 6001, which exceeded length limit of 6000`,
    );
    expect(() => validateParam("k", "v".repeat(6000))).not.toThrow();
    expect(message(() => validateRunTag("k", "v".repeat(8001)))).toContain("exceeded length limit of 8000");
    expect(() => validateRunTag("k", "v".repeat(8000))).not.toThrow();
    expect(message(() => validateExperimentTag("k", "v".repeat(5001)))).toContain("exceeded length limit of 5000");
    expect(message(() => validateRunTag("bad//key", "v"))).toContain("Invalid tag name");
    expect(message(() => validateParam("bad//key", "v"))).toContain("Invalid parameter name");
  });
});

describe("metrics", () => {
  it.each<[number | string, number]>([
    [1.5, 1.5],
    ["2.5", 2.5],
    ["-1e-3", -0.001],
    ["Infinity", Number.POSITIVE_INFINITY],
    ["-Infinity", Number.NEGATIVE_INFINITY],
  ])("reads the value %j", (value, expected) => {
    expect(parseMetricValue("m", value, 0)).toBe(expected);
  });

  it("reads NaN", () => {
    expect(parseMetricValue("m", "NaN", 0)).toBeNaN();
  });

  it.each(["", "fast", "1,5", "true"])("refuses the value %j", (value) => {
    expect(message(() => parseMetricValue("m", value, 7))).toBe(
      `Got invalid value ${value} for metric 'm' (timestamp=7). Please specify value as a valid double (64-bit floating point)`,
    );
  });

  it("refuses negative or fractional timestamps and fractional steps", () => {
    expect(message(() => validateMetric({ key: "m", value: 1, timestamp: -1 }))).toContain(
      "Timestamp must be a nonnegative long",
    );
    expect(message(() => validateMetric({ key: "m", value: 1, timestamp: 1.5 }))).toContain(
      "Timestamp must be a nonnegative long",
    );
    expect(message(() => validateMetric({ key: "m", value: 1, timestamp: 1, step: 0.5 }))).toContain(
      "Step must be a valid long",
    );
    expect(validateMetric({ key: "m", value: "3", timestamp: 0, step: -2 })).toBe(3);
  });
});

describe("batch limits", () => {
  it.each<[number, number, number, string | null]>([
    [1000, 0, 0, null],
    [0, 100, 100, null],
    [800, 100, 100, null],
    [1001, 0, 0, "at most 1000 metrics. Got 1001 metrics"],
    [0, 101, 0, "at most 100 params. Got 101 params"],
    [0, 0, 101, "at most 100 tags. Got 101 tags"],
    [801, 100, 100, "at most 1000 metrics, params, and tags. Got 1001 metrics, params, and tags"],
  ])("%i metrics, %i params, %i tags", (metrics, params, tags, expected) => {
    if (expected === null) expect(() => validateBatchLimits(metrics, params, tags)).not.toThrow();
    else expect(message(() => validateBatchLimits(metrics, params, tags))).toContain(expected);
  });

  it("refuses duplicate param keys, even with equal values", () => {
    expect(
      message(() =>
        validateParamKeysUnique([
          { key: "a", value: "1" },
          { key: "b", value: "1" },
          { key: "a", value: "1" },
        ]),
      ),
    ).toBe(
      'Duplicate parameter keys have been submitted: ["a"]. Please ensure the request contains only one param value per param key.',
    );
  });

  it("keeps the last value per tag key, in order of last appearance", () => {
    expect(
      lastTagPerKey([
        { key: "a", value: "1" },
        { key: "b", value: "2" },
        { key: "a", value: "3" },
      ]),
    ).toEqual([
      { key: "b", value: "2" },
      { key: "a", value: "3" },
    ]);
  });
});

describe("experiments, logged models, model JSON and datasets", () => {
  it("checks experiment names and artifact locations", () => {
    expect(message(() => validateExperimentName(""))).toBe("Invalid experiment name: ''");
    expect(message(() => validateExperimentName("e".repeat(501)))).toContain("maximum length of 500");
    expect(validateExperimentName("e".repeat(500))).toHaveLength(500);
    expect(message(() => validateArtifactLocation("runs:/abc/x"))).toContain("cannot be a runs:/ URI");
    expect(validateArtifactLocation("s3://bucket/x")).toBe("s3://bucket/x");
  });

  it.each(["a/b", "a:b", "a.b", "a%b", 'a"b', "a'b", ""])("refuses the logged model name %j", (name) => {
    expect(message(() => validateLoggedModelName(name))).toContain("Invalid model name");
  });

  it("accepts ordinary logged model names and no name at all", () => {
    expect(() => validateLoggedModelName("linear_regression_model-2")).not.toThrow();
    expect(() => validateLoggedModelName(undefined)).not.toThrow();
  });

  it("requires model JSON with MLflow's mandatory fields", () => {
    expect(message(() => parseModelJson("nope"))).toContain("Malformed model info");
    expect(message(() => parseModelJson("[1]"))).toContain("is not a JSON object");
    expect(message(() => parseModelJson('{"run_id": "r"}'))).toBe(
      'Model json is missing mandatory fields: ["artifact_path","flavors","utc_time_created"]',
    );
    expect(parseModelJson('{"run_id":"r","artifact_path":"m","flavors":{},"utc_time_created":"t"}')).toMatchObject({
      run_id: "r",
    });
  });

  it("checks dataset inputs", () => {
    const dataset = { name: "d", digest: "x", sourceType: "local", source: "s" };
    expect(() => validateDatasetInputs([{ dataset }])).not.toThrow();
    expect(message(() => validateDatasetInputs([{}]))).toContain("must have a dataset");
    expect(message(() => validateDatasetInputs([{ dataset: { ...dataset, digest: undefined } }]))).toBe(
      "Dataset digest must be specified.",
    );
    expect(message(() => validateDatasetInputs([{ dataset: { ...dataset, sourceType: "" } }]))).toBe(
      "Dataset source_type must be specified.",
    );
    expect(message(() => validateDatasetInputs([{ dataset: { ...dataset, digest: "d".repeat(37) } }]))).toContain(
      "Dataset digest",
    );
    expect(message(() => validateDatasetInputs([{ dataset, tags: [{ key: "k", value: "v".repeat(501) }] }]))).toContain(
      "Input tag value",
    );
  });
});
