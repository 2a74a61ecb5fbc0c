import { InvalidParameterError } from "../errors";
import { validateKey } from "./keys";
import { TAG_KEY_LIMIT, TAG_VALUE_LIMITS } from "./limits";
import type { Tag } from "./model";

// MLflow's input rules for tracking (mlflow/utils/validation.py), with its messages, so clients that
// match on them keep working. Modelgate stores the same things, so it takes the same limits.

export const MAX_ENTITY_KEY_LENGTH = TAG_KEY_LIMIT;
export const MAX_PARAM_VAL_LENGTH = 6000;
export const MAX_TAG_VAL_LENGTH = TAG_VALUE_LIMITS.run;
export const MAX_EXPERIMENT_NAME_LENGTH = 500;
export const MAX_EXPERIMENT_TAG_VAL_LENGTH = TAG_VALUE_LIMITS.experiment;
export const MAX_ARTIFACT_LOCATION_LENGTH = 2048;
export const MAX_PARAMS_TAGS_PER_BATCH = 100;
export const MAX_METRICS_PER_BATCH = 1000;
export const MAX_ENTITIES_PER_BATCH = 1000;
export const MAX_DATASETS_PER_BATCH = 1000;
export const MAX_DATASET_NAME_SIZE = 500;
export const MAX_DATASET_DIGEST_SIZE = 36;
export const MAX_DATASET_SOURCE_TYPE_SIZE = 36;
export const MAX_DATASET_SCHEMA_SIZE = 1_048_575;
export const MAX_DATASET_SOURCE_SIZE = 65_535;
export const MAX_DATASET_PROFILE_SIZE = 16_777_215;
/** A D1 row holds at most 2 MB: Modelgate's own cap on one dataset input, in UTF-8 bytes. */
export const MAX_DATASET_INPUT_BYTES = 1_900_000;
export const MAX_INPUT_TAG_KEY_SIZE = 255;
export const MAX_INPUT_TAG_VALUE_SIZE = 500;

export function validateLength(what: string, value: string, limit: number): void {
  if (value.length > limit) {
    throw new InvalidParameterError(
      `${what} '${value.slice(0, 250)}' had length ${value.length}, which exceeded length limit of ${limit}`,
    );
  }
}

export function validateParam(key: string, value: string): void {
  validateKey("parameter", key);
  validateLength("Param key", key, MAX_ENTITY_KEY_LENGTH);
  validateLength("Param value", value, MAX_PARAM_VAL_LENGTH);
}

/** A run, logged-model or experiment tag: the one tag rule set (limits.ts TAG_VALUE_LIMITS), in the tracking API's words. */
function validateTrackingTag(entity: "run" | "logged_model" | "experiment", key: string, value: string): void {
  validateKey("tag", key);
  validateLength("Tag key", key, TAG_KEY_LIMIT);
  validateLength("Tag value", value, TAG_VALUE_LIMITS[entity]);
}

/** Run and logged-model tags (MLflow checks both with `_validate_tag`). */
export const validateRunTag = (key: string, value: string): void => validateTrackingTag("run", key, value);

export const validateExperimentTag = (key: string, value: string): void =>
  validateTrackingTag("experiment", key, value);

export function validateExperimentName(name: string): string {
  if (name === "") throw new InvalidParameterError(`Invalid experiment name: '${name}'`);
  if (name.length > MAX_EXPERIMENT_NAME_LENGTH) {
    throw new InvalidParameterError(
      `Experiment name exceeds the maximum length of ${MAX_EXPERIMENT_NAME_LENGTH} characters`,
    );
  }
  return name;
}

export function validateArtifactLocation(location: string): string {
  if (location.startsWith("runs:")) {
    throw new InvalidParameterError(`Artifact location cannot be a runs:/ URI. Given: '${location}'`);
  }
  validateLength("Artifact location", location, MAX_ARTIFACT_LOCATION_LENGTH);
  return location;
}

export interface MetricInput {
  key: string;
  value: number | string;
  timestamp: number;
  step?: number;
  modelId?: string;
  datasetName?: string;
  datasetDigest?: string;
}

/** A metric value is a double; JSON carries NaN and ±Infinity as the strings protobuf uses. */
export function parseMetricValue(key: string, value: number | string, timestamp: number): number {
  if (typeof value === "number") return value;
  const text = value.trim();
  if (text === "NaN") return Number.NaN;
  if (text === "Infinity" || text === "inf") return Number.POSITIVE_INFINITY;
  if (text === "-Infinity" || text === "-inf") return Number.NEGATIVE_INFINITY;
  if (text !== "" && Number.isFinite(Number(text))) return Number(text);
  throw new InvalidParameterError(
    `Got invalid value ${value} for metric '${key}' (timestamp=${timestamp}). Please specify value as a valid double (64-bit floating point)`,
  );
}

export function validateMetric(m: MetricInput): number {
  validateKey("metric", m.key);
  const value = parseMetricValue(m.key, m.value, m.timestamp);
  if (!Number.isSafeInteger(m.timestamp) || m.timestamp < 0) {
    throw new InvalidParameterError(
      `Got invalid timestamp ${m.timestamp} for metric '${m.key}' (value=${m.value}). Timestamp must be a nonnegative long (64-bit integer) `,
    );
  }
  if (m.step !== undefined && !Number.isSafeInteger(m.step)) {
    throw new InvalidParameterError(
      `Got invalid step ${m.step} for metric '${m.key}' (value=${m.value}). Step must be a valid long (64-bit integer).`,
    );
  }
  validateLength("Metric name", m.key, MAX_ENTITY_KEY_LENGTH);
  return value;
}

function batchLimit(entity: string, limit: number, length: number): void {
  if (length > limit) {
    throw new InvalidParameterError(
      `A batch logging request can contain at most ${limit} ${entity}. Got ${length} ${entity}. Please split up ${entity} across multiple requests and try again.`,
    );
  }
}

export function validateBatchLimits(metrics: number, params: number, tags: number): void {
  batchLimit("metrics", MAX_METRICS_PER_BATCH, metrics);
  batchLimit("params", MAX_PARAMS_TAGS_PER_BATCH, params);
  batchLimit("tags", MAX_PARAMS_TAGS_PER_BATCH, tags);
  batchLimit("metrics, params, and tags", MAX_ENTITIES_PER_BATCH, metrics + params + tags);
}

/** One value per param key in a request; MLflow refuses duplicates even with equal values. */
export function validateParamKeysUnique(params: Tag[]): void {
  const seen = new Set<string>();
  const dupes: string[] = [];
  for (const p of params) {
    if (seen.has(p.key)) dupes.push(p.key);
    seen.add(p.key);
  }
  if (dupes.length > 0) {
    throw new InvalidParameterError(
      `Duplicate parameter keys have been submitted: ${JSON.stringify(dupes)}. Please ensure the request contains only one param value per param key.`,
    );
  }
}

/** Later tags with the same key win, as in MLflow's set_tags. */
export function lastTagPerKey(tags: Tag[]): Tag[] {
  const byKey = new Map<string, string>();
  for (const t of tags) {
    byKey.delete(t.key);
    byKey.set(t.key, t.value);
  }
  return [...byKey].map(([key, value]) => ({ key, value }));
}

export interface DatasetInputInput {
  tags?: Tag[];
  dataset?: { name?: string; digest?: string; sourceType?: string; source?: string; schema?: string; profile?: string };
}

export function validateDatasetInputs(inputs: DatasetInputInput[]): void {
  batchLimit("datasets", MAX_DATASETS_PER_BATCH, inputs.length);
  for (const input of inputs) {
    const d = input.dataset;
    if (!d) throw new InvalidParameterError("Dataset input must have a dataset associated with it.");
    for (const field of ["name", "digest", "sourceType", "source"] as const) {
      if (d[field] === undefined || d[field] === "") {
        const wire = field === "sourceType" ? "source_type" : field;
        throw new InvalidParameterError(`Dataset ${wire} must be specified.`);
      }
    }
    validateLength("Dataset name", d.name!, MAX_DATASET_NAME_SIZE);
    validateLength("Dataset digest", d.digest!, MAX_DATASET_DIGEST_SIZE);
    validateLength("Dataset source type", d.sourceType!, MAX_DATASET_SOURCE_TYPE_SIZE);
    validateLength("Dataset source", d.source!, MAX_DATASET_SOURCE_SIZE);
    if (d.schema !== undefined) validateLength("Dataset schema", d.schema, MAX_DATASET_SCHEMA_SIZE);
    if (d.profile !== undefined) validateLength("Dataset profile", d.profile, MAX_DATASET_PROFILE_SIZE);
    for (const tag of input.tags ?? []) {
      if (tag.key === "") throw new InvalidParameterError("Input tag key cannot be empty.");
      validateLength("Input tag key", tag.key, MAX_INPUT_TAG_KEY_SIZE);
      validateLength("Input tag value", tag.value, MAX_INPUT_TAG_VALUE_SIZE);
    }
    const bytes = [
      d.name!,
      d.digest!,
      d.sourceType!,
      d.source!,
      d.schema ?? "",
      d.profile ?? "",
      JSON.stringify(input.tags ?? []),
    ]
      .map(utf8Length)
      .reduce((a, b) => a + b, 0);
    if (bytes > MAX_DATASET_INPUT_BYTES) {
      throw new InvalidParameterError(
        `Dataset input '${d.name}' is ${bytes} bytes; Modelgate stores at most ${MAX_DATASET_INPUT_BYTES} bytes per dataset input (schema, profile, source and tags together).`,
      );
    }
  }
}

const utf8Length = (text: string): number => new TextEncoder().encode(text).length;

const LOGGED_MODEL_NAME_BAD_CHARS = ["/", ":", ".", "%", '"', "'"];

/** MLflow 3 logged-model names end up in URIs, so a few characters are refused. */
export function validateLoggedModelName(name: string | undefined): void {
  if (name === undefined) return;
  if (name === "" || LOGGED_MODEL_NAME_BAD_CHARS.some((c) => name.includes(c))) {
    throw new InvalidParameterError(
      `Invalid model name ('${name}') provided. Model name must be a non-empty string and cannot contain the following characters: ${LOGGED_MODEL_NAME_BAD_CHARS.join(" ")}`,
    );
  }
  validateLength("Model name", name, MAX_ENTITY_KEY_LENGTH);
}

const MODEL_JSON_REQUIRED = ["artifact_path", "flavors", "utc_time_created", "run_id"];

/** `runs/log-model`'s model_json: a JSON object with the fields MLflow requires. */
export function parseModelJson(modelJson: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(modelJson);
  } catch {
    throw new InvalidParameterError(`Malformed model info. \n ${modelJson.slice(0, 1000)} \n is not a valid JSON.`);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new InvalidParameterError(`Malformed model info. \n ${modelJson.slice(0, 1000)} \n is not a JSON object.`);
  }
  const missing = MODEL_JSON_REQUIRED.filter((f) => !(f in parsed));
  if (missing.length > 0)
    throw new InvalidParameterError(`Model json is missing mandatory fields: ${JSON.stringify(missing)}`);
  return parsed as Record<string, unknown>;
}
