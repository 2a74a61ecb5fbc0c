import { describe, expect, it } from "vitest";
import { InvalidParameterError } from "../../src/errors";
import {
  ACTIVE_STAGES,
  parseStage,
  STAGES,
  versionsToArchive,
  type Stage,
  type StagedVersion,
} from "../../src/domain/stages";

const versions = (...pairs: [number, Stage][]): StagedVersion[] =>
  pairs.map(([version, currentStage]) => ({ version, currentStage }));

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected the call to throw");
}

describe("stage names", () => {
  it("lists MLflow's four stages in MLflow's order", () => {
    expect([...STAGES]).toEqual(["None", "Staging", "Production", "Archived"]);
  });

  it("treats Staging and Production as the active stages", () => {
    expect([...ACTIVE_STAGES]).toEqual(["Staging", "Production"]);
  });

  it.each([
    ["None", "None"],
    ["none", "None"],
    ["NONE", "None"],
    ["Staging", "Staging"],
    ["staging", "Staging"],
    ["STAGING", "Staging"],
    ["sTaGiNg", "Staging"],
    ["Production", "Production"],
    ["production", "Production"],
    ["PRODUCTION", "Production"],
    ["Archived", "Archived"],
    ["archived", "Archived"],
    ["ARCHIVED", "Archived"],
  ])("matches %j case-insensitively and answers the canonical %j", (input, canonical) => {
    expect(parseStage(input)).toBe(canonical);
  });

  it.each(["NotAStage", "", " Production", "Production ", "Prod", "Archive", "deleted_internal", "null"])(
    "rejects %j with MLflow's exact message",
    (input) => {
      const error = thrown(() => parseStage(input));
      expect(error).toBeInstanceOf(InvalidParameterError);
      expect((error as InvalidParameterError).code).toBe("INVALID_PARAMETER_VALUE");
      expect((error as Error).message).toBe(
        `Invalid Model Version stage: ${input}. Value must be one of None, Staging, Production, Archived.`,
      );
    },
  );
});

describe("which versions a transition archives", () => {
  it.each<[string, StagedVersion[], number, Stage, boolean, number[]]>([
    [
      "promotion archives the previous Production version without archive_existing",
      versions([1, "Production"], [2, "None"]),
      2,
      "Production",
      false,
      [1],
    ],
    [
      "promotion archives the previous Production version with archive_existing",
      versions([1, "Production"], [2, "Staging"]),
      2,
      "Production",
      true,
      [1],
    ],
    [
      "promotion with no Production version archives nothing",
      versions([1, "Staging"], [2, "None"]),
      2,
      "Production",
      false,
      [],
    ],
    [
      "promotion leaves Staging versions alone",
      versions([1, "Staging"], [2, "Staging"], [3, "Production"]),
      2,
      "Production",
      false,
      [3],
    ],
    [
      "re-promoting the Production version archives nothing",
      versions([1, "Production"], [2, "None"]),
      1,
      "Production",
      false,
      [],
    ],
    [
      "Staging without archive_existing archives nothing",
      versions([1, "Staging"], [2, "None"]),
      2,
      "Staging",
      false,
      [],
    ],
    [
      "Staging with archive_existing archives the other Staging versions",
      versions([1, "Staging"], [2, "None"], [3, "Staging"], [4, "Production"]),
      2,
      "Staging",
      true,
      [1, 3],
    ],
    [
      "Staging with archive_existing leaves the target itself",
      versions([1, "Staging"], [2, "Staging"]),
      2,
      "Staging",
      true,
      [1],
    ],
    [
      "Archived without archive_existing archives nothing else",
      versions([1, "Archived"], [2, "Production"]),
      2,
      "Archived",
      false,
      [],
    ],
    ["None without archive_existing archives nothing", versions([1, "None"], [2, "Production"]), 2, "None", false, []],
    [
      "the answer is sorted by version number",
      versions([9, "Staging"], [3, "Staging"], [7, "Staging"], [1, "None"]),
      1,
      "Staging",
      true,
      [3, 7, 9],
    ],
    ["a model with only the target archives nothing", versions([1, "None"]), 1, "Production", true, []],
  ])("%s", (_name, staged, target, stage, archiveExisting, expected) => {
    expect(versionsToArchive(staged, target, stage, archiveExisting)).toEqual(expected);
  });

  it("accepts any iterable of versions, such as a Map's values", () => {
    const byNumber = new Map<number, StagedVersion>([
      [1, { version: 1, currentStage: "Production" }],
      [2, { version: 2, currentStage: "None" }],
    ]);
    expect(versionsToArchive(byNumber.values(), 2, "Production", false)).toEqual([1]);
  });

  it.each<Stage>(["Archived", "None"])("refuses archive_existing_versions for the inactive stage %s", (stage) => {
    const error = thrown(() => versionsToArchive(versions([1, "Staging"], [2, "None"]), 2, stage, true));
    expect(error).toBeInstanceOf(InvalidParameterError);
    expect((error as InvalidParameterError).code).toBe("INVALID_PARAMETER_VALUE");
    expect((error as Error).message).toContain(`'${stage}' is not an Active stage`);
  });
});
