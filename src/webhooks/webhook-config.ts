import { parseAllowHosts } from "./webhook-url-policy";

/** Webhook settings, from the MODELGATE_WEBHOOK_* vars in wrangler.toml. */
export interface WebhookConfig {
  /** Internal hosts a webhook may still point at (wrangler.toml: none; npm start and tests: loopback). */
  allowHosts: string[];
  /** How long one attempt may take before it counts as a timeout (retried). */
  timeoutMs: number;
  /** The first retry's delay; each next one doubles, up to retryMaxSeconds. */
  retryBaseSeconds: number;
  retryMaxSeconds: number;
  /** A pending delivery this long past its expected time has lost its queue message and is sent again. */
  sweepAfterMs: number;
}

export interface WebhookVars {
  MODELGATE_WEBHOOK_ALLOW_HOSTS?: string;
  MODELGATE_WEBHOOK_TIMEOUT_SECONDS?: string;
  MODELGATE_WEBHOOK_RETRY_BASE_SECONDS?: string;
  MODELGATE_WEBHOOK_RETRY_MAX_SECONDS?: string;
  MODELGATE_WEBHOOK_SWEEP_SECONDS?: string;
}

function positive(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return value !== undefined && value.trim() !== "" && Number.isFinite(n) && n > 0 ? n : fallback;
}

export function readWebhookConfig(vars: WebhookVars): WebhookConfig {
  return {
    allowHosts: parseAllowHosts(vars.MODELGATE_WEBHOOK_ALLOW_HOSTS),
    timeoutMs: positive(vars.MODELGATE_WEBHOOK_TIMEOUT_SECONDS, 10) * 1000,
    retryBaseSeconds: positive(vars.MODELGATE_WEBHOOK_RETRY_BASE_SECONDS, 30),
    retryMaxSeconds: positive(vars.MODELGATE_WEBHOOK_RETRY_MAX_SECONDS, 3600),
    sweepAfterMs: positive(vars.MODELGATE_WEBHOOK_SWEEP_SECONDS, 120) * 1000,
  };
}
