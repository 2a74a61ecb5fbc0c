import { createExecutionContext, createMessageBatch, getQueueResult, runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { consumeScans, SCANS_QUEUE } from "../../src/scanning/scan-queue";
import { servicesFor } from "../../src/services";
import { fixtureBytes } from "../scanning/fixture-bytes";
import { eventsOf, registeredVersion } from "../scanning/registered-version";
import { createWebhook, eventually, receiver, uniqueKey } from "./helpers";

// Deliveries go through the real queues: seconds, not milliseconds.
vi.setConfig({ testTimeout: 60_000 });

/** Runs the scans queue's consumer on one message for the version, as the platform would. */
async function scanFromQueue(modelId: string, version: number) {
  const services = servicesFor(env);
  const batch = createMessageBatch(SCANS_QUEUE, [
    { id: crypto.randomUUID(), timestamp: new Date(), attempts: 1, body: { modelId, version } },
  ]);
  await consumeScans(batch, services.scans, (id, v) => services.policies.recordScan(id, v));
  return getQueueResult(batch, createExecutionContext());
}

describe("the model_version.scanned event", () => {
  it("reaches a webhook subscribed to model_version.scanned with the verdict and the finding", async () => {
    const { name, modelId } = await registeredVersion({ "model.pkl": fixtureBytes("evil-importlib-getattr.pkl") });
    const key = uniqueKey("scanned");
    const hook = await createWebhook({
      url: receiver.hook(key),
      events: [{ entity: "model_version", action: "scanned" }],
      model_name: name,
    });
    expect(hook.events).toEqual([{ entity: "MODEL_VERSION", action: "SCANNED" }]);

    expect((await scanFromQueue(modelId, 1)).explicitAcks).toHaveLength(1);
    // The coordinator's outbox relays it on its alarm; run it now rather than wait for it.
    await runDurableObjectAlarm(env.MODEL_COORDINATOR.get(env.MODEL_COORDINATOR.idFromName(modelId)));

    const [received] = await eventually(
      async () => {
        const log = await receiver.log(key);
        return log.length > 0 ? log : null;
      },
      20_000,
      "the scanned delivery",
    );
    const body = JSON.parse(received!.body);
    expect(body).toMatchObject({ entity: "model_version", action: "scanned" });
    expect(body.data).toEqual({
      name,
      version: "1",
      scan: "unsafe",
      finding: expect.stringMatching(/^model\.pkl (imports|reaches) /),
    });
  });

  it("is written once per verdict: a redelivered scan message records nothing new", async () => {
    const { modelId } = await registeredVersion({ "model.pkl": fixtureBytes("sklearn-tree-protocol3.pkl") });
    await scanFromQueue(modelId, 1);
    await scanFromQueue(modelId, 1);
    expect(await eventsOf(modelId, "model_version.scanned")).toEqual([
      { version: 1, from: "pending", to: "clean", data: { verdict: "clean", scanner: "pickle-scan/1" } },
    ]);
  });

  it("is refused by a subscription that names an unknown action, as MLflow refuses one", async () => {
    const res = await createWebhook({
      url: receiver.hook(uniqueKey("bad")),
      events: [{ entity: "model_version", action: "scaned" }],
    }).catch((e: Error) => e.message);
    expect(res).toMatch(/Invalid action 'scaned' for entity 'model_version'. Valid actions are: .*scanned/);
  });
});
