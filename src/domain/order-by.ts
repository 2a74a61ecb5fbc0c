import { InvalidParameterError } from "../errors";
import { ATTRIBUTE_PREFIXES, REGISTRY_WORDING, type SearchEntity } from "./search-filter";
import { direction, type OrderTerm as GrammarOrderTerm, readOrderClause } from "./search-grammar";

/** What registry searches order by: an attribute of every row. */
export type SortField = "name" | "version_number" | "creation_timestamp" | "last_updated_timestamp";
/** A registry order term: the one search grammar's term, on an attribute the registry sorts by. */
export type OrderTerm = GrammarOrderTerm<SortField> & { kind: "attribute" };

const term = (key: SortField, ascending: boolean): OrderTerm => ({ kind: "attribute", key, ascending });

const FIELDS: Record<SearchEntity, Record<string, SortField>> = {
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

/** Parses MLflow order_by clauses such as `name ASC` or `last_updated_timestamp DESC`, with the one search grammar. */
export function parseOrderBy(clauses: string[] | undefined, entity: SearchEntity): OrderTerm[] {
  return (clauses ?? []).map((clause) => {
    const invalid = (why?: string) =>
      new InvalidParameterError(`Invalid order_by clause '${clause}'${why === undefined ? "" : `: ${why}`}.`);
    const unknown = () => invalid(`can only order by ${Object.keys(FIELDS[entity]).join(", ")}`);
    // A clause the grammar cannot read names no field the registry orders by.
    const read = readOrderClause(clause, { ...REGISTRY_WORDING, invalid: unknown });
    if (!read || read.after.length > 1) throw invalid();
    const { prefix, key, text } = read.id;
    const name = prefix === null || ATTRIBUTE_PREFIXES.includes(prefix.toLowerCase()) ? key : text;
    const field = FIELDS[entity][name.toLowerCase()];
    if (!field) throw unknown();
    const [word] = read.after;
    const dir = word === undefined ? "ASC" : direction(word);
    if (dir === null) throw invalid("direction must be ASC or DESC");
    return term(field, dir === "ASC");
  });
}

/** What a search row is sorted by: the fields every order term can name. */
export interface Sortable {
  name: string;
  creationTime: number;
  lastUpdatedTime: number;
  /** A version's number; models have none (and cannot be ordered by it). */
  version?: number;
}

export type SortValue = string | number;

/**
 * The order a search answers in: the terms asked for (a field named twice counts once, where it
 * first appears), then MLflow's tiebreakers, which make the order total so that a page can start
 * right after the last row of the one before (keyset paging). Versions without terms come newest
 * update first, as in MLflow's store; a version is unique by (name, version), a model by name.
 */
export function completeOrder(entity: SearchEntity, terms: OrderTerm[]): OrderTerm[] {
  const asked: OrderTerm[] =
    entity === "model_version" && terms.length === 0 ? [term("last_updated_timestamp", false)] : terms;
  const tiebreakers: OrderTerm[] =
    entity === "model_version" ? [term("name", true), term("version_number", false)] : [term("name", true)];
  const seen = new Set<SortField>();
  return [...asked, ...tiebreakers].filter((t) => !seen.has(t.key) && seen.add(t.key));
}

/** A row's values for `order`'s fields, in order: what a page token carries of a page's last row. */
export function sortKeyOf(order: OrderTerm[], row: Sortable): SortValue[] {
  const value: Record<SortField, SortValue> = {
    name: row.name,
    version_number: row.version ?? 0,
    creation_timestamp: row.creationTime,
    last_updated_timestamp: row.lastUpdatedTime,
  };
  return order.map((t) => value[t.key]);
}
