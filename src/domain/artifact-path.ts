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
  return match[1].replace(/\/+$/, "");
}

export function artifactUri(path: string): string {
  return `mlflow-artifacts:/${path}`;
}
