import { InvalidParameterError } from "../errors";

export const MAX_ARTIFACT_PATH_LENGTH = 1024;

/**
 * Validates a path inside the artifact store: relative, no `..` or `.` segments, no empty
 * segments, no backslashes or control characters, bounded length. A bad path writes nothing.
 */
export function validateArtifactPath(path: string, { allowEmpty = false } = {}): string {
  if (path === "" && allowEmpty) return path;
  const problem =
    path === ""
      ? "it is empty"
      : path.length > MAX_ARTIFACT_PATH_LENGTH
        ? `it is longer than ${MAX_ARTIFACT_PATH_LENGTH} characters`
        : path.startsWith("/")
          ? "it is absolute"
          : path.includes("\\")
            ? "it contains a backslash"
            : /\p{Cc}/u.test(path)
              ? "it contains a control character"
              : path.split("/").some((s) => s === "")
                ? "it has an empty segment"
                : path.split("/").some((s) => s === ".." || s === ".")
                  ? "it contains a '.' or '..' segment"
                  : null;
  if (problem) throw new InvalidParameterError(`Invalid artifact path '${path.slice(0, 200)}': ${problem}.`);
  return path;
}

/** `mlflow-artifacts:/1/abc/artifacts/model` → `1/abc/artifacts/model`; null for other schemes. */
export function artifactPathOf(uri: string): string | null {
  const match = /^mlflow-artifacts:(?:\/\/[^/]*)?\/(.*)$/.exec(uri);
  if (!match) return null;
  return match[1]!.replace(/\/+$/, "");
}

export function artifactUri(path: string): string {
  return `mlflow-artifacts:/${path}`;
}

/**
 * Where a multipart upload lands. MLflow's `mpu/*` URLs name the artifact *directory* and the
 * body's `path` is the client's local file path; MLflow's server stores
 * `<dir>/<basename(path)>` (its S3 store joins `os.path.basename(local_file)`). A Windows client
 * sends backslashes, so both separators end the directory part here.
 */
export function multipartTarget(dir: string, localPath: string | undefined): string {
  const name = (localPath ?? "").split(/[\\/]/).pop() ?? "";
  if (name === "" || name === "." || name === "..") {
    throw new InvalidParameterError(
      `A multipart upload needs the local file's path in 'path' (got '${(localPath ?? "").slice(0, 200)}').`,
    );
  }
  return validateArtifactPath(dir === "" ? name : `${dir.replace(/\/+$/, "")}/${name}`);
}
