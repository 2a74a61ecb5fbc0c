import type { ArtifactCaller } from "../../domain/artifact-roots";
import { artifactPathOf, validateArtifactPath } from "../../domain/artifact-path";
import type { RunArtifacts } from "../../domain/tracking";
import { authorizeArtifactRead } from "../artifact-service";
import type { ArtifactLister, TrackingRules } from "./tracking-rules";

/** MLflow's artifacts/list for runs: what a run's artifact root holds in this store. */
export class RunArtifactService {
  constructor(
    private readonly artifacts: ArtifactLister,
    private readonly rules: TrackingRules,
  ) {}

  /**
   * One folder of a run's artifacts, paths relative to the run's root. Runs stored outside the
   * proxied store (another artifact location) list as empty: their files are not here.
   */
  async listArtifacts(caller: ArtifactCaller, runId: string, path?: string): Promise<RunArtifacts> {
    const relative = path === undefined ? "" : validateArtifactPath(path.replace(/\/+$/, ""), { allowEmpty: true });
    const run = await this.rules.run(runId);
    const root = artifactPathOf(run.info.artifactUri);
    if (root === null) return { rootUri: run.info.artifactUri, files: [] };
    const dir = relative === "" ? root : `${root}/${relative}`;
    await authorizeArtifactRead(this.artifacts, caller, dir);
    const entries = await this.artifacts.list(dir);
    return {
      rootUri: run.info.artifactUri,
      files: entries.map((e) => ({
        path: relative === "" ? e.path : `${relative}/${e.path}`,
        isDir: e.isDir,
        fileSize: e.size,
      })),
    };
  }
}
