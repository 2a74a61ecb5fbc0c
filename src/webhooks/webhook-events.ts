import { InvalidParameterError } from "../errors";
import { entityAction, REGISTRY_EVENT_TYPES, type RegistryEventType } from "../events/registry-event";

/**
 * What a webhook may subscribe to: every registry event type, as MLflow's `{entity, action}` pair.
 * MLflow 3 defines six for the model registry (mlflow/entities/webhook.py VALID_ENTITY_ACTIONS);
 * the others (renames, deletions, stage transitions, model tags, READY/FAILED) are Modelgate's.
 */
export const MLFLOW_WEBHOOK_EVENTS: readonly RegistryEventType[] = [
  "registered_model.created",
  "model_version.created",
  "model_version_tag.set",
  "model_version_tag.deleted",
  "model_version_alias.created",
  "model_version_alias.deleted",
];

export const WEBHOOK_EVENTS: readonly RegistryEventType[] = REGISTRY_EVENT_TYPES;

export function isWebhookEvent(value: string): value is RegistryEventType {
  return (WEBHOOK_EVENTS as readonly string[]).includes(value);
}

/**
 * `{entity, action}` as a client sends it: MLflow's REST client sends proto enum names
 * (`MODEL_VERSION`, `CREATED`); the payload vocabulary is lower case (`model_version`). Both are
 * accepted.
 */
export function parseWebhookEvent(event: { entity: string; action: string }): RegistryEventType {
  const type = `${event.entity.toLowerCase()}.${event.action.toLowerCase()}`;
  if (!isWebhookEvent(type)) {
    const entities = [...new Set(WEBHOOK_EVENTS.map((t) => entityAction(t).entity))];
    const valid = WEBHOOK_EVENTS.filter((t) => entityAction(t).entity === event.entity.toLowerCase()).map((t) => entityAction(t).action);
    throw new InvalidParameterError(
      valid.length > 0
        ? `Invalid action '${event.action}' for entity '${event.entity}'. Valid actions are: ${JSON.stringify(valid.sort())}`
        : `Invalid entity '${event.entity}'. Valid entities are: ${JSON.stringify(entities)}`,
    );
  }
  return type;
}

/** Distinct event types, in the order given; at least one (MLflow: "Webhook events cannot be empty"). */
export function parseWebhookEvents(events: { entity: string; action: string }[]): RegistryEventType[] {
  if (events.length === 0) throw new InvalidParameterError("Webhook events cannot be empty");
  return [...new Set(events.map(parseWebhookEvent))];
}
