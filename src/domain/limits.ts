import { InvalidParameterError } from "../errors";

// Limits and name rules, following MLflow's validation (mlflow/utils/validation.py) and the column
// sizes of its SQL store, where Modelgate stores the same things.
export const MAX_MODEL_NAME_LENGTH = 256;
export const MAX_TAG_KEY_LENGTH = 250;
export const MAX_TAG_VALUE_LENGTH = 5000;
export const MAX_DESCRIPTION_LENGTH = 5000;
export const MAX_ALIAS_LENGTH = 255;
export const MAX_SOURCE_LENGTH = 500;
export const MAX_COMMENT_LENGTH = 1000;

// Python's `\w` (which MLflow uses) matches any Unicode letter or digit, JavaScript's only ASCII.
const TAG_KEY = /^[/\p{L}\p{M}\p{N}_.\- :]*$/u;
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
    throw new InvalidParameterError(`Invalid registered model name '${name}': names cannot contain '/' or control characters.`);
  }
  return name;
}

export function validateTag(key: string, value: string): void {
  if (key === "") throw new InvalidParameterError("Tag key cannot be empty.");
  checkLength("Tag key", key, MAX_TAG_KEY_LENGTH);
  if (!TAG_KEY.test(key) || key.split("/").includes("..")) {
    throw new InvalidParameterError(
      `Invalid tag key '${key}'. Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colons (:) and slashes (/).`,
    );
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
