import { env } from "cloudflare:workers";

export const DAY = 24 * 3600 * 1000;
/**
 * Retention deletes across the whole database, and the suites share one. This suite's rows live in
 * an era no other suite writes (1950: negative epoch milliseconds) and its runs take "now" from that
 * era, so every cutoff falls before anything another suite owns.
 */
export const ERA = Date.UTC(1950, 0, 1);

let sequence = 0;
/** An outbox row of `modelId` written at `timestamp`, with its relay bookkeeping. */
export async function insertEvent(
  modelId: string,
  timestamp: number,
  fields: { sequence?: number; fannedOutAt?: number | null; sentAt?: number | null; sendCount?: number } = {},
): Promise<string> {
  const id = crypto.randomUUID();
  await env.DB.prepare(
    "INSERT INTO events (id, model_id, model_name, sequence, type, timestamp, data, sent_at, send_count, fanned_out_at) VALUES (?, ?, 'retention-model', ?, 'registered_model_tag.set', ?, '{}', ?, ?, ?)",
  )
    .bind(
      id,
      modelId,
      fields.sequence ?? ++sequence,
      timestamp,
      fields.sentAt ?? null,
      fields.sendCount ?? 0,
      fields.fannedOutAt === undefined ? timestamp : fields.fannedOutAt,
    )
    .run();
  return id;
}

/** A delivery row of `webhookId` with `attempts` attempt rows. */
export async function insertDelivery(
  webhookId: string,
  status: string,
  createdAt: number,
  updatedAt: number,
  attempts = 1,
): Promise<string> {
  const id = crypto.randomUUID();
  await env.DB.prepare(
    `INSERT INTO webhook_deliveries (id, webhook_id, event_id, entity, action, model_id, model_name, sequence, payload, status, attempts, created_at, updated_at, next_attempt_at, dead_at)
     VALUES (?, ?, ?, 'registered_model', 'created', 'retention-model', 'retention-model', 1, '{}', ?, ?, ?, ?, ?, ?)`,
  )
    .bind(
      id,
      webhookId,
      crypto.randomUUID(),
      status,
      attempts,
      createdAt,
      updatedAt,
      updatedAt,
      status === "dead" ? updatedAt : null,
    )
    .run();
  for (let attempt = 1; attempt <= attempts; attempt++) {
    await env.DB.prepare(
      "INSERT INTO webhook_delivery_attempts (delivery_id, attempt, started_at, duration_ms, status_code, outcome) VALUES (?, ?, ?, 5, 500, 'retry')",
    )
      .bind(id, attempt, createdAt)
      .run();
  }
  return id;
}

export async function insertAudit(timestamp: number, actor: string): Promise<void> {
  await env.DB.prepare("INSERT INTO audit_events (timestamp, actor, action, status) VALUES (?, ?, 'POST /test', 200)")
    .bind(timestamp, actor)
    .run();
}

export async function count(sql: string, ...params: unknown[]): Promise<number> {
  const row = await env.DB.prepare(`SELECT count(*) AS n FROM ${sql}`)
    .bind(...params)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

/** A webhook that hears nothing (DISABLED), to hang delivery rows on. */
export async function quietWebhook(): Promise<string> {
  const id = crypto.randomUUID().replaceAll("-", "");
  await env.DB.prepare(
    "INSERT INTO webhooks (id, name, url, events, status, creation_timestamp, last_updated_timestamp) VALUES (?, 'retention', 'http://127.0.0.1:9/', '[]', 'DISABLED', ?, ?)",
  )
    .bind(id, ERA, ERA)
    .run();
  return id;
}
