import { RegistryError } from "../errors";
import type { ModelVersion, StageTransition } from "../domain/model";
import {
  noEarlierProduction,
  nothingInProduction,
  requestedTarget,
  restorable,
  rollbackTarget,
  servedInProduction,
} from "../domain/rollback";
import { checkMayEnter } from "../domain/stages";
import type { RegistryService } from "./registry-service";

export interface RollbackPlan {
  /** The version in Production now. */
  current: ModelVersion;
  /** The version a rollback promotes. */
  target: ModelVersion;
}

/** History is read a page at a time; a model's whole history is far below this bound. */
const HISTORY_PAGE = 1000;
const MAX_HISTORY_PAGES = 50;

/**
 * A preview of a rollback (the web UI's offer and confirmation page), by the same rule as the
 * rollback itself. The rollback is RegistryService.rollback: one mutation in the model's
 * coordinator, which decides again there, so a preview that went stale cannot roll back
 * something else.
 */
export class RollbackService {
  constructor(private readonly registry: RegistryService) {}

  /**
   * What a rollback would do now; refuses (409) when there is no Production or no earlier one.
   * With `target`, what a rollback to that version would do, refused as that rollback would be.
   */
  async plan(name: string, target?: number): Promise<RollbackPlan> {
    const requested = target === undefined ? undefined : await this.registry.getVersion(name, String(target));
    if (requested) checkMayEnter(name, requested, "Production");
    const [current] = await this.registry.getLatestVersions(name, ["Production"]);
    if (!current) throw nothingInProduction(name);
    if (requested) return { current, target: await this.requested(name, current, requested) };
    const versions = new Map<number, ModelVersion | null>();
    const usable = restorable((version) => versions.get(version)?.status);
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
    throw noEarlierProduction(name, current.version);
  }

  /** The rule of domain/rollback.ts `requestedTarget`, on as much history as it takes to decide. */
  private async requested(name: string, current: ModelVersion, requested: ModelVersion): Promise<ModelVersion> {
    const seen: StageTransition[] = [];
    let pageToken: string | undefined;
    for (let pages = 0; pages < MAX_HISTORY_PAGES && !servedInProduction(seen, requested.version); pages++) {
      const page = await this.registry.listTransitions({ name, pageToken, maxResults: HISTORY_PAGE });
      seen.push(...page.items);
      if (!page.nextPageToken) break;
      pageToken = page.nextPageToken;
    }
    requestedTarget(name, seen, current.version, requested.version);
    return requested;
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
