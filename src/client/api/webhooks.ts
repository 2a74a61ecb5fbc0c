import type * as Webhooks from "../../http/schemas/webhooks";
import { compact, MLFLOW, MODELGATE, type Transport } from "../transport";
import type { DeliveryJson, RequestOf, WebhookEvent, WebhookJson, WebhookTestResultJson } from "../wire-types";

/** MLflow 3's webhooks (/api/2.0/mlflow/webhooks) and Modelgate's delivery log (/api/2.0/modelgate). */
export class WebhooksApi {
  constructor(private readonly http: Transport) {}

  async listWebhooks(): Promise<WebhookJson[]> {
    return this.http.allPages("webhooks", (page_token) => {
      const query: RequestOf<typeof Webhooks.ListWebhooks> = { max_results: 1000, page_token };
      return this.http.api("GET", `${MLFLOW}/webhooks`, query);
    });
  }

  /** `modelName` (Modelgate's extension) limits the webhook to one registered model's events. */
  async createWebhook(input: {
    name: string;
    url: string;
    events: WebhookEvent[];
    secret?: string;
    description?: string;
    status?: "ACTIVE" | "DISABLED";
    modelName?: string;
  }): Promise<WebhookJson> {
    const { modelName, ...rest } = input;
    const body: RequestOf<typeof Webhooks.CreateWebhook> = compact({ ...rest, model_name: modelName });
    return (await this.http.api<{ webhook: WebhookJson }>("POST", `${MLFLOW}/webhooks`, body)).webhook;
  }

  async deleteWebhook(id: string): Promise<void> {
    await this.http.api("DELETE", `${MLFLOW}/webhooks/${encodeURIComponent(id)}`, {});
  }

  /** Sends a test event to the webhook's URL now; answers how the receiver responded. */
  async testWebhook(
    id: string,
    event?: WebhookEvent,
  ): Promise<{ result: WebhookTestResultJson; delivery_id?: string }> {
    const body: RequestOf<typeof Webhooks.TestWebhook> = event ? { event } : {};
    return this.http.api("POST", `${MLFLOW}/webhooks/${encodeURIComponent(id)}/test`, body);
  }

  /** Every recorded delivery attempt of a webhook, newest first (as the server orders them), up to `limit`. */
  async listDeliveries(id: string, options: { limit?: number } = {}): Promise<DeliveryJson[]> {
    const limit = options.limit ?? Infinity;
    return this.http.allPages<DeliveryJson>(
      "deliveries",
      (page_token) => {
        const query: RequestOf<typeof Webhooks.ListWebhookDeliveries> = {
          max_results: Math.min(limit, 1000),
          page_token,
        };
        return this.http.api("GET", `${MODELGATE}/webhooks/${encodeURIComponent(id)}/deliveries`, query);
      },
      limit,
    );
  }

  /** Sends a dead or failed delivery again (the server refuses any other with RESOURCE_CONFLICT). */
  async replayDelivery(id: string, deliveryId: string): Promise<DeliveryJson> {
    const route = `${MODELGATE}/webhooks/${encodeURIComponent(id)}/deliveries/${encodeURIComponent(deliveryId)}/replay`;
    return (await this.http.api<{ delivery: DeliveryJson }>("POST", route, {})).delivery;
  }
}
