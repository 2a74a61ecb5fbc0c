import { describe, expect, it } from "vitest";
import type { StageTransition } from "../../src/domain/model";
import type { Stage } from "../../src/domain/stages";
import { rollbackTarget } from "../../src/domain/rollback";
import { ticks } from "../../src/ui/chart";
import { compareRows, defaultMetric, parseVersionList } from "../../src/ui/compare";
import { formatBytes, formatNumber, shellQuote } from "../../src/ui/format";
import { nameContains } from "../../src/ui/queries";

/** History rows, oldest first as written here, returned newest first as listTransitions answers. */
function history(...rows: [number, Stage, Stage][]): StageTransition[] {
  return rows
    .map(([version, fromStage, toStage], i) => ({
      version,
      fromStage,
      toStage,
      actor: "t",
      comment: null,
      timestamp: i,
    }))
    .reverse();
}

describe("rollbackTarget", () => {
  it.each([
    [
      "the version promoted before the current one",
      history([1, "None", "Production"], [2, "None", "Production"], [1, "Production", "Archived"]),
      2,
      1,
    ],
    [
      "the most recent earlier Production version, not the first",
      history(
        [1, "None", "Production"],
        [2, "None", "Production"],
        [1, "Production", "Archived"],
        [3, "None", "Production"],
        [2, "Production", "Archived"],
      ),
      3,
      2,
    ],
    [
      "after a rollback, the version rolled back from",
      history(
        [1, "None", "Production"],
        [2, "None", "Production"],
        [1, "Production", "Archived"],
        [1, "Archived", "Production"],
        [2, "Production", "Archived"],
      ),
      1,
      2,
    ],
    [
      "none when only the current version was ever in Production",
      history([1, "None", "Staging"], [1, "Staging", "Production"]),
      1,
      null,
    ],
    ["none without any history", history(), 1, null],
    [
      "ignores promotions of other versions after the current one's latest promotion",
      history([1, "None", "Production"], [2, "None", "Production"], [3, "None", "Staging"]),
      2,
      1,
    ],
    [
      "an earlier Production row when the current version's own promotion is older than the log",
      history([4, "None", "Production"]),
      5,
      4,
    ],
  ])("finds %s", (_, rows, current, expected) => {
    expect(rollbackTarget(rows, current)).toBe(expected);
  });

  it("skips versions that can no longer be promoted (deleted or not READY)", () => {
    const rows = history([1, "None", "Production"], [2, "None", "Production"], [3, "None", "Production"]);
    expect(rollbackTarget(rows, 3, (v) => v !== 2)).toBe(1);
    expect(rollbackTarget(rows, 3, () => false)).toBeNull();
  });
});

describe("compare rules", () => {
  it("parses versions=1,2 and v=3, keeping order and dropping repeats", () => {
    expect(parseVersionList(["2,1", "3", "1"])).toEqual([2, 1, 3]);
  });

  it.each([
    [[], "Pick at least 2 versions to compare."],
    [["4"], "Pick at least 2 versions to compare."],
    [["1,x"], "Parameter 'version' must be a positive integer, got 'x'."],
    [[Array.from({ length: 11 }, (_, i) => i + 1).join(",")], "At most 10 versions can be compared at once; got 11."],
  ])("refuses %j", (input, message) => {
    expect(() => parseVersionList(input)).toThrow(message);
  });

  it("marks rows that differ, counting a missing value as a difference", () => {
    const rows = compareRows([
      new Map([
        ["a", "1"],
        ["b", "2"],
      ]),
      new Map([
        ["a", "1"],
        ["b", "3"],
        ["c", "4"],
      ]),
    ]);
    expect(rows).toEqual([
      { key: "a", cells: ["1", "1"], differs: false },
      { key: "b", cells: ["2", "3"], differs: true },
      { key: "c", cells: [null, "4"], differs: true },
    ]);
  });

  it("treats NaN as equal to NaN when comparing metrics", () => {
    expect(compareRows([new Map([["m", Number.NaN]]), new Map([["m", Number.NaN]])])[0]!.differs).toBe(false);
  });

  it("charts by default the first metric at least two versions have", () => {
    const rows = compareRows([
      new Map([
        ["acc", 1],
        ["loss", 2],
      ]),
      new Map([["loss", 3]]),
    ]);
    expect(defaultMetric(rows)).toBe("loss");
  });
});

describe("chart axis", () => {
  it.each([
    [0.7, 0.9, [0.7, 0.75, 0.8, 0.85, 0.9]],
    [0, 100, [0, 50, 100]],
    [5, 5, [4.5, 5, 5.5]],
    [-3, 12, [-5, 0, 5, 10, 15]],
  ])("covers %d..%d with round ticks", (min, max, expected) => {
    const axis = ticks(min, max);
    expect(axis).toEqual(expected);
    expect(axis[0]).toBeLessThanOrEqual(min);
    expect(axis[axis.length - 1]).toBeGreaterThanOrEqual(max);
  });
});

describe("formatting and filters", () => {
  it.each([
    [0.1 + 0.2, "0.3"],
    [12, "12"],
    [1234567.891, "1.23457e+6"],
    [Number.NaN, "NaN"],
    [Number.MAX_VALUE, "Infinity"],
  ])("formats %d as %s", (value, text) => {
    expect(formatNumber(value)).toBe(text);
  });

  it("formats sizes in binary units", () => {
    expect([formatBytes(5), formatBytes(2400), formatBytes(3 * 1024 ** 3)]).toEqual(["5 B", "2.3 KiB", "3.0 GiB"]);
  });

  it("quotes shell words only when needed", () => {
    expect([shellQuote("Price@3"), shellQuote("My Model@3"), shellQuote("it's@1")]).toEqual([
      "Price@3",
      "'My Model@3'",
      `'it'\\''s@1'`,
    ]);
  });

  it("builds a name filter for any text, quotes included", () => {
    expect(nameContains("abc")).toBe("name ILIKE '%abc%'");
    expect(nameContains("it's")).toBe(`name ILIKE "%it's%"`);
    expect(nameContains(`it's "x"`)).toBe("name ILIKE '%it_s _x_%'");
  });
});
