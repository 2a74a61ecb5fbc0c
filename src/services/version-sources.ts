import type { VersionStatus } from "../domain/model";
import type { CoordinatorClient } from "../coordinator/coordinator-client";

export interface SourceOrigin {
  runId: string | null;
  storageLocation: string | null;
  status: VersionStatus;
  statusMessage: string | null;
}

export interface SourceInput {
  source: string;
  runId: string | null;
  loggedModelId: string | null;
}

const REGISTERED_MODEL_URI = /^models:\/([^/@]+)(?:\/(\d+)|@([\w-]+))\/?$/;

/**
 * Works out where a new version's files live, once, at registration: the download URI the client
 * later asks for, and the run it came from.
 */
export class VersionSources {
  constructor(private readonly coordinators: CoordinatorClient) {}

  async resolve(input: SourceInput): Promise<SourceOrigin> {
    const copy = REGISTERED_MODEL_URI.exec(input.source);
    if (copy && !copy[1].startsWith("m-")) return this.fromRegisteredVersion(input, copy[1], copy[2], copy[3]);
    return { runId: input.runId, storageLocation: input.source, status: "READY", statusMessage: null };
  }

  /** `copy_model_version` registers `models:/<name>/<v>`; the copy downloads the original's files. */
  private async fromRegisteredVersion(input: SourceInput, name: string, version?: string, alias?: string): Promise<SourceOrigin> {
    const original = await this.coordinators
      .call(name, (c, id) => (alias ? c.getVersionByAlias(id, name, alias) : c.getVersion(id, name, Number(version))))
      .catch(() => null);
    if (!original) {
      return {
        runId: input.runId,
        storageLocation: null,
        status: "FAILED_REGISTRATION",
        statusMessage: `Source ${input.source} does not name an existing model version.`,
      };
    }
    return {
      runId: input.runId ?? original.runId,
      storageLocation: original.storageLocation ?? original.source,
      status: "READY",
      statusMessage: null,
    };
  }
}
