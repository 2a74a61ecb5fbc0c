// Types for invariants.mjs (plain JavaScript shared by the Node scripts and the workerd suites).

export declare const UID_TAG: string;

export interface SnapshotFile {
  path: string;
  size: number;
  sha256: string;
  actual: { size: number; sha256: string } | null | undefined;
  indexed: boolean;
}

export interface SnapshotVersion {
  version: number;
  stage: string;
  status: string;
  storageLocation: string | null;
  tags: Record<string, string>;
  aliases?: string[];
  files: SnapshotFile[];
}

export interface SnapshotModel {
  id?: string;
  name: string;
  creationTime: number;
  nextVersion?: number;
  tags: Record<string, string>;
  aliases: { alias: string; version: number }[];
  memoryLatest?: { version: number; stage: string }[];
  versions: SnapshotVersion[];
  transitions: { version: number; from: string; to: string; comment: string | null }[];
  /** The storage view only: the model's outbox rows in sequence order. */
  events?: SnapshotEvent[];
}

export interface SnapshotEvent {
  sequence: number;
  type: string;
  version: number | null;
  from: string | null;
  to: string | null;
}

export interface Snapshot {
  view: "storage" | "http";
  models: SnapshotModel[];
  artifacts?: { path: string; size: number; sha256: string; actual: { size: number; sha256: string } | null }[];
  orphanRows?: { table: string; row: unknown }[];
  /** The storage view only: events of models no longer in D1, by the name they last had. */
  deletedModelEvents?: { name: string; events: SnapshotEvent[] }[];
  problems?: string[];
  stats: Record<string, number>;
}

export interface R2Like {
  get(key: string): Promise<{ arrayBuffer(): Promise<ArrayBuffer> } | null>;
  list(options: {
    cursor?: string;
    limit?: number;
  }): Promise<{ objects: { key: string }[]; truncated: boolean; cursor?: string }>;
}

export interface D1Like {
  prepare(sql: string): { all(): Promise<{ results: any[] }> };
}

export declare function snapshotFromStorage(
  db: D1Like,
  bucket: R2Like,
  options?: { concurrency?: number },
): Promise<Snapshot>;
export declare function snapshotViaHttp(
  fetchFn: (url: string, init?: RequestInit) => Promise<Response>,
  base: string,
  options?: { concurrency?: number; download?: boolean },
): Promise<Snapshot>;
export declare function findViolations(
  snapshot: Snapshot,
  ledger?: { createdVersions?: Record<string, number[]> },
): string[];
export declare function checkInvariants(
  source:
    | { db: D1Like; bucket: R2Like }
    | { base: string; fetch?: (url: string, init?: RequestInit) => Promise<Response> },
  ledger?: { createdVersions?: Record<string, number[]> },
): Promise<{ snapshot: Snapshot; violations: string[] }>;
