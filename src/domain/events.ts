/**
 * One change to the registry, as the outbox (D1 table `events`) stores it and as it travels on the
 * events queue. Written in the same D1 batch as the change it describes; `sequence` counts a
 * model's events from 1 without gaps, so receivers can order and de-duplicate.
 */
export interface RegistryEvent {
  /** Unique (UUID). */
  id: string;
  type: RegistryEventType;
  /** The model's immutable id and its name at the time of the change. */
  modelId: string;
  modelName: string;
  /** The version concerned, when there is one. */
  version: number | null;
  /** Before and after, by type: stages for a transition, names for a rename, versions for an alias move. */
  from: string | null;
  to: string | null;
  /** Who made the change (the token's or client's user), when known. */
  actor: string | null;
  /** Epoch milliseconds. */
  timestamp: number;
  /** The model's event counter: 1, 2, 3, ... in the order its coordinator applied the changes. */
  sequence: number;
  /** Type-specific details (alias, tag key and value, source, run_id, comment, ...), all strings. */
  data: Record<string, string>;
}

export const REGISTRY_EVENT_TYPES = [
  "registered_model.created",
  "registered_model.renamed",
  "registered_model.deleted",
  "registered_model_tag.set",
  "registered_model_tag.deleted",
  "model_version.created",
  "model_version.ready",
  "model_version.failed",
  "model_version.deleted",
  "model_version.stage_transitioned",
  "model_version_tag.set",
  "model_version_tag.deleted",
  "model_version_alias.created",
  "model_version_alias.deleted",
  // Modelgate's own: a version's pickle scan completed (`to`: clean, unknown or unsafe; `from`:
  // pending, or an earlier verdict); data: verdict, scanner, finding (docs/supply-chain.md).
  "model_version.scanned",
] as const;

export type RegistryEventType = (typeof REGISTRY_EVENT_TYPES)[number];

/** An event as a writer describes it; the outbox adds the id, model, actor, time and sequence. */
export interface NewEvent {
  type: RegistryEventType;
  version: number | null;
  from: string | null;
  to: string | null;
  data: Record<string, string>;
}

/** The events of one change, with what they share: which model, who, when. */
export interface Outbox {
  modelName: string;
  actor: string | null;
  timestamp: number;
  events: NewEvent[];
}

/** A model's events the relay gave up on: how many, and the oldest one's time. */
export interface GivenUpEvents {
  modelId: string;
  /** Its name as one of those events recorded it (the UI shows it; a rename may have changed it since). */
  modelName: string;
  count: number;
  oldest: number;
}
