import { decodePageToken, encodePageToken, validateMaxResults } from "../domain/paging";
import { InvalidParameterError, modelNotFound, NotFoundError, RegistryError } from "../errors";
import type { WebhookDeliveryRepository } from "../repositories/webhook-delivery-repository";
import type { WebhookRepository } from "../repositories/webhook-repository";
import { outcomeOf } from "../webhooks/retry-policy";
import type { WebhookConfig } from "../webhooks/webhook-config";
import {
  parseWebhookEvent,
  parseWebhookEvents,
  webhookEntityAction,
  type WebhookEventType,
} from "../domain/webhook-events";
import { examplePayload, isoTimestamp } from "../webhooks/webhook-payload";
import { sendWebhook, type SendResult } from "../webhooks/webhook-sender";
import { ATTEMPT_HEADER } from "../webhooks/webhook-signature";
import type { DeliveryWithAttempts, ModelGrants, Webhook, WebhookDelivery, WebhookStatus } from "../domain/webhooks";
import type { WebhookSecretBox } from "../webhooks/webhook-secret-box";
import { checkWebhookUrl } from "../webhooks/webhook-url-policy";
import type { WebhookDispatchService } from "./webhook-dispatch-service";

export interface EventInput {
  entity: string;
  action: string;
}

export interface CreateWebhookInput {
  name: string;
  url: string;
  events: EventInput[];
  description?: string;
  secret?: string;
  status?: WebhookStatus;
  /** Modelgate's model filter: only this model's events. */
  modelName?: string;
}

/** Fields left undefined stay as they are; an empty model name removes the filter. */
export type UpdateWebhookInput = Partial<CreateWebhookInput>;

export interface TestResult {
  success: boolean;
  responseStatus: number | null;
  responseBody: string | null;
  errorMessage: string | null;
  deliveryId: string;
  /** The webhook tested. */
  webhook: Webhook;
}

/** What resealing every stored secret with the first key did. */
export interface ResealReport {
  /** Secrets sealed again (they were plain text, or sealed with an older key). */
  resealed: number;
  /** Webhooks whose secret is sealed with a key no longer configured: they cannot sign until it is set again. */
  unreadable: string[];
}

export interface Page<T> {
  items: T[];
  nextPageToken: string | null;
}

const MAX_NAME = 256;
const MAX_URL = 2048;

export const webhookNotFound = (id: string) => new NotFoundError(`Webhook with ID ${id} not found.`);

/**
 * Webhook CRUD as MLflow 3 serves it, the test endpoint, and Modelgate's delivery log and replay.
 *
 * Every method takes the caller's `ModelGrants`. A caller narrowed to models manages only webhooks
 * filtered to one of them: a filter naming another model (or none: every model) is refused
 * (PERMISSION_DENIED, before the name is looked up, so the answer says nothing of its existence),
 * and any other webhook answers exactly as an unknown id does (RESOURCE_DOES_NOT_EXIST). Lists
 * are filtered in the query, so pages stay full.
 */
export class WebhookService {
  constructor(
    private readonly webhooks: WebhookRepository,
    private readonly deliveries: WebhookDeliveryRepository,
    private readonly dispatch: WebhookDispatchService,
    private readonly resolveModelId: (name: string) => Promise<string | null>,
    private readonly config: WebhookConfig,
    private readonly box: WebhookSecretBox,
    private readonly send: (request: Parameters<typeof sendWebhook>[0]) => Promise<SendResult> = sendWebhook,
  ) {}

  async create(grants: ModelGrants, input: CreateWebhookInput, now = Date.now()): Promise<Webhook> {
    checkFilter(grants, input.modelName ?? "");
    const filter = input.modelName ? await this.modelFilter(input.modelName) : { modelId: null, modelName: null };
    const id = crypto.randomUUID().replaceAll("-", "");
    const webhook: Webhook = {
      id,
      name: checkName(input.name),
      description: input.description || null,
      url: checkUrl(input.url, this.config),
      storedSecret: input.secret ? await this.box.seal(id, input.secret) : null,
      events: parseWebhookEvents(input.events),
      ...filter,
      status: input.status ?? "ACTIVE",
      creationTimestamp: now,
      lastUpdatedTimestamp: now,
    };
    await this.webhooks.insert(webhook);
    return webhook;
  }

  async get(grants: ModelGrants, id: string): Promise<Webhook> {
    const webhook = await this.webhooks.get(id, grants);
    if (!webhook) throw webhookNotFound(id);
    return webhook;
  }

  async list(
    grants: ModelGrants,
    maxResults: number | undefined,
    pageToken: string | undefined,
  ): Promise<Page<Webhook>> {
    const limit = validateMaxResults(maxResults, 100, 1000);
    const offset = decodePageToken(pageToken);
    const rows = await this.webhooks.list(offset, limit + 1, grants);
    return { items: rows.slice(0, limit), nextPageToken: rows.length > limit ? encodePageToken(offset + limit) : null };
  }

  async update(grants: ModelGrants, id: string, input: UpdateWebhookInput, now = Date.now()): Promise<Webhook> {
    const current = await this.get(grants, id);
    if (input.modelName !== undefined) checkFilter(grants, input.modelName);
    const filter =
      input.modelName === undefined
        ? { modelId: current.modelId, modelName: current.modelName }
        : input.modelName === ""
          ? { modelId: null, modelName: null }
          : await this.modelFilter(input.modelName);
    const updated: Webhook = {
      ...current,
      name: input.name === undefined ? current.name : checkName(input.name),
      description: input.description === undefined ? current.description : input.description || null,
      url: input.url === undefined ? current.url : checkUrl(input.url, this.config),
      storedSecret: await this.storedSecret(current, input.secret),
      events: input.events === undefined ? current.events : parseWebhookEvents(input.events),
      status: input.status ?? current.status,
      ...filter,
      lastUpdatedTimestamp: Math.max(now, current.lastUpdatedTimestamp),
    };
    if (!(await this.webhooks.update(updated, grants))) throw webhookNotFound(id);
    return updated;
  }

  /** Deletes the webhook with its deliveries and their attempts; answers what was deleted. */
  async delete(grants: ModelGrants, id: string): Promise<Webhook> {
    const webhook = await this.get(grants, id);
    if (!(await this.webhooks.delete(id, grants))) throw webhookNotFound(id);
    return webhook;
  }

  /**
   * Sends MLflow's example payload for one of the webhook's events (the first by default), signed
   * like any delivery, and answers what the receiver said. Recorded in the delivery log.
   */
  async test(grants: ModelGrants, id: string, event: EventInput | undefined, now = Date.now()): Promise<TestResult> {
    const webhook = await this.get(grants, id);
    // A webhook has at least one event: parseWebhookEvents refuses none.
    const type: WebhookEventType = event ? parseWebhookEvent(event) : webhook.events[0]!;
    const { entity, action } = webhookEntityAction(type);
    const deliveryId = crypto.randomUUID();
    const payload = JSON.stringify({ entity, action, timestamp: isoTimestamp(now), data: examplePayload(type) });
    let result: SendResult;
    try {
      checkWebhookUrl(webhook.url, this.config.allowHosts);
      const secret = await this.dispatch.signingSecret(webhook.id, webhook.storedSecret);
      result = await this.send({
        url: webhook.url,
        secret,
        deliveryId,
        body: payload,
        headers: { [ATTEMPT_HEADER]: "1" },
        timeoutMs: this.config.timeoutMs,
      });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      result = {
        startedAt: now,
        durationMs: 0,
        statusCode: null,
        error: message,
        retryAfterSeconds: null,
        responseBody: null,
      };
    }
    const success = result.statusCode !== null && outcomeOf(result.statusCode) === "delivered";
    const finishedAt = result.startedAt + result.durationMs;
    const delivery: WebhookDelivery = {
      id: deliveryId,
      webhookId: webhook.id,
      eventId: null,
      entity,
      action,
      modelId: null,
      modelName: null,
      sequence: null,
      payload,
      status: success ? "delivered" : "failed",
      attempts: 1,
      createdAt: now,
      updatedAt: finishedAt,
      nextAttemptAt: finishedAt,
      deliveredAt: success ? finishedAt : null,
      deadAt: null,
      lastStatusCode: result.statusCode,
      lastError: result.error,
    };
    await this.deliveries.insertWithAttempt(delivery, {
      deliveryId,
      attempt: 1,
      startedAt: result.startedAt,
      durationMs: result.durationMs,
      statusCode: result.statusCode,
      error: result.error,
      outcome: success ? "delivered" : "failed",
    });
    return {
      success,
      responseStatus: result.statusCode,
      responseBody: result.responseBody,
      errorMessage: success ? null : `Failed to test webhook: ${result.error}`,
      deliveryId,
      webhook,
    };
  }

  /** A webhook's deliveries, newest first, with every attempt (for a narrowed caller: of its models' events). */
  async listDeliveries(
    grants: ModelGrants,
    id: string,
    maxResults: number | undefined,
    pageToken: string | undefined,
  ): Promise<Page<DeliveryWithAttempts>> {
    await this.get(grants, id);
    const limit = validateMaxResults(maxResults, 50, 1000);
    const offset = decodePageToken(pageToken);
    const rows = await this.deliveries.listForWebhook(id, offset, limit + 1, grants);
    return { items: rows.slice(0, limit), nextPageToken: rows.length > limit ? encodePageToken(offset + limit) : null };
  }

  /** Sends a dead or failed delivery again, with a fresh retry budget; same delivery id and body. */
  async replay(
    grants: ModelGrants,
    id: string,
    deliveryId: string,
    now = Date.now(),
  ): Promise<{ webhook: Webhook; delivery: WebhookDelivery }> {
    const webhook = await this.get(grants, id);
    const delivery = await this.deliveries.get(id, deliveryId, grants);
    if (!delivery) throw new NotFoundError(`Delivery with ID ${deliveryId} not found for webhook ${id}.`);
    if (!(await this.deliveries.reopen(id, deliveryId, now, grants))) {
      throw new RegistryError(
        "RESOURCE_CONFLICT",
        `Delivery ${deliveryId} is ${delivery.status}; only dead or failed deliveries can be replayed.`,
      );
    }
    await this.dispatch.enqueue([deliveryId]);
    return { webhook, delivery: { ...delivery, status: "pending", nextAttemptAt: now, updatedAt: now, deadAt: null } };
  }

  /**
   * Seals every stored secret that is not sealed with the first key (plain text from before
   * encryption, or an older key), so the older key can be dropped once `unreadable` is empty.
   * Only an unrestricted admin: it touches every webhook.
   */
  async resealSecrets(grants: ModelGrants): Promise<ResealReport> {
    if (grants !== null)
      throw new RegistryError(
        "PERMISSION_DENIED",
        "Only an unrestricted admin reseals webhook secrets (it touches every webhook).",
      );
    const prefix = this.box.sealPrefix;
    if (prefix === null)
      throw new RegistryError("TEMPORARILY_UNAVAILABLE", `Modelgate is not configured: ${this.box.unavailable}.`);
    const report: ResealReport = { resealed: 0, unreadable: [] };
    for (const { id, storedSecret } of await this.webhooks.secretsWithout(prefix)) {
      const next = await this.box.resealed(id, storedSecret);
      if (next === null) report.unreadable.push(id);
      // A PATCH in between wrote a secret of its own, sealed with the first key: nothing left to do.
      else if (await this.webhooks.replaceSecret(id, storedSecret, next)) report.resealed += 1;
    }
    return report;
  }

  /** The secret column after an update: a new secret sealed, "" none, else the current one (sealed again if stale). */
  private async storedSecret(current: Webhook, secret: string | undefined): Promise<string | null> {
    if (secret !== undefined) return secret ? this.box.seal(current.id, secret) : null;
    if (current.storedSecret === null) return null;
    return (await this.box.resealed(current.id, current.storedSecret)) ?? current.storedSecret;
  }

  private async modelFilter(name: string): Promise<{ modelId: string; modelName: string }> {
    const modelId = await this.resolveModelId(name);
    if (!modelId) throw modelNotFound(name);
    return { modelId, modelName: name };
  }
}

/**
 * A narrowed caller may set a filter only to a model it holds, and may not remove it (a webhook
 * without a filter hears every model). `modelName` "" means no filter.
 */
function checkFilter(grants: ModelGrants, modelName: string): void {
  if (grants === null) return;
  if (modelName === "") {
    throw new RegistryError(
      "PERMISSION_DENIED",
      "A token narrowed to models manages only webhooks filtered to one of them: set model_name (only an unrestricted admin manages webhooks for every model).",
    );
  }
  // The name is not echoed: an answer to a narrowed token names only models it holds.
  if (!grants.includes(modelName))
    throw new RegistryError("PERMISSION_DENIED", "This token has no rights on the model named in 'model_name'.");
}

function checkName(name: string): string {
  if (name.trim() === "") throw new InvalidParameterError("Webhook name cannot be empty.");
  if (name.length > MAX_NAME)
    throw new InvalidParameterError(`Webhook name exceeds the maximum length of ${MAX_NAME} characters.`);
  return name;
}

function checkUrl(url: string, config: WebhookConfig): string {
  if (url.length > MAX_URL)
    throw new InvalidParameterError(`Webhook URL exceeds the maximum length of ${MAX_URL} characters.`);
  checkWebhookUrl(url, config.allowHosts);
  return url;
}
