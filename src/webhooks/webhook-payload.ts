import type { RegistryEvent } from "../domain/events";
import {
  isPromptEvent,
  webhookEntityAction,
  webhookEventOf,
  type PromptWebhookEvent,
  type WebhookEventType,
} from "../domain/webhook-events";

/** The `data` object of a webhook body; MLflow's shapes (mlflow/webhooks/types.py) for its fourteen events. */
export type WebhookData = Record<string, unknown>;

/** The JSON body MLflow sends: `{"entity", "action", "timestamp", "data"}`. */
export interface WebhookBody {
  entity: string;
  action: string;
  timestamp: string;
  data: WebhookData;
}

/** ISO 8601 in UTC with an explicit offset, as Python's `datetime.now(timezone.utc).isoformat()` writes it. */
export function isoTimestamp(epochMs: number): string {
  return new Date(epochMs).toISOString().replace("Z", "+00:00");
}

function tagsOf(raw: string | undefined): Record<string, string> {
  if (!raw) return {};
  try {
    const parsed: unknown = JSON.parse(raw);
    if (Array.isArray(parsed)) {
      const out: Record<string, string> = {};
      for (const t of parsed) if (t && typeof t.key === "string") out[t.key] = String(t.value ?? "");
      return out;
    }
    if (parsed && typeof parsed === "object")
      return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, String(v)]));
  } catch {
    // not JSON: no tags
  }
  return {};
}

/** Tags MLflow keeps out of prompt payloads: they say what the model is, not what the user tagged. */
const PROMPT_INTERNAL_TAGS = ["mlflow.prompt.is_prompt", "_mlflow_prompt_type"];
const PROMPT_TEXT_TAG = "mlflow.prompt.text";

function withoutKeys(tags: Record<string, string>, keys: string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(tags).filter(([key]) => !keys.includes(key)));
}

/** The `data` of a prompt event (server/handlers.py builds them from the request, as here from the event). */
function promptData(type: PromptWebhookEvent, event: RegistryEvent): WebhookData {
  const d = event.data;
  const name = event.modelName;
  const version = event.version !== null ? String(event.version) : (d.version ?? event.to ?? null);
  switch (type) {
    case "prompt.created":
      return { name, tags: withoutKeys(tagsOf(d.tags), PROMPT_INTERNAL_TAGS), description: d.description ?? null };
    case "prompt_version.created": {
      const tags = tagsOf(d.tags);
      return {
        name,
        version,
        template: tags[PROMPT_TEXT_TAG] ?? null,
        tags: withoutKeys(tags, [PROMPT_TEXT_TAG, ...PROMPT_INTERNAL_TAGS]),
        description: d.description ?? null,
      };
    }
    case "prompt_tag.set":
      return { name, key: d.key ?? null, value: d.value ?? null };
    case "prompt_tag.deleted":
      return { name, key: d.key ?? null };
    case "prompt_version_tag.set":
      return { name, version, key: d.key ?? null, value: d.value ?? null };
    case "prompt_version_tag.deleted":
      return { name, version, key: d.key ?? null };
    case "prompt_alias.created":
      return { name, alias: d.alias ?? null, version };
    case "prompt_alias.deleted":
      return { name, alias: d.alias ?? null };
  }
}

/**
 * The `data` of one event, by the webhook event it is (a change on a prompt is a prompt event).
 * Versions travel as strings, as everywhere in MLflow's API.
 */
export function webhookData(event: RegistryEvent): WebhookData {
  const type = webhookEventOf(event);
  if (isPromptEvent(type)) return promptData(type, event);
  const d = event.data;
  const name = event.modelName;
  const version = event.version !== null ? String(event.version) : (d.version ?? null);
  switch (event.type) {
    case "registered_model.created":
      return { name, tags: tagsOf(d.tags), description: d.description ?? null };
    case "model_version.created":
      return {
        name,
        version,
        source: d.source ?? null,
        run_id: d.run_id ?? null,
        tags: tagsOf(d.tags),
        description: d.description ?? null,
      };
    case "model_version_tag.set":
      return { name, version, key: d.key ?? null, value: d.value ?? null };
    case "model_version_tag.deleted":
      return { name, version, key: d.key ?? null };
    case "model_version_alias.created":
      return { name, alias: d.alias ?? null, version: version ?? event.to };
    case "model_version_alias.deleted":
      return { name, alias: d.alias ?? null };
    // Modelgate's own events.
    case "registered_model.renamed":
      return { name: event.from ?? d.name ?? name, new_name: event.to ?? d.new_name ?? name };
    case "registered_model.deleted":
      return { name };
    case "registered_model_tag.set":
      return { name, key: d.key ?? null, value: d.value ?? null };
    case "registered_model_tag.deleted":
      return { name, key: d.key ?? null };
    case "model_version.ready":
    case "model_version.failed":
      return {
        name,
        version,
        status: event.type === "model_version.ready" ? "READY" : "FAILED_REGISTRATION",
        ...(d.status_message ? { status_message: d.status_message } : {}),
      };
    case "model_version.deleted":
      return { name, version };
    case "model_version.scanned":
      return { name, version, scan: d.verdict ?? event.to, ...(d.finding ? { finding: d.finding } : {}) };
    case "model_version.stage_transitioned":
      return {
        name,
        version,
        from_stage: event.from ?? d.from_stage ?? null,
        to_stage: event.to ?? d.to_stage ?? null,
        ...(d.comment ? { comment: d.comment } : {}),
        ...(event.actor ? { actor: event.actor } : {}),
      };
  }
}

/** The body for an event, stamped with the time of the change. */
export function webhookBody(event: RegistryEvent): WebhookBody {
  const { entity, action } = webhookEntityAction(webhookEventOf(event));
  return { entity, action, timestamp: isoTimestamp(event.timestamp), data: webhookData(event) };
}

/** MLflow's example payloads for prompt events (PromptCreatedPayload.example() and the others). */
const PROMPT_EXAMPLES: Record<PromptWebhookEvent, WebhookData> = {
  "prompt.created": {
    name: "example_prompt",
    tags: { example_key: "example_value" },
    description: "An example prompt",
  },
  "prompt_version.created": {
    name: "example_prompt",
    version: "1",
    template: "Hello {{name}}!",
    tags: { example_key: "example_value" },
    description: "An example prompt version",
  },
  "prompt_tag.set": { name: "example_prompt", key: "example_key", value: "example_value" },
  "prompt_tag.deleted": { name: "example_prompt", key: "example_key" },
  "prompt_version_tag.set": { name: "example_prompt", version: "1", key: "example_key", value: "example_value" },
  "prompt_version_tag.deleted": { name: "example_prompt", version: "1", key: "example_key" },
  "prompt_alias.created": { name: "example_prompt", alias: "example_alias", version: "1" },
  "prompt_alias.deleted": { name: "example_prompt", alias: "example_alias" },
};

/** MLflow's example payloads (`get_example_payload_for_event`), sent by the test endpoint. */
export function examplePayload(type: WebhookEventType): WebhookData {
  if (isPromptEvent(type)) return PROMPT_EXAMPLES[type];
  const example: RegistryEvent = {
    id: "00000000-0000-4000-8000-000000000000",
    type,
    modelId: "example",
    modelName: "example_model",
    version: type.startsWith("model_version") ? 1 : null,
    from:
      type === "model_version.stage_transitioned"
        ? "Staging"
        : type === "registered_model.renamed"
          ? "example_model"
          : null,
    to:
      type === "model_version.stage_transitioned"
        ? "Production"
        : type === "registered_model.renamed"
          ? "example_model_v2"
          : null,
    actor: null,
    timestamp: 0,
    sequence: 0,
    data: {
      tags: JSON.stringify({ example_key: "example_value" }),
      description: type === "registered_model.created" ? "An example registered model" : "An example model version",
      source: "runs:/abcd1234abcd5678/model",
      run_id: "abcd1234abcd5678",
      key: "example_key",
      value: "example_value",
      alias: "example_alias",
    },
  };
  return webhookData(example);
}
