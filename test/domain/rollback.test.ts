import { describe, expect, it } from "vitest";
import { RegistryError } from "../../src/errors";
import type { StageTransition } from "../../src/domain/model";
import { requestedTarget, rollbackTarget } from "../../src/domain/rollback";
import type { Stage } from "../../src/domain/stages";

/** History rows newest first, as the repository answers them: [version, to stage]. */
const history = (...rows: [number, Stage][]): StageTransition[] =>
  rows.map(([version, toStage], i) => ({
    version,
    fromStage: "None",
    toStage,
    actor: "t",
    comment: null,
    timestamp: 1000 - i,
  }));

function refusal(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (error) {
    if (error instanceof RegistryError) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error("expected the call to throw");
}

describe("rollbackTarget: the previous Production version", () => {
  it.each<[string, StageTransition[], number, number | null]>([
    ["the version promoted before the current one", history([2, "Production"], [1, "Production"]), 2, 1],
    [
      "after a rollback, the version rolled back from",
      history([1, "Production"], [2, "Production"], [1, "Production"]),
      1,
      2,
    ],
    ["nothing when only the current version has served", history([1, "Production"], [1, "Staging"]), 1, null],
    ["rows to other stages do not count", history([3, "Production"], [2, "Staging"], [1, "Production"]), 3, 1],
  ])("%s", (_, rows, current, expected) => {
    expect(rollbackTarget(rows, current)).toBe(expected);
  });

  it("skips a candidate that can no longer be restored for the one before it", () => {
    expect(rollbackTarget(history([3, "Production"], [2, "Production"], [1, "Production"]), 3, (v) => v !== 2)).toBe(1);
  });
});

describe("requestedTarget: a rollback to a named version", () => {
  const rows = history([3, "Production"], [2, "Production"], [1, "Production"], [4, "Staging"]);

  it.each([
    ["the version just before the current one", 2],
    ["a version further back, skipping the ones between", 1],
  ])("restores %s", (_, version) => {
    expect(requestedTarget("m", rows, 3, version)).toBe(version);
  });

  it("restores a version the current one replaced more than once (v1 → v2 → v1 → v2 again)", () => {
    expect(
      requestedTarget("m", history([2, "Production"], [1, "Production"], [2, "Production"], [1, "Production"]), 2, 1),
    ).toBe(1);
  });

  it.each<[string, number, string]>([
    [
      "the current Production version",
      3,
      "Version 3 of 'm' is the version in Production now, so there is nothing to roll back to. Nothing was rolled back.",
    ],
    [
      "a version that was only ever in Staging",
      4,
      "Version 4 of 'm' has never been in Production, so a rollback cannot restore it (a rollback goes back to an earlier Production version; promote a new one instead). Nothing was rolled back.",
    ],
    [
      "a version the history does not mention",
      5,
      "Version 5 of 'm' has never been in Production, so a rollback cannot restore it (a rollback goes back to an earlier Production version; promote a new one instead). Nothing was rolled back.",
    ],
  ])("refuses %s with RESOURCE_CONFLICT", (_, version, message) => {
    expect(refusal(() => requestedTarget("m", rows, 3, version))).toEqual({ code: "RESOURCE_CONFLICT", message });
  });
});
