import type { WebhookEventType } from "./webhook-events";

/**
 * The models a caller holds (a token's per-model grants): null means every model. A caller
 * narrowed to models manages only webhooks filtered to one of them (never an all-models webhook),
 * and reads only deliveries of their events.
 */
export type ModelGrants = readonly string[] | null;

export const WEBHOOK_STATUSES = ["ACTIVE", "DISABLED"] as const;
export type WebhookStatus = (typeof WEBHOOK_STATUSES)[number];

export interface Webhook {
  id: string;
  name: string;
  description: string | null;
  url: string;
  /**
   * The signing secret as stored: sealed (`v1:<key id>:<iv>:<ciphertext>`, webhooks/webhook-secret-box.ts)
   * or, in rows written before secrets were encrypted, plain text. Opened only to sign a request;
   * never leaves the server.
   */
  storedSecret: string | null;
  /** Registry event types and MLflow 3's prompt events (webhook-events.ts). */
  events: WebhookEventType[];
  /** The model filter: only this model's events (null: every model). */
  modelId: string | null;
  /** The filtered model's current name (or its name when the filter was set, if it is gone). */
  modelName: string | null;
  status: WebhookStatus;
  creationTimestamp: number;
  lastUpdatedTimestamp: number;
}

/** pending: owed (queued or waiting for a retry); delivered; failed: a final 4xx; dead: retries used up. */
export type DeliveryStatus = "pending" | "delivered" | "failed" | "dead";
export type AttemptOutcome = "delivered" | "retry" | "failed";

export interface WebhookDelivery {
  id: string;
  webhookId: string;
  /** The registry event; null for a test delivery. */
  eventId: string | null;
  entity: string;
  action: string;
  modelId: string | null;
  modelName: string | null;
  sequence: number | null;
  /** The exact JSON body sent. */
  payload: string;
  status: DeliveryStatus;
  attempts: number;
  createdAt: number;
  updatedAt: number;
  nextAttemptAt: number;
  deliveredAt: number | null;
  deadAt: number | null;
  lastStatusCode: number | null;
  lastError: string | null;
}

export interface DeliveryAttempt {
  deliveryId: string;
  attempt: number;
  startedAt: number;
  durationMs: number;
  statusCode: number | null;
  error: string | null;
  outcome: AttemptOutcome;
}

export interface DeliveryWithAttempts extends WebhookDelivery {
  attemptLog: DeliveryAttempt[];
}
