import { InvalidParameterError } from "../errors";
import type { SearchEntity } from "./search-filter";

export interface OrderTerm {
  field: "name" | "version_number" | "creation_timestamp" | "last_updated_timestamp";
  direction: "ASC" | "DESC";
}

const FIELDS: Record<SearchEntity, Record<string, OrderTerm["field"]>> = {
  registered_model: {
    name: "name",
    timestamp: "last_updated_timestamp",
    last_updated_timestamp: "last_updated_timestamp",
    creation_timestamp: "creation_timestamp",
  },
  model_version: {
    name: "name",
    version_number: "version_number",
    timestamp: "creation_timestamp",
    creation_timestamp: "creation_timestamp",
    last_updated_timestamp: "last_updated_timestamp",
  },
};

/** Parses MLflow order_by clauses such as `name ASC` or `last_updated_timestamp DESC`. */
export function parseOrderBy(clauses: string[] | undefined, entity: SearchEntity): OrderTerm[] {
  return (clauses ?? []).map((clause) => {
    const parts = clause.trim().split(/\s+/);
    if (parts.length === 0 || parts.length > 2 || parts[0] === "") {
      throw new InvalidParameterError(`Invalid order_by clause '${clause}'.`);
    }
    const key = parts[0].replace(/^attributes\./i, "").toLowerCase();
    const field = FIELDS[entity][key];
    if (!field) {
      throw new InvalidParameterError(
        `Invalid order_by clause '${clause}': can only order by ${Object.keys(FIELDS[entity]).join(", ")}.`,
      );
    }
    const direction = (parts[1] ?? "ASC").toUpperCase();
    if (direction !== "ASC" && direction !== "DESC") {
      throw new InvalidParameterError(`Invalid order_by clause '${clause}': direction must be ASC or DESC.`);
    }
    return { field, direction };
  });
}
