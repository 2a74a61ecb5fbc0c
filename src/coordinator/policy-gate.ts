import { RegistryError } from "../errors";
import {
  effectivePolicy,
  evaluatePolicy,
  neededFacts,
  needsScan,
  rulesFor,
  type Caller,
  type MetricFact,
  type PolicyRecord,
  type PromotionPolicy,
  type ScanFact,
  type TransitionKind,
} from "../domain/promotion-policy";
import type { Stage } from "../domain/stages";
import type { Database } from "../repositories/database";
import { PromotionFactsRepository } from "../repositories/promotion-facts-repository";
import type { ModelState } from "./model-state";
import { PolicyStore } from "./policy-store";
import type { ScanGate } from "../scanning/scan-gate";

export interface PolicyGateOptions {
  /** Reads (and, for small versions, runs) scans for `scan` rules, and records scan verdicts. */
  scans?: ScanGate;
  /**
   * The deployment's default (MODELGATE_DEFAULT_SCAN_POLICY, read by `defaultScanPolicy`): a floor
   * under every model's own policy, merged by `effectivePolicy` (a model's own scan rule for a
   * stage holds; any other policy keeps the default's).
   */
  defaultPolicy?: PromotionPolicy | null;
  /** The facts rules read from D1; the composition root passes its own (built over `db` when absent). */
  facts?: PromotionFactsRepository;
}

/**
 * The model's promotion policy as its coordinator holds it: read, set and clear it, and check a
 * transition against it. Every method is meant to run inside the coordinator's queue, so a policy
 * change and a transition never interleave: a transition is checked against the policy in force
 * when its turn comes, and nothing it would write is written before the check passed.
 */
export class PolicyGate {
  private readonly store: PolicyStore;
  private readonly facts: PromotionFactsRepository;

  private readonly scans: ScanGate | undefined;
  private readonly defaultPolicy: PromotionPolicy | null;

  constructor(
    storage: DurableObjectStorage,
    db: Database,
    private readonly clock: () => number = Date.now,
    options: PolicyGateOptions = {},
  ) {
    this.store = new PolicyStore(storage);
    this.facts = options.facts ?? new PromotionFactsRepository(db);
    this.scans = options.scans;
    this.defaultPolicy = options.defaultPolicy ?? null;
  }

  /** The deployment's default policy, in force for every model alongside its own rules. */
  get fallback(): PromotionPolicy | null {
    return this.defaultPolicy;
  }

  /**
   * Records the version's scan verdict (and its `model_version.scanned` event) once every file of
   * it has been scanned; the scans queue's consumer asks after scanning. Answers the status.
   */
  async recordScan(state: ModelState, version: number): Promise<string | null> {
    if (!this.scans || !state.versions.has(version)) return null;
    return (await this.scans.record({ modelId: state.model.id, version }, state.name)).status;
  }

  get(): PolicyRecord | null {
    return this.store.get();
  }

  set(record: PolicyRecord): PolicyRecord {
    this.store.set(record);
    return record;
  }

  /** Drops the policy (DELETE, or the model itself was deleted). */
  clear(): void {
    this.store.clear();
  }

  /**
   * Refuses (throws the RegistryError the policy names) a transition of `version` to `stage` that
   * the model's policy does not allow; returns when it does, or when no rule guards `stage`.
   * `caller` is who asks, as the route authenticated them (null: unknown, which fails scope rules).
   * A rollback is checked against the scope rules only (docs/policies.md). Reads D1 only for
   * facts a rule of this stage needs (time in Staging, run metrics).
   */
  async check(
    state: ModelState,
    version: number,
    stage: Stage,
    caller: Caller | null,
    kind: TransitionKind = "transition",
  ): Promise<void> {
    const policy = effectivePolicy(this.store.get()?.policy, this.defaultPolicy);
    const rules = rulesFor(policy, stage, kind);
    if (rules.length === 0) return;
    const v = state.versions.get(version);
    if (!v) return; // the writer answers "version not found"
    const needed = neededFacts(rules);
    const [entered, metrics, scan] = await Promise.all([
      needed.stagingSince && v.currentStage === "Staging"
        ? this.facts.stagingEnteredAt(state.model.id, version)
        : Promise.resolve(null),
      needed.metrics.length > 0 && v.runId !== null
        ? this.facts.latestMetrics(v.runId, needed.metrics)
        : Promise.resolve(new Map<string, MetricFact>()),
      needsScan(rules) && this.scans
        ? this.scans.fact({ modelId: state.model.id, version }, state.name)
        : Promise.resolve<ScanFact | null>(null),
    ]);
    const verdict = evaluatePolicy(policy, {
      model: state.name,
      version,
      target: stage,
      kind,
      currentStage: v.currentStage,
      // A version in Staging without a history row (older than the history) counts from its last update.
      stagingSince: v.currentStage === "Staging" ? (entered ?? v.lastUpdatedTime) : null,
      now: this.clock(),
      tags: v.tags,
      runId: v.runId,
      metrics,
      caller,
      scan,
    });
    if (!verdict.ok) throw new RegistryError(verdict.code, verdict.message);
  }
}
