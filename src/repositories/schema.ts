import { sql } from "drizzle-orm";
import type { VersionStatus } from "../domain/model";
import type { Stage } from "../domain/stages";
import { foreignKey, index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

// The registry's tables. Migrations in migrations/ are generated from this file by drizzle-kit.
// A model's `id` is immutable (renames change `name` only), so the Durable Object keyed by it
// keeps serializing the same model across renames.

export const registeredModels = sqliteTable(
  "registered_models",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    description: text("description"),
    userId: text("user_id"),
    creationTime: integer("creation_time").notNull(),
    lastUpdatedTime: integer("last_updated_time").notNull(),
    // The next version number to hand out; only ever grows, so a deleted number is never reused.
    nextVersion: integer("next_version").notNull().default(1),
  },
  (t) => [
    uniqueIndex("registered_models_name_uq").on(t.name),
    // Model search ordered by time seeks these (keyset paging: docs/storage.md, "Search").
    index("registered_models_created_idx").on(t.creationTime),
    index("registered_models_last_updated_idx").on(t.lastUpdatedTime),
  ],
);

export const registeredModelTags = sqliteTable(
  "registered_model_tags",
  {
    modelId: text("model_id")
      .notNull()
      .references(() => registeredModels.id, { onDelete: "cascade" }),
    key: text("key").notNull(),
    value: text("value").notNull(),
  },
  (t) => [primaryKey({ columns: [t.modelId, t.key] }), index("registered_model_tags_kv_idx").on(t.key, t.value)],
);

export const modelVersions = sqliteTable(
  "model_versions",
  {
    modelId: text("model_id")
      .notNull()
      .references(() => registeredModels.id, { onDelete: "cascade" }),
    version: integer("version").notNull(),
    description: text("description").notNull().default(""),
    userId: text("user_id"),
    source: text("source").notNull(),
    runId: text("run_id"),
    runLink: text("run_link").notNull().default(""),
    loggedModelId: text("logged_model_id"),
    status: text("status").$type<VersionStatus>().notNull(),
    statusMessage: text("status_message"),
    currentStage: text("current_stage").$type<Stage>().notNull().default("None"),
    creationTime: integer("creation_time").notNull(),
    lastUpdatedTime: integer("last_updated_time").notNull(),
    // Where the version's files live (an mlflow-artifacts: URI); resolved once at registration.
    storageLocation: text("storage_location"),
  },
  (t) => [
    primaryKey({ columns: [t.modelId, t.version] }),
    // The database itself refuses a second Production version of one model.
    uniqueIndex("model_versions_one_production_uq").on(t.modelId).where(sql`current_stage = 'Production'`),
    index("model_versions_run_id_idx").on(t.runId),
    index("model_versions_last_updated_idx").on(t.lastUpdatedTime),
    index("model_versions_version_idx").on(t.version),
    index("model_versions_source_idx").on(t.source),
    index("model_versions_created_idx").on(t.creationTime),
    // One model's versions in each order search offers (by number: the primary key), so a search
    // by model reads one page of them whatever the page's depth.
    index("model_versions_model_updated_idx").on(t.modelId, t.lastUpdatedTime, t.version),
    index("model_versions_model_created_idx").on(t.modelId, t.creationTime, t.version),
    // latest_versions: the newest READY version of a model in a stage is one seek.
    index("model_versions_model_stage_idx").on(t.modelId, t.currentStage, t.status, t.version),
    // Sealed folders (migration 0008's triggers and the artifact service) are found by location.
    index("model_versions_storage_location_idx").on(t.storageLocation),
  ],
);

export const modelVersionTags = sqliteTable(
  "model_version_tags",
  {
    modelId: text("model_id").notNull(),
    version: integer("version").notNull(),
    key: text("key").notNull(),
    value: text("value").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.modelId, t.version, t.key] }),
    foreignKey({
      columns: [t.modelId, t.version],
      foreignColumns: [modelVersions.modelId, modelVersions.version],
    }).onDelete("cascade"),
    // Tag filters, and the prompt check search makes per version (key, value, model): one seek.
    index("model_version_tags_kv_version_idx").on(t.key, t.value, t.modelId, t.version),
  ],
);

export const registeredModelAliases = sqliteTable(
  "registered_model_aliases",
  {
    modelId: text("model_id").notNull(),
    alias: text("alias").notNull(),
    version: integer("version").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.modelId, t.alias] }),
    // Deleting a version deletes the aliases that point at it (stock MLflow 2.12 keeps them dangling).
    foreignKey({
      columns: [t.modelId, t.version],
      foreignColumns: [modelVersions.modelId, modelVersions.version],
    }).onDelete("cascade"),
  ],
);

export const stageTransitions = sqliteTable(
  "stage_transitions",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    modelId: text("model_id")
      .notNull()
      .references(() => registeredModels.id, { onDelete: "cascade" }),
    version: integer("version").notNull(),
    fromStage: text("from_stage").$type<Stage>().notNull(),
    toStage: text("to_stage").$type<Stage>().notNull(),
    actor: text("actor").notNull(),
    comment: text("comment"),
    timestamp: integer("timestamp").notNull(),
  },
  (t) => [index("stage_transitions_model_idx").on(t.modelId, t.version, t.id)],
);

// The artifact index: which blob in R2 holds each artifact path, with its size and sha256 (known
// only once the upload has streamed through, so it lives here rather than in R2 metadata, which is
// fixed when an upload starts). Listing reads this table, so an upload that never finished is
// never visible.
export const artifactObjects = sqliteTable("artifact_objects", {
  path: text("path").primaryKey(),
  blobKey: text("blob_key").notNull(),
  size: integer("size").notNull(),
  sha256: text("sha256").notNull(),
  uploadedAt: integer("uploaded_at").notNull(),
});

/** Multipart uploads in flight: our upload id → the path it completes and its R2 upload. */
export const artifactUploads = sqliteTable("artifact_uploads", {
  uploadId: text("upload_id").primaryKey(),
  path: text("path").notNull(),
  blobKey: text("blob_key").notNull(),
  r2UploadId: text("r2_upload_id").notNull(),
  numParts: integer("num_parts").notNull(),
  createdAt: integer("created_at").notNull(),
});

/**
 * A version's manifest: every file under its source, frozen when the version is registered. A
 * trigger (migration 0002) refuses to change or delete an artifact that a manifest references.
 */
export const modelVersionFiles = sqliteTable(
  "model_version_files",
  {
    modelId: text("model_id").notNull(),
    version: integer("version").notNull(),
    path: text("path").notNull(),
    artifactPath: text("artifact_path").notNull(),
    blobKey: text("blob_key").notNull(),
    size: integer("size").notNull(),
    sha256: text("sha256").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.modelId, t.version, t.path] }),
    index("model_version_files_artifact_idx").on(t.artifactPath),
  ],
);
