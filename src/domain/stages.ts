import { InvalidParameterError } from "../errors";

export const STAGES = ["None", "Staging", "Production", "Archived"] as const;
export type Stage = (typeof STAGES)[number];

/** The stages `archive_existing_versions` may apply to, as in MLflow. */
export const ACTIVE_STAGES: readonly Stage[] = ["Staging", "Production"];

const byLowerCase = new Map(STAGES.map((s) => [s.toLowerCase(), s]));

/** MLflow matches stage names case-insensitively and answers with the canonical spelling. */
export function parseStage(input: string): Stage {
  const stage = byLowerCase.get(input.toLowerCase());
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
