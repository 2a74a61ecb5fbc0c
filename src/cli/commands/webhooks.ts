import type { Command } from "commander";
import type { WebhookEvent } from "../../client/modelgate-client";
import { action, EXIT, isoTime, table, UsageError, wholeNumber, type RunContext } from "../command";

/**
 * `modelgate webhooks ls|create|rm|test|deliveries|replay`: MLflow 3's webhooks API
 * (/api/2.0/mlflow/webhooks) and Modelgate's delivery log.
 */
export function registerWebhooks(program: Command, ctx: RunContext): void {
  const webhooks = program
    .command("webhooks")
    .summary("list, create, remove and test webhooks; show and replay their deliveries")
    .description("Webhooks (MLflow 3's API): signed POSTs to a URL for registry events, with a delivery log.");

  webhooks
    .command("ls")
    .alias("list")
    .description("List webhooks: id, name, status, events, URL.")
    .action(
      action(ctx, async ({ client }) => {
        const list = await client().listWebhooks();
        return {
          json: { webhooks: list },
          text: table([
            ["ID", "NAME", "STATUS", "EVENTS", "URL"],
            ...list.map((w) => [
              w.webhook_id,
              w.name,
              w.status ?? "-",
              (w.events ?? []).map(eventName).join(","),
              w.url,
            ]),
          ]),
        };
      }),
    );

  webhooks
    .command("create")
    .description(
      "Create a webhook. Events are entity.action pairs, e.g. model_version.created, model_version.stage_transitioned.",
    )
    .argument("<name>", "the webhook's name")
    .argument("<url>", "the receiver's URL")
    .option("--event <entity.action>", "an event to deliver (repeatable; at least one)", collect, [])
    .option("--secret <secret>", "HMAC secret for X-MLflow-Signature (default: $MODELGATE_WEBHOOK_SECRET); write-only")
    .option("--description <text>", "the webhook's description")
    .option("--model <name>", "only events of this registered model")
    .option("--disabled", "create it DISABLED")
    .action(
      action(
        ctx,
        async (
          { ctx, client },
          opts: { event: string[]; secret?: string; description?: string; model?: string; disabled?: boolean },
          name: string,
          url: string,
        ) => {
          if (opts.event.length === 0)
            throw new UsageError("at least one --event is required, e.g. --event model_version.created");
          const events = opts.event.map(parseEvent);
          try {
            new URL(url);
          } catch {
            throw new UsageError(`'${url}' is not a URL`);
          }
          const webhook = await client().createWebhook({
            name,
            url,
            events,
            secret: opts.secret ?? (ctx.env.MODELGATE_WEBHOOK_SECRET || undefined),
            description: opts.description,
            status: opts.disabled ? "DISABLED" : "ACTIVE",
            modelName: opts.model,
          });
          return {
            json: { webhook },
            text: [
              `created webhook ${webhook.webhook_id} '${webhook.name}' -> ${webhook.url} (${(webhook.events ?? events).map(eventName).join(", ")})`,
            ],
          };
        },
      ),
    );

  webhooks
    .command("rm")
    .alias("delete")
    .description("Delete a webhook.")
    .argument("<id>", "webhook_id")
    .action(
      action(ctx, async ({ client }, _opts, id: string) => {
        await client().deleteWebhook(id);
        return { json: { webhook_id: id, deleted: true }, text: [`deleted webhook ${id}`] };
      }),
    );

  webhooks
    .command("test")
    .description("Send a test event to the webhook's URL now. Exits 1 when the receiver does not accept it.")
    .argument("<id>", "webhook_id")
    .option("--event <entity.action>", "the event to simulate (default: the webhook's first)")
    .action(
      action(ctx, async ({ client }, opts: { event?: string }, id: string) => {
        const { result, delivery_id } = await client().testWebhook(id, opts.event ? parseEvent(opts.event) : undefined);
        const status = result.response_status === undefined ? "" : ` (HTTP ${result.response_status})`;
        return {
          json: { result, ...(delivery_id ? { delivery_id } : {}) },
          text: [
            result.success
              ? `test delivery accepted${status}`
              : `test delivery failed${status}: ${result.error_message ?? result.response_body ?? "no reason given"}`,
          ],
          exitCode: result.success ? EXIT.ok : EXIT.failed,
        };
      }),
    );

  webhooks
    .command("deliveries")
    .description("Show a webhook's recorded delivery attempts, newest first.")
    .argument("<id>", "webhook_id")
    .option("--limit <n>", "at most this many", "50")
    .action(
      action(ctx, async ({ client }, opts: { limit: string }, id: string) => {
        const limit = wholeNumber(opts.limit, "--limit");
        const deliveries = await client().listDeliveries(id, { limit });
        const field = (d: Record<string, unknown>, ...keys: string[]) => {
          for (const k of keys) if (d[k] !== undefined && d[k] !== null) return String(d[k]);
          return "-";
        };
        return {
          json: { deliveries },
          text: table([
            ["CREATED", "DELIVERY", "EVENT", "MODEL", "SEQ", "STATUS", "ATTEMPTS", "LAST HTTP"],
            ...deliveries.map((d) => [
              typeof d.created_at === "number" ? isoTime(d.created_at) : field(d, "created_at"),
              field(d, "delivery_id"),
              d.entity && d.action ? eventName({ entity: String(d.entity), action: String(d.action) }) : "-",
              field(d, "model_name"),
              field(d, "sequence"),
              field(d, "status"),
              field(d, "attempt_count"),
              field(d, "last_status_code"),
            ]),
          ]),
        };
      }),
    );
  registerReplay(webhooks, ctx);
}

/** `modelgate webhooks replay ID DELIVERY_ID`: a dead delivery, queued again. */
function registerReplay(webhooks: Command, ctx: RunContext): void {
  webhooks
    .command("replay")
    .description(
      "Queue a dead or failed delivery again (e.g. after fixing the receiver). Exits 1 for any other delivery.",
    )
    .argument("<id>", "webhook_id")
    .argument("<delivery_id>", "delivery_id (from webhooks deliveries)")
    .action(
      action(ctx, async ({ client }, _opts, id: string, deliveryId: string) => {
        const delivery = await client().replayDelivery(id, deliveryId);
        return {
          json: { delivery },
          text: [`delivery ${deliveryId} is ${String(delivery.status ?? "PENDING")} again`],
        };
      }),
    );
}

/** `model_version.created` → `{entity: "model_version", action: "created"}` (the last dot splits). */
export function parseEvent(text: string): WebhookEvent {
  const dot = text.lastIndexOf(".");
  if (dot <= 0 || dot === text.length - 1 || !/^[a-z_]+\.[a-z_]+$/.test(text)) {
    throw new UsageError(`an event is entity.action, e.g. model_version.created; got '${text}'`);
  }
  return { entity: text.slice(0, dot), action: text.slice(dot + 1) };
}

/** MLflow's servers answer proto enum names (MODEL_VERSION, CREATED); people read the payload's lower case. */
function eventName(e: WebhookEvent): string {
  return `${e.entity}.${e.action}`.toLowerCase();
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
