import { InvalidParameterError } from "../errors";

// One rule for every key MLflow treats as a name: metric, param, run, experiment, registered-model
// and model-version tag keys alike (mlflow/utils/validation.py `_validate_tag_name`, which the
// registry's stores call too).

/** Python's `\w` is Unicode-aware: letters, digits, marks and underscore. */
const VALID_NAME = /^[/\p{L}\p{N}\p{M}_.\- :]*$/u;
const BAD_CHARACTERS_MESSAGE =
  "Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colons (:) and slashes (/).";

/** posixpath.normpath, which MLflow uses to refuse names that would alias other names as files. */
export function normalizePosixPath(path: string): string {
  if (path === "") return ".";
  const initialSlashes = path.startsWith("//") && !path.startsWith("///") ? 2 : path.startsWith("/") ? 1 : 0;
  const parts: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part !== ".." || (initialSlashes === 0 && parts.length === 0) || parts[parts.length - 1] === "..")
      parts.push(part);
    else if (parts.length > 0) parts.pop();
  }
  const joined = "/".repeat(initialSlashes) + parts.join("/");
  return joined === "" ? "." : joined;
}

function pathNotUnique(name: string): boolean {
  const norm = normalizePosixPath(name);
  return norm !== name || norm === "." || norm.startsWith("..") || norm.startsWith("/");
}

export type KeyKind = "metric" | "parameter" | "tag";

/** Metric, param and tag keys: MLflow's character set, and no name that aliases another as a path. */
export function validateKey(kind: KeyKind, name: string): void {
  if (!VALID_NAME.test(name))
    throw new InvalidParameterError(`Invalid ${kind} name: '${name}'. ${BAD_CHARACTERS_MESSAGE}`);
  if (pathNotUnique(name)) {
    throw new InvalidParameterError(
      `Invalid ${kind} name: '${name}'. Names may be treated as files in certain cases, and must not resolve to other names when treated as such. This name would resolve to '${normalizePosixPath(name)}'`,
    );
  }
}
