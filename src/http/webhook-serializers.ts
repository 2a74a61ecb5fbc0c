import { webhookEntityAction } from "../domain/webhook-events";
import type { ResealReport, TestResult } from "../services/webhook-service";
import type { DeliveryAttempt, DeliveryWithAttempts, Webhook, WebhookDelivery } from "../domain/webhooks";

// Webhooks on the wire as MLflow's server writes them (proto JSON: enum names in upper case,
// timestamps in epoch milliseconds); the secret is never written. Unset fields are left out.

type Json = Record<string, unknown>;

function compact(obj: Json): Json {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== null && v !== undefined));
}

export function webhookJson(w: Webhook): Json {
  return compact({
    webhook_id: w.id,
    name: w.name,
    description: w.description,
    url: w.url,
    events: w.events.map((type) => {
      const { entity, action } = webhookEntityAction(type);
      return { entity: entity.toUpperCase(), action: action.toUpperCase() };
    }),
    status: w.status,
    creation_timestamp: w.creationTimestamp,
    last_updated_timestamp: w.lastUpdatedTimestamp,
    model_name: w.modelName,
  });
}

export function testResultJson(r: TestResult): Json {
  return {
    result: compact({
      success: r.success,
      response_status: r.responseStatus,
      response_body: r.responseBody,
      error_message: r.errorMessage,
    }),
    delivery_id: r.deliveryId,
  };
}

function attemptJson(a: DeliveryAttempt): Json {
  return compact({
    attempt: a.attempt,
    timestamp: a.startedAt,
    duration_ms: a.durationMs,
    status_code: a.statusCode,
    error: a.error,
    outcome: a.outcome.toUpperCase(),
  });
}

export function deliveryJson(d: WebhookDelivery | DeliveryWithAttempts): Json {
  return compact({
    delivery_id: d.id,
    webhook_id: d.webhookId,
    event_id: d.eventId,
    entity: d.entity,
    action: d.action,
    model_name: d.modelName,
    sequence: d.sequence,
    status: d.status.toUpperCase(),
    attempt_count: d.attempts,
    created_at: d.createdAt,
    updated_at: d.updatedAt,
    next_attempt_at: d.status === "pending" ? d.nextAttemptAt : null,
    delivered_at: d.deliveredAt,
    dead_at: d.deadAt,
    last_status_code: d.lastStatusCode,
    last_error: d.lastError,
    attempts: "attemptLog" in d ? d.attemptLog.map(attemptJson) : undefined,
  });
}

export function resealReportJson(r: ResealReport): Json {
  return { resealed: r.resealed, unreadable_webhook_ids: r.unreadable };
}
