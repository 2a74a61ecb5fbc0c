import { describe, expect, it } from "vitest";
import type { RegistryEvent } from "../../src/domain/events";
import { backoffSeconds, outcomeOf, retryAfterSeconds } from "../../src/webhooks/retry-policy";
import { MLFLOW_WEBHOOK_EVENTS, parseWebhookEvent, webhookEventOf } from "../../src/domain/webhook-events";
import { webhookBody } from "../../src/webhooks/webhook-payload";
import { signWebhook } from "../../src/webhooks/webhook-signature";
import { checkWebhookUrl, parseAllowHosts } from "../../src/webhooks/webhook-url-policy";

describe("the signature", () => {
  it("equals what MLflow's _generate_hmac_signature computes (vector from Python's hmac)", async () => {
    // python3: "v1," + base64(hmac.new(b"mlflow-secret", b'd-1.1700000000.{"entity": ...}', sha256).digest())
    const body = '{"entity": "model_version", "action": "created"}';
    expect(await signWebhook("mlflow-secret", "d-1", "1700000000", body)).toBe(
      "v1,EJsF8Z+1QwnkuidbxbetHapYuqEbEO+lIYzJqcelmIo=",
    );
    expect(await signWebhook("mlflow-secret", "d-2", "1700000000", body)).not.toBe(
      "v1,EJsF8Z+1QwnkuidbxbetHapYuqEbEO+lIYzJqcelmIo=",
    );
  });
});

describe("what a receiver's answer means", () => {
  it.each([
    [200, "delivered"],
    [204, "delivered"],
    [301, "failed"],
    [400, "failed"],
    [401, "failed"],
    [404, "failed"],
    [408, "retry"],
    [410, "failed"],
    [429, "retry"],
    [500, "retry"],
    [502, "retry"],
    [503, "retry"],
    [504, "retry"],
  ])("HTTP %i → %s", (status, outcome) => {
    expect(outcomeOf(status)).toBe(outcome);
  });

  it("backs off exponentially from the base, capped, with at most 10 % jitter", () => {
    const none = () => 0;
    expect([1, 2, 3, 4, 5].map((a) => backoffSeconds(a, 30, 3600, none))).toEqual([30, 60, 120, 240, 480]);
    expect(backoffSeconds(12, 30, 3600, none)).toBe(3600);
    expect(backoffSeconds(1, 30, 3600, () => 0.999)).toBe(33);
  });

  it("reads Retry-After as seconds or an HTTP date, capped at Queues' 12 hours", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(retryAfterSeconds("120", now)).toBe(120);
    expect(retryAfterSeconds(" 0 ", now)).toBe(0);
    expect(retryAfterSeconds("Thu, 01 Jan 2026 00:01:30 GMT", now)).toBe(90);
    expect(retryAfterSeconds("Wed, 31 Dec 2025 23:00:00 GMT", now)).toBe(0);
    expect(retryAfterSeconds("999999", now)).toBe(43_200);
    expect(retryAfterSeconds("soon", now)).toBeNull();
    expect(retryAfterSeconds(null, now)).toBeNull();
  });
});

describe("webhook URLs", () => {
  const none: string[] = [];
  it.each([
    "https://hooks.example.com/modelgate",
    "http://203.0.114.9:8080/x", // public (203.0.113/24 is the documentation range, .114 is not)
    "https://[2606:4700::1111]/hook",
  ])("accepts the public URL %s", (url) => {
    expect(checkWebhookUrl(url, none).href).toBe(new URL(url).href);
  });

  it.each([
    ["http://localhost/x", /internal host name/],
    ["http://api.localhost/x", /internal host name/],
    ["http://127.0.0.1/x", /loopback/],
    ["http://2130706433/x", /loopback/],
    ["http://[::1]/x", /loopback/],
    ["http://0.0.0.0/x", /unspecified/],
    ["http://10.20.30.40/x", /private/],
    ["http://172.16.0.1/x", /private/],
    ["http://192.168.1.1/x", /private/],
    ["http://100.64.0.1/x", /carrierGradeNat/],
    ["http://169.254.169.254/x", /linkLocal/],
    ["http://[fe80::1]/x", /linkLocal/],
    ["http://[fc00::1]/x", /uniqueLocal/],
    ["http://[::ffff:10.0.0.1]/x", /private/],
    ["http://224.0.0.1/x", /multicast/],
    ["http://printer.local/x", /internal host name/],
    ["http://metadata.google.internal/x", /internal host name/],
    ["http://intranet/x", /single-label/],
    ["gopher://example.com/x", /scheme/],
    ["https://a:b@example.com/x", /credentials/],
  ])("refuses %s", (url, reason) => {
    expect(() => checkWebhookUrl(url, none)).toThrow(reason);
  });

  it("allows exactly the hosts the allow-list names (and *.suffix for subdomains)", () => {
    const allow = parseAllowHosts(" 127.0.0.1, [::1], *.corp.internal ,jenkins ");
    expect(allow).toEqual(["127.0.0.1", "::1", "*.corp.internal", "jenkins"]);
    for (const url of [
      "http://127.0.0.1:9000/x",
      "http://[::1]/x",
      "http://ci.corp.internal/x",
      "http://jenkins:8080/x",
    ])
      expect(() => checkWebhookUrl(url, allow)).not.toThrow();
    for (const url of ["http://127.0.0.2/x", "http://corp.internal/x", "http://10.0.0.1/x"])
      expect(() => checkWebhookUrl(url, allow)).toThrow(/MODELGATE_WEBHOOK_ALLOW_HOSTS/);
    expect(parseAllowHosts("")).toEqual([]);
    expect(parseAllowHosts(undefined)).toEqual([]);
  });
});

describe("event names", () => {
  it("accepts MLflow's proto enum names and the payload's lower case, and names what is valid otherwise", () => {
    expect(parseWebhookEvent({ entity: "MODEL_VERSION_TAG", action: "SET" })).toBe("model_version_tag.set");
    expect(parseWebhookEvent({ entity: "model_version", action: "stage_transitioned" })).toBe(
      "model_version.stage_transitioned",
    );
    expect(() => parseWebhookEvent({ entity: "model_version_alias", action: "set" })).toThrow(
      `Invalid action 'set' for entity 'model_version_alias'. Valid actions are: ["created","deleted"]`,
    );
    // MLflow 3.5.1's prompt entities (issue 18), and what it still does not define.
    expect(parseWebhookEvent({ entity: "PROMPT_ALIAS", action: "DELETED" })).toBe("prompt_alias.deleted");
    expect(() => parseWebhookEvent({ entity: "prompt", action: "set" })).toThrow(
      `Invalid action 'set' for entity 'prompt'. Valid actions are: ["created"]`,
    );
    expect(() => parseWebhookEvent({ entity: "prompt_version_alias", action: "created" })).toThrow(
      /Invalid entity 'prompt_version_alias'/,
    );
  });
});

describe("payloads (mlflow/webhooks/types.py shapes)", () => {
  const base: RegistryEvent = {
    id: "e",
    type: "registered_model.created",
    modelId: "m",
    modelName: "fraud",
    version: null,
    from: null,
    to: null,
    actor: "alice",
    timestamp: Date.parse("2026-08-11T13:05:00.123Z"),
    sequence: 1,
    data: {},
  };
  it.each<[string, Partial<RegistryEvent>, Record<string, unknown>]>([
    ["registered_model.created", {}, { name: "fraud", tags: {}, description: null }],
    [
      "registered_model.created",
      { data: { tags: '{"team":"risk"}', description: "d" } },
      { name: "fraud", tags: { team: "risk" }, description: "d" },
    ],
    [
      "model_version.created",
      { version: 4, data: { source: "s3://x", run_id: "r1" } },
      { name: "fraud", version: "4", source: "s3://x", run_id: "r1", tags: {}, description: null },
    ],
    [
      "model_version.created",
      { version: 4, data: { source: "s3://x" } },
      { name: "fraud", version: "4", source: "s3://x", run_id: null, tags: {}, description: null },
    ],
    [
      "model_version_tag.set",
      { version: 2, data: { key: "k", value: "v" } },
      { name: "fraud", version: "2", key: "k", value: "v" },
    ],
    ["model_version_tag.deleted", { version: 2, data: { key: "k" } }, { name: "fraud", version: "2", key: "k" }],
    [
      "model_version_alias.created",
      { version: 3, to: "3", data: { alias: "champion" } },
      { name: "fraud", alias: "champion", version: "3" },
    ],
    [
      "model_version_alias.deleted",
      { version: 3, from: "3", data: { alias: "champion" } },
      { name: "fraud", alias: "champion" },
    ],
    [
      "model_version.stage_transitioned",
      { version: 3, from: "Staging", to: "Production", data: { comment: "ok" } },
      { name: "fraud", version: "3", from_stage: "Staging", to_stage: "Production", comment: "ok", actor: "alice" },
    ],
    [
      "registered_model.renamed",
      { modelName: "fraud-v2", from: "fraud", to: "fraud-v2" },
      { name: "fraud", new_name: "fraud-v2" },
    ],
    ["registered_model.deleted", { from: "fraud" }, { name: "fraud" }],
    ["registered_model_tag.set", { data: { key: "k", value: "v" } }, { name: "fraud", key: "k", value: "v" }],
    ["model_version.ready", { version: 1, to: "READY" }, { name: "fraud", version: "1", status: "READY" }],
    [
      "model_version.failed",
      { version: 1, data: { status_message: "no files" } },
      { name: "fraud", version: "1", status: "FAILED_REGISTRATION", status_message: "no files" },
    ],
    ["model_version.deleted", { version: 1 }, { name: "fraud", version: "1" }],
  ])("%s → data %j", (type, fields, data) => {
    const body = webhookBody({ ...base, ...fields, type: type as RegistryEvent["type"] });
    const [entity, action] = type.split(".");
    expect(body).toEqual({ entity, action, timestamp: "2026-08-11T13:05:00.123+00:00", data });
  });
});

describe("changes on a prompt are prompt events (MLflow 3.5.1's handlers)", () => {
  const base: RegistryEvent = {
    id: "e",
    type: "registered_model.created",
    modelId: "m",
    modelName: "greeter",
    version: null,
    from: null,
    to: null,
    actor: null,
    timestamp: Date.parse("2026-08-11T13:05:00.123Z"),
    sequence: 1,
    data: { prompt: "true" },
  };

  it("knows MLflow 3.5.1's fourteen events", () => {
    expect(MLFLOW_WEBHOOK_EVENTS).toHaveLength(14);
  });

  it.each<[RegistryEvent["type"], string]>([
    ["registered_model.created", "prompt.created"],
    ["model_version.created", "prompt_version.created"],
    ["registered_model_tag.set", "prompt_tag.set"],
    ["registered_model_tag.deleted", "prompt_tag.deleted"],
    ["model_version_tag.set", "prompt_version_tag.set"],
    ["model_version_tag.deleted", "prompt_version_tag.deleted"],
    ["model_version_alias.created", "prompt_alias.created"],
    ["model_version_alias.deleted", "prompt_alias.deleted"],
    // Modelgate's own events keep their names on prompts: MLflow has no prompt counterpart.
    ["registered_model.renamed", "registered_model.renamed"],
    ["model_version.ready", "model_version.ready"],
    ["model_version.stage_transitioned", "model_version.stage_transitioned"],
  ])("%s on a prompt is %s, and itself on a model", (type, asPrompt) => {
    expect(webhookEventOf({ type, data: { prompt: "true" } })).toBe(asPrompt);
    expect(webhookEventOf({ type, data: {} })).toBe(type);
  });

  it.each<[RegistryEvent["type"], Partial<RegistryEvent>, string, Record<string, unknown>]>([
    [
      "registered_model.created",
      {
        data: {
          prompt: "true",
          tags: JSON.stringify({ "mlflow.prompt.is_prompt": "true", team: "nlp" }),
          description: "d",
        },
      },
      "prompt.created",
      { name: "greeter", tags: { team: "nlp" }, description: "d" },
    ],
    [
      "model_version.created",
      {
        version: 2,
        data: {
          prompt: "true",
          tags: JSON.stringify({
            "mlflow.prompt.is_prompt": "true",
            "mlflow.prompt.text": "Hi {{x}}",
            _mlflow_prompt_type: "text",
            lang: "en",
          }),
        },
      },
      "prompt_version.created",
      { name: "greeter", version: "2", template: "Hi {{x}}", tags: { lang: "en" }, description: null },
    ],
    [
      "registered_model_tag.set",
      { data: { prompt: "true", key: "k", value: "v" } },
      "prompt_tag.set",
      { name: "greeter", key: "k", value: "v" },
    ],
    [
      "model_version_tag.deleted",
      { version: 2, data: { prompt: "true", key: "k" } },
      "prompt_version_tag.deleted",
      { name: "greeter", version: "2", key: "k" },
    ],
    [
      "model_version_alias.created",
      { version: 2, to: "2", data: { prompt: "true", alias: "prod" } },
      "prompt_alias.created",
      { name: "greeter", alias: "prod", version: "2" },
    ],
  ])("%s on a prompt → %s with MLflow's payload", (type, fields, event, data) => {
    const [entity, action] = event.split(".");
    expect(webhookBody({ ...base, ...fields, type })).toEqual({
      entity,
      action,
      timestamp: "2026-08-11T13:05:00.123+00:00",
      data,
    });
  });
});
