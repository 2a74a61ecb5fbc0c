import { InvalidParameterError } from "../errors";
import {
  type Comparator,
  type Condition,
  type DatasetKey,
  direction,
  type Identifier,
  type OrderTerm,
  LIST_COMPARATORS,
  NUMBER,
  NUMBER_COMPARATORS,
  parseFilter,
  type RawValue,
  readOrderClause,
  STRING_COMPARATORS,
  type ValueKind,
  type Vocabulary,
  type Wording,
} from "./search-grammar";

// The vocabularies of MLflow's tracking searches (runs, experiments, logged models), read with the
// one search grammar (search-grammar.ts), e.g.
//   metrics.rmse < 1 AND params.alpha = '0.5' AND tags.`my key` LIKE 'x%' AND attributes.status = 'FINISHED'
//   dataset.name = 'houses' AND dataset.context IN ('training', 'eval')          (runs, MLflow 2.6+)
//   params.alpha IN ('0.1', '0.9') AND tags.stage NOT IN ('dev')                  (logged models, MLflow 3)
// and order_by clauses such as `metrics.rmse ASC` or `attributes.start_time DESC`.

export type { Comparator, Condition, DatasetKey, OrderTerm, ValueKind };
export type SearchEntity = "run" | "experiment" | "logged_model";
const DATASET_KEYS: readonly DatasetKey[] = ["name", "digest", "context"];
/** The dataset input tag `dataset.context` reads (mlflow.utils.mlflow_tags.MLFLOW_DATASET_CONTEXT). */
export const DATASET_CONTEXT_TAG = "mlflow.data.context";

// D1 binds at most 100 parameters per statement and each condition or sort key takes two or three,
// so a search takes at most this many of each (MLflow sets no limit; real filters are far shorter).
export const MAX_FILTER_CONDITIONS = 20;
export const MAX_ORDER_BY_TERMS = 10;

type AttributeType = "string" | "number";
interface AttributeSpec {
  key: string;
  type: AttributeType;
}
interface EntitySpec {
  /** Which of metrics, params, tags and (runs only) dataset inputs this entity can be filtered on. */
  kinds: (ValueKind | "dataset")[];
  /** Comparators for params and tags: MLflow 3's logged-model grammar adds IN and NOT IN. */
  keyValueComparators: readonly Comparator[];
  /** Lower-case name or alias → canonical attribute. */
  attributes: Record<string, AttributeSpec>;
  orderKinds: ValueKind[];
  orderAttributes: Record<string, string>;
}

const s = (key: string): AttributeSpec => ({ key, type: "string" });
const n = (key: string): AttributeSpec => ({ key, type: "number" });

const SPECS: Record<SearchEntity, EntitySpec> = {
  run: {
    kinds: ["metric", "param", "tag", "dataset"],
    keyValueComparators: STRING_COMPARATORS,
    attributes: {
      run_id: s("run_id"),
      run_name: s("run_name"),
      "run name": s("run_name"),
      status: s("status"),
      user_id: s("user_id"),
      artifact_uri: s("artifact_uri"),
      start_time: n("start_time"),
      created: n("start_time"),
      end_time: n("end_time"),
    },
    orderKinds: ["metric", "param", "tag"],
    orderAttributes: {
      start_time: "start_time",
      created: "start_time",
      end_time: "end_time",
      run_name: "run_name",
      "run name": "run_name",
      status: "status",
      user_id: "user_id",
      run_id: "run_id",
      artifact_uri: "artifact_uri",
      experiment_id: "experiment_id",
    },
  },
  experiment: {
    kinds: ["tag"],
    keyValueComparators: STRING_COMPARATORS,
    attributes: { name: s("name"), creation_time: n("creation_time"), last_update_time: n("last_update_time") },
    orderKinds: [],
    orderAttributes: {
      name: "name",
      experiment_id: "experiment_id",
      creation_time: "creation_time",
      last_update_time: "last_update_time",
    },
  },
  logged_model: {
    kinds: ["metric", "param", "tag"],
    // mlflow/utils/search_logged_model_utils.py: every non-numeric entity takes IN and NOT IN.
    keyValueComparators: LIST_COMPARATORS,
    attributes: {
      name: s("name"),
      model_id: s("model_id"),
      model_type: s("model_type"),
      status: s("status"),
      source_run_id: s("source_run_id"),
      creation_time: n("creation_timestamp"),
      creation_timestamp: n("creation_timestamp"),
      creation_timestamp_ms: n("creation_timestamp"),
      last_updated_timestamp: n("last_updated_timestamp"),
      last_updated_timestamp_ms: n("last_updated_timestamp"),
    },
    orderKinds: ["metric"],
    orderAttributes: {
      name: "name",
      model_id: "model_id",
      model_type: "model_type",
      status: "status",
      source_run_id: "source_run_id",
      creation_time: "creation_timestamp",
      creation_timestamp: "creation_timestamp",
      creation_timestamp_ms: "creation_timestamp",
      last_updated_timestamp: "last_updated_timestamp",
      last_updated_timestamp_ms: "last_updated_timestamp",
    },
  },
};

const PREFIXES: Record<string, ValueKind | "dataset"> = {
  metric: "metric",
  metrics: "metric",
  param: "param",
  params: "param",
  parameter: "param",
  parameters: "param",
  tag: "tag",
  tags: "tag",
  attribute: "attribute",
  attributes: "attribute",
  attr: "attribute",
  run: "attribute",
  dataset: "dataset",
  datasets: "dataset",
};

/** The tracking searches' wording of what the grammar refuses: `Invalid <what>: <message>`. */
const wording = (what: string): Wording => ({
  invalid: (message) => invalid(what, message),
  end: "end of input",
  expectedName: (got) => `expected a metric, param, tag or attribute name, got '${got}'`,
  expectedComparator: (got) => `expected a comparison operator, got '${got}'`,
  listOpen: "IN expects a parenthesised list of quoted strings",
});

const invalid = (what: string, message: string) => new InvalidParameterError(`Invalid ${what}: ${message}`);

/** What a name refers to: `metrics.x` a metric, a bare `name` an attribute; unknown prefixes are refused. */
interface Named {
  kind: ValueKind | "dataset";
  key: string;
  text: string;
}

function named(id: Identifier, what: string): Named {
  if (id.prefix === null) return { kind: "attribute", key: id.key, text: id.text };
  const kind = PREFIXES[id.prefix.toLowerCase()];
  if (!kind) {
    throw invalid(
      what,
      `'${id.text}' has an unknown entity type '${id.prefix}'; use metrics.<key>, params.<key>, tags.<key> or attributes.<name>`,
    );
  }
  if (id.key === "" && !id.quotedKey) throw invalid(what, `'${id.text}' is missing a key after the '.'`);
  if (id.key === "") throw invalid(what, `'${id.text}' has an empty key`);
  return { kind, key: id.key, text: id.text };
}

function resolveAttribute(spec: EntitySpec, id: Named, what: string): AttributeSpec {
  const attribute = spec.attributes[id.key.toLowerCase()];
  if (!attribute) {
    const names = [...new Set(Object.values(spec.attributes).map((a) => a.key))].join(", ");
    throw invalid(what, `unsupported attribute '${id.text}'; supported attributes: ${names}`);
  }
  return attribute;
}

function unsupportedKind(entity: SearchEntity, id: Named, what: string): never {
  const allowed = SPECS[entity].kinds.map((k) => `${k}s.<key>`);
  throw invalid(
    what,
    `'${id.text}' is not supported in ${entity.replace("_", " ")} search; use ${[...allowed, "attributes.<name>"].join(", ")}`,
  );
}

function checkComparator(comparator: Comparator, allowed: readonly Comparator[], id: Named, what: string): void {
  if (!allowed.includes(comparator)) {
    throw invalid(what, `'${comparator}' is not supported for '${id.text}'; use one of ${allowed.join(", ")}`);
  }
}

function toCondition(
  entity: SearchEntity,
  identifier: Identifier,
  comparator: Comparator,
  raw: RawValue,
  what: string,
): Condition {
  const spec = SPECS[entity];
  const id = named(identifier, what);
  const kind = id.kind;
  if (kind !== "attribute" && !spec.kinds.includes(kind)) unsupportedKind(entity, id, what);
  if (kind === "dataset") {
    const key = DATASET_KEYS.find((k) => k === id.key);
    if (!key)
      throw invalid(what, `invalid dataset key '${id.key}' in '${id.text}'; valid keys are ${DATASET_KEYS.join(", ")}`);
    checkComparator(comparator, LIST_COMPARATORS, id, what);
    if (raw.kind === "number")
      throw invalid(what, `'${id.text}' must be compared with a quoted string, got ${raw.text}`);
    return { kind, key, comparator, value: raw.v };
  }
  if (kind === "metric") {
    checkComparator(comparator, NUMBER_COMPARATORS, id, what);
    if (raw.kind !== "number") throw invalid(what, `'${id.text}' must be compared with a number, got '${raw.v}'`);
    return { kind, key: id.key, comparator, value: raw.v };
  }
  if (kind === "param" || kind === "tag") {
    checkComparator(comparator, spec.keyValueComparators, id, what);
    if (raw.kind === "number")
      throw invalid(what, `'${id.text}' must be compared with a quoted string, got ${raw.text}`);
    return { kind, key: id.key, comparator, value: raw.v };
  }
  const attribute = resolveAttribute(spec, id, what);
  if (attribute.type === "number") {
    checkComparator(comparator, NUMBER_COMPARATORS, id, what);
    const value =
      raw.kind === "number" ? raw.v : raw.kind === "string" && NUMBER.test(raw.v) ? Number(raw.v) : undefined;
    if (value === undefined) throw invalid(what, `'${id.text}' must be compared with a number, got '${raw.v}'`);
    return { kind: "attribute", key: attribute.key, type: "number", comparator, value };
  }
  checkComparator(comparator, LIST_COMPARATORS, id, what);
  if (raw.kind === "number") throw invalid(what, `'${id.text}' must be compared with a quoted string, got ${raw.text}`);
  return { kind: "attribute", key: attribute.key, type: "string", comparator, value: raw.v };
}

/** The vocabulary of `entity`'s filters. */
const filterVocabulary = (entity: SearchEntity, filter: string): Vocabulary<Condition> => {
  const what = `filter '${filter.length > 200 ? `${filter.slice(0, 200)}...` : filter}'`;
  return {
    wording: wording(what),
    condition: (id, comparator, value) => toCondition(entity, id, comparator, value, what),
    maxConditions: MAX_FILTER_CONDITIONS,
  };
};

/** Parses a search filter; anything outside the grammar is INVALID_PARAMETER_VALUE naming the part. */
export function parseTrackingFilter(filter: string | undefined, entity: SearchEntity): Condition[] {
  return parseFilter(filter, filterVocabulary(entity, filter ?? ""));
}

function toOrderTerm(entity: SearchEntity, identifier: Identifier, ascending: boolean, what: string): OrderTerm {
  const spec = SPECS[entity];
  const id = named(identifier, what);
  const kind = id.kind;
  if (kind === "attribute") {
    const key = spec.orderAttributes[id.key.toLowerCase()];
    if (!key) {
      throw invalid(
        what,
        `cannot order by '${id.text}'; attributes that order: ${[...new Set(Object.values(spec.orderAttributes))].join(", ")}`,
      );
    }
    return { kind, key, ascending };
  }
  if (kind === "dataset" || !spec.orderKinds.includes(kind)) {
    const kinds = spec.orderKinds.map((k) => `${k}s.<key>`);
    throw invalid(what, `cannot order by '${id.text}'; use ${[...kinds, "attributes.<name>"].join(", ")}`);
  }
  return { kind, key: id.key, ascending };
}

function checkOrderByCount(count: number): void {
  if (count > MAX_ORDER_BY_TERMS) {
    throw new InvalidParameterError(
      `Invalid order_by: at most ${MAX_ORDER_BY_TERMS} clauses are supported, got ${count}.`,
    );
  }
}

/** Parses order_by clauses such as `metrics.rmse ASC` or `attributes.start_time DESC` (default ASC). */
export function parseTrackingOrderBy(clauses: string[] | undefined, entity: SearchEntity): OrderTerm[] {
  checkOrderByCount(clauses?.length ?? 0);
  return (clauses ?? []).map((clause) => {
    const what = `order_by clause '${clause}'`;
    const read = readOrderClause(clause, wording(what));
    if (!read) throw invalid(what, "it is empty");
    const [first, ...more] = read.after;
    const dir = direction(first);
    if (first !== undefined && (dir === null || more.length > 0))
      throw invalid(what, `unexpected '${first}'; expected '<name> [ASC|DESC]'`);
    return toOrderTerm(entity, read.id, dir !== "DESC", what);
  });
}

/** Logged-model search sends order_by as objects: `{field_name, ascending}`. */
export function parseLoggedModelOrderBy(
  clauses: { fieldName: string; ascending?: boolean }[] | undefined,
): OrderTerm[] {
  checkOrderByCount(clauses?.length ?? 0);
  return (clauses ?? []).map((clause) => {
    const what = `order_by field '${clause.fieldName}'`;
    const w = wording(what);
    const read = readOrderClause(clause.fieldName, w);
    if (!read) throw w.invalid(w.expectedName(w.end, 0));
    if (read.after.length > 0) throw invalid(what, `unexpected '${read.after[0]}'`);
    return toOrderTerm("logged_model", read.id, clause.ascending ?? true, what);
  });
}
