// What a receiver's answer means for a delivery, and when to try again. MLflow retries 429, 500,
// 502, 503, 504 with exponential backoff honouring Retry-After; Modelgate also retries 408, any
// other 5xx, network errors and timeouts. Any other 4xx is final: sending it again cannot help.

export type Outcome = "delivered" | "retry" | "failed";

export function outcomeOf(status: number): Outcome {
  if (status >= 200 && status < 300) return "delivered";
  if (status === 408 || status === 429 || status >= 500) return "retry";
  // 1xx/3xx (redirects are not followed: the signature names one URL) and the other 4xx.
  return "failed";
}

/** Cloudflare Queues' longest retry delay (12 hours). */
export const MAX_QUEUE_DELAY_SECONDS = 43_200;

/** base * 2^(attempt-1), capped, with up to 10 % jitter so retries of many deliveries spread out. */
export function backoffSeconds(attempt: number, baseSeconds: number, maxSeconds: number, random = Math.random): number {
  const exponential = Math.min(baseSeconds * 2 ** Math.max(attempt - 1, 0), maxSeconds);
  return Math.min(Math.round(exponential * (1 + random() * 0.1)), MAX_QUEUE_DELAY_SECONDS);
}

/** Retry-After as delta-seconds or an HTTP date; null when absent or unreadable. */
export function retryAfterSeconds(header: string | null, now: number): number | null {
  if (header === null) return null;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Math.min(Number(value), MAX_QUEUE_DELAY_SECONDS);
  const date = Date.parse(value);
  if (Number.isNaN(date)) return null;
  return Math.min(Math.max(Math.ceil((date - now) / 1000), 0), MAX_QUEUE_DELAY_SECONDS);
}
