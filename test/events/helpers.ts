import { env } from "cloudflare:workers";
import { retryUntil } from "../helpers";

/** An outbox row as D1 holds it. */
export interface EventRow {
  id: string;
  model_id: string;
  model_name: string;
  sequence: number;
  type: string;
  version: number | null;
  from_value: string | null;
  to_value: string | null;
  actor: string | null;
  timestamp: number;
  data: string;
  sent_at: number | null;
  send_count: number;
  fanned_out_at: number | null;
}

export async function modelIdOf(name: string): Promise<string> {
  const row = await env.DB.prepare("SELECT id FROM registered_models WHERE name = ?")
    .bind(name)
    .first<{ id: string }>();
  if (!row) throw new Error(`no model ${name}`);
  return row.id;
}

/** The model's outbox rows in sequence order. */
export async function eventRows(modelId: string): Promise<EventRow[]> {
  const { results } = await env.DB.prepare("SELECT * FROM events WHERE model_id = ? ORDER BY sequence")
    .bind(modelId)
    .all<EventRow>();
  return results;
}

/** The rows reduced to what a test compares: type, version, from, to, data. */
export function summary(
  rows: EventRow[],
): [string, number | null, string | null, string | null, Record<string, string>][] {
  return rows.map((r) => [r.type, r.version, r.from_value, r.to_value, JSON.parse(r.data)]);
}

/**
 * Resolves once `check` is true (the relay runs on the coordinator's alarm, fan-out in the events
 * queue's consumer: no signal reaches a test from either, see retryUntil), failing after about `ms`.
 */
export async function eventually(check: () => Promise<boolean>, ms = 8000): Promise<void> {
  await retryUntil(check, { attempts: Math.ceil(ms / 50), intervalMs: 50, what: "the outbox condition" });
}

/** The rows without their relay bookkeeping (sent_at, send_count, fanned_out_at), which the alarm updates on its own. */
export async function outboxOf(modelId: string): Promise<Omit<EventRow, "sent_at" | "send_count" | "fanned_out_at">[]> {
  return (await eventRows(modelId)).map(({ sent_at: _s, send_count: _c, fanned_out_at: _f, ...rest }) => rest);
}
