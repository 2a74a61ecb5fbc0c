import { RegistryError } from "../errors";
import { artifactPathOf, artifactUri } from "../domain/artifact-path";
import { registeredVersionSource } from "../domain/model-ref";
import type { VersionStatus } from "../domain/model";
import type { CoordinatorClient } from "../coordinator/coordinator-client";
import type { ArtifactRepository } from "../repositories/artifact-repository";
import type { ArtifactCaller } from "../domain/artifact-roots";
import { authorizeArtifactRead } from "./artifact-service";

export interface SourceOrigin {
  runId: string | null;
  /** The `mlflow-artifacts:` URI the client downloads the version from. */
  storageLocation: string | null;
  status: VersionStatus;
  statusMessage: string | null;
  /** The artifact path whose files become the version's manifest, when the files are ours. */
  manifestPath: string | null;
}

export interface SourceInput {
  source: string;
  runId: string | null;
  loggedModelId: string | null;
}

/** What the registry needs to know about runs and MLflow 3 logged models (the tracking service provides it). */
export interface RunLocator {
  runArtifactUri(runId: string): Promise<string>;
  loggedModel(modelId: string): Promise<{ artifactUri: string; sourceRunId: string | null }>;
  /** Notes on the logged model which registered version came from it (MLflow 3's `mlflow.modelVersions` tag). */
  recordModelVersion(modelId: string, name: string, version: number): Promise<void>;
}

const LOGGED_MODEL_URI = /^models:\/(m-[0-9a-f]+)\/?$/;
const RUN_URI = /^runs:\/([^/]+)(?:\/(.*))?$/;

/**
 * Works out, once at registration, where a new version's files live, which run made them, and
 * whether they are there at all: a source with no files is FAILED_REGISTRATION, with the reason.
 */
export class VersionSources {
  constructor(
    private readonly coordinators: CoordinatorClient,
    private readonly artifacts: ArtifactRepository,
    private readonly runs: RunLocator,
  ) {}

  /**
   * `caller` must be able to read the source's files as the artifact API would let it: a version
   * registered from another team's run or version folder would otherwise copy files it may not read.
   */
  async resolve(input: SourceInput, caller: ArtifactCaller): Promise<SourceOrigin> {
    const withFiles = (runId: string | null, location: string, source: string) =>
      this.withFiles(caller, runId, location, source);
    try {
      const logged =
        LOGGED_MODEL_URI.exec(input.source) ?? (input.loggedModelId ? [input.source, input.loggedModelId] : null);
      if (logged) {
        const model = await this.runs.loggedModel(logged[1]!);
        return withFiles(input.runId ?? model.sourceRunId, model.artifactUri, input.source);
      }
      const run = RUN_URI.exec(input.source);
      if (run) {
        const base = await this.runs.runArtifactUri(run[1]!);
        const sub = (run[2] ?? "").replace(/^\/+|\/+$/g, "");
        return withFiles(input.runId ?? run[1]!, sub ? `${base}/${sub}` : base, input.source);
      }
      const copy = registeredVersionSource(input.source);
      if (copy) return await this.fromRegisteredVersion(input, caller, copy.name, copy.version, copy.alias);
      if (artifactPathOf(input.source) !== null) return withFiles(input.runId, input.source, input.source);
      // Another store (s3://, gs://, ...): recorded as given; Modelgate cannot list or verify it.
      return {
        runId: input.runId,
        storageLocation: input.source,
        status: "READY",
        statusMessage: null,
        manifestPath: null,
      };
    } catch (error) {
      if (error instanceof RegistryError && error.code === "RESOURCE_DOES_NOT_EXIST") {
        return failed(input.runId, `Source ${input.source} could not be resolved: ${error.message}`);
      }
      throw error;
    }
  }

  /** After registration: a version made from an MLflow 3 logged model is noted on that model, as MLflow's server does. */
  async registered(loggedModelId: string | null, name: string, version: number, status: VersionStatus): Promise<void> {
    if (loggedModelId && status === "READY") await this.runs.recordModelVersion(loggedModelId, name, version);
  }

  private async withFiles(
    caller: ArtifactCaller,
    runId: string | null,
    location: string,
    source: string,
  ): Promise<SourceOrigin> {
    const path = artifactPathOf(location);
    if (path === null)
      return { runId, storageLocation: location, status: "READY", statusMessage: null, manifestPath: null };
    await authorizeArtifactRead(this.artifacts, caller, path);
    if ((await this.artifacts.countUnder(path)) === 0) {
      return failed(runId, `Source ${source} has no files: nothing was uploaded under ${artifactUri(path)}.`);
    }
    return { runId, storageLocation: artifactUri(path), status: "READY", statusMessage: null, manifestPath: path };
  }

  /** `copy_model_version` registers `models:/<name>/<v>`; the copy shares the original's files. */
  private async fromRegisteredVersion(
    input: SourceInput,
    caller: ArtifactCaller,
    name: string,
    version: number | null,
    alias: string | null,
  ): Promise<SourceOrigin> {
    const original =
      alias !== null
        ? await this.coordinators.versionByAlias(name, alias)
        : await this.coordinators.version(name, version!);
    if (!original) return failed(input.runId, `Source ${input.source} does not name an existing model version.`);
    const location = original.storageLocation ?? original.source;
    return this.withFiles(caller, input.runId ?? original.runId, location, input.source);
  }
}

function failed(runId: string | null, message: string): SourceOrigin {
  return { runId, storageLocation: null, status: "FAILED_REGISTRATION", statusMessage: message, manifestPath: null };
}
