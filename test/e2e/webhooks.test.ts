// Webhooks against the real `npm start`: a receiver on 127.0.0.1 gets signed deliveries that verify
// the way MLflow's docs verify them; a failing receiver gets retries, the dead-letter queue and a
// replay; and a process SIGKILLed between a change and its delivery still delivers after restart.
import assert from "node:assert/strict";
import { createHmac, timingSafeEqual } from "node:crypto";
import { rmSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { freePort, killAllServers, Server } from "../reliability/server";
import { startReceiver } from "../webhooks/receiver.mjs";
import { pollUntil } from "./poll";
import { freshStateDir } from "./server";

// Fast clocks for the test run (start.ts passes these to the Worker / the queue consumer).
process.env.MODELGATE_WEBHOOK_RETRY_BASE_SECONDS = "1";
process.env.MODELGATE_WEBHOOK_MAX_RETRIES = "2";
process.env.MODELGATE_WEBHOOK_SWEEP_SECONDS = "3";
process.env.MODELGATE_WEBHOOK_TIMEOUT_SECONDS = "5";

const SECRET = "e2e-webhook-secret";

/** A receiver's check, as MLflow's webhook docs write it (Python's hmac.compare_digest → timingSafeEqual). */
function verifyMlflowSignature(headers: Received["headers"], rawBody: string, secret: string) {
  const signature = headers["x-mlflow-signature"];
  const deliveryId = headers["x-mlflow-delivery-id"];
  const timestamp = headers["x-mlflow-timestamp"];
  if (!signature?.startsWith("v1,") || !deliveryId || !timestamp) return false;
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return false; // verify_timestamp_freshness
  const expected = createHmac("sha256", secret).update(`${deliveryId}.${timestamp}.${rawBody}`).digest("base64");
  const given = signature.slice(3);
  return given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected));
}

/** A request the receiver recorded. */
interface Received {
  headers: Record<string, string | undefined>;
  body: string;
  receivedAt: number;
}
/** A row of the registry's delivery log. */
interface Delivery {
  delivery_id: string;
  status: string;
  dead_at?: number;
  attempts: { attempt: number; status_code: number; outcome: string }[];
}

let server: Server;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let stateDir: string;

async function api(method: string, path: string, params: Record<string, unknown> = {}) {
  let url = `${server.base}/api/2.0/${path}`;
  const init: RequestInit = { method, headers: { "content-type": "application/json" } };
  if (method === "GET") url += `?${new URLSearchParams(params as Record<string, string>)}`;
  else init.body = JSON.stringify(params);
  const res = await fetch(url, init);
  return { status: res.status, body: (await res.json()) as any };
}

async function ok(method: string, path: string, params?: Record<string, unknown>) {
  const res = await api(method, path, params);
  assert.equal(res.status, 200, `${method} ${path}: ${JSON.stringify(res.body)}`);
  return res.body;
}

const deliveries = async (webhookId: string): Promise<Delivery[]> =>
  (await ok("GET", `modelgate/webhooks/${webhookId}/deliveries`)).deliveries ?? [];
/** Request number `i` of `log` (from the end if negative), which the test has seen arrive. */
function nth(log: Received[], i: number): Received {
  const request = log.at(i);
  assert.ok(request, `request #${i} of ${log.length}`);
  return request;
}
const bodies = (log: Received[]) => log.map((r: Received) => JSON.parse(r.body));
let names = 0;
const uniqueName = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${++names}`;

before(async () => {
  receiver = await startReceiver();
  stateDir = freshStateDir();
  server = new Server({ port: await freePort(), stateDir, cwd: process.cwd() });
  await server.start();
});

after(async () => {
  await server?.stop();
  killAllServers();
  await receiver?.close();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

describe("webhooks on npm start", () => {
  it("keeps the secret write-only and refuses internal addresses other than the loopback npm start allows", async () => {
    const { webhook } = await ok("POST", "mlflow/webhooks", {
      name: "crud",
      url: receiver.hookUrl("crud"),
      events: [{ entity: "MODEL_VERSION", action: "CREATED" }],
      secret: "never-shown",
    });
    assert.equal(webhook.status, "ACTIVE");
    assert.deepEqual(webhook.events, [{ entity: "MODEL_VERSION", action: "CREATED" }]);
    const got = await ok("GET", `mlflow/webhooks/${webhook.webhook_id}`);
    assert.ok(!JSON.stringify(got).includes("never-shown"));
    const listed = await ok("GET", "mlflow/webhooks", { max_results: "100" });
    assert.ok(listed.webhooks.some((w: { webhook_id: string }) => w.webhook_id === webhook.webhook_id));
    assert.ok(!JSON.stringify(listed).includes("never-shown"));
    for (const url of [
      "http://10.0.0.8/hook",
      "http://169.254.169.254/",
      "http://192.168.1.20:8080/x",
      "ftp://example.com/x",
    ]) {
      const refused = await api("POST", "mlflow/webhooks", {
        name: "bad",
        url,
        events: [{ entity: "model_version", action: "created" }],
      });
      assert.equal(refused.status, 400, url);
      assert.equal(refused.body.error_code, "INVALID_PARAMETER_VALUE");
    }
    await ok("DELETE", `mlflow/webhooks/${webhook.webhook_id}`);
    assert.equal((await api("GET", `mlflow/webhooks/${webhook.webhook_id}`)).status, 404);
  });

  it("delivers signed registry events that verify with MLflow's scheme, in sequence order per model", async () => {
    const name = uniqueName("signed");
    const { webhook } = await ok("POST", "mlflow/webhooks", {
      name: "signed",
      url: receiver.hookUrl(name),
      secret: SECRET,
      events: [
        { entity: "registered_model", action: "created" },
        { entity: "model_version", action: "created" },
        { entity: "model_version", action: "stage_transitioned" },
        { entity: "model_version_alias", action: "created" },
      ],
    });
    await ok("POST", "mlflow/registered-models/create", { name });
    await ok("POST", "mlflow/model-versions/create", { name, source: "s3://bucket/model", run_id: "run123" });
    await ok("POST", "mlflow/model-versions/transition-stage", {
      name,
      version: "1",
      stage: "Staging",
      archive_existing_versions: false,
    });
    await ok("POST", "mlflow/registered-models/alias", { name, alias: "champion", version: "1" });

    const log: Received[] = await receiver.waitFor(name, (l: Received[]) => l.length >= 4, 30_000);
    for (const r of log) assert.ok(verifyMlflowSignature(r.headers, r.body, SECRET), `signature of ${r.body}`);
    assert.ok(!verifyMlflowSignature(nth(log, 0).headers, nth(log, 0).body, "wrong-secret"));
    const byType = new Map(bodies(log).map((b) => [`${b.entity}.${b.action}`, b]));
    assert.deepEqual(
      [...byType.keys()].sort(),
      [
        "model_version.created",
        "model_version.stage_transitioned",
        "model_version_alias.created",
        "registered_model.created",
      ],
      JSON.stringify(bodies(log)),
    );
    assert.deepEqual(byType.get("registered_model.created").data, { name, tags: {}, description: null });
    assert.deepEqual(byType.get("model_version.created").data, {
      name,
      version: "1",
      source: "s3://bucket/model",
      run_id: "run123",
      tags: {},
      description: null,
    });
    assert.equal(byType.get("model_version.stage_transitioned").data.to_stage, "Staging");
    assert.deepEqual(byType.get("model_version_alias.created").data, { name, alias: "champion", version: "1" });
    for (const b of bodies(log)) assert.match(b.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$/);
    // Receivers order and de-duplicate by the model's sequence and the delivery id.
    const sequences = log
      .map((r: Received) => Number(r.headers["x-modelgate-sequence"]))
      .sort((a: number, b: number) => a - b);
    assert.equal(new Set(sequences).size, sequences.length);
    assert.ok(log.every((r: Received) => r.headers["x-modelgate-event-id"] && r.headers["x-mlflow-delivery-id"]));
    const logged = await pollUntil(
      "four DELIVERED rows",
      async () => {
        const d = await deliveries(webhook.webhook_id);
        return d.length >= 4 && d.every((x) => x.status === "DELIVERED") ? d : null;
      },
      { attempts: 50 },
    );
    assert.deepEqual(
      new Set(logged.map((d) => d.delivery_id)),
      new Set(log.map((r: Received) => r.headers["x-mlflow-delivery-id"])),
    );
  });

  it("retries a failing receiver (500, then 429 with Retry-After), dead-letters after the last try, and replay delivers", async () => {
    const name = uniqueName("failing");
    receiver.script(name, [
      { status: 500, body: "boom" },
      { status: 429, headers: { "Retry-After": "2" }, body: "slow down" },
      { status: 503, body: "still down" },
    ]);
    const { webhook } = await ok("POST", "mlflow/webhooks", {
      name: "failing",
      url: receiver.hookUrl(name),
      secret: SECRET,
      events: [{ entity: "registered_model", action: "created" }],
    });
    await ok("POST", "mlflow/registered-models/create", { name });
    // MODELGATE_WEBHOOK_MAX_RETRIES=2: three tries, then the dead-letter queue, whose consumer marks the delivery dead.
    const dead = await pollUntil(
      "a DEAD delivery",
      async () => (await deliveries(webhook.webhook_id)).find((d) => d.status === "DEAD"),
      { attempts: 200 },
    );
    const log: Received[] = receiver.log(name);
    assert.equal(log.length, 3);
    assert.equal(new Set(log.map((r: Received) => r.headers["x-mlflow-delivery-id"])).size, 1);
    assert.ok(nth(log, 1).receivedAt - nth(log, 0).receivedAt >= 900, "first retry after the 1 s backoff");
    assert.ok(nth(log, 2).receivedAt - nth(log, 1).receivedAt >= 1900, "second retry after Retry-After: 2");
    assert.deepEqual(
      dead.attempts.map((a) => [a.attempt, a.status_code, a.outcome]),
      [
        [1, 500, "RETRY"],
        [2, 429, "RETRY"],
        [3, 503, "RETRY"],
      ],
    );
    assert.ok((dead.dead_at ?? 0) > 0);

    const replayed = await ok("POST", `modelgate/webhooks/${webhook.webhook_id}/deliveries/${dead.delivery_id}/replay`);
    assert.equal(replayed.delivery.status, "PENDING");
    const delivered = await pollUntil(
      "the replayed delivery DELIVERED",
      async () =>
        (await deliveries(webhook.webhook_id)).find(
          (d) => d.delivery_id === dead.delivery_id && d.status === "DELIVERED",
        ),
      { attempts: 100 },
    );
    assert.deepEqual(delivered.attempts.at(-1), {
      ...delivered.attempts.at(-1),
      attempt: 4,
      status_code: 200,
      outcome: "DELIVERED",
    });
    const final = nth(receiver.log(name), -1);
    assert.equal(final.body, nth(log, 0).body);
    assert.ok(verifyMlflowSignature(final.headers, final.body, SECRET));
    assert.equal(
      (await api("POST", `modelgate/webhooks/${webhook.webhook_id}/deliveries/${dead.delivery_id}/replay`)).status,
      409,
    );
  });

  it("answers the test endpoint with the receiver's reply", async () => {
    const name = uniqueName("test-endpoint");
    receiver.script(name, [{ status: 202, body: "accepted" }]);
    const { webhook } = await ok("POST", "mlflow/webhooks", {
      name: "t",
      url: receiver.hookUrl(name),
      secret: SECRET,
      events: [{ entity: "model_version_tag", action: "set" }],
      status: "DISABLED",
    });
    const res = await ok("POST", `mlflow/webhooks/${webhook.webhook_id}/test`);
    assert.deepEqual(res.result, { success: true, response_status: 202, response_body: "accepted" });
    const [received] = receiver.log(name);
    assert.ok(verifyMlflowSignature(received.headers, received.body, SECRET));
    assert.deepEqual(JSON.parse(received.body).data, {
      name: "example_model",
      version: "1",
      key: "example_key",
      value: "example_value",
    });
  });

  it("still delivers after a SIGKILL between a change and its delivery (outbox relay and delivery sweep after restart)", async () => {
    // 1. Killed right after the change: its event is in the outbox, not yet relayed or delivered.
    const name = uniqueName("crash");
    const { webhook } = await ok("POST", "mlflow/webhooks", {
      name: "crash",
      url: receiver.hookUrl(name),
      secret: SECRET,
      events: [
        { entity: "registered_model", action: "created" },
        { entity: "model_version", action: "created" },
      ],
    });
    await ok("POST", "mlflow/registered-models/create", { name });
    await server.kill();
    assert.equal(receiver.log(name).length, 0, "killed before the delivery");
    await server.start();
    const log: Received[] = await receiver.waitFor(
      name,
      (l: Received[]) => l.some((r) => JSON.parse(r.body).entity === "registered_model"),
      60_000,
    );
    assert.ok(verifyMlflowSignature(nth(log, 0).headers, nth(log, 0).body, SECRET));
    assert.deepEqual(JSON.parse(nth(log, 0).body).data, { name, tags: {}, description: null });

    // 2. Killed while the receiver holds the request: the delivery row is pending, its queue
    //    message gone with the process; the dispatcher's alarm sweeps it out again after restart.
    receiver.script(name, [{ status: 200, delayMs: 4_000 }]);
    const before = receiver.log(name).length;
    await ok("POST", "mlflow/model-versions/create", { name, source: "s3://bucket/crash" });
    await receiver.waitFor(name, (l: Received[]) => l.length > before, 30_000);
    await server.kill();
    const inFlight = nth(receiver.log(name), before);
    await server.start();
    const again: Received[] = await receiver.waitFor(
      name,
      (l: Received[]) =>
        l.filter((r: Received) => r.headers["x-mlflow-delivery-id"] === inFlight.headers["x-mlflow-delivery-id"])
          .length >= 2,
      60_000,
    );
    const retried = nth(
      again.filter((r: Received) => r.headers["x-mlflow-delivery-id"] === inFlight.headers["x-mlflow-delivery-id"]),
      -1,
    );
    assert.equal(retried.body, inFlight.body);
    assert.ok(verifyMlflowSignature(retried.headers, retried.body, SECRET));
    await pollUntil(
      "every delivery DELIVERED",
      async () => (await deliveries(webhook.webhook_id)).every((d) => d.status === "DELIVERED"),
      { attempts: 100 },
    );
  });
});
