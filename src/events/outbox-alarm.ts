import type { EventRelay } from "./event-relay";
import { type Clock, systemClock } from "../domain/clock";

/** Where the coordinator keeps its model's id, for alarms that run before any call reached it. */
const MODEL_ID_KEY = "outbox:model-id";
/**
 * How long after a change its events wait for the relay: changes within this window share one
 * relay run, so a burst of writes to one model costs a few relays, not one per write.
 */
export const RELAY_DELAY_MS = 200;
/** After a failed relay (queue or D1 unavailable), the next try. */
const RETRY_AFTER_FAILURE_MS = 10_000;

/**
 * A model coordinator's Durable Object alarm, used to relay its outbox. `arm` runs before every
 * mutation's D1 batch: the alarm is durable once set, so a process that dies right after the
 * batch commits still wakes up (after a restart, where the platform runs alarms that fell due)
 * and relays the events that batch wrote. `run` is the alarm: it relays, then re-arms while any
 * event is still waiting to be fanned out by the queue's consumer.
 */
export class OutboxAlarm {
  private modelIdStored = false;

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly relay: EventRelay,
    private readonly clock: Clock = systemClock,
  ) {}

  async arm(modelId: string): Promise<void> {
    if (!this.modelIdStored) {
      await this.storage.put(MODEL_ID_KEY, modelId);
      this.modelIdStored = true;
    }
    const due = this.clock() + RELAY_DELAY_MS;
    const at = await this.storage.getAlarm();
    // An alarm already due by then covers this change too; a later one (a resend) is brought forward.
    if (at === null || at > due) await this.storage.setAlarm(due);
  }

  /** The alarm handler's work. The caller runs it in the coordinator's queue, between mutations. */
  async run(): Promise<void> {
    const modelId = await this.storage.get<string>(MODEL_ID_KEY);
    if (!modelId) return;
    let next: number | null;
    try {
      next = await this.relay.relay(modelId);
    } catch (error) {
      console.error("event relay failed", error instanceof Error ? error.message : String(error));
      next = this.clock() + RETRY_AFTER_FAILURE_MS;
    }
    // Nothing owed: no alarm until the next change arms one (runs in the coordinator's queue, so
    // no change can have armed one for events this run did not see).
    if (next === null) await this.storage.deleteAlarm();
    else await this.storage.setAlarm(next);
  }
}
