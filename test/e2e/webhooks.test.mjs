// Webhooks against the real `npm start`: a receiver on 127.0.0.1 gets signed deliveries that verify
// the way MLflow's docs verify them; a failing receiver gets retries, the dead-letter queue and a
// replay; and a process SIGKILLed between a change and its delivery still delivers after restart.
import assert from "node:assert/strict";
import { createHmac, timingSafeEqual } from "node:crypto";
import { rmSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { freePort, killAllServers, Server } from "../reliability/server.mjs";
import { startReceiver } from "../webhooks/receiver.mjs";
import { freshStateDir } from "./server.mjs";

// Fast clocks for the test run (start.mjs passes these to the Worker / the queue consumer).
process.env.MODELGATE_WEBHOOK_RETRY_BASE_SECONDS = "1";
process.env.MODELGATE_WEBHOOK_MAX_RETRIES = "2";
process.env.MODELGATE_WEBHOOK_SWEEP_SECONDS = "3";
process.env.MODELGATE_WEBHOOK_TIMEOUT_SECONDS = "5";

const SECRET = "e2e-webhook-secret";

/** A receiver's check, as MLflow's webhook docs write it (Python's hmac.compare_digest → timingSafeEqual). */
function verifyMlflowSignature(headers, rawBody, secret) {
  const signature = headers["x-mlflow-signature"];
  const deliveryId = headers["x-mlflow-delivery-id"];
  const timestamp = headers["x-mlflow-timestamp"];
  if (!signature?.startsWith("v1,") || !deliveryId || !timestamp) return false;
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return false; // verify_timestamp_freshness
  const expected = createHmac("sha256", secret).update(`${deliveryId}.${timestamp}.${rawBody}`).digest("base64");
  const given = signature.slice(3);
  return given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected));
}

let server;
let receiver;
let stateDir;

async function api(method, path, params = {}) {
  let url = `${server.base}/api/2.0/${path}`;
  const init = { method, headers: { "content-type": "application/json" } };
  if (method === "GET") url += `?${new URLSearchParams(params)}`;
  else init.body = JSON.stringify(params);
  const res = await fetch(url, init);
  return { status: res.status, body: await res.json() };
}

async function ok(method, path, params) {
  const res = await api(method, path, params);
  assert.equal(res.status, 200, `${method} ${path}: ${JSON.stringify(res.body)}`);
  return res.body;
}

async function eventually(probe, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const deliveries = async (webhookId) =>
  (await ok("GET", `modelgate/webhooks/${webhookId}/deliveries`)).deliveries ?? [];
const bodies = (log) => log.map((r) => JSON.parse(r.body));
let names = 0;
const uniqueName = (prefix) => `${prefix}-${Date.now().toString(36)}-${++names}`;

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
    assert.ok(listed.webhooks.some((w) => w.webhook_id === webhook.webhook_id));
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

    const log = await receiver.waitFor(name, (l) => l.length >= 4, 30_000);
    for (const r of log) assert.ok(verifyMlflowSignature(r.headers, r.body, SECRET), `signature of ${r.body}`);
    assert.ok(!verifyMlflowSignature(log[0].headers, log[0].body, "wrong-secret"));
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
    const sequences = log.map((r) => Number(r.headers["x-modelgate-sequence"])).sort((a, b) => a - b);
    assert.equal(new Set(sequences).size, sequences.length);
    assert.ok(log.every((r) => r.headers["x-modelgate-event-id"] && r.headers["x-mlflow-delivery-id"]));
    const logged = await eventually(
      async () => {
        const d = await deliveries(webhook.webhook_id);
        return d.length >= 4 && d.every((x) => x.status === "DELIVERED") ? d : null;
      },
      10_000,
      "four DELIVERED rows",
    );
    assert.deepEqual(
      new Set(logged.map((d) => d.delivery_id)),
      new Set(log.map((r) => r.headers["x-mlflow-delivery-id"])),
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
    const dead = await eventually(
      async () => (await deliveries(webhook.webhook_id)).find((d) => d.status === "DEAD"),
      40_000,
      "a DEAD delivery",
    );
    const log = receiver.log(name);
    assert.equal(log.length, 3);
    assert.equal(new Set(log.map((r) => r.headers["x-mlflow-delivery-id"])).size, 1);
    assert.ok(log[1].receivedAt - log[0].receivedAt >= 900, "first retry after the 1 s backoff");
    assert.ok(log[2].receivedAt - log[1].receivedAt >= 1900, "second retry after Retry-After: 2");
    assert.deepEqual(
      dead.attempts.map((a) => [a.attempt, a.status_code, a.outcome]),
      [
        [1, 500, "RETRY"],
        [2, 429, "RETRY"],
        [3, 503, "RETRY"],
      ],
    );
    assert.ok(dead.dead_at > 0);

    const replayed = await ok("POST", `modelgate/webhooks/${webhook.webhook_id}/deliveries/${dead.delivery_id}/replay`);
    assert.equal(replayed.delivery.status, "PENDING");
    const delivered = await eventually(
      async () =>
        (await deliveries(webhook.webhook_id)).find(
          (d) => d.delivery_id === dead.delivery_id && d.status === "DELIVERED",
        ),
      20_000,
      "the replayed delivery DELIVERED",
    );
    assert.deepEqual(delivered.attempts.at(-1), {
      ...delivered.attempts.at(-1),
      attempt: 4,
      status_code: 200,
      outcome: "DELIVERED",
    });
    const final = receiver.log(name).at(-1);
    assert.equal(final.body, log[0].body);
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
    const log = await receiver.waitFor(
      name,
      (l) => l.some((r) => JSON.parse(r.body).entity === "registered_model"),
      60_000,
    );
    assert.ok(verifyMlflowSignature(log[0].headers, log[0].body, SECRET));
    assert.deepEqual(JSON.parse(log[0].body).data, { name, tags: {}, description: null });

    // 2. Killed while the receiver holds the request: the delivery row is pending, its queue
    //    message gone with the process; the dispatcher's alarm sweeps it out again after restart.
    receiver.script(name, [{ status: 200, delayMs: 4_000 }]);
    const before = receiver.log(name).length;
    await ok("POST", "mlflow/model-versions/create", { name, source: "s3://bucket/crash" });
    await receiver.waitFor(name, (l) => l.length > before, 30_000);
    await server.kill();
    const [inFlight] = receiver.log(name).slice(before);
    await server.start();
    const again = await receiver.waitFor(
      name,
      (l) =>
        l.filter((r) => r.headers["x-mlflow-delivery-id"] === inFlight.headers["x-mlflow-delivery-id"]).length >= 2,
      60_000,
    );
    const retried = again
      .filter((r) => r.headers["x-mlflow-delivery-id"] === inFlight.headers["x-mlflow-delivery-id"])
      .at(-1);
    assert.equal(retried.body, inFlight.body);
    assert.ok(verifyMlflowSignature(retried.headers, retried.body, SECRET));
    await eventually(
      async () => (await deliveries(webhook.webhook_id)).every((d) => d.status === "DELIVERED"),
      20_000,
      "every delivery DELIVERED",
    );
  });
});
