import { describe, expect, it } from "vitest";
import { artifactPathOf, validateArtifactPath } from "../../src/domain/artifact-path";

describe("validateArtifactPath", () => {
  it.each([["1/run/artifacts/model/model.pkl"], ["a b/ü.csv"], ["x"]])("accepts %s", (path) => {
    expect(validateArtifactPath(path)).toBe(path);
  });

  it.each([
    ["", "it is empty"],
    ["/etc/passwd", "it is absolute"],
    ["a\\b", "backslash"],
    ["a\u0000b", "control character"],
    ["a//b", "empty segment"],
    ["a/", "empty segment"],
    ["a/../b", "'..' segment"],
    ["./a", "'..' segment"],
    ["a".repeat(1025), "longer than 1024"],
  ])("refuses %j (%s)", (path, reason) => {
    expect(() => validateArtifactPath(path)).toThrow(reason);
  });

  it("allows the empty root only when asked", () => {
    expect(validateArtifactPath("", { allowEmpty: true })).toBe("");
  });
});

describe("artifactPathOf", () => {
  it.each([
    ["mlflow-artifacts:/1/abc/artifacts/model", "1/abc/artifacts/model"],
    ["mlflow-artifacts://host:5000/1/abc/artifacts/", "1/abc/artifacts"],
    ["s3://bucket/key", null],
  ])("maps %s to %s", (uri, path) => {
    expect(artifactPathOf(uri)).toBe(path);
  });
});
