import type { Stage } from "./stages";

export type VersionStatus = "PENDING_REGISTRATION" | "FAILED_REGISTRATION" | "READY";

export interface Tag {
  key: string;
  value: string;
}

/**
 * A version as the registry stores it: what D1 holds and the coordinator keeps in memory. The
 * model's name and the version's aliases are the model's, so they are joined in only when a
 * version is shown (ModelVersion).
 */
export interface VersionRecord {
  version: number;
  description: string;
  userId: string | null;
  source: string;
  runId: string | null;
  runLink: string;
  loggedModelId: string | null;
  status: VersionStatus;
  statusMessage: string | null;
  currentStage: Stage;
  creationTime: number;
  lastUpdatedTime: number;
  storageLocation: string | null;
  tags: Tag[];
}

/** A version as it is shown: its record with its model's id and name and the aliases naming it. */
export interface ModelVersion extends VersionRecord {
  modelId: string;
  name: string;
  aliases: string[];
}

/** A registered model's own row, without tags, aliases or versions. */
export interface ModelRecord {
  id: string;
  name: string;
  description: string | null;
  userId: string | null;
  creationTime: number;
  lastUpdatedTime: number;
  nextVersion: number;
}

/** Everything the coordinator keeps in memory for one model, as loaded from D1. */
export interface ModelSnapshot {
  model: ModelRecord;
  tags: Tag[];
  aliases: ModelAlias[];
  versions: VersionRecord[];
}

/** One version's move between stages: a history row to write. */
export interface StageChange {
  version: number;
  fromStage: Stage;
  toStage: Stage;
  comment: string | null;
}

export interface ModelAlias {
  alias: string;
  version: number;
}

/** A registered model as it is shown: its record (without the version counter) and what it holds. */
export interface RegisteredModel extends Omit<ModelRecord, "nextVersion"> {
  tags: Tag[];
  aliases: ModelAlias[];
  latestVersions: ModelVersion[];
}

export interface StageTransition {
  version: number;
  fromStage: Stage;
  toStage: Stage;
  actor: string;
  comment: string | null;
  timestamp: number;
}

export interface Page<T> {
  items: T[];
  nextPageToken: string | null;
}

/** One file of one version of one model, by the model's immutable id: what a cached download is keyed by. */
export interface FileRef {
  modelId: string;
  version: number;
  path: string;
}
