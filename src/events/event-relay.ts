import type { EventRepository } from "../repositories/event-repository";
import type { RegistryEvent } from "../domain/events";
import { RESEND_POLICY, type ResendPolicy } from "../domain/resend-policy";
import { type Clock, systemClock } from "../domain/clock";

/** Cloudflare Queues: at most 100 messages and 256 KB per sendBatch; stay well below the size. */
const MAX_BATCH_MESSAGES = 100;
const MAX_BATCH_BYTES = 200_000;
/** Rounds of `MAX_BATCH_MESSAGES` per run; more than that waits for the next run, right after. */
const MAX_ROUNDS = 10;

/** The part of a Queue binding the relay uses. */
export interface EventQueue {
  sendBatch(messages: Iterable<MessageSendRequest<RegistryEvent>>): Promise<unknown>;
}

/**
 * Moves one model's outbox rows to the events queue, oldest first: every event never sent, and
 * every event the consumer has not fanned out yet whose resend is due (`ResendPolicy`). At least
 * once: an event can reach the queue twice (receivers de-duplicate by id and sequence), never zero
 * times while its model's coordinator keeps an alarm armed (see ModelCoordinator), until the
 * policy's cap: then it waits, reported by /health, for an operator to release it.
 */
export class EventRelay {
  constructor(
    private readonly events: EventRepository,
    private readonly queue: EventQueue,
    private readonly clock: Clock = systemClock,
    private readonly policy: ResendPolicy = RESEND_POLICY,
  ) {}

  /**
   * Sends what is due; answers when to run again (epoch ms), or null when nothing more will fall
   * due (every event fanned out, or the rest given up).
   */
  async relay(modelId: string): Promise<number | null> {
    const now = this.clock();
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const due = await this.events.due(modelId, now, this.policy, MAX_BATCH_MESSAGES);
      for (const batch of bySize(due)) {
        // Marked sent only once the queue has accepted them: a failed send leaves them due.
        await this.queue.sendBatch(batch.map((event) => ({ body: event, contentType: "json" as const })));
        await this.events.markSent(
          modelId,
          batch.map((e) => e.id),
          now,
        );
      }
      if (due.length < MAX_BATCH_MESSAGES) break;
    }
    const next = await this.events.nextResendAt(modelId, this.policy);
    return next === null ? null : Math.max(next, now);
  }
}

/** Splits events into sendBatch calls that stay under the queue's size limit. */
function bySize(events: RegistryEvent[]): RegistryEvent[][] {
  const batches: RegistryEvent[][] = [];
  let current: RegistryEvent[] = [];
  let bytes = 0;
  for (const event of events) {
    const size = JSON.stringify(event).length * 3; // UTF-8 worst case; cheap and safe
    if (current.length > 0 && bytes + size > MAX_BATCH_BYTES) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(event);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
