import type { RegistryEvent, RegistryEventType } from "../events/registry-event";
import { entityAction } from "../events/registry-event";

/** The `data` object of a webhook body; MLflow's shapes (mlflow/webhooks/types.py) for its six events. */
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
    if (parsed && typeof parsed === "object") return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, String(v)]));
  } catch {
    // not JSON: no tags
  }
  return {};
}

/** The `data` of one event, by type. Versions travel as strings, as everywhere in MLflow's API. */
export function webhookData(event: RegistryEvent): WebhookData {
  const d = event.data;
  const name = event.modelName;
  const version = event.version !== null ? String(event.version) : (d.version ?? null);
  switch (event.type) {
    case "registered_model.created":
      return { name, tags: tagsOf(d.tags), description: d.description ?? null };
    case "model_version.created":
      return { name, version, source: d.source ?? null, run_id: d.run_id ?? null, tags: tagsOf(d.tags), description: d.description ?? null };
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
      return { name, version, status: event.type === "model_version.ready" ? "READY" : "FAILED_REGISTRATION", ...(d.status_message ? { status_message: d.status_message } : {}) };
    case "model_version.deleted":
      return { name, version };
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
  const { entity, action } = entityAction(event.type);
  return { entity, action, timestamp: isoTimestamp(event.timestamp), data: webhookData(event) };
}

/** MLflow's example payloads (`get_example_payload_for_event`), sent by the test endpoint. */
export function examplePayload(type: RegistryEventType): WebhookData {
  const example: RegistryEvent = {
    id: "00000000-0000-4000-8000-000000000000",
    type,
    modelId: "example",
    modelName: "example_model",
    version: type.startsWith("model_version") ? 1 : null,
    from: type === "model_version.stage_transitioned" ? "Staging" : type === "registered_model.renamed" ? "example_model" : null,
    to: type === "model_version.stage_transitioned" ? "Production" : type === "registered_model.renamed" ? "example_model_v2" : null,
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
