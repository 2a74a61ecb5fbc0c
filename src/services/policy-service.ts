import { RegistryError } from "../errors";
import { validateModelName } from "../domain/limits";
import type { PolicyRecord, PromotionPolicy } from "../domain/promotion-policy";
import type { CoordinatorClient } from "../coordinator/coordinator-client";

/**
 * Promotion policies: read, set and clear a model's policy. The policy lives in the model's
 * coordinator, which checks it on every transition (src/coordinator/policy-gate.ts). The policy
 * arrives parsed and validated (src/http/schemas/policies.ts). Knows nothing of HTTP.
 */
export class PolicyService {
  constructor(
    private readonly coordinators: CoordinatorClient,
    private readonly clock: () => number = Date.now,
  ) {}

  /** The model's policy and who set it, or null when it has none. */
  getPolicy(name: string): Promise<PolicyRecord | null> {
    validateModelName(name);
    return this.coordinators.ask(name, (c, id) => c.getPolicy(id, name));
  }

  /** Replaces the model's policy; an empty policy (no rules) clears it. */
  async setPolicy(name: string, policy: PromotionPolicy, actor: string): Promise<PolicyRecord | null> {
    validateModelName(name);
    if (Object.values(policy).every((rules) => !rules || rules.length === 0)) {
      await this.clearPolicy(name);
      return null;
    }
    const record: PolicyRecord = { policy, updatedBy: actor, updatedTime: this.clock() };
    // A policy moves no ref's resolution: nothing cached goes stale.
    return (await this.coordinators.mutate(name, (c, id) => c.setPolicy(id, name, record))).value;
  }

  async clearPolicy(name: string): Promise<void> {
    validateModelName(name);
    await this.coordinators.mutate(name, (c, id) => c.clearPolicy(id, name));
  }

  /**
   * Asks the model's coordinator to record a version's scan verdict (and its event) now that the
   * scans queue has scanned its files. By id: the queue's message names no model. Answers the
   * status recorded (null: the version or model is gone, or a file is still unscanned).
   */
  async recordScan(modelId: string, version: number): Promise<string | null> {
    const reply = await this.coordinators.stubFor(modelId).recordScan(modelId, version);
    if (!reply.ok) throw new RegistryError(reply.code, reply.message);
    return reply.value;
  }
}
