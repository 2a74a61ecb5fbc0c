import type { ArtifactStore } from "../artifacts/artifact-store";
import type { ModelVersion } from "../domain/model";
import type { ManifestFile } from "../repositories/artifact-repository";
import { worst, type Verdict } from "./allow-list";
import { scanStream } from "./file-scanner";
import type { FileScan } from "./scan-findings";
import type { ScanRepository } from "./scan-repository";

/**
 * Names the scanner and allow-list that judged a file. Bump it when either changes: every file then
 * reads as `pending` until scanned again.
 */
export const SCANNER_VERSION = "pickle-scan/1";

export type VersionScanStatus = Verdict | "pending";

export interface FileScanStatus {
  path: string;
  size: number;
  sha256: string;
  scan: VersionScanStatus;
  result: FileScan | null;
}

export interface VersionScan {
  version: ModelVersion;
  scan: VersionScanStatus;
  files: FileScanStatus[];
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
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Scans every file of the version not yet judged by this scanner, one at a time, each streamed
   * from R2. Returns how many files it scanned. A blob missing from R2 is recorded as `unknown`.
   */
  async scanVersion(modelId: string, version: number): Promise<number> {
    const files = await this.sources.manifest(modelId, version);
    const done = await this.scans.find(
      files.map((f) => f.sha256),
      SCANNER_VERSION,
    );
    let scanned = 0;
    for (const file of files) {
      if (done.has(file.sha256)) continue;
      const blob = await this.store.get(file.blobKey);
      const result: FileScan = blob
        ? await scanStream(blob.body)
        : {
            verdict: "unknown",
            format: "missing",
            imports: [],
            calls: [],
            reasons: ["the file's bytes are missing from storage"],
            bytes: 0,
          };
      await this.scans.save(file.sha256, SCANNER_VERSION, result, this.now());
      done.set(file.sha256, result);
      scanned++;
    }
    return scanned;
  }

  /** The version's scan: `pending` while any file is unscanned, else the worst file verdict. */
  async versionScan(name: string, version: string): Promise<VersionScan> {
    const found = await this.sources.getVersion(name, version);
    const files = await this.sources.manifest(found.modelId, found.version);
    const results = await this.scans.find(
      files.map((f) => f.sha256),
      SCANNER_VERSION,
    );
    const statuses = files
      .map((f): FileScanStatus => {
        const result = results.get(f.sha256) ?? null;
        return { path: f.path, size: f.size, sha256: f.sha256, scan: result?.verdict ?? "pending", result };
      })
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const pending = statuses.some((s) => s.scan === "pending");
    const scan = pending ? "pending" : statuses.reduce<Verdict>((v, s) => worst(v, s.scan as Verdict), "clean");
    return { version: found, scan, files: statuses };
  }
}
