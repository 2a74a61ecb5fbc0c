import { InvalidParameterError } from "../errors";
import { parseVersion } from "./limits";
import { STAGES, type Stage, stageNamed } from "./stages";

/** What inference asks for: `Production`, `@champion`, `3` or `latest`. */
export type ModelRef =
  | { kind: "stage"; stage: Stage }
  | { kind: "alias"; alias: string }
  | { kind: "version"; version: number }
  | { kind: "latest" };

export function parseModelRef(ref: string): ModelRef {
  if (ref.startsWith("@")) {
    if (ref.length === 1) throw new InvalidParameterError("An alias reference needs a name after '@'.");
    return { kind: "alias", alias: ref.slice(1) };
  }
  if (/^\d+$/.test(ref)) return { kind: "version", version: parseVersion(ref) };
  if (ref.toLowerCase() === "latest") return { kind: "latest" };
  const stage = stageNamed(ref);
  if (stage) return { kind: "stage", stage };
  throw new InvalidParameterError(
    `Invalid model reference '${ref}': use a stage (${STAGES.join(", ")}), '@<alias>', a version number or 'latest'.`,
  );
}

/** The one spelling of a ref, used as its cache key and in purges. */
export function canonicalRef(ref: ModelRef): string {
  switch (ref.kind) {
    case "stage":
      return ref.stage;
    case "alias":
      return `@${ref.alias}`;
    case "version":
      return String(ref.version);
    case "latest":
      return "latest";
  }
}

const REGISTERED_VERSION_URI = /^models:\/([^/@]+)(?:\/(\d+)|@([\w-]+))\/?$/;

/**
 * The registered version a `models:/<name>/<version>` or `models:/<name>@<alias>` source names (as
 * copy_model_version sends it); null for any other source, MLflow 3's `models:/m-<id>` included.
 * The one parser of such sources: the route's guard and the registration both use it.
 */
export function registeredVersionSource(
  source: string,
): { name: string; version: number | null; alias: string | null } | null {
  const match = REGISTERED_VERSION_URI.exec(source);
  if (!match) return null;
  return { name: match[1]!, version: match[2] !== undefined ? Number(match[2]) : null, alias: match[3] ?? null };
}
