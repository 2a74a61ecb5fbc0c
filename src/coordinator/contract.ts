// The model coordinator's RPC contract: what crosses the Durable Object boundary, in both
// directions. It depends on domain/ only, so the Worker side (services) and the object itself
// agree on one definition and neither reaches into the other's layer for its types.
import type { FileRef, ModelVersion, VersionStatus, Tag } from "../domain/model";
import type { Result } from "../domain/result";
import type { Stage } from "../domain/stages";

export type { RollbackPlan } from "../domain/rollback";
export type { ModelRecord, ModelVersion, RegisteredModel, Tag } from "../domain/model";

// --- commands -------------------------------------------------------------------------------------

/** Who made a change, as its events record it (the route's `actor`). */
export type Actor = string | null;

export interface NewVersion {
  source: string;
  runId: string | null;
  runLink: string;
  description: string;
  userId: string | null;
  loggedModelId: string | null;
  storageLocation: string | null;
  status: VersionStatus;
  statusMessage: string | null;
  tags: Tag[];
  /** The artifact path whose files become the version's manifest; null when there is none to record. */
  manifestPath: string | null;
}

export interface Transition {
  version: number;
  stage: Stage;
  archiveExisting: boolean;
  actor: string;
  comment: string | null;
}

export interface RollbackRequest {
  actor: string;
  comment: string | null;
  /** The version the caller saw in Production: refuse when Production moved since. */
  expectedCurrent?: number;
  /** The version to restore (`rollback --to`); without it, the previous Production version. */
  target?: number;
}

export interface RollbackResult {
  /** The version back in Production. */
  restored: ModelVersion;
  /** The version that was in Production and is archived now. */
  archived: number;
}

// --- replies --------------------------------------------------------------------------------------

/** The caller's name → id lookup was out of date (the model was renamed or deleted): look up again. */
export type Stale = { ok: false; stale: true };

/**
 * Refs (`Production`, `@champion`, `3`, ...) of the model named `name` whose resolution a mutation
 * changed, and the files it retired, so whoever serves them can drop its cached copies at once.
 */
export type Changed = { name: string; refs: string[]; files: FileRef[] };

export type Reply<T> = (Result<T> & { changed?: Changed }) | Stale;

/**
 * A point read's answer with the revision of the state it came from, or word that the caller's
 * copy of that revision's answer is still current (the data does not cross the RPC boundary again).
 * `revision: null`: answered while a mutation was under way, so no revision is vouched for.
 */
export type Revised<T> = { revision: string | null; value: T } | { revision: string; current: true };
