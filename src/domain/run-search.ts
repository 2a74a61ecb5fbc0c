import { InvalidParameterError } from "../errors";

// The search grammar of MLflow's tracking searches (runs, experiments, logged models): comparisons
// joined with AND, e.g.
//   metrics.rmse < 1 AND params.alpha = '0.5' AND tags.`my key` LIKE 'x%' AND attributes.status = 'FINISHED'
//   dataset.name = 'houses' AND dataset.context IN ('training', 'eval')          (runs, MLflow 2.6+)
//   params.alpha IN ('0.1', '0.9') AND tags.stage NOT IN ('dev')                  (logged models, MLflow 3)
// and order_by clauses such as `metrics.rmse ASC` or `attributes.start_time DESC`.
// (Registry searches have their own, smaller grammar in search-filter.ts.)

export type Comparator = "=" | "!=" | "<" | "<=" | ">" | ">=" | "LIKE" | "ILIKE" | "IN" | "NOT IN";
export type SearchEntity = "run" | "experiment" | "logged_model";
export type ValueKind = "metric" | "param" | "tag" | "attribute";
/** What `dataset.<key>` compares in run search: a dataset input's name or digest, or its `mlflow.data.context` tag. */
export type DatasetKey = "name" | "digest" | "context";
const DATASET_KEYS: readonly DatasetKey[] = ["name", "digest", "context"];
/** The dataset input tag `dataset.context` reads (mlflow.utils.mlflow_tags.MLFLOW_DATASET_CONTEXT). */
export const DATASET_CONTEXT_TAG = "mlflow.data.context";

export type Condition =
  | { kind: "metric"; key: string; comparator: Comparator; value: number }
  | { kind: "param" | "tag"; key: string; comparator: Comparator; value: string | string[] }
  /** Matches a run when any of its dataset inputs matches, as MLflow joins them. */
  | { kind: "dataset"; key: DatasetKey; comparator: Comparator; value: string | string[] }
  | { kind: "attribute"; key: string; type: "string"; comparator: Comparator; value: string | string[] }
  | { kind: "attribute"; key: string; type: "number"; comparator: Comparator; value: number };

export interface OrderTerm {
  kind: ValueKind;
  /** A metric, param or tag key, or an attribute's canonical name. */
  key: string;
  ascending: boolean;
}

// D1 binds at most 100 parameters per statement and each condition or sort key takes two or three,
// so a search takes at most this many of each (MLflow sets no limit; real filters are far shorter).
export const MAX_FILTER_CONDITIONS = 20;
export const MAX_ORDER_BY_TERMS = 10;

const NUMBER_COMPARATORS: Comparator[] = ["=", "!=", "<", "<=", ">", ">="];
const STRING_COMPARATORS: Comparator[] = ["=", "!=", "LIKE", "ILIKE"];
const LIST_COMPARATORS: Comparator[] = [...STRING_COMPARATORS, "IN", "NOT IN"];

type AttributeType = "string" | "number";
interface AttributeSpec {
  key: string;
  type: AttributeType;
}
interface EntitySpec {
  /** Which of metrics, params, tags and (runs only) dataset inputs this entity can be filtered on. */
  kinds: (ValueKind | "dataset")[];
  /** Comparators for params and tags: MLflow 3's logged-model grammar adds IN and NOT IN. */
  keyValueComparators: Comparator[];
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

type Token =
  | { t: "word"; v: string }
  | { t: "quoted"; v: string; quote: "'" | '"' | "`" }
  | { t: "number"; v: number; text: string }
  | { t: "op"; v: string }
  | { t: "punct"; v: "(" | ")" | "," };

const invalid = (what: string, message: string) => new InvalidParameterError(`Invalid ${what}: ${message}`);
const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
const WORD = /^[\p{L}\p{N}_.\-+/:]+/u;

function tokenize(input: string, what: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c === "'" || c === '"' || c === "`") {
      const end = input.indexOf(c, i + 1);
      if (end < 0) throw invalid(what, `unterminated quote starting at position ${i}`);
      tokens.push({ t: "quoted", v: input.slice(i + 1, end), quote: c });
      i = end + 1;
    } else if (c === "(" || c === ")" || c === ",") {
      tokens.push({ t: "punct", v: c });
      i++;
    } else if ("=!<>".includes(c)) {
      const two = input.slice(i, i + 2);
      const op = ["!=", "<=", ">=", "==", "<>"].includes(two) ? two : c;
      if (op === "!") throw invalid(what, `unexpected '!' at position ${i}`);
      tokens.push({ t: "op", v: op === "==" ? "=" : op === "<>" ? "!=" : op });
      i += op.length;
    } else {
      const match = WORD.exec(input.slice(i));
      if (!match) throw invalid(what, `unexpected character '${c}' at position ${i}`);
      const word = match[0];
      tokens.push(NUMBER.test(word) ? { t: "number", v: Number(word), text: word } : { t: "word", v: word });
      i += word.length;
    }
  }
  return tokens;
}

const show = (tok: Token | undefined) =>
  tok === undefined ? "end of input" : tok.t === "number" ? tok.text : String(tok.v);

interface Identifier {
  kind: ValueKind | "dataset" | "bare";
  key: string;
  /** As written, for error messages. */
  text: string;
}

/** `metrics.rmse`, `tags.`my key``, `params."p"`, `attributes.status` or a bare `name`. */
function readIdentifier(tokens: Token[], pos: number, what: string): { id: Identifier; next: number } {
  const tok = tokens[pos];
  if (tok?.t === "quoted" && tok.quote !== "'") return { id: { kind: "bare", key: tok.v, text: tok.v }, next: pos + 1 };
  if (tok?.t !== "word") throw invalid(what, `expected a metric, param, tag or attribute name, got '${show(tok)}'`);
  const dot = tok.v.indexOf(".");
  if (dot < 0) return { id: { kind: "bare", key: tok.v, text: tok.v }, next: pos + 1 };
  const prefix = tok.v.slice(0, dot);
  const kind = PREFIXES[prefix.toLowerCase()];
  if (!kind) {
    throw invalid(
      what,
      `'${tok.v}' has an unknown entity type '${prefix}'; use metrics.<key>, params.<key>, tags.<key> or attributes.<name>`,
    );
  }
  let key = tok.v.slice(dot + 1);
  let next = pos + 1;
  if (key === "") {
    const quoted = tokens[next];
    if (quoted?.t !== "quoted" || quoted.quote === "'")
      throw invalid(what, `'${tok.v}' is missing a key after the '.'`);
    key = quoted.v;
    next++;
  }
  if (key === "") throw invalid(what, `'${tok.v}' has an empty key`);
  return { id: { kind, key, text: `${prefix}.${key}` }, next };
}

function readComparator(tokens: Token[], pos: number, what: string): { comparator: Comparator; next: number } {
  const tok = tokens[pos];
  if (tok?.t === "op") return { comparator: tok.v as Comparator, next: pos + 1 };
  if (tok?.t === "word") {
    const word = tok.v.toUpperCase();
    if (word === "LIKE" || word === "ILIKE" || word === "IN") return { comparator: word, next: pos + 1 };
    const after = tokens[pos + 1];
    if (word === "NOT" && after?.t === "word" && after.v.toUpperCase() === "IN")
      return { comparator: "NOT IN", next: pos + 2 };
  }
  throw invalid(what, `expected a comparison operator, got '${show(tok)}'`);
}

type RawValue =
  | { kind: "string"; v: string }
  | { kind: "number"; v: number; text: string }
  | { kind: "list"; v: string[] };

function readValue(tokens: Token[], pos: number, list: boolean, what: string): { value: RawValue; next: number } {
  if (list) {
    if (tokens[pos]?.t !== "punct" || tokens[pos].v !== "(")
      throw invalid(what, "IN expects a parenthesised list of quoted strings");
    const values: string[] = [];
    let i = pos + 1;
    for (;;) {
      const tok = tokens[i];
      if (tok?.t !== "quoted" || tok.quote === "`")
        throw invalid(what, "IN expects a parenthesised list of quoted strings");
      values.push(tok.v);
      const sep = tokens[i + 1];
      if (sep?.t === "punct" && sep.v === ",") i += 2;
      else if (sep?.t === "punct" && sep.v === ")") return { value: { kind: "list", v: values }, next: i + 2 };
      else throw invalid(what, "unterminated IN list");
    }
  }
  const tok = tokens[pos];
  if (tok?.t === "quoted" && tok.quote !== "`") return { value: { kind: "string", v: tok.v }, next: pos + 1 };
  if (tok?.t === "number") return { value: { kind: "number", v: tok.v, text: tok.text }, next: pos + 1 };
  throw invalid(what, `expected a quoted string or a number, got '${show(tok)}'`);
}

function resolveAttribute(spec: EntitySpec, id: Identifier, what: string): AttributeSpec {
  const attribute = spec.attributes[id.key.toLowerCase()];
  if (!attribute) {
    const names = [...new Set(Object.values(spec.attributes).map((a) => a.key))].join(", ");
    throw invalid(what, `unsupported attribute '${id.text}'; supported attributes: ${names}`);
  }
  return attribute;
}

function unsupportedKind(entity: SearchEntity, id: Identifier, what: string): never {
  const allowed = SPECS[entity].kinds.map((k) => `${k}s.<key>`);
  throw invalid(
    what,
    `'${id.text}' is not supported in ${entity.replace("_", " ")} search; use ${[...allowed, "attributes.<name>"].join(", ")}`,
  );
}

function checkComparator(comparator: Comparator, allowed: Comparator[], id: Identifier, what: string): void {
  if (!allowed.includes(comparator)) {
    throw invalid(what, `'${comparator}' is not supported for '${id.text}'; use one of ${allowed.join(", ")}`);
  }
}

function toCondition(
  entity: SearchEntity,
  id: Identifier,
  comparator: Comparator,
  raw: RawValue,
  what: string,
): Condition {
  const spec = SPECS[entity];
  const kind = id.kind === "bare" ? "attribute" : id.kind;
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

/** Parses a search filter; anything outside the grammar is INVALID_PARAMETER_VALUE naming the part. */
export function parseTrackingFilter(filter: string | undefined, entity: SearchEntity): Condition[] {
  if (!filter || filter.trim() === "") return [];
  const what = `filter '${filter.length > 200 ? `${filter.slice(0, 200)}...` : filter}'`;
  const tokens = tokenize(filter, what);
  const conditions: Condition[] = [];
  let pos = 0;
  for (;;) {
    const id = readIdentifier(tokens, pos, what);
    const cmp = readComparator(tokens, id.next, what);
    const val = readValue(tokens, cmp.next, cmp.comparator === "IN" || cmp.comparator === "NOT IN", what);
    conditions.push(toCondition(entity, id.id, cmp.comparator, val.value, what));
    if (conditions.length > MAX_FILTER_CONDITIONS)
      throw invalid(what, `a filter can join at most ${MAX_FILTER_CONDITIONS} conditions`);
    pos = val.next;
    if (pos >= tokens.length) return conditions;
    const joiner = tokens[pos];
    if (joiner.t === "word" && joiner.v.toUpperCase() === "AND") {
      pos++;
      continue;
    }
    if (joiner.t === "word" && joiner.v.toUpperCase() === "OR")
      throw invalid(what, "OR is not supported; join conditions with AND");
    throw invalid(what, `expected AND after a condition, got '${show(joiner)}'`);
  }
}

function toOrderTerm(entity: SearchEntity, id: Identifier, ascending: boolean, what: string): OrderTerm {
  const spec = SPECS[entity];
  const kind = id.kind === "bare" ? "attribute" : id.kind;
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
    const tokens = tokenize(clause, what);
    if (tokens.length === 0) throw invalid(what, "it is empty");
    let ascending = true;
    const last = tokens[tokens.length - 1];
    if (last.t === "word" && ["ASC", "DESC"].includes(last.v.toUpperCase())) {
      ascending = last.v.toUpperCase() === "ASC";
      tokens.pop();
    }
    const { id, next } = readIdentifier(tokens, 0, what);
    if (next !== tokens.length) throw invalid(what, `unexpected '${show(tokens[next])}'; expected '<name> [ASC|DESC]'`);
    return toOrderTerm(entity, id, ascending, what);
  });
}

/** Logged-model search sends order_by as objects: `{field_name, ascending}`. */
export function parseLoggedModelOrderBy(
  clauses: { fieldName: string; ascending?: boolean }[] | undefined,
): OrderTerm[] {
  checkOrderByCount(clauses?.length ?? 0);
  return (clauses ?? []).map((clause) => {
    const what = `order_by field '${clause.fieldName}'`;
    const tokens = tokenize(clause.fieldName, what);
    const { id, next } = readIdentifier(tokens, 0, what);
    if (next !== tokens.length) throw invalid(what, `unexpected '${show(tokens[next])}'`);
    return toOrderTerm("logged_model", id, clause.ascending ?? true, what);
  });
}
