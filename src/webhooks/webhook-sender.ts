import { retryAfterSeconds } from "./retry-policy";
import { DELIVERY_ID_HEADER, SIGNATURE_HEADER, signWebhook, TIMESTAMP_HEADER } from "./webhook-signature";

export interface SendRequest {
  url: string;
  secret: string | null;
  deliveryId: string;
  body: string;
  /** Modelgate's extra headers (event id, sequence, attempt). */
  headers: Record<string, string>;
  timeoutMs: number;
}

export interface SendResult {
  startedAt: number;
  durationMs: number;
  /** The receiver's HTTP status, or null when no answer came (network error, timeout). */
  statusCode: number | null;
  error: string | null;
  retryAfterSeconds: number | null;
  responseBody: string | null;
}

const MAX_RESPONSE_BODY = 64 * 1024;

/**
 * One POST as MLflow sends it (mlflow/webhooks/delivery.py): JSON body, X-MLflow-Delivery-Id,
 * X-MLflow-Timestamp (Unix seconds, the time of this attempt) and, with a secret,
 * X-MLflow-Signature. Redirects are not followed; the timeout aborts the request.
 */
export async function sendWebhook(request: SendRequest): Promise<SendResult> {
  const startedAt = Date.now();
  const timestamp = String(Math.floor(startedAt / 1000));
  const headers: Record<string, string> = {
    "Content-Type": "application/json",
    "User-Agent": "Modelgate-Webhooks/1",
    [DELIVERY_ID_HEADER]: request.deliveryId,
    [TIMESTAMP_HEADER]: timestamp,
    ...request.headers,
  };
  if (request.secret)
    headers[SIGNATURE_HEADER] = await signWebhook(request.secret, request.deliveryId, timestamp, request.body);
  try {
    const response = await fetch(request.url, {
      method: "POST",
      headers,
      body: request.body,
      redirect: "manual",
      signal: AbortSignal.timeout(request.timeoutMs),
    });
    const text = await leadingText(response, MAX_RESPONSE_BODY).catch(() => "");
    return {
      startedAt,
      durationMs: Date.now() - startedAt,
      statusCode: response.status,
      error: response.ok ? null : `HTTP ${response.status}${text ? `: ${text.slice(0, 200)}` : ""}`,
      retryAfterSeconds: retryAfterSeconds(response.headers.get("retry-after"), Date.now()),
      responseBody: text.slice(0, MAX_RESPONSE_BODY),
    };
  } catch (error) {
    const timedOut = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
    return {
      startedAt,
      durationMs: Date.now() - startedAt,
      statusCode: null,
      error: timedOut
        ? `Timed out after ${request.timeoutMs} ms`
        : `Network error: ${error instanceof Error ? error.message : String(error)}`,
      retryAfterSeconds: null,
      responseBody: null,
    };
  }
}

/**
 * The first `max` bytes of a receiver's answer, as text. A receiver may answer anything, of any
 * size and type: read only what the delivery log keeps, then hang up.
 */
async function leadingText(response: Response, max: number): Promise<string> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < max) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  const bytes = new Uint8Array(Math.min(size, max));
  let at = 0;
  for (const chunk of chunks) {
    const part = chunk.subarray(0, bytes.length - at);
    bytes.set(part, at);
    at += part.byteLength;
  }
  return new TextDecoder().decode(bytes);
}
