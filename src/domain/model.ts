import type { Stage } from "./stages";

export type VersionStatus = "PENDING_REGISTRATION" | "FAILED_REGISTRATION" | "READY";

export interface Tag {
  key: string;
  value: string;
}

export interface ModelVersion {
  modelId: string;
  name: string;
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
  aliases: string[];
}

export interface ModelAlias {
  alias: string;
  version: number;
}

export interface RegisteredModel {
  id: string;
  name: string;
  description: string | null;
  userId: string | null;
  creationTime: number;
  lastUpdatedTime: number;
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
