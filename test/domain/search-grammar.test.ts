import { describe, expect, it } from "vitest";
import { InvalidParameterError } from "../../src/errors";
import { parseOrderBy } from "../../src/domain/order-by";
import { parseTrackingFilter, parseTrackingOrderBy } from "../../src/domain/run-search";
import { parseSearchFilter } from "../../src/domain/search-filter";

// One grammar reads every search: the registry's and the tracking searches read the same syntax,
// each with its own vocabulary and in the words its clients have always seen.

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidParameterError);
    return (error as Error).message;
  }
  throw new Error("expected the call to throw");
}

describe("one search grammar", () => {
  it.each([["tags.`my key` = 'v'"], [`tags."my key" = 'v'`], ["tags.'my key' = 'v'"], ["tags.`my key` == 'v'"]])(
    "reads the tag comparison %s the same for models, versions, runs, experiments and logged models",
    (filter) => {
      const expected = { kind: "tag", key: "my key", comparator: "=", value: "v" };
      expect(parseSearchFilter(filter, "registered_model")).toEqual([expected]);
      expect(parseSearchFilter(filter, "model_version")).toEqual([expected]);
      for (const entity of ["run", "experiment", "logged_model"] as const)
        expect(parseTrackingFilter(filter, entity)).toEqual([expected]);
    },
  );

  it("reads `<>` as != and numbers in every notation, for every entity", () => {
    expect(parseSearchFilter("version_number <> 1e1", "model_version")).toEqual([
      { kind: "attribute", key: "version_number", type: "number", comparator: "!=", value: 10 },
    ]);
    expect(parseTrackingFilter("metrics.m <> 1e1", "run")).toEqual([
      { kind: "metric", key: "m", comparator: "!=", value: 10 },
    ]);
  });

  it.each([
    ["name = 'a' OR name = 'b'", "OR is not supported; join conditions with AND"],
    ["name = 'a' name = 'b'", "expected AND after a condition, got 'name'"],
    ["name = 'open", "unterminated quote starting at position 7"],
    ["name ~ 'a'", "unexpected character '~' at position 5"],
  ])("refuses %s with the same reason everywhere, in each search's own words", (filter, reason) => {
    expect(message(() => parseSearchFilter(filter, "registered_model"))).toBe(`Invalid filter: ${reason}`);
    expect(message(() => parseTrackingFilter(filter, "experiment"))).toBe(`Invalid filter '${filter}': ${reason}`);
  });

  it("keeps each search's wording of a missing name, comparator and value", () => {
    expect(message(() => parseSearchFilter("(name = 'a')", "registered_model"))).toBe(
      "Invalid filter: expected an attribute or tag name at token 1",
    );
    expect(message(() => parseTrackingFilter("(name = 'a')", "run"))).toBe(
      "Invalid filter '(name = 'a')': expected a metric, param, tag or attribute name, got '('",
    );
    expect(message(() => parseSearchFilter("name 'x'", "registered_model"))).toBe(
      "Invalid filter: expected a comparison operator after the key, got 'x'",
    );
    expect(message(() => parseTrackingFilter("name 'x'", "run"))).toBe(
      "Invalid filter 'name 'x'': expected a comparison operator, got 'x'",
    );
    expect(message(() => parseSearchFilter("name =", "registered_model"))).toBe(
      "Invalid filter: expected a quoted string or a number, got 'end of filter'",
    );
    expect(message(() => parseTrackingFilter("name =", "run"))).toBe(
      "Invalid filter 'name =': expected a quoted string or a number, got 'end of input'",
    );
  });

  it("reads order_by clauses with the same grammar into the same terms: quoted names, any-case directions", () => {
    const expected = [{ kind: "attribute", key: "name", ascending: false }];
    expect(parseOrderBy(["`name` desc"], "registered_model")).toEqual(expected);
    expect(parseTrackingOrderBy(["`name` desc"], "experiment")).toEqual(expected);
    expect(message(() => parseOrderBy(["name ASC extra"], "registered_model"))).toBe(
      "Invalid order_by clause 'name ASC extra'.",
    );
    expect(message(() => parseTrackingOrderBy(["name ASC extra"], "experiment"))).toBe(
      "Invalid order_by clause 'name ASC extra': unexpected 'ASC'; expected '<name> [ASC|DESC]'",
    );
  });
});
