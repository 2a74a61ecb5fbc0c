import { InvalidParameterError } from "../errors";

// The search-filter grammar MLflow clients send to registered-models/search and
// model-versions/search: comparisons joined with AND, e.g.
//   name = 'm' AND version_number > 3 AND tags.`my key` LIKE 'x%' AND run_id IN ('a', 'b')

export type Comparator = "=" | "!=" | "<" | "<=" | ">" | ">=" | "LIKE" | "ILIKE" | "IN" | "NOT IN";

export type Condition =
  | { kind: "attribute"; key: string; comparator: Comparator; value: string | number | string[] }
  | { kind: "tag"; key: string; comparator: Comparator; value: string };

export type SearchEntity = "registered_model" | "model_version";

const STRING_COMPARATORS: Comparator[] = ["=", "!=", "LIKE", "ILIKE"];
const NUMBER_COMPARATORS: Comparator[] = ["=", "!=", "<", "<=", ">", ">="];

type AttributeRule = { type: "string" | "number"; comparators: Comparator[] };

const ATTRIBUTES: Record<SearchEntity, Record<string, AttributeRule>> = {
  registered_model: {
    name: { type: "string", comparators: STRING_COMPARATORS },
  },
  model_version: {
    name: { type: "string", comparators: STRING_COMPARATORS },
    version_number: { type: "number", comparators: NUMBER_COMPARATORS },
    run_id: { type: "string", comparators: [...STRING_COMPARATORS, "IN", "NOT IN"] },
    source_path: { type: "string", comparators: STRING_COMPARATORS },
  },
};

type Token =
  | { t: "ident"; v: string }
  | { t: "string"; v: string }
  | { t: "number"; v: number }
  | { t: "op"; v: string }
  | { t: "punct"; v: "(" | ")" | "," };

const invalid = (message: string) => new InvalidParameterError(`Invalid filter: ${message}`);

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c === "'" || c === '"' || c === "`") {
      const end = input.indexOf(c, i + 1);
      if (end < 0) throw invalid(`unterminated quote starting at position ${i}`);
      const text = input.slice(i + 1, end);
      tokens.push(c === "`" ? { t: "ident", v: text } : { t: "string", v: text });
      i = end + 1;
    } else if (c === "(" || c === ")" || c === ",") {
      tokens.push({ t: "punct", v: c });
      i++;
    } else if ("=!<>".includes(c)) {
      const two = input.slice(i, i + 2);
      const op = ["!=", "<=", ">=", "=="].includes(two) ? two : c;
      if (op === "!") throw invalid(`unexpected '!' at position ${i}`);
      tokens.push({ t: "op", v: op === "==" ? "=" : op });
      i += op.length;
    } else {
      const match = /^[\w.\-+]+/.exec(input.slice(i));
      if (!match) throw invalid(`unexpected character '${c}' at position ${i}`);
      const word = match[0];
      if (/^[-+]?\d+(\.\d+)?$/.test(word)) tokens.push({ t: "number", v: Number(word) });
      else tokens.push({ t: "ident", v: word });
      i += word.length;
    }
  }
  return tokens;
}

/** Joins `tags.` with a quoted key (`` tags.`my key` `` or `tags."my key"`, as MLflow accepts both). */
function readIdentifier(tokens: Token[], pos: number): { key: string; next: number } {
  const first = tokens[pos];
  if (first?.t !== "ident") throw invalid(`expected an attribute or tag name at token ${pos + 1}`);
  let key = first.v;
  let next = pos + 1;
  const quoted = tokens[next];
  if (key.endsWith(".") && (quoted?.t === "ident" || quoted?.t === "string")) {
    key += quoted.v;
    next++;
  }
  return { key, next };
}

function readComparator(tokens: Token[], pos: number): { comparator: Comparator; next: number } {
  const tok = tokens[pos];
  if (tok?.t === "op") return { comparator: tok.v as Comparator, next: pos + 1 };
  if (tok?.t === "ident") {
    const word = tok.v.toUpperCase();
    if (word === "LIKE" || word === "ILIKE" || word === "IN") return { comparator: word, next: pos + 1 };
    if (
      word === "NOT" &&
      tokens[pos + 1]?.t === "ident" &&
      (tokens[pos + 1] as { v: string }).v.toUpperCase() === "IN"
    ) {
      return { comparator: "NOT IN", next: pos + 2 };
    }
  }
  throw invalid(`expected a comparison operator after the key, got '${tok ? String(tok.v) : "end of filter"}'`);
}

function readValue(tokens: Token[], pos: number, list: boolean): { value: string | number | string[]; next: number } {
  if (list) {
    if (tokens[pos]?.t !== "punct" || tokens[pos].v !== "(")
      throw invalid("IN expects a parenthesised list of strings");
    const values: string[] = [];
    let i = pos + 1;
    for (;;) {
      const tok = tokens[i];
      if (tok?.t !== "string") throw invalid("IN expects a parenthesised list of quoted strings");
      values.push(tok.v);
      const sep = tokens[i + 1];
      if (sep?.t === "punct" && sep.v === ",") i += 2;
      else if (sep?.t === "punct" && sep.v === ")") return { value: values, next: i + 2 };
      else throw invalid("unterminated IN list");
    }
  }
  const tok = tokens[pos];
  if (tok?.t === "string" || tok?.t === "number") return { value: tok.v, next: pos + 1 };
  throw invalid(`expected a quoted string or a number, got '${tok ? String(tok.v) : "end of filter"}'`);
}

function checkCondition(
  entity: SearchEntity,
  key: string,
  comparator: Comparator,
  value: string | number | string[],
): Condition {
  const lower = key.toLowerCase();
  for (const prefix of ["tags.", "tag."]) {
    if (lower.startsWith(prefix)) {
      const tagKey = key.slice(prefix.length);
      if (tagKey === "") throw invalid("tag key is empty");
      if (!STRING_COMPARATORS.includes(comparator)) {
        throw invalid(`'${comparator}' is not supported for tags; use one of ${STRING_COMPARATORS.join(", ")}`);
      }
      if (typeof value !== "string") throw invalid(`tag '${tagKey}' must be compared with a quoted string`);
      return { kind: "tag", key: tagKey, comparator, value };
    }
  }
  const attribute = lower.replace(/^attributes?\./, "");
  const rule = ATTRIBUTES[entity][attribute];
  if (!rule) {
    const allowed = Object.keys(ATTRIBUTES[entity]).join(", ");
    throw invalid(`unsupported attribute '${key}'; supported: ${allowed} and tags.<key>`);
  }
  if (!rule.comparators.includes(comparator)) {
    throw invalid(`'${comparator}' is not supported for '${attribute}'; use one of ${rule.comparators.join(", ")}`);
  }
  if (Array.isArray(value)) return { kind: "attribute", key: attribute, comparator, value };
  if (rule.type === "number") {
    const n = typeof value === "number" ? value : Number(value);
    if (!Number.isFinite(n) || (typeof value === "string" && value.trim() === "")) {
      throw invalid(`'${attribute}' must be compared with a number, got '${value}'`);
    }
    return { kind: "attribute", key: attribute, comparator, value: n };
  }
  if (typeof value !== "string") throw invalid(`'${attribute}' must be compared with a quoted string, got ${value}`);
  return { kind: "attribute", key: attribute, comparator, value };
}

/** Parses a search filter; anything outside the supported grammar is INVALID_PARAMETER_VALUE naming the part. */
export function parseSearchFilter(filter: string | undefined, entity: SearchEntity): Condition[] {
  if (!filter || filter.trim() === "") return [];
  const tokens = tokenize(filter);
  const conditions: Condition[] = [];
  let pos = 0;
  for (;;) {
    const id = readIdentifier(tokens, pos);
    const cmp = readComparator(tokens, id.next);
    const val = readValue(tokens, cmp.next, cmp.comparator === "IN" || cmp.comparator === "NOT IN");
    conditions.push(checkCondition(entity, id.key, cmp.comparator, val.value));
    pos = val.next;
    if (pos >= tokens.length) return conditions;
    const joiner = tokens[pos];
    if (joiner.t === "ident" && joiner.v.toUpperCase() === "AND") {
      pos++;
      continue;
    }
    if (joiner.t === "ident" && joiner.v.toUpperCase() === "OR")
      throw invalid("OR is not supported; join conditions with AND");
    throw invalid(`expected AND after a condition, got '${String(joiner.v)}'`);
  }
}

/** The registered-model and model-version tag that marks an MLflow 3 prompt (a model whose versions are templates). */
export const PROMPT_TAG = "mlflow.prompt.is_prompt";

/** MLflow's RegisteredModel._is_prompt(): the model's prompt tag says "true", in any case. */
export function isPromptModel(tags: ReadonlyMap<string, string>): boolean {
  return (tags.get(PROMPT_TAG) ?? "false").toLowerCase() === "true";
}

/** MLflow's _is_prompt_request(): a create request carrying the prompt tag at all, whatever its value. */
export function isPromptRequest(tags: readonly { key: string }[]): boolean {
  return tags.some((t) => t.key === PROMPT_TAG);
}

/**
 * What a registry search is about, MLflow 3.5.1's way (SqlAlchemyStore._is_querying_prompt and
 * _update_query_to_exclude_prompts): the first condition on the prompt tag decides. `= 'true'` or
 * `!= 'false'` (any case) asks for prompts, and the conditions stay as they are; anything else,
 * or no such condition, asks for models only: prompts are left out and every condition on the
 * prompt tag is dropped. That is why the 3.x client's `tag.`mlflow.prompt.is_prompt` != 'true'`
 * finds models without the tag, while `tags.x != 'v'` on any other tag needs the tag to exist.
 */
export function promptScope(conditions: Condition[]): { prompts: boolean; conditions: Condition[] } {
  const first = conditions.find((c) => c.kind === "tag" && c.key === PROMPT_TAG);
  const value = typeof first?.value === "string" ? first.value.toLowerCase() : null;
  const prompts = (first?.comparator === "=" && value === "true") || (first?.comparator === "!=" && value === "false");
  return prompts
    ? { prompts, conditions }
    : { prompts, conditions: conditions.filter((c) => !(c.kind === "tag" && c.key === PROMPT_TAG)) };
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
