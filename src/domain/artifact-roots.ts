// Pure rules about where artifacts belong (issue 13). A run's files live under
// `<experiment location>/<run_id>/artifacts`, an MLflow 3 logged model's under
// `<experiment location>/models/<model_id>/artifacts`, and a registered version's under the folder
// its storage_location names. Experiment locations may be custom (`mlflow-artifacts:/team/place`),
// so a root is found by its owner's id in the path, then confirmed against the owner's recorded URI.

const RUN_ID = /^[0-9a-f]{32}$/;
const LOGGED_MODEL_ID = /^m-[0-9a-f]{32}$/;
const ROOT_MARKER = "artifacts";

/** `a/b/c` → `["a", "a/b", "a/b/c"]`: the path and every folder above it, shortest first. */
export function ancestorsOrSelf(path: string): string[] {
  if (path === "") return [];
  const segments = path.split("/");
  return segments.map((_, i) => segments.slice(0, i + 1).join("/"));
}

/** Whether `path` is `folder` itself or lies below it (segment-wise: `a/bc` is not below `a/b`). */
export function isWithin(path: string, folder: string): boolean {
  return path === folder || path.startsWith(`${folder}/`);
}

/** The ids of runs and logged models whose artifact root could contain `path` (to be confirmed). */
export function ownerCandidates(path: string): { runIds: string[]; loggedModelIds: string[] } {
  const segments = path.split("/");
  const runIds: string[] = [];
  const loggedModelIds: string[] = [];
  for (let i = 0; i + 1 < segments.length; i++) {
    if (segments[i + 1] !== ROOT_MARKER) continue;
    const segment = segments[i]!;
    if (RUN_ID.test(segment)) runIds.push(segment);
    else if (LOGGED_MODEL_ID.test(segment) && segments[i - 1] === "models") loggedModelIds.push(segment);
  }
  return { runIds, loggedModelIds };
}

/** Who made an artifact root: a run or a logged model, and the token that created it. */
export interface ArtifactOwner {
  kind: "run" | "logged_model";
  id: string;
  /** The root's artifact path (`0/<run>/artifacts`). */
  root: string;
  /** Not deleted (a deleted run or logged model takes no new files). */
  active: boolean;
  /** The id of the token that created it; null when made by the bootstrap admin or with auth off. */
  createdByToken: string | null;
}

/** Who is asking: a token narrowed to models (`models` non-null), or an unrestricted caller. */
export interface ArtifactCaller {
  tokenId: string | null;
  models: readonly string[] | null;
}
