import { RegistryError, versionNotFound } from "../errors";
import type { StageTransition, VersionRecord, VersionStatus } from "./model";
import { checkMayEnter, isServable } from "./stages";

/** What a rollback does: the one shape, for the preview (UI) and the rollback itself. */
export interface RollbackPlan {
  /** The version in Production now, which the rollback archives. */
  current: number;
  /** The version the rollback promotes back to Production. */
  target: number;
}

/** What a rollback is decided on: the model as its coordinator holds it, and its Production history. */
export interface RollbackFacts {
  name: string;
  /** The version in Production now (the stage's latest READY version), if any. */
  current: number | undefined;
  /** The model's stage history, newest first (only promotions to Production count). */
  history: readonly StageTransition[];
  /** Each version as it is now (undefined: no such version, or deleted). */
  versionOf: (version: number) => Pick<VersionRecord, "version" | "status"> | undefined;
}

/**
 * The one rollback planner: what a rollback would do now. Refuses (RESOURCE_CONFLICT) without
 * Production, without an earlier Production version, or when Production is no longer
 * `expectedCurrent`, the version the caller saw. With a `target`, that version is restored if it
 * may be (`requestedTarget`): an unknown version is RESOURCE_DOES_NOT_EXIST, one that is not READY
 * is refused as a promotion is. The coordinator plans with it both to act and to preview.
 */
export function planRollback(
  facts: RollbackFacts,
  request: { expectedCurrent?: number; target?: number } = {},
): RollbackPlan {
  const { name, current, history, versionOf } = facts;
  const { expectedCurrent, target } = request;
  // The version's own rules first, as for a promotion: it exists (404) and is READY.
  if (target !== undefined) {
    const record = versionOf(target);
    if (!record) throw versionNotFound(name, target);
    checkMayEnter(name, record, "Production");
  }
  if (current === undefined) throw nothingInProduction(name);
  if (expectedCurrent !== undefined && current !== expectedCurrent)
    throw productionMoved(name, current, expectedCurrent);
  if (target !== undefined) return { current, target: requestedTarget(name, history, current, target) };
  const previous = rollbackTarget(
    history,
    current,
    restorable((v) => versionOf(v)?.status),
  );
  if (previous === null) throw noEarlierProduction(name, current);
  return { current, target: previous };
}

/**
 * The rollback rule: the version to restore is the most recent one, other than the current
 * Production version, whose history row went to Production before the current version's latest
 * promotion. `history` is newest first (as listTransitions answers; rows to other stages may be
 * left out, only promotions to Production count); `usable` says whether a candidate can still be
 * promoted (`restorable`), so a gone version is skipped for the one before it. Returns null when
 * there is none.
 */
export function rollbackTarget(
  history: readonly StageTransition[],
  current: number,
  usable: (version: number) => boolean = () => true,
): number | null {
  const promotedAt = history.findIndex((t) => t.toStage === "Production" && t.version === current);
  // Without the current version's own promotion row (history older than the log), every earlier
  // Production row still came before it.
  for (const t of history.slice(promotedAt + 1)) {
    if (t.toStage === "Production" && t.version !== current && usable(t.version)) return t.version;
  }
  return null;
}

/**
 * The rule for a rollback to a named version (`rollback --to`, the API's `version`): it restores
 * an earlier Production version, never promotes one that has not served. So the version must not
 * be the current Production version and must have been in Production before: a row of `history`
 * (newest first, as for `rollbackTarget`) took it to Production. Every such row is earlier than
 * the current version's latest promotion, because the current version is in Production now. That
 * it exists and is READY are the promotion's own rules (stages.ts `checkMayEnter`), checked by the
 * caller before this one. Returns the version, or throws RESOURCE_CONFLICT naming what is missing.
 */
export function requestedTarget(
  name: string,
  history: readonly StageTransition[],
  current: number,
  requested: number,
): number {
  if (requested === current) throw alreadyInProduction(name, requested);
  if (!servedInProduction(history, requested)) throw neverInProduction(name, requested);
  return requested;
}

/** Whether `history` (or the part of it read so far) shows `version` entering Production. */
export function servedInProduction(history: readonly StageTransition[], version: number): boolean {
  return history.some((t) => t.toStage === "Production" && t.version === version);
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

export const nothingInProduction = (name: string) =>
  conflict(`Model '${name}' has no version in Production, so there is nothing to roll back.`);

export const noEarlierProduction = (name: string, current: number) =>
  conflict(
    `Model '${name}' has no earlier Production version to roll back to (version ${current} is the only one that has been in Production).`,
  );

export const productionMoved = (name: string, current: number, expected: number) =>
  conflict(
    `Production of '${name}' changed since you looked: version ${current} is in Production now, not version ${expected}. Nothing was rolled back.`,
  );

export const alreadyInProduction = (name: string, version: number) =>
  conflict(
    `Version ${version} of '${name}' is the version in Production now, so there is nothing to roll back to. Nothing was rolled back.`,
  );

export const neverInProduction = (name: string, version: number) =>
  conflict(
    `Version ${version} of '${name}' has never been in Production, so a rollback cannot restore it (a rollback goes back to an earlier Production version; promote a new one instead). Nothing was rolled back.`,
  );
