// What the storm's clients know about the registry: one ModelEntry per incarnation of a model, with
// every acknowledged write (the ledger the checker compares with the final state) and the locks that
// keep a model's operations from racing its delete/recreate. Shared by scenario, driver and checker.

export const OP_TAG = "reliability.op";

/** A request that got no answer; `unknown`: its outcome is unknown (it may or may not have happened). */
export class NetError extends Error {
  readonly unknown: boolean;
  constructor(message: string, unknown: boolean) {
    super(message);
    this.unknown = unknown;
  }
}

/** Raised inside an op to abandon it quietly (e.g. its model was retired while it waited). */
export class Skip extends Error {}

/** A small seeded PRNG (mulberry32), so a run can be replayed with the seed it prints. */
export function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)] as T,
    chance: (p: number) => next() < p,
  };
}
export type Random = ReturnType<typeof rng>;

/** One uploaded file, as its manifest entry names it. */
export interface FileRecord {
  path: string;
  size: number;
  sha256: string;
}

/** null: never deleted; "acked": a delete was acknowledged; "maybe": a delete was issued, outcome unknown. */
export type Deletion = null | "acked" | "maybe";

/** An acknowledged version create. */
export interface VersionRecord {
  op: string;
  files: FileRecord[];
  deleted: Deletion;
}

/** One alias op of the one client that owns the alias. */
export interface AliasOp {
  kind: "set" | "delete";
  version: number | null;
  outcome: "acked" | "unknown";
}

/** One incarnation of a registered model, as the clients know it. */
export class ModelEntry {
  readonly uid: string;
  name: string;
  readonly slot: number;
  /** Every name it had, the first one first. */
  readonly names: string[];
  retired = false;
  deleted: Deletion = null;
  /** Acknowledged version creates by number. */
  readonly versions = new Map<number, VersionRecord>();
  /** Every number an acknowledged create was handed (for the never-reused rule). */
  readonly created: number[] = [];
  /** Creates whose outcome is unknown (op → files) and creates that were refused (ops). */
  readonly unknownCreates = new Map<string, FileRecord[]>();
  readonly refusedCreates = new Set<string>();
  /** Transition ops: acknowledged and all issued (op ids). */
  readonly transitionsAcked: { op: string; version: number; stage: string }[] = [];
  readonly transitionsIssued = new Set<string>();
  /** alias → its ops in order (one client per alias). */
  readonly aliasOps = new Map<string, AliasOp[]>();
  // Locks: normal ops share the model; a delete/recreate takes it exclusively; renames and
  // deletes are serialized among themselves.
  inflight = 0;
  /** Renames started, and whether one is in flight: a 404 that raced a rename is expected. */
  renamesStarted = 0;
  renameInFlight = false;
  blocked: Promise<void> | null = null;
  readonly drained: (() => void)[] = [];
  structural: Promise<void> = Promise.resolve();

  constructor(uid: string, name: string, slot: number) {
    this.uid = uid;
    this.name = name;
    this.slot = slot;
    this.names = [name];
  }
  /** Call before a request; the returned function tells whether a rename could have raced it. */
  renameWatch() {
    const started = this.renamesStarted;
    const inFlight = this.renameInFlight;
    return () => inFlight || this.renameInFlight || this.renamesStarted !== started;
  }
  liveVersions() {
    return [...this.versions].filter(([, v]) => v.deleted === null).map(([n]) => n);
  }
}

/** The storm's ledger: the live model per slot, the deleted ones, and the run's tag on every name and op. */
export interface StormLedger {
  slots: ModelEntry[];
  retired: ModelEntry[];
  runTag: string;
}

/** A large upload cut mid-stream, and what the path held before and after. */
export interface CutRecord {
  path: string;
  previous: { size: number; sha256: string } | null;
  sentAtCut: number;
  how: string | null;
  outcome: { status: number; text: string } | { error: string; status?: undefined } | null;
  check: string | null;
}
