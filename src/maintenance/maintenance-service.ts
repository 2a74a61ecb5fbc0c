import type { GivenUpEvents } from "../domain/events";
import { type Clock, systemClock } from "../domain/clock";
import type { Health, UndeliveredEvents } from "../domain/health";
import { RESEND_POLICY, type ResendPolicy } from "../domain/resend-policy";
import { EventRelay, type EventQueue } from "../events/event-relay";
import type { EventRepository } from "../repositories/event-repository";
import type { Retention, RetentionReport } from "./retention";

/** An owed event this far past its send is not being relayed by its coordinator's alarm. */
const OVERDUE_GRACE_MS = 10 * 60_000;
/** Models the scheduled run relays itself, at most, per run (each costs a few D1 queries). */
const OVERDUE_MODELS_PER_RUN = 5;
/** Models a release relays at once; any beyond are overdue and picked up by the next scheduled runs. */
const RELEASE_RELAY_MODELS = 20;
/** /health asks D1 at most this often per isolate: it is polled, and the benchmarks' baseline. */
const HEALTH_TTL_MS = 15_000;

/** Whether the deployment can sign versions (SignatureService.unavailable). */
export interface SigningProbe {
  unavailable(): Promise<string | null>;
}

export interface MaintenanceReport {
  retention: RetentionReport;
  /** Models whose overdue events this run relayed itself. */
  relayedModels: number;
  /** Events still given up (also in /health). */
  undeliveredEvents: number;
}

/**
 * The registry's housekeeping: the scheduled run (retention, then the outbox watchdog), the
 * outbox's health for /health and the UI, and the operator's release of events the relay gave up on.
 */
export class MaintenanceService {
  private health: { until: number; value: Promise<Health> } | null = null;

  constructor(
    private readonly events: EventRepository,
    private readonly retention: Retention,
    private readonly queue: EventQueue,
    private readonly invalidConfig: string[] = [],
    private readonly policy: ResendPolicy = RESEND_POLICY,
    private readonly clock: Clock = systemClock,
    private readonly signing: SigningProbe | null = null,
  ) {}

  /**
   * The Cron Trigger's work at `now` (its scheduled time): retention in bounded batches, then the
   * watchdog: events owed to the queue that no alarm is relaying (an operator released them, or an
   * alarm was lost) are relayed from here. Given-up events are logged; /health shows them.
   */
  async runScheduled(now: number): Promise<MaintenanceReport> {
    if (this.invalidConfig.length > 0)
      console.error(`maintenance: not a positive number of days, default used: ${this.invalidConfig.join(", ")}`);
    const retention = await this.retention.run(now);
    const overdue = await this.events.overdueModels(now, OVERDUE_GRACE_MS, this.policy, OVERDUE_MODELS_PER_RUN);
    const relay = new EventRelay(this.events, this.queue, () => now, this.policy);
    for (const modelId of overdue) await relay.relay(modelId);
    const undelivered = summarize(await this.events.givenUp(now, this.policy), this.policy);
    if (undelivered) {
      console.error(
        `maintenance: ${undelivered.count} event(s) of ${undelivered.models.length} model(s) were sent ${this.policy.maxSends} times and never fanned out into webhook deliveries`,
      );
    }
    return { retention, relayedModels: overdue.length, undeliveredEvents: undelivered?.count ?? 0 };
  }

  /**
   * ok, or degraded naming what is wrong: events the relay gave up on (webhooks missed those
   * changes), or a check that could not run (D1 unreachable). Cached per isolate for 15 s.
   */
  checkHealth(): Promise<Health> {
    const now = this.clock();
    if (this.health && this.health.until > now) return this.health.value;
    const outbox = this.events.givenUp(now, this.policy).then(
      (groups): Health => {
        const undelivered = summarize(groups, this.policy);
        return undelivered
          ? { status: "degraded", undeliveredEvents: undelivered, checkFailed: null }
          : { status: "ok" };
      },
      (error: unknown): Health => ({
        status: "degraded",
        undeliveredEvents: null,
        checkFailed: error instanceof Error ? error.message : String(error),
      }),
    );
    // A deployment without a model-signing key is degraded, not down: model.sig answers 503.
    const signing = this.signing?.unavailable().catch(() => null) ?? Promise.resolve(null);
    const value = Promise.all([outbox, signing]).then(([health, why]): Health => {
      if (why === null) return health;
      const modelSigning = `model.sig cannot be issued: ${why}`;
      return health.status === "ok"
        ? { status: "degraded", undeliveredEvents: null, checkFailed: null, modelSigning }
        : { ...health, modelSigning };
    });
    this.health = { until: now + HEALTH_TTL_MS, value };
    return value;
  }

  /**
   * The operator's way out once the cause is fixed (the consumer is healthy again): every given-up
   * event (or one model's, by its id) gets a fresh set of sends and is relayed now (the first 20
   * models; the next scheduled runs relay the rest). Answers how many models had events released.
   */
  async releaseUndeliveredEvents(modelId?: string): Promise<{ models: number }> {
    const now = this.clock();
    const models = await this.events.release(this.policy, modelId);
    const relay = new EventRelay(this.events, this.queue, () => now, this.policy);
    for (const modelId of models.slice(0, RELEASE_RELAY_MODELS)) await relay.relay(modelId);
    this.health = null;
    return { models: models.length };
  }
}

function summarize(groups: GivenUpEvents[], policy: ResendPolicy): UndeliveredEvents | null {
  if (groups.length === 0) return null;
  return {
    count: groups.reduce((n, g) => n + g.count, 0),
    oldestTimestamp: Math.min(...groups.map((g) => g.oldest)),
    sends: policy.maxSends,
    models: groups.map((g) => ({
      modelId: g.modelId,
      modelName: g.modelName,
      count: g.count,
      oldestTimestamp: g.oldest,
    })),
  };
}
