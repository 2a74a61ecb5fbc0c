import { RegistryError } from "../errors";
import type { ModelVersion, StageTransition } from "../domain/model";
import type { Caller } from "../domain/promotion-policy";
import type { RegistryService } from "./registry-service";

/**
 * The rollback rule: the version to restore is the most recent one, other than the current
 * Production version, whose history row went to Production before the current version's latest
 * promotion. `history` is newest first (as listTransitions answers); `usable` says whether a
 * candidate can still be promoted (not deleted, READY), so a gone version is skipped for the
 * one before it. Returns null when there is none.
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

export interface RollbackPlan {
  /** The version in Production now. */
  current: ModelVersion;
  /** The version a rollback promotes. */
  target: ModelVersion;
}

/** History is read a page at a time; a model's whole history is far below this bound. */
const HISTORY_PAGE = 1000;
const MAX_HISTORY_PAGES = 50;

const conflict = (message: string) => new RegistryError("RESOURCE_CONFLICT", message);

/**
 * Rolls Production back to the previous Production version, through the same transitionStage as
 * every promotion (so the current version is archived by the usual rule and both rows land in the
 * history). The web UI uses it; the API and CLI are to call the same methods (issue 8).
 */
export class RollbackService {
  constructor(private readonly registry: RegistryService) {}

  /** What a rollback would do now; refuses (409) when there is no Production or no earlier one. */
  async plan(name: string): Promise<RollbackPlan> {
    const [current] = await this.registry.getLatestVersions(name, ["Production"]);
    if (!current) throw conflict(`Model '${name}' has no version in Production, so there is nothing to roll back.`);
    const versions = new Map<number, ModelVersion | null>();
    const usable = (version: number) => versions.get(version)?.status === "READY";
    const seen: StageTransition[] = [];
    let pageToken: string | undefined;
    for (let pages = 0; pages < MAX_HISTORY_PAGES; pages++) {
      const page = await this.registry.listTransitions({ name, pageToken, maxResults: HISTORY_PAGE });
      seen.push(...page.items);
      // Look up each candidate once, so `usable` stays a pure lookup for rollbackTarget.
      for (const t of page.items) {
        if (t.toStage === "Production" && t.version !== current.version && !versions.has(t.version)) {
          versions.set(t.version, await this.findVersion(name, t.version));
        }
      }
      const target = rollbackTarget(seen, current.version, usable);
      if (target !== null) return { current, target: versions.get(target)! };
      if (!page.nextPageToken) break;
      pageToken = page.nextPageToken;
    }
    throw conflict(`Model '${name}' has no earlier Production version to roll back to (version ${current.version} is the only one that has been in Production).`);
  }

  /**
   * Promotes the previous Production version. With `expectedCurrent`, refuses when Production
   * moved since the caller looked (a confirmation page shown a while ago must not roll back
   * something else).
   */
  async rollback(input: { name: string; actor: string; expectedCurrent?: number; comment?: string; caller?: Caller }): Promise<RollbackPlan & { restored: ModelVersion }> {
    const plan = await this.plan(input.name);
    if (input.expectedCurrent !== undefined && plan.current.version !== input.expectedCurrent) {
      throw conflict(
        `Production of '${input.name}' changed since you looked: version ${plan.current.version} is in Production now, not version ${input.expectedCurrent}. Nothing was rolled back.`,
      );
    }
    const note = `rollback to version ${plan.target.version}`;
    const restored = await this.registry.transitionStage({
      name: input.name,
      version: String(plan.target.version),
      stage: "Production",
      archiveExisting: false,
      actor: input.actor,
      comment: input.comment?.trim() ? `${note}: ${input.comment.trim()}` : note,
      // Held to the promotion policy's scope rules only (docs/policies.md).
      caller: input.caller,
      kind: "rollback",
    });
    return { ...plan, restored };
  }

  private async findVersion(name: string, version: number): Promise<ModelVersion | null> {
    try {
      return await this.registry.getVersion(name, String(version));
    } catch (error) {
      if (error instanceof RegistryError && error.code === "RESOURCE_DOES_NOT_EXIST") return null;
      throw error;
    }
  }
}
