import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

// Tracking's tables: experiments, runs and their data, and MLflow 3 logged models. Migrations in
// migrations/ are generated from this file (and schema.ts) by drizzle-kit. Child rows are listed in
// insertion order (SQLite's rowid), as MLflow's server lists them.

export const experiments = sqliteTable(
  "experiments",
  {
    // Experiment ids travel as strings of digits; "0" is the Default experiment the migration creates.
    id: integer("id").primaryKey({ autoIncrement: true }),
    name: text("name").notNull(),
    artifactLocation: text("artifact_location").notNull(),
    lifecycleStage: text("lifecycle_stage").notNull().default("active"),
    creationTime: integer("creation_time").notNull(),
    lastUpdateTime: integer("last_update_time").notNull(),
  },
  (t) => [uniqueIndex("experiments_name_uq").on(t.name), index("experiments_creation_time_idx").on(t.creationTime)],
);

export const experimentTags = sqliteTable(
  "experiment_tags",
  {
    experimentId: integer("experiment_id")
      .notNull()
      .references(() => experiments.id, { onDelete: "cascade" }),
    key: text("key").notNull(),
    value: text("value").notNull(),
  },
  (t) => [primaryKey({ columns: [t.experimentId, t.key] })],
);

export const runs = sqliteTable(
  "runs",
  {
    runId: text("run_id").primaryKey(),
    experimentId: integer("experiment_id")
      .notNull()
      .references(() => experiments.id),
    name: text("name").notNull(),
    userId: text("user_id"),
    /** The id of the token that created the run (per-model tokens reach only their own runs' artifacts). */
    createdByToken: text("created_by_token"),
    status: text("status").notNull(),
    startTime: integer("start_time"),
    endTime: integer("end_time"),
    artifactUri: text("artifact_uri").notNull(),
    lifecycleStage: text("lifecycle_stage").notNull().default("active"),
    deletedTime: integer("deleted_time"),
  },
  (t) => [index("runs_experiment_start_idx").on(t.experimentId, t.startTime)],
);

export const runTags = sqliteTable(
  "run_tags",
  {
    runId: text("run_id")
      .notNull()
      .references(() => runs.runId, { onDelete: "cascade" }),
    key: text("key").notNull(),
    value: text("value").notNull(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.key] })],
);

// A param's value never changes once logged; the primary key makes a racing second insert fail.
export const runParams = sqliteTable(
  "run_params",
  {
    runId: text("run_id")
      .notNull()
      .references(() => runs.runId, { onDelete: "cascade" }),
    key: text("key").notNull(),
    value: text("value").notNull(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.key] })],
);

// Every logged value. Logging exactly the same point twice keeps one row, as in MLflow's store.
export const runMetrics = sqliteTable(
  "run_metrics",
  {
    id: integer("id").primaryKey(),
    runId: text("run_id")
      .notNull()
      .references(() => runs.runId, { onDelete: "cascade" }),
    key: text("key").notNull(),
    // NaN is stored as 0 with is_nan set; ±Infinity as ±1.7976931348623157e308 (SQL has neither).
    value: real("value").notNull(),
    isNan: integer("is_nan").notNull().default(0),
    timestamp: integer("timestamp").notNull(),
    step: integer("step").notNull().default(0),
    modelId: text("model_id"),
    datasetName: text("dataset_name"),
    datasetDigest: text("dataset_digest"),
  },
  (t) => [
    uniqueIndex("run_metrics_point_uq").on(t.runId, t.key, t.timestamp, t.step, t.value, t.isNan),
    index("run_metrics_history_idx").on(t.runId, t.key, t.timestamp, t.step),
  ],
);

// The latest value per (run, key): what runs/get returns and run search filters and sorts on.
export const runLatestMetrics = sqliteTable(
  "run_latest_metrics",
  {
    runId: text("run_id")
      .notNull()
      .references(() => runs.runId, { onDelete: "cascade" }),
    key: text("key").notNull(),
    value: real("value").notNull(),
    isNan: integer("is_nan").notNull().default(0),
    timestamp: integer("timestamp").notNull(),
    step: integer("step").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.runId, t.key] }), index("run_latest_metrics_key_value_idx").on(t.key, t.value)],
);

export const runDatasetInputs = sqliteTable(
  "run_dataset_inputs",
  {
    id: integer("id").primaryKey(),
    runId: text("run_id")
      .notNull()
      .references(() => runs.runId, { onDelete: "cascade" }),
    name: text("name").notNull(),
    digest: text("digest").notNull(),
    sourceType: text("source_type").notNull(),
    source: text("source").notNull(),
    schema: text("schema"),
    profile: text("profile"),
    // The input's tags (e.g. mlflow.data.context) as a JSON list of {key, value}.
    tags: text("tags").notNull().default("[]"),
  },
  (t) => [uniqueIndex("run_dataset_inputs_uq").on(t.runId, t.name, t.digest)],
);

// MLflow 3: logged models a run consumed (direction 'input') or produced (direction 'output', with a step).
export const runModelLinks = sqliteTable(
  "run_model_links",
  {
    runId: text("run_id")
      .notNull()
      .references(() => runs.runId, { onDelete: "cascade" }),
    modelId: text("model_id").notNull(),
    direction: text("direction").notNull(),
    step: integer("step"),
  },
  (t) => [primaryKey({ columns: [t.runId, t.direction, t.modelId] }), index("run_model_links_model_idx").on(t.modelId)],
);

export const loggedModels = sqliteTable(
  "logged_models",
  {
    modelId: text("model_id").primaryKey(),
    experimentId: integer("experiment_id")
      .notNull()
      .references(() => experiments.id),
    name: text("name").notNull(),
    modelType: text("model_type").notNull().default(""),
    sourceRunId: text("source_run_id"),
    /** The id of the token that created the logged model. */
    createdByToken: text("created_by_token"),
    status: text("status").notNull(),
    statusMessage: text("status_message"),
    artifactUri: text("artifact_uri").notNull(),
    lifecycleStage: text("lifecycle_stage").notNull().default("active"),
    creationTime: integer("creation_time").notNull(),
    lastUpdatedTime: integer("last_updated_time").notNull(),
  },
  (t) => [
    index("logged_models_experiment_idx").on(t.experimentId, t.creationTime),
    index("logged_models_source_run_idx").on(t.sourceRunId),
  ],
);

export const loggedModelTags = sqliteTable(
  "logged_model_tags",
  {
    modelId: text("model_id")
      .notNull()
      .references(() => loggedModels.modelId, { onDelete: "cascade" }),
    key: text("key").notNull(),
    value: text("value").notNull(),
  },
  (t) => [primaryKey({ columns: [t.modelId, t.key] })],
);

export const loggedModelParams = sqliteTable(
  "logged_model_params",
  {
    modelId: text("model_id")
      .notNull()
      .references(() => loggedModels.modelId, { onDelete: "cascade" }),
    key: text("key").notNull(),
    value: text("value").notNull(),
  },
  (t) => [primaryKey({ columns: [t.modelId, t.key] })],
);

// Metrics a run logged for a logged model (a metric carrying model_id), as MLflow 3 keeps them.
export const loggedModelMetrics = sqliteTable(
  "logged_model_metrics",
  {
    id: integer("id").primaryKey(),
    modelId: text("model_id")
      .notNull()
      .references(() => loggedModels.modelId, { onDelete: "cascade" }),
    runId: text("run_id").notNull(),
    key: text("key").notNull(),
    value: real("value").notNull(),
    isNan: integer("is_nan").notNull().default(0),
    timestamp: integer("timestamp").notNull(),
    step: integer("step").notNull().default(0),
    datasetName: text("dataset_name"),
    datasetDigest: text("dataset_digest"),
  },
  (t) => [
    uniqueIndex("logged_model_metrics_point_uq").on(t.modelId, t.key, t.timestamp, t.step, t.runId),
    index("logged_model_metrics_key_idx").on(t.key, t.value),
  ],
);
