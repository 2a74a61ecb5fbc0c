// The wire contract as the client sees it, in one place. Request bodies are the server's own zod
// schemas' input types (src/http/schemas/), imported as types only: erased when the client is
// built or run by tsx, so nothing of the Worker reaches the CLI. The answers' shapes are written
// here: the server's serializers return untyped JSON, so there is nothing to derive them from.
import type { z } from "zod";

/** A request body as the server's schema `S` accepts it (MLflow's snake_case). */
export type RequestOf<S extends z.ZodType> = z.input<S>;

export interface ModelFile {
  path: string;
  size: number;
  sha256: string;
  /** The immutable download URL of this file of this version. */
  url: string;
}

/** What `GET /v1/models/{name}/{ref}` answers: the version a ref points at now, and its manifest. */
export interface ResolvedModel {
  name: string;
  version: string;
  stage: string;
  aliases: string[];
  status: string;
  run_id?: string;
  files: ModelFile[];
  /** The resolution's ETag, for `resolveIfChanged`. */
  etag: string | null;
}

export interface SignedUrl {
  path: string;
  url: string;
  /** Unix seconds. */
  expires_at: number;
}

export interface ModelgateClientOptions {
  /** e.g. `http://127.0.0.1:8787` or `https://modelgate.example.com`. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <token>`, only to `baseUrl`'s origin. */
  token?: string;
  /** Defaults to the global fetch; pass one to add retries, tracing or a custom agent. */
  fetch?: typeof fetch;
}

export interface ByteRange {
  start: number;
  /** Inclusive, as in HTTP; omit for "to the end". */
  end?: number;
}

export interface DownloadOptions {
  range?: ByteRange;
  signal?: AbortSignal;
  /** A previously seen ETag: an unchanged file answers 304 with no body. */
  ifNoneMatch?: string;
}

/** A model ref: a stage (`Production`), `@alias`, a version number or `latest`. */
export type ModelRef = string;

// Wire shapes of the REST API, as the server answers them (MLflow's snake_case, versions as strings).

export interface TagJson {
  key: string;
  value: string;
}

export interface ModelVersionJson {
  name: string;
  version: string;
  creation_timestamp?: number;
  last_updated_timestamp?: number;
  user_id?: string;
  current_stage?: string;
  description?: string;
  source?: string;
  run_id?: string;
  status?: "PENDING_REGISTRATION" | "FAILED_REGISTRATION" | "READY";
  status_message?: string;
  tags?: TagJson[];
  run_link?: string;
  aliases?: string[];
  model_id?: string;
}

export interface RegisteredModelJson {
  name: string;
  creation_timestamp?: number;
  last_updated_timestamp?: number;
  user_id?: string;
  description?: string;
  latest_versions?: ModelVersionJson[];
  tags?: TagJson[];
  aliases?: { alias: string; version: string }[];
}

export interface TransitionJson {
  version: string;
  from_stage?: string;
  to_stage: string;
  actor?: string;
  comment?: string;
  timestamp: number;
}

/** What the rollback endpoint answers: the version now in Production and the one it archived. */
export interface RollbackJson {
  model_version: ModelVersionJson;
  archived_version?: string;
}

/**
 * A stage transition and the versions it archived (as `promote` reports it): `archived_versions`
 * is null when the history could not be read after the transition succeeded.
 */
export interface PromotionJson {
  model_version: ModelVersionJson;
  archived_versions: string[] | null;
}

/** A promotion policy as the server answers it; rules pass through as JSON. */
export interface PolicyRecordJson {
  policy: { Staging?: Record<string, unknown>[]; Production?: Record<string, unknown>[] };
  updated_by?: string;
  updated_time?: number;
  /** Each rule in words, per stage. */
  description?: Record<string, string[]>;
}

export interface RunJson {
  info: {
    run_id: string;
    experiment_id: string;
    run_name?: string;
    status?: string;
    artifact_uri: string;
    [key: string]: unknown;
  };
  data?: { metrics?: { key: string; value: number }[]; params?: TagJson[]; tags?: TagJson[] };
}

export interface MultipartCredential {
  url: string;
  part_number: number;
  headers?: Record<string, string>;
}

export interface MultipartUpload {
  upload_id: string;
  credentials: MultipartCredential[];
}

/** MLflow 3's webhook event: `{entity: "model_version", action: "created"}`. */
export interface WebhookEvent {
  entity: string;
  action: string;
}

export interface WebhookJson {
  webhook_id: string;
  name: string;
  description?: string;
  url: string;
  events: WebhookEvent[];
  status?: "ACTIVE" | "DISABLED";
  creation_timestamp?: number;
  last_updated_timestamp?: number;
  [key: string]: unknown;
}

export interface WebhookTestResultJson {
  success: boolean;
  response_status?: number;
  response_body?: string;
  error_message?: string;
}

/** One recorded delivery attempt (Modelgate's delivery log); fields beyond these pass through. */
export interface DeliveryJson {
  [key: string]: unknown;
}

export interface TokenJson {
  id: string;
  name: string;
  scopes: string[];
  models?: string[];
  expires_at?: number;
  last_used_at?: number;
  revoked_at?: number;
}
