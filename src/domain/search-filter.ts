import { InvalidParameterError } from "../errors";
import {
  type Comparator,
  type Condition,
  type Identifier,
  LIST_COMPARATORS,
  NUMBER,
  NUMBER_COMPARATORS,
  parseFilter,
  type RawValue,
  STRING_COMPARATORS,
  type Vocabulary,
  type Wording,
  written,
} from "./search-grammar";

// The vocabularies of registered-models/search and model-versions/search, read with the one search
// grammar (search-grammar.ts): comparisons joined with AND, e.g.
//   name = 'm' AND version_number > 3 AND tags.`my key` LIKE 'x%' AND run_id IN ('a', 'b')

export type { Comparator, Condition };
export { likeToGlob } from "./search-grammar";

export type SearchEntity = "registered_model" | "model_version";

type AttributeRule = { type: "string" | "number"; comparators: readonly Comparator[] };

const ATTRIBUTES: Record<SearchEntity, Record<string, AttributeRule>> = {
  registered_model: {
    name: { type: "string", comparators: STRING_COMPARATORS },
  },
  model_version: {
    name: { type: "string", comparators: STRING_COMPARATORS },
    version_number: { type: "number", comparators: NUMBER_COMPARATORS },
    run_id: { type: "string", comparators: LIST_COMPARATORS },
    source_path: { type: "string", comparators: STRING_COMPARATORS },
  },
};

const invalid = (message: string) => new InvalidParameterError(`Invalid filter: ${message}`);

/** The registry searches' wording of what the grammar refuses: `Invalid filter: <message>`. */
export const REGISTRY_WORDING: Wording = {
  invalid,
  end: "end of filter",
  expectedName: (_got, index) => `expected an attribute or tag name at token ${index + 1}`,
  expectedComparator: (got) => `expected a comparison operator after the key, got '${got}'`,
  listOpen: "IN expects a parenthesised list of strings",
};

const TAG_PREFIXES = ["tags", "tag"];
/** The prefixes the registry reads as attributes; any other prefix is part of an (unsupported) attribute name. */
export const ATTRIBUTE_PREFIXES = ["attributes", "attribute"];

function toCondition(entity: SearchEntity, id: Identifier, comparator: Comparator, raw: RawValue): Condition {
  const prefix = id.prefix?.toLowerCase() ?? null;
  if (prefix !== null && TAG_PREFIXES.includes(prefix)) {
    if (id.key === "") throw invalid("tag key is empty");
    if (!STRING_COMPARATORS.includes(comparator)) {
      throw invalid(`'${comparator}' is not supported for tags; use one of ${STRING_COMPARATORS.join(", ")}`);
    }
    if (raw.kind !== "string") throw invalid(`tag '${id.key}' must be compared with a quoted string`);
    return { kind: "tag", key: id.key, comparator, value: raw.v };
  }
  const attribute = (prefix !== null && ATTRIBUTE_PREFIXES.includes(prefix) ? id.key : id.text).toLowerCase();
  const rule = ATTRIBUTES[entity][attribute];
  if (!rule) {
    const allowed = Object.keys(ATTRIBUTES[entity]).join(", ");
    throw invalid(`unsupported attribute '${id.text}'; supported: ${allowed} and tags.<key>`);
  }
  if (!rule.comparators.includes(comparator)) {
    throw invalid(`'${comparator}' is not supported for '${attribute}'; use one of ${rule.comparators.join(", ")}`);
  }
  if (raw.kind === "list") return { kind: "attribute", key: attribute, type: "string", comparator, value: raw.v };
  if (rule.type === "number") {
    const value = raw.kind === "number" ? raw.v : NUMBER.test(raw.v.trim()) ? Number(raw.v) : undefined;
    if (value === undefined) throw invalid(`'${attribute}' must be compared with a number, got '${written(raw)}'`);
    return { kind: "attribute", key: attribute, type: "number", comparator, value };
  }
  if (raw.kind !== "string") throw invalid(`'${attribute}' must be compared with a quoted string, got ${written(raw)}`);
  return { kind: "attribute", key: attribute, type: "string", comparator, value: raw.v };
}

const VOCABULARIES: Record<SearchEntity, Vocabulary<Condition>> = {
  registered_model: {
    wording: REGISTRY_WORDING,
    condition: (id, comparator, value) => toCondition("registered_model", id, comparator, value),
  },
  model_version: {
    wording: REGISTRY_WORDING,
    condition: (id, comparator, value) => toCondition("model_version", id, comparator, value),
  },
};

/** Parses a search filter; anything outside the supported grammar is INVALID_PARAMETER_VALUE naming the part. */
export function parseSearchFilter(filter: string | undefined, entity: SearchEntity): Condition[] {
  return parseFilter(filter, VOCABULARIES[entity]);
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
