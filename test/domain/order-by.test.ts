import { describe, expect, it } from "vitest";
import { InvalidParameterError } from "../../src/errors";
import { parseOrderBy, type OrderTerm } from "../../src/domain/order-by";
import type { SearchEntity } from "../../src/domain/search-filter";

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected the call to throw");
}

describe("order_by parsing", () => {
  it.each<SearchEntity>(["registered_model", "model_version"])(
    "orders by nothing when no clause is given (%s)",
    (entity) => {
      expect(parseOrderBy(undefined, entity)).toEqual([]);
      expect(parseOrderBy([], entity)).toEqual([]);
    },
  );

  it.each<[SearchEntity, string, OrderTerm]>([
    ["registered_model", "name", { kind: "attribute", key: "name", ascending: true }],
    ["registered_model", "name ASC", { kind: "attribute", key: "name", ascending: true }],
    ["registered_model", "name DESC", { kind: "attribute", key: "name", ascending: false }],
    ["registered_model", "name desc", { kind: "attribute", key: "name", ascending: false }],
    ["registered_model", "  name   DESC  ", { kind: "attribute", key: "name", ascending: false }],
    ["registered_model", "NAME asc", { kind: "attribute", key: "name", ascending: true }],
    ["registered_model", "timestamp", { kind: "attribute", key: "last_updated_timestamp", ascending: true }],
    ["registered_model", "timestamp DESC", { kind: "attribute", key: "last_updated_timestamp", ascending: false }],
    [
      "registered_model",
      "last_updated_timestamp DESC",
      { kind: "attribute", key: "last_updated_timestamp", ascending: false },
    ],
    ["registered_model", "attributes.name DESC", { kind: "attribute", key: "name", ascending: false }],
    ["model_version", "name", { kind: "attribute", key: "name", ascending: true }],
    ["model_version", "version_number", { kind: "attribute", key: "version_number", ascending: true }],
    ["model_version", "version_number DESC", { kind: "attribute", key: "version_number", ascending: false }],
    ["model_version", "creation_timestamp ASC", { kind: "attribute", key: "creation_timestamp", ascending: true }],
    ["model_version", "creation_timestamp DESC", { kind: "attribute", key: "creation_timestamp", ascending: false }],
    ["model_version", "last_updated_timestamp", { kind: "attribute", key: "last_updated_timestamp", ascending: true }],
    [
      "model_version",
      "last_updated_timestamp DESC",
      { kind: "attribute", key: "last_updated_timestamp", ascending: false },
    ],
  ])("reads %s clause %j", (entity, clause, term) => {
    expect(parseOrderBy([clause], entity)).toEqual([term]);
  });

  it("keeps several clauses in the order given", () => {
    expect(parseOrderBy(["name ASC", "version_number DESC", "last_updated_timestamp"], "model_version")).toEqual([
      { kind: "attribute", key: "name", ascending: true },
      { kind: "attribute", key: "version_number", ascending: false },
      { kind: "attribute", key: "last_updated_timestamp", ascending: true },
    ]);
  });

  it.each<[SearchEntity, string, string]>([
    ["registered_model", "", "Invalid order_by clause ''"],
    ["registered_model", "   ", "Invalid order_by clause '   '"],
    ["registered_model", "name ASC extra", "Invalid order_by clause 'name ASC extra'"],
    ["registered_model", "name SIDEWAYS", "direction must be ASC or DESC"],
    ["registered_model", "version_number", "can only order by"],
    ["registered_model", "run_id DESC", "can only order by"],
    ["registered_model", "tags.team", "can only order by"],
    ["model_version", "source_path", "can only order by"],
    ["model_version", "current_stage DESC", "can only order by"],
    ["model_version", "version_number UP", "direction must be ASC or DESC"],
  ])("rejects %s clause %j as INVALID_PARAMETER_VALUE", (entity, clause, fragment) => {
    const error = thrown(() => parseOrderBy([clause], entity));
    expect(error).toBeInstanceOf(InvalidParameterError);
    expect((error as InvalidParameterError).code).toBe("INVALID_PARAMETER_VALUE");
    expect((error as Error).message).toContain(fragment);
  });

  it("names the offending clause when a later clause is bad", () => {
    const error = thrown(() => parseOrderBy(["name", "bogus DESC"], "registered_model"));
    expect((error as Error).message).toContain("'bogus DESC'");
  });
});
