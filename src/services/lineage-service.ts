import { RegistryError } from "../errors";
import type { ModelVersion } from "../domain/model";
import type { RunLineage } from "../domain/tracking";
import type { ManifestFile } from "../domain/artifacts";
import type { ArtifactRepository } from "../repositories/artifact-repository";
import type { RegistryService } from "./registry-service";
import type { RunService } from "./tracking/run-service";

export interface VersionLineage {
  version: ModelVersion;
  /** The run that produced the version; null when it names none (or the run is gone). */
  run: RunLineage | null;
  files: ManifestFile[];
}

/** Where a version came from, in one answer: the version, its run (params, metrics, tags), experiment and manifest. */
export class LineageService {
  constructor(
    private readonly registry: RegistryService,
    private readonly runs: RunService,
    private readonly artifacts: ArtifactRepository,
  ) {}

  async versionLineage(name: string, version: string): Promise<VersionLineage> {
    const found = await this.registry.getVersion(name, version);
    const [run, files] = await Promise.all([
      found.runId ? this.runLineage(found.runId) : Promise.resolve(null),
      this.artifacts.manifest(found.modelId, found.version),
    ]);
    return { version: found, run, files };
  }

  /** A version may name a run that was never logged here (or deleted since): that is "no lineage", not an error. */
  private async runLineage(runId: string): Promise<RunLineage | null> {
    try {
      return await this.runs.getRunLineage(runId);
    } catch (error) {
      if (error instanceof RegistryError && error.code === "RESOURCE_DOES_NOT_EXIST") return null;
      throw error;
    }
  }
}
