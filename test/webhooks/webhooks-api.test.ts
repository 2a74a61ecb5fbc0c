import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { AJAX_API, API, call, createModel, expectError, MODELGATE_API, rawCall } from "../helpers";
import { createWebhook, receiver, uniqueKey, verifyMlflowSignature } from "./helpers";

// MLflow 3.5.1's VALID_ENTITY_ACTIONS (mlflow/entities/webhook.py): nine entities, five of them for prompts.
const ALL_MLFLOW_EVENTS = [
  { entity: "registered_model", action: "created" },
  { entity: "model_version", action: "created" },
  { entity: "model_version_tag", action: "set" },
  { entity: "model_version_tag", action: "deleted" },
  { entity: "model_version_alias", action: "created" },
  { entity: "model_version_alias", action: "deleted" },
  { entity: "prompt", action: "created" },
  { entity: "prompt_version", action: "created" },
  { entity: "prompt_tag", action: "set" },
  { entity: "prompt_tag", action: "deleted" },
  { entity: "prompt_version_tag", action: "set" },
  { entity: "prompt_version_tag", action: "deleted" },
  { entity: "prompt_alias", action: "created" },
  { entity: "prompt_alias", action: "deleted" },
];

describe("webhook CRUD (MLflow 3 fields)", () => {
  it("creates a webhook and answers MLflow's Webhook message, never the secret", async () => {
    const url = receiver.hook(uniqueKey());
    const before = Date.now();
    const { status, body } = await call("POST", "/webhooks", {
      name: "ci trigger",
      description: "starts evaluation",
      url,
      events: ALL_MLFLOW_EVENTS,
      secret: "s3cret-value",
    });
    expect(status).toBe(200);
    const w = body.webhook;
    expect(Object.keys(w).sort()).toEqual([
      "creation_timestamp",
      "description",
      "events",
      "last_updated_timestamp",
      "name",
      "status",
      "url",
      "webhook_id",
    ]);
    expect(w).toMatchObject({ name: "ci trigger", description: "starts evaluation", url, status: "ACTIVE" });
    expect(w.events).toEqual(
      ALL_MLFLOW_EVENTS.map((e) => ({ entity: e.entity.toUpperCase(), action: e.action.toUpperCase() })),
    );
    expect(w.creation_timestamp).toBeGreaterThanOrEqual(before);
    expect(w.last_updated_timestamp).toBe(w.creation_timestamp);
    expect(JSON.stringify(body)).not.toContain("s3cret-value");

    const got = await call("GET", `/webhooks/${w.webhook_id}`);
    expect(got.status).toBe(200);
    expect(got.body.webhook).toEqual(w);
    expect(JSON.stringify(got.body)).not.toContain("s3cret-value");
    const listed = await call("GET", "/webhooks", { max_results: 1000 });
    expect(JSON.stringify(listed.body)).not.toContain("s3cret-value");
    // The secret is stored (every delivery is signed with it), sealed: never in plain text (secrets.test.ts).
    const row = await env.DB.prepare("SELECT secret FROM webhooks WHERE id = ?")
      .bind(w.webhook_id)
      .first<{ secret: string }>();
    expect(row?.secret).toMatch(/^v1:/);
    expect(row?.secret).not.toContain("s3cret-value");
  });

  it("accepts events as proto enum names, as MLflow's REST client sends them, and Modelgate's own events", async () => {
    const w = await createWebhook({
      url: receiver.hook(uniqueKey()),
      events: [
        { entity: "MODEL_VERSION", action: "CREATED" },
        { entity: "model_version", action: "stage_transitioned" },
        { entity: "registered_model", action: "renamed" },
        { entity: "MODEL_VERSION", action: "CREATED" },
      ],
      status: "disabled",
    });
    expect(w.events).toEqual([
      { entity: "MODEL_VERSION", action: "CREATED" },
      { entity: "MODEL_VERSION", action: "STAGE_TRANSITIONED" },
      { entity: "REGISTERED_MODEL", action: "RENAMED" },
    ]);
    expect(w.status).toBe("DISABLED");
  });

  it("accepts each of MLflow 3.5.1's fourteen events on its own, prompt events included, as proto names too", async () => {
    for (const event of ALL_MLFLOW_EVENTS) {
      const proto = { entity: event.entity.toUpperCase(), action: event.action.toUpperCase() };
      const res = await call("POST", "/webhooks", {
        name: `only ${event.entity}.${event.action}`,
        url: receiver.hook(uniqueKey()),
        events: [proto],
        status: "DISABLED",
      });
      expect(res.status, `${event.entity}.${event.action}: ${JSON.stringify(res.body)}`).toBe(200);
      expect(res.body.webhook.events).toEqual([proto]);
      expect((await call("GET", `/webhooks/${res.body.webhook.webhook_id}`)).body.webhook.events).toEqual([proto]);
    }
  });

  it("updates with PATCH: only the fields given change, and the secret stays write-only", async () => {
    const w = await createWebhook({
      url: receiver.hook(uniqueKey()),
      events: [{ entity: "model_version", action: "created" }],
      description: "old",
    });
    const url = receiver.hook(uniqueKey());
    const { status, body } = await call("PATCH", `/webhooks/${w.webhook_id}`, {
      url,
      status: "DISABLED",
      secret: "rotated",
      events: [{ entity: "model_version_alias", action: "created" }],
    });
    expect(status).toBe(200);
    expect(body.webhook).toMatchObject({
      webhook_id: w.webhook_id,
      name: w.name,
      description: "old",
      url,
      status: "DISABLED",
    });
    expect(body.webhook.events).toEqual([{ entity: "MODEL_VERSION_ALIAS", action: "CREATED" }]);
    expect(body.webhook.creation_timestamp).toBe(w.creation_timestamp);
    expect(body.webhook.last_updated_timestamp).toBeGreaterThanOrEqual(w.last_updated_timestamp);
    expect(JSON.stringify(body)).not.toContain("rotated");
  });

  it("deletes a webhook; then it is not found", async () => {
    const w = await createWebhook({
      url: receiver.hook(uniqueKey()),
      events: [{ entity: "model_version", action: "created" }],
    });
    const deleted = await call("DELETE", `/webhooks/${w.webhook_id}`);
    expect(deleted).toEqual({ status: 200, body: {} });
    expectError(
      await call("GET", `/webhooks/${w.webhook_id}`),
      404,
      "RESOURCE_DOES_NOT_EXIST",
      `Webhook with ID ${w.webhook_id} not found.`,
    );
    expectError(await call("DELETE", `/webhooks/${w.webhook_id}`), 404, "RESOURCE_DOES_NOT_EXIST");
    expectError(await call("PATCH", `/webhooks/${w.webhook_id}`, { name: "x" }), 404, "RESOURCE_DOES_NOT_EXIST");
  });

  it("lists newest first with max_results and page_token, as MLflow pages", async () => {
    const created: Record<string, any>[] = [];
    for (let i = 0; i < 3; i++)
      created.push(
        await createWebhook({
          name: `page-${i}`,
          url: receiver.hook(uniqueKey()),
          events: [{ entity: "model_version", action: "created" }],
        }),
      );
    const seen: string[] = [];
    let token: string | undefined;
    for (let pages = 0; pages < 1000; pages++) {
      const { status, body } = await call("GET", "/webhooks", {
        max_results: 2,
        ...(token ? { page_token: token } : {}),
      });
      expect(status).toBe(200);
      expect(body.webhooks.length).toBeLessThanOrEqual(2);
      seen.push(...body.webhooks.map((w: { webhook_id: string }) => w.webhook_id));
      token = body.next_page_token;
      if (!token) break;
    }
    expect(new Set(seen).size).toBe(seen.length);
    const ours = seen.filter((id) => created.some((w) => w.webhook_id === id));
    expect(ours).toEqual(created.map((w) => w.webhook_id).reverse());
    expectError(await call("GET", "/webhooks", { max_results: 0 }), 400, "INVALID_PARAMETER_VALUE");
    expectError(await call("GET", "/webhooks", { page_token: "garbage" }), 400, "INVALID_PARAMETER_VALUE");
  });

  it("serves the same API under /ajax-api/2.0/mlflow", async () => {
    const w = await createWebhook({
      url: receiver.hook(uniqueKey()),
      events: [{ entity: "model_version", action: "created" }],
    });
    const got = await call("GET", `/webhooks/${w.webhook_id}`, {}, AJAX_API);
    expect(got.status).toBe(200);
    expect(got.body.webhook.webhook_id).toBe(w.webhook_id);
  });
});

describe("webhook validation", () => {
  const valid = () => ({
    name: "v",
    url: receiver.hook(uniqueKey()),
    events: [{ entity: "model_version", action: "created" }],
  });

  it.each([
    ["a missing name", { name: undefined }, /Missing value for required parameter 'name'/],
    ["an empty name", { name: " " }, /name cannot be empty/],
    ["a missing url", { url: undefined }, /Missing value for required parameter 'url'/],
    ["no events", { events: [] }, /Webhook events cannot be empty/],
    ["an unknown entity", { events: [{ entity: "experiment", action: "created" }] }, /Invalid entity 'experiment'/],
    [
      "an action the entity does not have",
      { events: [{ entity: "registered_model", action: "set" }] },
      /Invalid action 'set' for entity 'registered_model'/,
    ],
    [
      "an action a prompt entity does not have",
      { events: [{ entity: "PROMPT_VERSION", action: "DELETED" }] },
      /Invalid action 'DELETED' for entity 'PROMPT_VERSION'. Valid actions are: \["created"\]/,
    ],
    [
      "a prompt entity MLflow does not define",
      { events: [{ entity: "prompt_version_alias", action: "created" }] },
      /Invalid entity 'prompt_version_alias'/,
    ],
    ["events as strings", { events: ["model_version.created"] }, /parameter 'events.0'/],
    ["an unknown status", { status: "PAUSED" }, /parameter 'status'/],
    ["a non-URL", { url: "not a url" }, /not an absolute URL/],
    ["a non-http scheme", { url: "ftp://example.com/hook" }, /scheme must be http or https/],
    ["a file URL", { url: "file:///etc/passwd" }, /scheme must be http or https/],
    ["credentials in the URL", { url: "https://user:pw@example.com/hook" }, /credentials in the URL/],
    ["a private address", { url: "http://10.0.0.5/hook" }, /'10\.0\.0\.5' is a private address/],
    ["a link-local (metadata) address", { url: "http://169.254.169.254/latest/meta-data" }, /linkLocal address/],
    ["an IPv6 unique-local address", { url: "http://[fd00::1]/hook" }, /uniqueLocal address/],
    ["an IPv4-mapped private address", { url: "http://[::ffff:192.168.1.1]/hook" }, /private address/],
    ["loopback written in hex", { url: "http://0x7f000002/hook" }, /loopback address/],
    ["an internal host name", { url: "http://db.internal/hook" }, /internal host name/],
    ["a single-label host name", { url: "http://jenkins/hook" }, /single-label/],
    [
      "a model filter naming no model",
      { model_name: "no-such-model-anywhere" },
      /Registered Model with name=no-such-model-anywhere not found/,
    ],
  ])("refuses %s with an MLflow error and writes nothing", async (_, change, message) => {
    const before = await env.DB.prepare("SELECT count(*) AS n FROM webhooks").first<{ n: number }>();
    const res = await call("POST", "/webhooks", { ...valid(), ...change });
    const code = /not found/.test(String(message)) ? "RESOURCE_DOES_NOT_EXIST" : "INVALID_PARAMETER_VALUE";
    expectError(res, code === "RESOURCE_DOES_NOT_EXIST" ? 404 : 400, code, message);
    const after = await env.DB.prepare("SELECT count(*) AS n FROM webhooks").first<{ n: number }>();
    expect(after?.n).toBe(before?.n);
  });

  it("refuses a private URL on update too, and leaves the webhook as it was", async () => {
    const w = await createWebhook(valid());
    expectError(
      await call("PATCH", `/webhooks/${w.webhook_id}`, { url: "http://192.168.0.10/x" }),
      400,
      "INVALID_PARAMETER_VALUE",
      /private address/,
    );
    expect((await call("GET", `/webhooks/${w.webhook_id}`)).body.webhook.url).toBe(w.url);
  });

  it("allows loopback because this configuration lists it (MODELGATE_WEBHOOK_ALLOW_HOSTS)", async () => {
    expect(env.MODELGATE_WEBHOOK_ALLOW_HOSTS).toContain("127.0.0.1");
    const w = await createWebhook({ ...valid(), url: "http://127.0.0.1:9/hook", status: "DISABLED" });
    expect(w.url).toBe("http://127.0.0.1:9/hook");
    // ... but not another loopback address the list does not name.
    expectError(
      await call("POST", "/webhooks", { ...valid(), url: "http://127.0.0.2/hook" }),
      400,
      "INVALID_PARAMETER_VALUE",
      /loopback address/,
    );
  });

  it("refuses malformed JSON and a non-object body with INVALID_PARAMETER_VALUE", async () => {
    for (const text of ["{not json", "[1,2]", "42"]) {
      const res = await rawCall("POST", `${API}/webhooks`, text);
      expect(res.status).toBe(400);
      expect(JSON.parse(res.text).error_code).toBe("INVALID_PARAMETER_VALUE");
    }
  });
});

describe("the model filter (Modelgate's model_name)", () => {
  it("is set by name, shown by name, and follows a rename", async () => {
    const name = await createModel();
    const w = await createWebhook({
      url: receiver.hook(uniqueKey()),
      events: [{ entity: "model_version", action: "created" }],
      model_name: name,
    });
    expect(w.model_name).toBe(name);
    const renamed = `${name}-renamed`;
    expect((await call("POST", "/registered-models/rename", { name, new_name: renamed })).status).toBe(200);
    expect((await call("GET", `/webhooks/${w.webhook_id}`)).body.webhook.model_name).toBe(renamed);
    const cleared = await call("PATCH", `/webhooks/${w.webhook_id}`, { model_name: "" });
    expect(cleared.body.webhook.model_name).toBeUndefined();
  });
});

describe("POST /webhooks/{id}/test", () => {
  it("sends MLflow's example payload for the first event, signed, and answers the receiver's reply", async () => {
    const key = uniqueKey();
    await receiver.script(key, [{ status: 200, body: "thanks" }]);
    // DISABLED: registry events from other suites never reach it; the test endpoint still sends (as MLflow's does).
    const w = await createWebhook({
      url: receiver.hook(key),
      events: [
        { entity: "model_version", action: "created" },
        { entity: "model_version_tag", action: "set" },
      ],
      secret: "test-secret",
      status: "DISABLED",
    });
    const { status, body } = await call("POST", `/webhooks/${w.webhook_id}/test`, {});
    expect(status).toBe(200);
    expect(body.result).toEqual({ success: true, response_status: 200, response_body: "thanks" });
    const received = (await receiver.log(key))[0]!;
    expect(JSON.parse(received.body)).toMatchObject({
      entity: "model_version",
      action: "created",
      data: {
        name: "example_model",
        version: "1",
        source: "runs:/abcd1234abcd5678/model",
        run_id: "abcd1234abcd5678",
        tags: { example_key: "example_value" },
        description: "An example model version",
      },
    });
    expect(JSON.parse(received.body).timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$/);
    expect(received.headers["x-mlflow-delivery-id"]).toBe(body.delivery_id);
    expect(await verifyMlflowSignature("test-secret", received.headers, received.body)).toBe(true);
    expect(await verifyMlflowSignature("wrong-secret", received.headers, received.body)).toBe(false);
  });

  it("keeps only the first 64 KiB of a receiver's answer, whatever its size and type", async () => {
    const key = uniqueKey();
    const answer = `${"é".repeat(40_000)}${"x".repeat(200_000)}`;
    await receiver.script(key, [
      { status: 200, body: answer, headers: { "content-type": "application/octet-stream" } },
    ]);
    const w = await createWebhook({
      url: receiver.hook(key),
      events: [{ entity: "model_version", action: "created" }],
      status: "DISABLED",
    });
    const { status, body } = await call("POST", `/webhooks/${w.webhook_id}/test`, {});
    expect(status).toBe(200);
    expect(body.result.success).toBe(true);
    const kept = new TextEncoder().encode(body.result.response_body);
    expect(kept.byteLength).toBeLessThanOrEqual(64 * 1024 + 3);
    expect(body.result.response_body.startsWith("é".repeat(30_000))).toBe(true);
  });

  it("tests a chosen event, and reports a failing receiver without an error status", async () => {
    const key = uniqueKey();
    await receiver.script(key, [{ status: 503, body: "down" }]);
    const w = await createWebhook({
      url: receiver.hook(key),
      events: [{ entity: "model_version", action: "created" }],
      status: "DISABLED",
    });
    const { status, body } = await call("POST", `/webhooks/${w.webhook_id}/test`, {
      event: { entity: "MODEL_VERSION_ALIAS", action: "DELETED" },
    });
    expect(status).toBe(200);
    expect(body.result).toMatchObject({ success: false, response_status: 503, response_body: "down" });
    expect(body.result.error_message).toMatch(/^Failed to test webhook: HTTP 503/);
    const received = (await receiver.log(key))[0]!;
    expect(JSON.parse(received.body)).toMatchObject({
      entity: "model_version_alias",
      action: "deleted",
      data: { name: "example_model", alias: "example_alias" },
    });
    // No secret: no signature header, as MLflow sends it.
    expect(received.headers["x-mlflow-signature"]).toBeUndefined();
    // The test shows in the delivery log.
    const log = await call("GET", `/webhooks/${w.webhook_id}/deliveries`, {}, MODELGATE_API);
    expect(log.body.deliveries[0]).toMatchObject({
      delivery_id: body.delivery_id,
      status: "FAILED",
      last_status_code: 503,
      attempts: [{ attempt: 1, status_code: 503, outcome: "FAILED" }],
    });
  });

  it("sends MLflow's example payload for a prompt event", async () => {
    const key = uniqueKey();
    await receiver.script(key, [{ status: 200, body: "ok" }]);
    const w = await createWebhook({
      url: receiver.hook(key),
      events: [{ entity: "PROMPT_VERSION", action: "CREATED" }],
      status: "DISABLED",
    });
    const { status, body } = await call("POST", `/webhooks/${w.webhook_id}/test`, {});
    expect(status).toBe(200);
    expect(body.result).toMatchObject({ success: true, response_status: 200 });
    const received = (await receiver.log(key))[0]!;
    expect(JSON.parse(received.body)).toMatchObject({
      entity: "prompt_version",
      action: "created",
      data: {
        name: "example_prompt",
        version: "1",
        template: "Hello {{name}}!",
        tags: { example_key: "example_value" },
        description: "An example prompt version",
      },
    });
  });

  it("answers 404 for an unknown webhook and 400 for an unknown event", async () => {
    expectError(await call("POST", "/webhooks/nope/test", {}), 404, "RESOURCE_DOES_NOT_EXIST");
    const w = await createWebhook({
      url: receiver.hook(uniqueKey()),
      events: [{ entity: "model_version", action: "created" }],
    });
    expectError(
      await call("POST", `/webhooks/${w.webhook_id}/test`, { event: { entity: "run", action: "created" } }),
      400,
      "INVALID_PARAMETER_VALUE",
    );
  });
});
