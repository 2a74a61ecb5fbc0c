import type { InvalidParameterError } from "../errors";

// The one search grammar of every MLflow search (registered models, model versions, runs,
// experiments, logged models): comparisons joined with AND, e.g.
//   name = 'm' AND version_number > 3 AND tags.`my key` LIKE 'x%' AND run_id IN ('a', 'b')
//   metrics.rmse < 1 AND params.alpha = '0.5' AND attributes.status = 'FINISHED'
// and order_by clauses such as `metrics.rmse ASC` or `last_updated_timestamp DESC`.
// This file reads the text: tokens, identifiers, comparators, values, clauses. Which keys,
// attributes and comparators an entity accepts is its vocabulary's business (search-filter.ts
// and order-by.ts for the registry, run-search.ts for tracking), and so is the condition it makes.

export type Comparator = "=" | "!=" | "<" | "<=" | ">" | ">=" | "LIKE" | "ILIKE" | "IN" | "NOT IN";

export const NUMBER_COMPARATORS: readonly Comparator[] = ["=", "!=", "<", "<=", ">", ">="];
export const STRING_COMPARATORS: readonly Comparator[] = ["=", "!=", "LIKE", "ILIKE"];
export const LIST_COMPARATORS: readonly Comparator[] = [...STRING_COMPARATORS, "IN", "NOT IN"];

export type ValueKind = "metric" | "param" | "tag" | "attribute";
/** What `dataset.<key>` compares in run search: a dataset input's name or digest, or its `mlflow.data.context` tag. */
export type DatasetKey = "name" | "digest" | "context";

/** One parsed comparison: what every search's SQL builder consumes. */
export type Condition =
  | { kind: "metric"; key: string; comparator: Comparator; value: number }
  | { kind: "param" | "tag"; key: string; comparator: Comparator; value: string | string[] }
  /** Matches a run when any of its dataset inputs matches, as MLflow joins them. */
  | { kind: "dataset"; key: DatasetKey; comparator: Comparator; value: string | string[] }
  | { kind: "attribute"; key: string; type: "string"; comparator: Comparator; value: string | string[] }
  | { kind: "attribute"; key: string; type: "number"; comparator: Comparator; value: number };

/** One parsed order_by term: what every search's SQL builder orders by. */
export interface OrderTerm<K extends string = string> {
  kind: ValueKind;
  /** A metric, param or tag key, or an attribute's canonical name. */
  key: K;
  ascending: boolean;
}

type Token =
  | { t: "word"; v: string }
  | { t: "quoted"; v: string; quote: "'" | '"' | "`" }
  | { t: "number"; v: number; text: string }
  | { t: "op"; v: string }
  | { t: "punct"; v: "(" | ")" | "," };

export const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
const WORD = /^[\p{L}\p{N}_.\-+/:]+/u;

/**
 * How a search words the errors the grammar itself finds. The registry's searches and the tracking
 * searches have always answered in their own words, and MLflow clients have seen both: kept as is.
 */
export interface Wording {
  /** The INVALID_PARAMETER_VALUE error for `message` about the text being read. */
  invalid(message: string): InvalidParameterError;
  /** How messages name the end of the text. */
  end: string;
  /** A metric, param, tag or attribute name was expected as token `index` (0-based), `got` came. */
  expectedName(got: string, index: number): string;
  expectedComparator(got: string): string;
  /** IN or NOT IN not followed by `(`. */
  listOpen: string;
}

function tokenize(input: string, w: Wording): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i] as string;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "'" || c === '"' || c === "`") {
      const end = input.indexOf(c, i + 1);
      if (end < 0) throw w.invalid(`unterminated quote starting at position ${i}`);
      tokens.push({ t: "quoted", v: input.slice(i + 1, end), quote: c });
      i = end + 1;
    } else if (c === "(" || c === ")" || c === ",") {
      tokens.push({ t: "punct", v: c });
      i++;
    } else if ("=!<>".includes(c)) {
      const two = input.slice(i, i + 2);
      const op = ["!=", "<=", ">=", "==", "<>"].includes(two) ? two : c;
      if (op === "!") throw w.invalid(`unexpected '!' at position ${i}`);
      tokens.push({ t: "op", v: op === "==" ? "=" : op === "<>" ? "!=" : op });
      i += op.length;
    } else {
      const match = WORD.exec(input.slice(i));
      if (!match) throw w.invalid(`unexpected character '${c}' at position ${i}`);
      const word = match[0];
      tokens.push(NUMBER.test(word) ? { t: "number", v: Number(word), text: word } : { t: "word", v: word });
      i += word.length;
    }
  }
  return tokens;
}

const show = (tok: Token | undefined, w: Wording) =>
  tok === undefined ? w.end : tok.t === "number" ? tok.text : String(tok.v);

/** A name as written: `metrics.rmse`, `tags.`my key``, `params."p"`, `attributes.status` or a bare `name`. */
export interface Identifier {
  /** The part before the first `.` (as written), or null for a bare or quoted name. */
  prefix: string | null;
  /** The part after it (a quoted key unquoted, "" when none follows), or the whole bare name. */
  key: string;
  /** Whether a quoted key followed `prefix.`. */
  quotedKey: boolean;
  /** As written, for error messages. */
  text: string;
}

/**
 * `prefix.key`, `prefix.` followed by a quoted key (MLflow strips quotes and backticks from keys:
 * SearchUtils._get_identifier), or a bare name, backticked or double-quoted if need be.
 */
function readIdentifier(tokens: Token[], pos: number, w: Wording): { id: Identifier; next: number } {
  const tok = tokens[pos];
  if (tok?.t === "quoted" && tok.quote !== "'")
    return { id: { prefix: null, key: tok.v, quotedKey: false, text: tok.v }, next: pos + 1 };
  if (tok?.t !== "word") throw w.invalid(w.expectedName(show(tok, w), pos));
  const dot = tok.v.indexOf(".");
  if (dot < 0) return { id: { prefix: null, key: tok.v, quotedKey: false, text: tok.v }, next: pos + 1 };
  const prefix = tok.v.slice(0, dot);
  const key = tok.v.slice(dot + 1);
  const quoted = tokens[pos + 1];
  if (key === "" && quoted?.t === "quoted")
    return { id: { prefix, key: quoted.v, quotedKey: true, text: `${prefix}.${quoted.v}` }, next: pos + 2 };
  return { id: { prefix, key, quotedKey: false, text: tok.v }, next: pos + 1 };
}

function readComparator(tokens: Token[], pos: number, w: Wording): { comparator: Comparator; next: number } {
  const tok = tokens[pos];
  if (tok?.t === "op") return { comparator: tok.v as Comparator, next: pos + 1 };
  if (tok?.t === "word") {
    const word = tok.v.toUpperCase();
    if (word === "LIKE" || word === "ILIKE" || word === "IN") return { comparator: word, next: pos + 1 };
    const after = tokens[pos + 1];
    if (word === "NOT" && after?.t === "word" && after.v.toUpperCase() === "IN")
      return { comparator: "NOT IN", next: pos + 2 };
  }
  throw w.invalid(w.expectedComparator(show(tok, w)));
}

/** A value as written: a quoted string, a number (`text` as written) or an IN list of quoted strings. */
export type RawValue =
  | { kind: "string"; v: string }
  | { kind: "number"; v: number; text: string }
  | { kind: "list"; v: string[] };

function readValue(tokens: Token[], pos: number, list: boolean, w: Wording): { value: RawValue; next: number } {
  if (list) {
    const open = tokens[pos];
    if (open?.t !== "punct" || open.v !== "(") throw w.invalid(w.listOpen);
    const values: string[] = [];
    let i = pos + 1;
    for (;;) {
      const tok = tokens[i];
      if (tok?.t !== "quoted" || tok.quote === "`")
        throw w.invalid("IN expects a parenthesised list of quoted strings");
      values.push(tok.v);
      const sep = tokens[i + 1];
      if (sep?.t === "punct" && sep.v === ",") i += 2;
      else if (sep?.t === "punct" && sep.v === ")") return { value: { kind: "list", v: values }, next: i + 2 };
      else throw w.invalid("unterminated IN list");
    }
  }
  const tok = tokens[pos];
  if (tok?.t === "quoted" && tok.quote !== "`") return { value: { kind: "string", v: tok.v }, next: pos + 1 };
  if (tok?.t === "number") return { value: { kind: "number", v: tok.v, text: tok.text }, next: pos + 1 };
  throw w.invalid(`expected a quoted string or a number, got '${show(tok, w)}'`);
}

/** `value` as written, for "must be compared with ..." messages. */
export const written = (value: RawValue): string =>
  value.kind === "number" ? value.text : value.kind === "string" ? value.v : value.v.join(",");

/** A vocabulary: turns one comparison into its entity's condition, or refuses it naming the part. */
export interface Vocabulary<C> {
  wording: Wording;
  condition(id: Identifier, comparator: Comparator, value: RawValue): C;
  /** How many conditions one filter may join (D1 binds at most 100 parameters). */
  maxConditions?: number;
}

/** Reads a filter; anything outside the grammar is INVALID_PARAMETER_VALUE naming the part. */
export function parseFilter<C>(filter: string | undefined, vocabulary: Vocabulary<C>): C[] {
  if (!filter || filter.trim() === "") return [];
  const w = vocabulary.wording;
  const tokens = tokenize(filter, w);
  const conditions: C[] = [];
  let pos = 0;
  for (;;) {
    const id = readIdentifier(tokens, pos, w);
    const cmp = readComparator(tokens, id.next, w);
    const val = readValue(tokens, cmp.next, cmp.comparator === "IN" || cmp.comparator === "NOT IN", w);
    conditions.push(vocabulary.condition(id.id, cmp.comparator, val.value));
    if (vocabulary.maxConditions !== undefined && conditions.length > vocabulary.maxConditions)
      throw w.invalid(`a filter can join at most ${vocabulary.maxConditions} conditions`);
    pos = val.next;
    const joiner = tokens[pos];
    if (joiner === undefined) return conditions;
    if (joiner.t === "word" && joiner.v.toUpperCase() === "AND") {
      pos++;
      continue;
    }
    if (joiner.t === "word" && joiner.v.toUpperCase() === "OR")
      throw w.invalid("OR is not supported; join conditions with AND");
    throw w.invalid(`expected AND after a condition, got '${show(joiner, w)}'`);
  }
}

/** One order_by clause as written: its name, then the words that followed it (a direction, or more). */
export interface OrderClause {
  id: Identifier;
  after: string[];
}

/** Reads one order_by clause, `<name> [ASC|DESC]`; null when it is empty. */
export function readOrderClause(clause: string, w: Wording): OrderClause | null {
  const tokens = tokenize(clause, w);
  if (tokens.length === 0) return null;
  const { id, next } = readIdentifier(tokens, 0, w);
  return { id, after: tokens.slice(next).map((t) => show(t, w)) };
}

/** `word` as an order direction, in any case; null if it is none. */
export function direction(word: string | undefined): "ASC" | "DESC" | null {
  const upper = word?.toUpperCase();
  return upper === "ASC" || upper === "DESC" ? upper : null;
}

/**
 * SQL LIKE in SQLite ignores case; MLflow's LIKE is case-sensitive. A GLOB pattern with the same
 * meaning is case-sensitive, so LIKE filters are translated to GLOB.
 */
export function likeToGlob(pattern: string): string {
  let out = "";
  for (const ch of pattern) {
    if (ch === "%") out += "*";
    else if (ch === "_") out += "?";
    else if (ch === "*" || ch === "?" || ch === "[") out += `[${ch}]`;
    else out += ch;
  }
  return out;
}
