import { describe, expect, it } from "vitest";
import { InvalidParameterError } from "../../src/errors";
import {
  MAX_ALIAS_LENGTH,
  MAX_COMMENT_LENGTH,
  MAX_DESCRIPTION_LENGTH,
  MAX_MODEL_NAME_LENGTH,
  MAX_SOURCE_LENGTH,
  MAX_TAG_KEY_LENGTH,
  MAX_TAG_VALUE_LENGTH,
  parseVersion,
  validateAlias,
  validateComment,
  validateDescription,
  validateModelName,
  validateSource,
  validateTag,
} from "../../src/domain/limits";

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected the call to throw");
}

function expectInvalid(fn: () => unknown, fragment: string | RegExp) {
  const error = thrown(fn);
  expect(error).toBeInstanceOf(InvalidParameterError);
  expect((error as InvalidParameterError).code).toBe("INVALID_PARAMETER_VALUE");
  if (typeof fragment === "string") expect((error as Error).message).toContain(fragment);
  else expect((error as Error).message).toMatch(fragment);
}

describe("limits", () => {
  it("uses MLflow 3's sizes: names 256, tag keys 250, tag values 100,000, aliases 255", () => {
    expect({
      name: MAX_MODEL_NAME_LENGTH,
      tagKey: MAX_TAG_KEY_LENGTH,
      tagValue: MAX_TAG_VALUE_LENGTH,
      alias: MAX_ALIAS_LENGTH,
      description: MAX_DESCRIPTION_LENGTH,
      source: MAX_SOURCE_LENGTH,
      comment: MAX_COMMENT_LENGTH,
    }).toEqual({
      name: 256,
      tagKey: 250,
      tagValue: 100_000,
      alias: 255,
      description: 5000,
      source: 500,
      comment: 1000,
    });
  });
});

describe("registered model names", () => {
  it.each([
    "m",
    "HousePricePredictor_b09dd7a4",
    "my model with spaces",
    "dots.and-dashes_and:colons",
    "ünïcödé-名前",
    "x".repeat(256),
  ])("accepts %j", (name) => {
    expect(validateModelName(name)).toBe(name);
  });

  it.each<[string, string, string]>([
    ["the empty name", "", "Registered model name cannot be empty."],
    ["a name of spaces", "   ", "Registered model name cannot be empty."],
    ["a 257-character name", "x".repeat(257), "exceeds the maximum length of 256"],
    ["a name with a slash", "team/model", "cannot contain '/'"],
    ["a name with a newline", "line\nbreak", "control characters"],
    ["a name with a NUL", "nul\u0000byte", "control characters"],
  ])("rejects %s", (_what, name, fragment) => {
    expectInvalid(() => validateModelName(name), fragment);
  });
});

describe("tags", () => {
  it.each<[string, string, string]>([
    ["a plain key", "team", "pricing"],
    ["MLflow's prompt tag", "mlflow.prompt.is_prompt", "true"],
    ["a key with spaces, slashes, dashes and colons", "a key/with-all:of_them.ok", "v"],
    ["a 250-character key", "k".repeat(250), "v"],
    ["a 5001-character value (over 2.x's limit)", "big", "v".repeat(5001)],
    ["a 100,000-character value", "big", "v".repeat(100_000)],
    ["a 100,000-character prompt text", "mlflow.prompt.text", "p".repeat(100_000)],
    ["an empty value", "empty", ""],
  ])("accepts %s", (_what, key, value) => {
    expect(() => validateTag(key, value)).not.toThrow();
  });

  // MLflow validates tag keys with Python's `\w`, which matches any Unicode letter or digit.
  it("accepts tag keys with non-ASCII letters, as MLflow's Unicode \\w does", () => {
    expect(() => validateTag("größe", "v")).not.toThrow();
  });

  it.each<[string, string, string, string]>([
    // MLflow's registry refuses it with the name rule every tag key passes (as runs do).
    [
      "an empty key",
      "",
      "v",
      "Invalid tag name: ''. Names may be treated as files in certain cases, and must not resolve to other names when treated as such. This name would resolve to '.'",
    ],
    ["a 251-character key", "k".repeat(251), "v", "exceeds the maximum length of 250"],
    ["a 100,001-character value", "big", "v".repeat(100_001), "exceeds the maximum length of 100000"],
    [
      "a 100,001-character prompt text",
      "mlflow.prompt.text",
      "p".repeat(100_001),
      "Prompt text exceeds max length of 100000 characters.",
    ],
    ["a key with a bad character", "bad!key", "v", "Invalid tag name: 'bad!key'. Names may only contain"],
    [
      "a key with a parent-directory segment",
      "a/../b",
      "v",
      "Invalid tag name: 'a/../b'. Names may be treated as files",
    ],
    ["a key that is only a parent-directory segment", "..", "v", "Invalid tag name: '..'"],
    // The same rule as run tags (MLflow's registry stores call the same _validate_tag_name).
    ["a key with a current-directory segment", "a/./b", "v", "would resolve to 'a/b'"],
    ["a key with a leading slash", "/abs", "v", "Invalid tag name: '/abs'"],
    ["a key with a trailing slash", "dir/", "v", "would resolve to 'dir'"],
    ["a key with a doubled slash", "a//b", "v", "would resolve to 'a/b'"],
  ])("rejects %s", (_what, key, value, fragment) => {
    expectInvalid(() => validateTag(key, value), fragment);
  });
});

describe("aliases", () => {
  it.each([
    "champion",
    "Champion",
    "a",
    "with-dash_and_underscore",
    "v",
    "v1a",
    "version2",
    "latest-stable",
    "x".repeat(255),
  ])("accepts %j", (alias) => {
    expect(validateAlias(alias)).toBe(alias);
  });

  // MLflow's alias pattern is `^[\w\-]*$` in Python, where `\w` matches Unicode letters.
  it("accepts aliases with non-ASCII letters, as MLflow's Unicode \\w does", () => {
    expect(validateAlias("café")).toBe("café");
  });

  it.each<[string, string, string]>([
    ["the empty alias", "", "Registered model alias name cannot be empty."],
    ["a 256-character alias", "x".repeat(256), "exceeds the maximum length of 255"],
    ["an alias with a space", "bad alias", "Invalid alias name: 'bad alias'"],
    ["an alias with a dot", "bad.alias", "Invalid alias name: 'bad.alias'"],
    ["an alias with a slash", "bad/alias", "Invalid alias name: 'bad/alias'"],
    ["an alias with an at sign", "bad@alias", "Invalid alias name: 'bad@alias'"],
    ["the reserved alias latest", "latest", "reserved"],
    ["the reserved alias LATEST in capitals", "LATEST", "reserved"],
    ["the reserved alias Latest", "Latest", "reserved"],
    ["the version alias v1", "v1", "reserved"],
    ["the version alias V2", "V2", "reserved"],
    ["the version alias v0123", "v0123", "reserved"],
  ])("rejects %s", (_what, alias, fragment) => {
    expectInvalid(() => validateAlias(alias), fragment);
  });
});

describe("version numbers", () => {
  it.each<[string | number, number]>([
    ["1", 1],
    ["2", 2],
    ["10", 10],
    [" 7 ", 7],
    ["007", 7],
    [3, 3],
    ["999999999999999", 999_999_999_999_999],
  ])("reads %j as %i", (input, expected) => {
    expect(parseVersion(input)).toBe(expected);
  });

  it.each<string | number>(["abc", "", "0", "-1", "1.5", "1e3", "one", "1 2", "0x10", "1234567890123456", 0, -3, 2.5])(
    "rejects %j as INVALID_PARAMETER_VALUE naming the version",
    (input) => {
      expectInvalid(() => parseVersion(input), `Parameter 'version' must be a positive integer, got '${input}'.`);
    },
  );
});

describe("sources, descriptions and comments", () => {
  it("accepts a source of up to 500 characters", () => {
    const source = `mlflow-artifacts:/${"s".repeat(500 - "mlflow-artifacts:/".length)}`;
    expect(validateSource(source)).toBe(source);
  });

  it.each<[string, string, string]>([
    ["an empty source", "", "Model version source cannot be empty."],
    ["a blank source", "  ", "Model version source cannot be empty."],
    ["a 501-character source", "s".repeat(501), "exceeds the maximum length of 500"],
  ])("rejects %s", (_what, source, fragment) => {
    expectInvalid(() => validateSource(source), fragment);
  });

  it.each(["", "short", "d".repeat(5000)])("accepts a description of %#", (description) => {
    expect(validateDescription(description)).toBe(description);
  });

  it("rejects a description over 5000 characters", () => {
    expectInvalid(() => validateDescription("d".repeat(5001)), "Description exceeds the maximum length of 5000");
  });

  it.each(["", "promoted after review", "c".repeat(1000)])("accepts a comment of %#", (comment) => {
    expect(validateComment(comment)).toBe(comment);
  });

  it("rejects a comment over 1000 characters", () => {
    expectInvalid(() => validateComment("c".repeat(1001)), "Comment exceeds the maximum length of 1000");
  });
});
