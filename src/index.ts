import { createApp } from "./app";
import { BOOKMARK_HEADER, parseSessionStart, ReadSession, withReadSession } from "./repositories/database";
import { coordinatorParts } from "./composition/coordinator-parts";
import { ModelCoordinator as Coordinator } from "./coordinator/model-coordinator";
import { backgroundServicesFor } from "./services";
import { consumeQueue } from "./webhooks/queue-consumer";
import { consumeScans, SCANS_QUEUE, scanRequestsFor } from "./scanning/scan-queue";
import { WebhookDispatcher as Dispatcher } from "./webhooks/webhook-dispatcher";

/** One per registered model (src/coordinator/), given its parts by the composition root. */
export class ModelCoordinator extends Coordinator {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env, coordinatorParts(ctx, env));
  }
}

/** The webhook sweep's singleton, sweeping with the services that need no secret. */
export class WebhookDispatcher extends Dispatcher {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env, () => backgroundServicesFor(env));
  }
}

const app = createApp();
/** Methods that never write: their answers carry the session's own bookmark, with no extra query. */
const READ_ONLY = new Set(["GET", "HEAD", "OPTIONS"]);

export default {
  // Each request reads search, lists and lineage through its own D1 session, continued from the
  // bookmark the client sent; the answer carries the bookmark to send next (docs/storage.md).
  async fetch(request: Request, env: Env, ctx: ExecutionContext) {
    const session = new ReadSession(
      env.DB,
      request.headers.get(BOOKMARK_HEADER),
      parseSessionStart(env.MODELGATE_D1_SESSION_START),
    );
    let response = await app.fetch(request, withReadSession(env, session), ctx);
    const bookmark = await session.bookmarkAfter(!READ_ONLY.has(request.method) && response.status < 400);
    if (bookmark === null) return response;
    // Answers from the Cache API or fetch() have immutable headers: copy those once.
    try {
      response.headers.set(BOOKMARK_HEADER, bookmark);
    } catch {
      response = new Response(response.body, response);
      response.headers.set(BOOKMARK_HEADER, bookmark);
    }
    return response;
  },
  // Registry events → webhook deliveries → attempts, and the deliveries' dead-letter queue; a
  // version that became READY is also queued for its pickle scan, which the scans queue runs.
  // Built without the deployment's secrets: a missing key stops requests (503), not the queues.
  queue: (batch, env) => {
    const services = backgroundServicesFor(env);
    if (batch.queue === SCANS_QUEUE)
      return consumeScans(batch, services.scans, (modelId, version) => services.policies.recordScan(modelId, version));
    return consumeQueue(batch, services.webhookDispatch, async (events) => {
      // MODELGATE_BACKGROUND_SCANS=off: versions are scanned only when the scan rule needs a verdict
      // (inline at promotion) or when asked; nothing runs behind the registry's back.
      const scans = env.MODELGATE_BACKGROUND_SCANS === "off" ? [] : scanRequestsFor(events);
      if (scans.length > 0) await env.SCANS.sendBatch(scans.map((body) => ({ body })));
    });
  },
  // The hourly Cron Trigger (wrangler.toml): retention in bounded batches and the outbox watchdog.
  async scheduled(controller, env) {
    const report = await backgroundServicesFor(env).maintenance.runScheduled(controller.scheduledTime);
    console.log("maintenance", JSON.stringify(report));
  },
} satisfies ExportedHandler<Env>;
