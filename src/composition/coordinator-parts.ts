import { ModelWriter } from "../coordinator/model-writer";
import type { CoordinatorParts } from "../coordinator/model-coordinator";
import { PolicyGate } from "../coordinator/policy-gate";
import { defaultScanPolicy } from "../domain/promotion-policy";
import { EventRelay } from "../events/event-relay";
import { OutboxAlarm } from "../events/outbox-alarm";
import { openDatabase } from "../repositories/database";
import { EventRepository } from "../repositories/event-repository";
import { ModelRepository } from "../repositories/model-repository";
import { PromotionFactsRepository } from "../repositories/promotion-facts-repository";
import { ScanGate } from "../scanning/scan-gate";

/**
 * What one model's coordinator works with, built once per object from its storage and the
 * bindings (src/index.ts hands them to the object). Needs no secret.
 */
export function coordinatorParts(ctx: DurableObjectState, env: Env): CoordinatorParts {
  const db = openDatabase(env.DB);
  const events = new EventRepository(db);
  const models = new ModelRepository(db, events);
  return {
    models,
    writer: new ModelWriter(models),
    outbox: new OutboxAlarm(ctx.storage, new EventRelay(events, env.EVENTS)),
    policies: new PolicyGate(ctx.storage, db, Date.now, {
      facts: new PromotionFactsRepository(db),
      scans: new ScanGate(db, env.ARTIFACTS),
      // Not in wrangler.toml's generated Env until the deployment sets it (docs/supply-chain.md).
      defaultPolicy: defaultScanPolicy(env.MODELGATE_DEFAULT_SCAN_POLICY),
    }),
  };
}
