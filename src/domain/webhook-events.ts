import { InvalidParameterError } from "../errors";
import { REGISTRY_EVENT_TYPES, type RegistryEvent, type RegistryEventType } from "./events";

/**
 * MLflow 3's prompt events (mlflow/entities/webhook.py, 3.5.1). A prompt is a registered model
 * tagged `mlflow.prompt.is_prompt`; MLflow's server sends these *instead of* the model events for
 * changes on a prompt (server/handlers.py), so a prompt never shows up as a model to a webhook.
 */
export const PROMPT_WEBHOOK_EVENTS = [
  "prompt.created",
  "prompt_version.created",
  "prompt_tag.set",
  "prompt_tag.deleted",
  "prompt_version_tag.set",
  "prompt_version_tag.deleted",
  "prompt_alias.created",
  "prompt_alias.deleted",
] as const;

export type PromptWebhookEvent = (typeof PROMPT_WEBHOOK_EVENTS)[number];

/** What a webhook may subscribe to: every registry event type and MLflow's prompt events. */
export type WebhookEventType = RegistryEventType | PromptWebhookEvent;

/**
 * MLflow 3.5.1's whole table (VALID_ENTITY_ACTIONS): nine entities, fourteen events, five entities
 * for prompts. Every other registry event type is Modelgate's own (renames, deletions, stage
 * transitions, model tags, READY/FAILED).
 */
export const MLFLOW_WEBHOOK_EVENTS: readonly WebhookEventType[] = [
  "registered_model.created",
  "model_version.created",
  "model_version_tag.set",
  "model_version_tag.deleted",
  "model_version_alias.created",
  "model_version_alias.deleted",
  ...PROMPT_WEBHOOK_EVENTS,
];

export const WEBHOOK_EVENTS: readonly WebhookEventType[] = [...REGISTRY_EVENT_TYPES, ...PROMPT_WEBHOOK_EVENTS];

export function isPromptEvent(type: WebhookEventType): type is PromptWebhookEvent {
  return (PROMPT_WEBHOOK_EVENTS as readonly string[]).includes(type);
}

export function isWebhookEvent(value: string): value is WebhookEventType {
  return (WEBHOOK_EVENTS as readonly string[]).includes(value);
}

/** MLflow's webhook vocabulary: `entity.action` split in two. */
export function webhookEntityAction(type: WebhookEventType): { entity: string; action: string } {
  const dot = type.lastIndexOf(".");
  return { entity: type.slice(0, dot), action: type.slice(dot + 1) };
}

/**
 * `{entity, action}` as a client sends it: MLflow's REST client sends proto enum names
 * (`PROMPT_VERSION`, `CREATED`); the payload vocabulary is lower case (`prompt_version`). Both are
 * accepted.
 */
export function parseWebhookEvent(event: { entity: string; action: string }): WebhookEventType {
  const type = `${event.entity.toLowerCase()}.${event.action.toLowerCase()}`;
  if (!isWebhookEvent(type)) {
    const entities = [...new Set(WEBHOOK_EVENTS.map((t) => webhookEntityAction(t).entity))];
    const valid = WEBHOOK_EVENTS.filter((t) => webhookEntityAction(t).entity === event.entity.toLowerCase()).map(
      (t) => webhookEntityAction(t).action,
    );
    throw new InvalidParameterError(
      valid.length > 0
        ? `Invalid action '${event.action}' for entity '${event.entity}'. Valid actions are: ${JSON.stringify(valid.sort())}`
        : `Invalid entity '${event.entity}'. Valid entities are: ${JSON.stringify(entities)}`,
    );
  }
  return type;
}

/** Distinct event types, in the order given; at least one (MLflow: "Webhook events cannot be empty"). */
export function parseWebhookEvents(events: { entity: string; action: string }[]): WebhookEventType[] {
  if (events.length === 0) throw new InvalidParameterError("Webhook events cannot be empty");
  return [...new Set(events.map(parseWebhookEvent))];
}

/** The registry events that become prompt events when the model is a prompt, and what they become. */
const AS_PROMPT_EVENT: Partial<Record<RegistryEventType, PromptWebhookEvent>> = {
  "registered_model.created": "prompt.created",
  "model_version.created": "prompt_version.created",
  "registered_model_tag.set": "prompt_tag.set",
  "registered_model_tag.deleted": "prompt_tag.deleted",
  "model_version_tag.set": "prompt_version_tag.set",
  "model_version_tag.deleted": "prompt_version_tag.deleted",
  "model_version_alias.created": "prompt_alias.created",
  "model_version_alias.deleted": "prompt_alias.deleted",
};

/**
 * The webhook event a registry change is, decided as MLflow 3.5.1's handlers decide it: a change on
 * a prompt is the matching prompt event (a prompt's creation, version, tag or alias), and reaches
 * only webhooks subscribed to that; every other change keeps its own type. `event.data.prompt` is
 * "true" when the model was a prompt at the time of the change (the model writer records it).
 */
export function webhookEventOf(event: Pick<RegistryEvent, "type" | "data">): WebhookEventType {
  return event.data.prompt === "true" ? (AS_PROMPT_EVENT[event.type] ?? event.type) : event.type;
}
