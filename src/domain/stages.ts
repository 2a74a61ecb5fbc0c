import { InvalidParameterError } from "../errors";
import type { VersionStatus } from "./model";

export const STAGES = ["None", "Staging", "Production", "Archived"] as const;
export type Stage = (typeof STAGES)[number];

/** The stages `archive_existing_versions` may apply to, as in MLflow. */
export const ACTIVE_STAGES: readonly Stage[] = ["Staging", "Production"];

const byLowerCase = new Map(STAGES.map((s) => [s.toLowerCase(), s]));

/** The stage `input` names, matched case-insensitively as MLflow does; undefined if none. */
export const stageNamed = (input: string): Stage | undefined => byLowerCase.get(input.toLowerCase());

/** MLflow matches stage names case-insensitively and answers with the canonical spelling. */
export function parseStage(input: string): Stage {
  const stage = stageNamed(input);
  if (!stage) {
    throw new InvalidParameterError(
      `Invalid Model Version stage: ${input}. Value must be one of ${STAGES.join(", ")}.`,
    );
  }
  return stage;
}

export interface StagedVersion {
  version: number;
  currentStage: Stage;
}

/**
 * Which other versions a transition of `target` to `stage` archives. Promotion to Production
 * always archives the previous Production version (Modelgate's rule: one Production version,
 * always); `archiveExisting` keeps MLflow's meaning and also archives the rest of the target stage.
 */
export function versionsToArchive(
  versions: Iterable<StagedVersion>,
  target: number,
  stage: Stage,
  archiveExisting: boolean,
): number[] {
  if (archiveExisting && !ACTIVE_STAGES.includes(stage)) {
    throw new InvalidParameterError(
      `Model version transition cannot archive existing model versions because '${stage}' is not an Active stage. Valid stages are ${ACTIVE_STAGES.join(", ")}`,
    );
  }
  if (stage !== "Production" && !archiveExisting) return [];
  const archived: number[] = [];
  for (const v of versions) {
    if (v.version !== target && v.currentStage === stage) archived.push(v.version);
  }
  return archived.sort((a, b) => a - b);
}

/**
 * Whether a version with this status may be served: enter Staging or Production, take an alias,
 * count as a stage's latest version (MLflow's get-latest-versions) or be restored by a rollback.
 * Only READY versions have their files; this one predicate is what every view of "the version in
 * Production" rests on, so they cannot disagree.
 */
export function isServable(status: VersionStatus): boolean {
  return status === "READY";
}

export interface RegisteredVersion {
  version: number;
  status: VersionStatus;
}

const notServable = (model: string, v: RegisteredVersion, what: string) =>
  new InvalidParameterError(
    `Model Version (name=${model}, version=${v.version}) is ${v.status}: only a READY version can ${what}.`,
  );

/**
 * Refuses (INVALID_PARAMETER_VALUE, naming the status) a version that is not READY entering
 * Staging or Production. Modelgate's rule: MLflow's store does not look at the status, which let
 * a version without files be "in Production" while nothing could load it.
 */
export function checkMayEnter(model: string, v: RegisteredVersion, stage: Stage): void {
  if (ACTIVE_STAGES.includes(stage) && !isServable(v.status)) throw notServable(model, v, `enter ${stage}`);
}

/** Refuses (INVALID_PARAMETER_VALUE, naming the status) an alias on a version that is not READY. */
export function checkMayTakeAlias(model: string, v: RegisteredVersion, alias: string): void {
  if (!isServable(v.status)) throw notServable(model, v, `take the alias '${alias}'`);
}
