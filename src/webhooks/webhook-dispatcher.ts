import { DurableObject } from "cloudflare:workers";

/** What the sweep runs on, from the composition root (src/index.ts). */
export interface Sweeper {
  webhookDispatch: { sweep(): Promise<boolean> };
  webhookConfig: { sweepAfterMs: number };
}

/**
 * A singleton whose alarm runs the delivery sweep: re-enqueues pending deliveries whose queue
 * message was lost. Alarms are durable and fire without any request (also after a restart of
 * `npm start`), which is why the sweep hangs off one. Armed whenever a delivery is queued or
 * retried; re-arms itself while any delivery is pending.
 */
export class WebhookDispatcher extends DurableObject<Env> {
  constructor(
    ctx: DurableObjectState,
    env: Env,
    private readonly sweeper: () => Sweeper,
  ) {
    super(ctx, env);
  }

  /** Makes sure the alarm fires within `inMs`. */
  async arm(inMs: number): Promise<void> {
    const at = Date.now() + inMs;
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
  }

  async alarm(): Promise<void> {
    const { webhookDispatch, webhookConfig } = this.sweeper();
    const pending = await webhookDispatch.sweep();
    if (pending) await this.ctx.storage.setAlarm(Date.now() + webhookConfig.sweepAfterMs);
  }
}
