import { describe, expect, it } from "vitest";
import { contentRange, parseRange } from "../../src/delivery/ranges";

// Range rules of RFC 9110 §14.1.2 for a single `bytes=` range against a 100-byte file.
describe("parseRange", () => {
  const cases: [string | undefined, ReturnType<typeof parseRange>][] = [
    [undefined, null],
    ["", null],
    ["bytes=0-9", { offset: 0, length: 10 }],
    ["  bytes=10-19  ", { offset: 10, length: 10 }],
    ["bytes=90-", { offset: 90, length: 10 }],
    ["bytes=90-500", { offset: 90, length: 10 }],
    ["bytes=-10", { offset: 90, length: 10 }],
    ["bytes=-500", { offset: 0, length: 100 }],
    ["bytes=99-99", { offset: 99, length: 1 }],
    ["bytes=100-", "unsatisfiable"],
    ["bytes=20-10", "unsatisfiable"],
    ["bytes=-0", "unsatisfiable"],
    ["bytes=-", null],
    ["bytes=0-9,20-29", null],
    ["items=0-9", null],
    ["bytes=a-b", null],
  ];
  for (const [header, expected] of cases) {
    it(`reads ${JSON.stringify(header)} as ${JSON.stringify(expected)}`, () => {
      expect(parseRange(header, 100)).toEqual(expected);
    });
  }

  it("finds nothing to send in an empty file", () => {
    expect(parseRange("bytes=0-", 0)).toBe("unsatisfiable");
    expect(parseRange("bytes=-5", 0)).toBe("unsatisfiable");
  });

  it("writes the Content-Range of a partial answer", () => {
    expect(contentRange({ offset: 90, length: 10 }, 100)).toBe("bytes 90-99/100");
  });
});
