import { InvalidParameterError } from "../errors";
import { parseVersion } from "./limits";
import { STAGES, type Stage } from "./stages";

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
  const stage = STAGES.find((s) => s.toLowerCase() === ref.toLowerCase());
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
