import { InvalidParameterError } from "../errors";
import type { Tag } from "./model";

// The Tracking domain: experiments, runs and MLflow 3 logged models, as plain types, plus the
// enum rules MLflow applies to them (mlflow/protos/service.proto, mlflow/entities/*).

export type LifecycleStage = "active" | "deleted";

export const RUN_STATUSES = ["RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const VIEW_TYPES = ["ACTIVE_ONLY", "DELETED_ONLY", "ALL"] as const;
export type ViewType = (typeof VIEW_TYPES)[number];

export const LOGGED_MODEL_STATUSES = [
  "LOGGED_MODEL_PENDING",
  "LOGGED_MODEL_READY",
  "LOGGED_MODEL_UPLOAD_FAILED",
] as const;
export type LoggedModelStatus = (typeof LOGGED_MODEL_STATUSES)[number];

/** The experiment every MLflow installation starts with; the client falls back to it. */
export const DEFAULT_EXPERIMENT_ID = "0";
/** Tag MLflow mirrors the run name into. */
export const RUN_NAME_TAG = "mlflow.runName";
/** Tag in which MLflow 2 records every `log_model` of a run (a JSON list). */
export const LOGGED_MODELS_TAG = "mlflow.log-model.history";
/** Tag in which MLflow 3's server records the registry versions made from a logged model. */
export const MODEL_VERSIONS_TAG = "mlflow.modelVersions";
/** Root of the proxied artifact store; experiment `<id>` stores under `<root><id>`. */
export const ARTIFACT_ROOT = "mlflow-artifacts:/";

export interface Experiment {
  experimentId: string;
  name: string;
  artifactLocation: string;
  lifecycleStage: LifecycleStage;
  creationTime: number;
  lastUpdateTime: number;
  tags: Tag[];
}

export interface RunInfo {
  runId: string;
  experimentId: string;
  runName: string;
  userId: string | null;
  status: RunStatus;
  startTime: number | null;
  endTime: number | null;
  artifactUri: string;
  lifecycleStage: LifecycleStage;
}

export interface Metric {
  key: string;
  /** NaN stays NaN here; ±Infinity is stored as ±Number.MAX_VALUE, as MLflow's SQL store does. */
  value: number;
  timestamp: number;
  step: number;
  /** MLflow 3: the logged model and dataset a metric was computed for. */
  modelId?: string | null;
  datasetName?: string | null;
  datasetDigest?: string | null;
  /** Set on a logged model's metrics: the run that logged them. */
  runId?: string | null;
}

export interface Dataset {
  name: string;
  digest: string;
  sourceType: string;
  source: string;
  schema: string | null;
  profile: string | null;
}

export interface DatasetInput {
  tags: Tag[];
  dataset: Dataset;
}

export interface RunData {
  /** The latest value per key (highest step, then timestamp, then value). */
  metrics: Metric[];
  params: Tag[];
  tags: Tag[];
}

export interface Run {
  info: RunInfo;
  data: RunData;
  inputs: { datasetInputs: DatasetInput[]; modelInputs: { modelId: string }[] };
  outputs: { modelOutputs: { modelId: string; step: number }[] };
}

/** What a lineage view shows for one run: its data and the experiment it belongs to. */
export interface RunLineage {
  run: RunInfo;
  params: Tag[];
  metrics: Metric[];
  tags: Tag[];
  experiment: Experiment;
}

/** One folder of a run's artifacts (MLflow's artifacts/list). */
export interface RunArtifacts {
  rootUri: string;
  /** Paths relative to the run's artifact root. */
  files: { path: string; isDir: boolean; fileSize: number | null }[];
}

export interface LoggedModel {
  modelId: string;
  experimentId: string;
  name: string;
  modelType: string;
  sourceRunId: string | null;
  status: LoggedModelStatus;
  statusMessage: string | null;
  artifactUri: string;
  lifecycleStage: LifecycleStage;
  creationTime: number;
  lastUpdatedTime: number;
  tags: Tag[];
  params: Tag[];
  metrics: Metric[];
}

/**
 * What creating a logged model records: its own fields before any update, tag, param or metric,
 * and the token that created it (null for the bootstrap admin or with auth off).
 */
export type NewLoggedModel = Pick<
  LoggedModel,
  "modelId" | "experimentId" | "name" | "modelType" | "sourceRunId" | "status" | "artifactUri" | "creationTime"
> & { createdByToken: string | null };

function parseEnum<T extends string>(
  what: string,
  input: string | number,
  names: readonly T[],
  firstNumber: number,
): T {
  if (typeof input === "number" || /^\d+$/.test(input)) {
    const found = names[Number(input) - firstNumber];
    if (found) return found;
  } else {
    const found = names.find((n) => n === input.toUpperCase());
    if (found) return found;
  }
  throw new InvalidParameterError(`Invalid value '${input}' for ${what}; expected one of ${names.join(", ")}.`);
}

/** Run statuses travel as enum names (`FINISHED`) or their proto numbers (RUNNING = 1). */
export const parseRunStatus = (input: string | number): RunStatus => parseEnum("run status", input, RUN_STATUSES, 1);

/** ACTIVE_ONLY (the default), DELETED_ONLY or ALL; proto numbers 1..3 too. */
export function parseViewType(input: string | number | undefined): ViewType {
  return input === undefined || input === "" ? "ACTIVE_ONLY" : parseEnum("view type", input, VIEW_TYPES, 1);
}

export function parseLoggedModelStatus(input: string | number): LoggedModelStatus {
  return parseEnum("logged model status", input, LOGGED_MODEL_STATUSES, 1);
}

export function stagesFor(view: ViewType): LifecycleStage[] {
  return view === "ACTIVE_ONLY" ? ["active"] : view === "DELETED_ONLY" ? ["deleted"] : ["active", "deleted"];
}

/**
 * MLflow's rule for a run's summary metric: a value replaces the current latest one when
 * (step, timestamp, value) is strictly greater. NaN counts as 0 here, as MLflow stores it.
 */
export function isNewerMetric(
  a: Pick<Metric, "step" | "timestamp" | "value">,
  b: Pick<Metric, "step" | "timestamp" | "value">,
): boolean {
  const av = Number.isNaN(a.value) ? 0 : a.value;
  const bv = Number.isNaN(b.value) ? 0 : b.value;
  if (a.step !== b.step) return a.step > b.step;
  if (a.timestamp !== b.timestamp) return a.timestamp > b.timestamp;
  return av > bv;
}

/** The latest metric per key of a list, by MLflow's rule, in order of first appearance. */
export function latestPerKey<M extends Metric>(metrics: M[]): M[] {
  const latest = new Map<string, M>();
  for (const m of metrics) {
    const current = latest.get(m.key);
    if (!current || isNewerMetric(m, current)) latest.set(m.key, m);
  }
  return [...latest.values()];
}

/** Joins URI path segments the way MLflow's append_to_uri_path does: exactly one `/` between. */
export function appendToUri(base: string, ...segments: string[]): string {
  let out = base;
  for (const segment of segments) {
    out = out.endsWith("/") ? `${out}${segment}` : `${out}/${segment}`;
  }
  return out;
}

export const defaultArtifactLocation = (experimentId: string | number): string => `${ARTIFACT_ROOT}${experimentId}`;
export const runArtifactUri = (experimentLocation: string, runId: string): string =>
  appendToUri(experimentLocation, runId, "artifacts");
export const loggedModelArtifactUri = (experimentLocation: string, modelId: string): string =>
  appendToUri(experimentLocation, "models", modelId, "artifacts");

/** 32 lowercase hex characters, as Python's uuid4().hex. */
export const newRunId = (): string => crypto.randomUUID().replaceAll("-", "");
export const newLoggedModelId = (): string => `m-${newRunId()}`;

// MLflow names unnamed runs and models "<adjective>-<noun>-<number>" (mlflow/utils/name_utils.py).
const ADJECTIVES = [
  "able",
  "adaptable",
  "agreeable",
  "amazing",
  "ambitious",
  "amusing",
  "auspicious",
  "awesome",
  "bedecked",
  "bemused",
  "bold",
  "brawny",
  "bright",
  "calm",
  "capable",
  "caring",
  "casual",
  "clean",
  "clever",
  "colorful",
  "crawling",
  "dapper",
  "delicate",
  "efficient",
  "enchanting",
  "fearless",
  "gentle",
  "gifted",
  "glamorous",
  "grandiose",
  "honorable",
  "hilarious",
  "industrious",
  "intelligent",
  "judicious",
  "kindly",
  "languid",
  "learned",
  "legendary",
  "likeable",
  "loud",
  "luminous",
  "marvelous",
  "merciful",
  "mercurial",
  "nebulous",
  "omniscient",
  "orderly",
  "painted",
  "persistent",
  "placid",
  "polite",
  "popular",
  "powerful",
  "puzzled",
  "redolent",
  "resilient",
  "rogue",
  "rumbling",
  "salty",
  "sassy",
  "secretive",
  "selective",
  "sedate",
  "serious",
  "shivering",
  "skillful",
  "sincere",
  "smiling",
  "spiffy",
  "stately",
  "stylish",
  "suave",
  "sneaky",
  "tasteful",
  "thoughtful",
  "thundering",
  "traveling",
  "treasured",
  "trusting",
  "unequaled",
  "upbeat",
  "unique",
  "valuable",
  "vaunted",
  "victorious",
  "welcoming",
  "whimsical",
  "wise",
  "worried",
  "youthful",
  "zealous",
];
const NOUNS = [
  "ant",
  "ape",
  "asp",
  "auk",
  "bass",
  "bat",
  "bear",
  "bee",
  "bird",
  "boar",
  "bug",
  "calf",
  "carp",
  "cat",
  "chimp",
  "cod",
  "colt",
  "conch",
  "cow",
  "crab",
  "crane",
  "croc",
  "crow",
  "cub",
  "deer",
  "doe",
  "dog",
  "dolphin",
  "donkey",
  "dove",
  "duck",
  "eel",
  "elk",
  "fawn",
  "finch",
  "fish",
  "flea",
  "fly",
  "foal",
  "fowl",
  "fox",
  "frog",
  "gnat",
  "gnu",
  "goat",
  "goose",
  "grouse",
  "grub",
  "gull",
  "hare",
  "hawk",
  "hen",
  "hog",
  "horse",
  "hound",
  "jay",
  "kit",
  "kite",
  "koi",
  "lamb",
  "lark",
  "loon",
  "lynx",
  "mare",
  "midge",
  "mink",
  "mole",
  "moose",
  "moth",
  "mouse",
  "mule",
  "newt",
  "owl",
  "ox",
  "panda",
  "penguin",
  "perch",
  "pig",
  "pug",
  "quail",
  "ram",
  "rat",
  "ray",
  "robin",
  "roo",
  "rook",
  "seal",
  "shad",
  "shark",
  "sheep",
  "shoat",
  "shrew",
  "shrike",
  "shrimp",
  "skink",
  "skunk",
  "sloth",
  "slug",
  "smelt",
  "snail",
  "snake",
  "snipe",
  "sow",
  "sponge",
  "squid",
  "squirrel",
  "stag",
  "steed",
  "stoat",
  "stork",
  "swan",
  "tern",
  "toad",
  "trout",
  "turtle",
  "vole",
  "wasp",
  "whale",
  "wolf",
  "worm",
  "wren",
  "yak",
  "zebra",
];

export function randomName(random: () => number = Math.random): string {
  const pick = <T>(list: T[]) => list[Math.floor(random() * list.length)];
  return `${pick(ADJECTIVES)}-${pick(NOUNS)}-${Math.floor(random() * 1000)}`;
}
