import { RegistryError } from "../errors";
import type { StageTransition, VersionStatus } from "./model";
import { isServable } from "./stages";

/**
 * The rollback rule: the version to restore is the most recent one, other than the current
 * Production version, whose history row went to Production before the current version's latest
 * promotion. `history` is newest first (as listTransitions answers; rows to other stages may be
 * left out, only promotions to Production count); `usable` says whether a candidate can still be
 * promoted (`restorable`), so a gone version is skipped for the one before it. Returns null when
 * there is none.
 */
export function rollbackTarget(history: readonly StageTransition[], current: number, usable: (version: number) => boolean = () => true): number | null {
  const promotedAt = history.findIndex((t) => t.toStage === "Production" && t.version === current);
  // Without the current version's own promotion row (history older than the log), every earlier
  // Production row still came before it.
  for (const t of history.slice(promotedAt + 1)) {
    if (t.toStage === "Production" && t.version !== current && usable(t.version)) return t.version;
  }
  return null;
}

/**
 * Which candidates a rollback may restore, given each one's status now (undefined: deleted): only
 * a version that may be served (stages.ts `isServable`: READY). An older registry let a version
 * that is not READY into Production; its history rows are passed over for the one before.
 */
export function restorable(statusOf: (version: number) => VersionStatus | undefined): (version: number) => boolean {
  return (version) => {
    const status = statusOf(version);
    return status !== undefined && isServable(status);
  };
}

/** The history comment of a rollback's promotion: the UI and the API record the same words. */
export function rollbackComment(target: number, comment: string | null | undefined): string {
  const note = `rollback to version ${target}`;
  return comment?.trim() ? `${note}: ${comment.trim()}` : note;
}

// A rollback that cannot happen is a conflict with the model's state (409), never a partial write.
const conflict = (message: string) => new RegistryError("RESOURCE_CONFLICT", message);

export const nothingInProduction = (name: string) => conflict(`Model '${name}' has no version in Production, so there is nothing to roll back.`);

export const noEarlierProduction = (name: string, current: number) =>
  conflict(`Model '${name}' has no earlier Production version to roll back to (version ${current} is the only one that has been in Production).`);

export const productionMoved = (name: string, current: number, expected: number) =>
  conflict(
    `Production of '${name}' changed since you looked: version ${current} is in Production now, not version ${expected}. Nothing was rolled back.`,
  );
