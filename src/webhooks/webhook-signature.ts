// MLflow's webhook signature (mlflow/webhooks/delivery.py `_generate_hmac_signature`):
// `v1,` + base64(HMAC-SHA256(secret, "<delivery_id>.<timestamp>.<body>")), with the timestamp in
// Unix seconds as sent in X-MLflow-Timestamp. Receivers written for MLflow verify it unchanged.

export const SIGNATURE_HEADER = "X-MLflow-Signature";
export const TIMESTAMP_HEADER = "X-MLflow-Timestamp";
export const DELIVERY_ID_HEADER = "X-MLflow-Delivery-Id";
export const SIGNATURE_VERSION = "v1";
/** Modelgate's additions, for ordering and de-duplication by receivers that want them. */
export const EVENT_ID_HEADER = "X-Modelgate-Event-Id";
export const SEQUENCE_HEADER = "X-Modelgate-Sequence";
export const ATTEMPT_HEADER = "X-Modelgate-Attempt";

const encoder = new TextEncoder();

function base64(bytes: ArrayBuffer): string {
  let binary = "";
  for (const b of new Uint8Array(bytes)) binary += String.fromCharCode(b);
  return btoa(binary);
}

export async function signWebhook(
  secret: string,
  deliveryId: string,
  timestamp: string,
  body: string,
): Promise<string> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  const mac = await crypto.subtle.sign("HMAC", key, encoder.encode(`${deliveryId}.${timestamp}.${body}`));
  return `${SIGNATURE_VERSION},${base64(mac)}`;
}
