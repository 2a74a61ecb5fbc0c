import { InvalidParameterError } from "../errors";
import { validateKey } from "./keys";

// Limits and name rules, following MLflow's validation (mlflow/utils/validation.py) and the column
// sizes of its SQL store, where Modelgate stores the same things. Where MLflow 3 raised a limit, the
// 3.x value holds for every client: a 2.x client never relies on a refusal (docs/mlflow-compatibility.md).
export const MAX_MODEL_NAME_LENGTH = 256;

/** Everything that carries tags. */
export type TaggedEntity = "registered_model" | "model_version" | "run" | "logged_model" | "experiment";

/**
 * The one tag rule set, as MLflow's server has it (mlflow/utils/validation.py): every tag key of
 * every entity passes the same name rule, `_validate_tag_name` (MLflow's characters, and no name
 * that aliases another as a path: domain/keys.ts validateKey), which `_validate_tag`,
 * `_validate_experiment_tag`, `_validate_registered_model_tag` and `_validate_model_version_tag` all
 * call, and is at most 250 characters long. The one difference MLflow states between entities is
 * how long a value may be:
 */
export const TAG_KEY_LIMIT = 250;
export const TAG_VALUE_LIMITS: Readonly<Record<TaggedEntity, number>> = {
  // MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH, MLflow 3: prompt templates (the version tag mlflow.prompt.text) fit; 2.x had 5,000.
  registered_model: 100_000,
  model_version: 100_000,
  // MAX_TAG_VAL_LENGTH (_validate_tag).
  run: 8000,
  // Checked as run tags (tracking-limits validateRunTag): Modelgate's choice, kept; validation.py names no limit of their own.
  logged_model: 8000,
  // MAX_EXPERIMENT_TAG_VAL_LENGTH (_validate_experiment_tag).
  experiment: 5000,
};

export const MAX_TAG_KEY_LENGTH = TAG_KEY_LIMIT;
/** Registered-model and model-version tags alike. */
export const MAX_TAG_VALUE_LENGTH = TAG_VALUE_LIMITS.registered_model;
/** The version tag holding a prompt's template; too long a one gets MLflow 3's own message. */
export const PROMPT_TEXT_TAG = "mlflow.prompt.text";
export const MAX_DESCRIPTION_LENGTH = 5000;
export const MAX_ALIAS_LENGTH = 255;
export const MAX_SOURCE_LENGTH = 500;
export const MAX_COMMENT_LENGTH = 1000;

// Python's `\w` (which MLflow uses) matches any Unicode letter or digit, JavaScript's only ASCII.
const ALIAS = /^[\p{L}\p{M}\p{N}_-]*$/u;

function checkLength(what: string, value: string, max: number) {
  if (value.length > max) {
    throw new InvalidParameterError(`${what} exceeds the maximum length of ${max} characters (got ${value.length}).`);
  }
}

export function validateModelName(name: string): string {
  if (name.trim() === "") throw new InvalidParameterError("Registered model name cannot be empty.");
  checkLength("Registered model name", name, MAX_MODEL_NAME_LENGTH);
  // `/` would make `models:/<name>/<ref>` and `/v1/models/<name>/...` ambiguous; control characters
  // have no business in a name people type.
  if (/[/\p{Cc}]/u.test(name)) {
    throw new InvalidParameterError(
      `Invalid registered model name '${name}': names cannot contain '/' or control characters.`,
    );
  }
  return name;
}

/**
 * Registered-model and model-version tags. An empty key is refused by the name rule, as MLflow's
 * registry refuses it ("would resolve to '.'"), like every other tag key.
 */
export function validateTag(key: string, value: string): void {
  checkLength("Tag key", key, MAX_TAG_KEY_LENGTH);
  validateKey("tag", key);
  if (key === PROMPT_TEXT_TAG && value.length > MAX_TAG_VALUE_LENGTH) {
    throw new InvalidParameterError(`Prompt text exceeds max length of ${MAX_TAG_VALUE_LENGTH} characters.`);
  }
  checkLength(`Value of tag '${key}'`, value, MAX_TAG_VALUE_LENGTH);
}

export function validateDescription(description: string): string {
  checkLength("Description", description, MAX_DESCRIPTION_LENGTH);
  return description;
}

export function validateAlias(alias: string): string {
  if (alias === "") throw new InvalidParameterError("Registered model alias name cannot be empty.");
  checkLength("Alias", alias, MAX_ALIAS_LENGTH);
  if (!ALIAS.test(alias)) {
    throw new InvalidParameterError(
      `Invalid alias name: '${alias}'. Aliases may only contain alphanumerics, underscores (_) and dashes (-).`,
    );
  }
  const lower = alias.toLowerCase();
  // Reserved by the MLflow client: `models:/Name@latest` and `v<N>` mean other things.
  if (lower === "latest" || /^v\d+$/.test(lower)) {
    throw new InvalidParameterError(`'${alias}' alias name (case insensitive) is reserved.`);
  }
  return alias;
}

/** Versions travel as strings on the wire; they must be positive integers. */
export function parseVersion(input: string | number): number {
  const text = String(input).trim();
  if (!/^\d{1,15}$/.test(text) || Number(text) < 1) {
    throw new InvalidParameterError(`Parameter 'version' must be a positive integer, got '${input}'.`);
  }
  return Number(text);
}

export function validateSource(source: string): string {
  if (source.trim() === "") throw new InvalidParameterError("Model version source cannot be empty.");
  checkLength("Model version source", source, MAX_SOURCE_LENGTH);
  return source;
}

export function validateComment(comment: string): string {
  checkLength("Comment", comment, MAX_COMMENT_LENGTH);
  return comment;
}
