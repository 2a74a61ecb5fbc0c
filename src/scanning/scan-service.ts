import type { ArtifactStore } from "../artifacts/artifact-store";
import type { ModelVersion } from "../domain/model";
import type { ManifestFile } from "../domain/artifacts";
import {
  type FileScan,
  type FileScanStatus,
  type ScanOverride,
  type Verdict,
  type VersionKey,
  type VersionScan,
  type VersionScanStatus,
  versionKey,
} from "../domain/scans";
import { worst } from "./allow-list";
import { scanStream } from "./file-scanner";
import { ScanDeferred, type SharedInflateBudget } from "./inflate-limit";
import { InvalidParameterError, RegistryError } from "../errors";
import type { ScanRepository } from "./scan-repository";
import { type Clock, systemClock } from "../domain/clock";

/**
 * Names the scanner and allow-list that judged a file. Bump it when either changes: every file then
 * reads as `pending` until scanned again.
 */
export const SCANNER_VERSION = "pickle-scan/1";

/** A version's verdict as its files' scans give it, and what makes it so. */
export interface ComputedVerdict {
  status: VersionScanStatus;
  /** "model.pkl imports posix.system", "data.bin: truncated stream", ...; null when clean or pending. */
  finding: string | null;
  /** Bytes of the version's files not scanned yet (0 unless pending). */
  unscannedBytes: number;
}

/**
 * Final verdicts by versionKey, kept per isolate: a registered version's files never change and
 * the scanner is fixed for a deployment's lifetime, so a clean/unknown/unsafe verdict is final and
 * the hot reads (get, search, resolve) stop asking D1 once they have seen it. Pending is never
 * kept. Bounded: the oldest entry goes first.
 */
const finalVerdicts = new Map<string, VersionScanStatus>();
const MAX_REMEMBERED = 50_000;

function remember(key: string, status: VersionScanStatus): void {
  if (status === "pending" || finalVerdicts.has(key)) return;
  if (finalVerdicts.size >= MAX_REMEMBERED) finalVerdicts.delete(finalVerdicts.keys().next().value!);
  finalVerdicts.set(key, status);
}

/** What the scan needs of the registry: a version by name, and a version's manifest. */
export interface ScanSources {
  getVersion(name: string, version: string): Promise<ModelVersion>;
  manifest(modelId: string, version: number): Promise<ManifestFile[]>;
}

/** Scans a registered version's files (in the background, from the scans queue) and reports the result. */
export class ScanService {
  constructor(
    private readonly sources: ScanSources,
    private readonly store: ArtifactStore,
    private readonly scans: ScanRepository,
    private readonly now: Clock = systemClock,
  ) {}

  /**
   * Scans every file of the version not yet judged by this scanner, one at a time, each streamed
   * from R2. Returns how many files it scanned. A blob missing from R2 is recorded as `unknown`.
   * `shared`: a budget of decompressed bytes for all the files together (the coordinator's inline
   * scan); once it runs out the scan stops and the rest stays pending, for the scans queue.
   */
  async scanVersion(modelId: string, version: number, shared?: SharedInflateBudget): Promise<number> {
    const files = await this.sources.manifest(modelId, version);
    const done = await this.scans.find(
      files.map((f) => f.sha256),
      SCANNER_VERSION,
    );
    let scanned = 0;
    for (const file of files) {
      if (done.has(file.sha256)) continue;
      const blob = await this.store.get(file.blobKey);
      let result: FileScan;
      try {
        result = blob
          ? await scanStream(blob.body, { shared })
          : {
              verdict: "unknown",
              format: "missing",
              imports: [],
              calls: [],
              reasons: ["the file's bytes are missing from storage"],
              bytes: 0,
            };
      } catch (error) {
        if (error instanceof ScanDeferred) break;
        throw error;
      }
      await this.scans.save(file.sha256, SCANNER_VERSION, result, this.now());
      done.set(file.sha256, result);
      scanned++;
    }
    return scanned;
  }

  /** The version's scan: `pending` while any file is unscanned, else the worst file verdict. */
  async versionScan(name: string, version: string): Promise<VersionScan> {
    const found = await this.sources.getVersion(name, version);
    const [statuses, latest] = await Promise.all([
      this.fileStatuses(found.modelId, found.version),
      this.scans.latestOverride(found),
    ]);
    const scan = verdictOf(statuses).status;
    return { version: found, scan, files: statuses, override: overrideInForce(latest, scan) };
  }

  /** The version's verdict computed from its files' scans (the coordinator records it). */
  async computeVerdict(key: VersionKey): Promise<ComputedVerdict> {
    return verdictOf(await this.fileStatuses(key.modelId, key.version));
  }

  /**
   * The recorded scan status of each version (absent from D1: pending), keyed by versionKey: one
   * batched D1 lookup for the versions this isolate has not seen a final verdict of, none once it has.
   */
  async statusOf(versions: readonly VersionKey[]): Promise<Map<string, VersionScanStatus>> {
    const out = new Map<string, VersionScanStatus>();
    const unknown: VersionKey[] = [];
    for (const v of versions) {
      const key = versionKey(v);
      const known = finalVerdicts.get(key);
      if (known) out.set(key, known);
      else unknown.push(v);
    }
    if (unknown.length > 0) {
      const recorded = await this.scans.versionVerdicts(unknown, SCANNER_VERSION);
      for (const v of unknown) {
        const key = versionKey(v);
        const status = recorded.get(key)?.status ?? "pending";
        remember(key, status);
        out.set(key, status);
      }
    }
    return out;
  }

  /**
   * Records an admin's override of the `scan` policy rule for a version whose scan is final and
   * not clean, with the reason and the status it overrides. A clean version needs none; a pending
   * one is refused: the admin must see the findings they accept, and an override recorded before
   * them would let through whatever the scan found later. The promotion-policy check honours the
   * latest override only while the version's verdict is still the one it overrode.
   */
  async recordOverride(name: string, version: string, reason: string, actor: string): Promise<ScanOverride> {
    const found = await this.sources.getVersion(name, version);
    const status = (await this.statusOf([found])).get(versionKey(found))!;
    if (status === "pending")
      throw new RegistryError(
        "RESOURCE_CONFLICT",
        `The scan of version ${found.version} of '${found.name}' has not finished: an override may be recorded only for a final verdict that is not clean (unknown or unsafe). Retry once the scan completes.`,
      );
    if (status === "clean")
      throw new InvalidParameterError(
        `Version ${found.version} of '${found.name}' scanned clean: there is nothing to override.`,
      );
    const override: ScanOverride = { status, reason, actor, createdAt: this.now() };
    await this.scans.addOverride(found, override);
    return override;
  }

  private async fileStatuses(modelId: string, version: number): Promise<FileScanStatus[]> {
    const files = await this.sources.manifest(modelId, version);
    const results = await this.scans.find(
      files.map((f) => f.sha256),
      SCANNER_VERSION,
    );
    return files
      .map((f): FileScanStatus => {
        const result = results.get(f.sha256) ?? null;
        return { path: f.path, size: f.size, sha256: f.sha256, scan: result?.verdict ?? "pending", result };
      })
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }
}

/**
 * The override that lets the version pass the `scan` rule: the latest recorded, only while the
 * version's verdict is the status it overrode (an override of `unknown` does not cover a later
 * `unsafe`, from a rescan by a newer scanner, say), and never for a clean or pending version.
 */
export function overrideInForce(latest: ScanOverride | null, status: VersionScanStatus): ScanOverride | null {
  if (!latest || status === "clean" || status === "pending") return null;
  return latest.status === status ? latest : null;
}

/** Pending while any file is unscanned, else the worst file verdict, with the first file and global behind it. */
export function verdictOf(files: readonly FileScanStatus[]): ComputedVerdict {
  const unscanned = files.filter((f) => f.scan === "pending");
  if (unscanned.length > 0)
    return { status: "pending", finding: null, unscannedBytes: unscanned.reduce((n, f) => n + f.size, 0) };
  const status = files.reduce<Verdict>((v, f) => worst(v, f.scan as Verdict), "clean");
  if (status === "clean") return { status, finding: null, unscannedBytes: 0 };
  const file = files.find((f) => f.scan === status)!;
  return { status, finding: findingOf(file.path, file.result!, status), unscannedBytes: 0 };
}

/** "model.pkl imports posix.system" (the first global with the file's verdict), else its first reason. */
function findingOf(path: string, scan: FileScan, verdict: Verdict): string {
  const global = scan.imports.find((i) => i.verdict === verdict);
  if (global) {
    const where = global.entry ? `${path} (${global.entry})` : path;
    return global.via === "reach" ? `${where} reaches ${global.name}` : `${where} imports ${global.name}`;
  }
  return scan.reasons.length > 0 ? `${path}: ${scan.reasons[0]}` : `${path} is ${verdict}`;
}
