// What a scan says about a version and its files: the values the scanner produces, the coordinator
// and policy check, and routes and pages show (docs/supply-chain.md). Pure types and keys: the scanner
// (src/scanning/) computes them, nothing here does I/O.
import type { ModelVersion } from "./model";

/** A file's or a version's final word: the worst of its parts. */
export type Verdict = "clean" | "unknown" | "unsafe";

/** A version's scan as users see it: a final verdict, or pending until every file is scanned. */
export type VersionScanStatus = Verdict | "pending";

/** One global a file imports (GLOBAL, STACK_GLOBAL, INST) or reaches through a resolver. */
export interface ImportFinding {
  name: string;
  verdict: Verdict;
  /** The zip entry or nested stream it was found in; absent for the file's own top-level pickle. */
  entry?: string;
  /** "import" for an opcode's global, "reach" for a callable named by a string a resolver received. */
  via: "import" | "reach";
}

export interface FileScan {
  verdict: Verdict;
  /** What the content is: pickle, joblib, pytorch-zip, zip, safetensors, numpy, text, data, ... */
  format: string;
  imports: ImportFinding[];
  /** What REDUCE / NEWOBJ / OBJ / INST / BUILD reach, e.g. "REDUCE posix.system", distinct. */
  calls: string[];
  /** Why the verdict is not clean (besides the imports): truncation, limits, resolvers, ... */
  reasons: string[];
  bytes: number;
}

/** A version, by what never changes about it. */
export interface VersionKey {
  modelId: string;
  version: number;
}

export const versionKey = (k: VersionKey): string => `${k.modelId}/${k.version}`;

/** An admin's decision to let a version whose scan is not clean pass the `scan` policy rule. */
export interface ScanOverride {
  /** The version's verdict it overrode (unknown or unsafe): it holds only while that is the verdict. */
  status: string;
  reason: string;
  actor: string;
  createdAt: number;
}

/** A file of a version and its scan (none yet while pending). */
export interface FileScanStatus {
  path: string;
  size: number;
  sha256: string;
  scan: VersionScanStatus;
  result: FileScan | null;
}

/** A version's scan with its files', and the override in force, if any. */
export interface VersionScan {
  version: ModelVersion;
  scan: VersionScanStatus;
  files: FileScanStatus[];
  /** The admin override of the `scan` policy rule in force for the version, if any. */
  override: ScanOverride | null;
}

/** The longest reason an override may give. */
export const MAX_OVERRIDE_REASON = 1000;
