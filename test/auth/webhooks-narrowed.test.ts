import { env, exports } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import { call } from "../helpers";
import { ADMIN, bearer, createToken, ORIGIN, send, tableCounts, type Reply } from "./helpers";

// An admin token narrowed to model A manages only webhooks filtered to A. Webhooks of other
// models and model-less (all-models) webhooks answer as if they did not exist
// (RESOURCE_DOES_NOT_EXIST, the same answer as an unknown id), and a filter naming a model the
// token does not hold is refused (PERMISSION_DENIED) before the name is even looked up.

const MLFLOW = "/api/2.0/mlflow";
const AJAX = "/ajax-api/2.0/mlflow";
const MODELGATE = "/api/2.0/modelgate";
const EVENTS = [{ entity: "model_version", action: "created" }];

let n = 0;
const unique = (prefix: string) =>
  `${prefix}-${Date.now().toString(36)}-${++n}-${Math.random().toString(36).slice(2, 7)}`;
const hookUrl = () => `${inject("webhookReceiver")}/hook/${unique("narrowed")}`;

async function createModel(name: string): Promise<string> {
  const res = await send("POST", `${MLFLOW}/registered-models/create`, { name }, bearer(ADMIN));
  expect(res.status).toBe(200);
  return name;
}

async function modelId(name: string): Promise<string> {
  return (await env.DB.prepare("SELECT id FROM registered_models WHERE name = ?").bind(name).first<{ id: string }>())!
    .id;
}

/** Models A and B, and an admin token narrowed to A. */
async function world() {
  const a = await createModel(unique("hooks-A"));
  const b = await createModel(unique("hooks-B"));
  const token = bearer(await createToken({ name: unique("admin-of-A"), scopes: ["admin"], models: [a] }));
  return { a, b, token };
}

async function webhookAs(authorization: string, fields: Record<string, unknown>): Promise<string> {
  const res = await send(
    "POST",
    `${MLFLOW}/webhooks`,
    { name: "hook", url: hookUrl(), events: EVENTS, ...fields },
    authorization,
  );
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.webhook.webhook_id as string;
}

const rowOf = (id: string) => env.DB.prepare("SELECT * FROM webhooks WHERE id = ?").bind(id).first();

/** A request whose JSON body is a JSON string holding the object (MLflow's server decodes it twice). */
async function sendDoublyEncoded(
  method: string,
  path: string,
  params: Record<string, unknown>,
  authorization: string,
): Promise<Reply> {
  const res = await exports.default.fetch(
    new Request(`${ORIGIN}${path}`, {
      method,
      headers: { "content-type": "application/json", authorization },
      body: JSON.stringify(JSON.stringify(params)),
    }),
  );
  return { status: res.status, body: await res.json() };
}

describe("an admin token narrowed to model A, on webhooks", () => {
  it("cannot subscribe to model B in any encoding or tree, nor to every model; nothing is written", async () => {
    const { a, b, token } = await world();
    const before = await tableCounts();
    const asked = { name: "spy", url: hookUrl(), events: EVENTS, model_name: b };
    for (const reply of [
      await send("POST", `${MLFLOW}/webhooks`, asked, token),
      await send("POST", `${AJAX}/webhooks`, asked, token),
      await sendDoublyEncoded("POST", `${MLFLOW}/webhooks`, asked, token),
    ]) {
      expect(reply.status).toBe(403);
      expect(reply.body.error_code).toBe("PERMISSION_DENIED");
      expect(JSON.stringify(reply.body)).not.toContain(b);
    }
    const modelLess = await send("POST", `${MLFLOW}/webhooks`, { name: "all", url: hookUrl(), events: EVENTS }, token);
    expect(modelLess.status).toBe(403);
    expect(modelLess.body.error_code).toBe("PERMISSION_DENIED");
    expect(modelLess.body.message).toContain("model_name");
    // A model that does not exist is refused the same way: the answer does not tell whether it does.
    const ghost = await send("POST", `${MLFLOW}/webhooks`, { ...asked, model_name: unique("no-such-model") }, token);
    expect(ghost.status).toBe(403);
    expect(await tableCounts()).toEqual(before);

    const own = await send("POST", `${MLFLOW}/webhooks`, { ...asked, model_name: a }, token);
    expect(own.status).toBe(200);
    expect(own.body.webhook.model_name).toBe(a);
  });

  it("lists only webhooks filtered to its models: full pages, correct paging, nothing of B", async () => {
    const { a, b, token } = await world();
    const mine: string[] = [];
    // Interleaved with B's and model-less webhooks, so filtering after paging would leave holes.
    for (let i = 0; i < 5; i++) {
      await webhookAs(bearer(ADMIN), { model_name: b, name: `b-${i}` });
      await webhookAs(bearer(ADMIN), { name: `all-${i}` });
      mine.push(await webhookAs(bearer(ADMIN), { model_name: a, name: `a-${i}` }));
      await webhookAs(bearer(ADMIN), { model_name: b, name: `b2-${i}` });
    }
    const seen: string[] = [];
    let pageToken: string | undefined;
    const sizes: number[] = [];
    do {
      const page = await send(
        "GET",
        `${MLFLOW}/webhooks`,
        { max_results: 2, ...(pageToken ? { page_token: pageToken } : {}) },
        token,
      );
      expect(page.status).toBe(200);
      expect(JSON.stringify(page.body)).not.toContain(b);
      for (const w of page.body.webhooks) expect(w.model_name).toBe(a);
      sizes.push(page.body.webhooks.length);
      seen.push(...page.body.webhooks.map((w: { webhook_id: string }) => w.webhook_id));
      pageToken = page.body.next_page_token;
    } while (pageToken);
    expect(seen).toEqual([...mine].reverse()); // newest first
    expect(sizes).toEqual([2, 2, 1]);
    // The unrestricted admin still sees all of them.
    const all = await send("GET", `${MLFLOW}/webhooks`, { max_results: 1000 }, bearer(ADMIN));
    const names = all.body.webhooks.map((w: { model_name?: string }) => w.model_name);
    expect(names.filter((m: string | undefined) => m === b)).toHaveLength(10);
  });

  it("reads and acts on B's and all-models webhooks as if they did not exist, and changes nothing", async () => {
    const { b, token } = await world();
    const ofB = await webhookAs(bearer(ADMIN), { model_name: b });
    const modelLess = await webhookAs(bearer(ADMIN), {});
    const unknown = "0".repeat(32);
    const rowsBefore = [await rowOf(ofB), await rowOf(modelLess)];
    const before = await tableCounts();
    for (const id of [ofB, modelLess, unknown]) {
      const attempts: Reply[] = [
        await send("GET", `${MLFLOW}/webhooks/${id}`, {}, token),
        await send("GET", `${AJAX}/webhooks/${id}`, {}, token),
        await send("PATCH", `${MLFLOW}/webhooks/${id}`, { name: "taken", status: "DISABLED" }, token),
        await send("POST", `${MLFLOW}/webhooks/${id}/test`, {}, token),
        await send("GET", `${MODELGATE}/webhooks/${id}/deliveries`, {}, token),
        await send("POST", `${MODELGATE}/webhooks/${id}/deliveries/${crypto.randomUUID()}/replay`, {}, token),
        await send("DELETE", `${MLFLOW}/webhooks/${id}`, {}, token),
      ];
      for (const reply of attempts) {
        expect(reply.status, JSON.stringify(reply.body)).toBe(404);
        expect(reply.body.error_code).toBe("RESOURCE_DOES_NOT_EXIST");
        expect(JSON.stringify(reply.body)).not.toContain(b);
      }
      // Word for word the answer to an id that does not exist.
      expect(attempts[0]!.body.message).toBe(`Webhook with ID ${id} not found.`);
    }
    expect(await tableCounts()).toEqual(before);
    expect([await rowOf(ofB), await rowOf(modelLess)]).toEqual(rowsBefore);
  });

  it("cannot move its webhook to B or make it hear every model", async () => {
    const { a, b, token } = await world();
    const id = await webhookAs(token, { model_name: a });
    const before = await rowOf(id);
    for (const model_name of [b, ""]) {
      for (const reply of [
        await send("PATCH", `${MLFLOW}/webhooks/${id}`, { model_name, name: "moved" }, token),
        await sendDoublyEncoded("PATCH", `${MLFLOW}/webhooks/${id}`, { model_name, name: "moved" }, token),
      ]) {
        expect(reply.status).toBe(403);
        expect(reply.body.error_code).toBe("PERMISSION_DENIED");
        expect(JSON.stringify(reply.body)).not.toContain(b);
      }
    }
    expect(await rowOf(id)).toEqual(before);
    const renamed = await send("PATCH", `${MLFLOW}/webhooks/${id}`, { name: "renamed", model_name: a }, token);
    expect(renamed.status).toBe(200);
    expect(renamed.body.webhook).toMatchObject({ name: "renamed", model_name: a });
  });

  it("manages its own webhook end to end: get, test, deliveries, delete; audit rows name the model", async () => {
    const { a, token } = await world();
    const id = await webhookAs(token, { model_name: a });
    expect((await send("GET", `${MLFLOW}/webhooks/${id}`, {}, token)).body.webhook.model_name).toBe(a);
    // Settled: the audit rows checked below are written after the answer.
    const settled = { headers: { authorization: token }, settle: true };
    const tested = await call("POST", `${MLFLOW}/webhooks/${id}/test`, {}, ORIGIN, settled);
    expect(tested.status).toBe(200);
    expect(tested.body.result.success).toBe(true);
    const log = await send("GET", `${MODELGATE}/webhooks/${id}/deliveries`, {}, token);
    expect(log.body.deliveries.map((d: { delivery_id: string }) => d.delivery_id)).toEqual([tested.body.delivery_id]);
    expect((await call("DELETE", `${MLFLOW}/webhooks/${id}`, {}, ORIGIN, settled)).status).toBe(200);
    expect(await rowOf(id)).toBeNull();
    // The audit trail names the webhook's model for each of these mutations.
    for (const action of [`POST ${MLFLOW}/webhooks/${id}/test`, `DELETE ${MLFLOW}/webhooks/${id}`]) {
      const row = await env.DB.prepare("SELECT model_name FROM audit_events WHERE action = ?").bind(action).first();
      expect(row, action).toEqual({ model_name: a });
    }
  });

  it("sees and replays only deliveries of its models' events in a webhook's log", async () => {
    const { a, b, token } = await world();
    // A webhook that heard every model, later narrowed to A by an unrestricted admin: its log
    // holds B's events from before, which A's admin must not read.
    const id = await webhookAs(bearer(ADMIN), {});
    const [idA, idB] = [await modelId(a), await modelId(b)];
    const insert = (deliveryId: string, model: string | null, name: string | null, at: number) =>
      env.DB.prepare(
        `INSERT INTO webhook_deliveries (id, webhook_id, event_id, entity, action, model_id, model_name, sequence, payload, status, attempts, created_at, updated_at, next_attempt_at, last_error)
         VALUES (?, ?, ?, 'model_version', 'created', ?, ?, 1, ?, 'dead', 6, ?, ?, ?, 'HTTP 503')`,
      )
        .bind(
          deliveryId,
          id,
          model ? crypto.randomUUID() : null,
          model,
          name,
          JSON.stringify({ data: { name } }),
          at,
          at,
          at,
        )
        .run();
    const [dA, dB, dTest] = [crypto.randomUUID(), crypto.randomUUID(), crypto.randomUUID()];
    await insert(dB, idB, b, 1000);
    await insert(dA, idA, a, 2000);
    await insert(dTest, null, null, 3000);
    expect((await send("PATCH", `${MLFLOW}/webhooks/${id}`, { model_name: a }, bearer(ADMIN))).status).toBe(200);

    const log = await send("GET", `${MODELGATE}/webhooks/${id}/deliveries`, { max_results: 1 }, token);
    expect(log.body.deliveries.map((d: { delivery_id: string }) => d.delivery_id)).toEqual([dTest]);
    const next = await send(
      "GET",
      `${MODELGATE}/webhooks/${id}/deliveries`,
      { max_results: 1, page_token: log.body.next_page_token },
      token,
    );
    expect(next.body.deliveries.map((d: { delivery_id: string }) => d.delivery_id)).toEqual([dA]);
    expect(next.body.next_page_token).toBeUndefined();
    expect(JSON.stringify([log.body, next.body])).not.toContain(b);

    const hidden = await send("POST", `${MODELGATE}/webhooks/${id}/deliveries/${dB}/replay`, {}, token);
    expect(hidden.status).toBe(404);
    expect(hidden.body.error_code).toBe("RESOURCE_DOES_NOT_EXIST");
    expect((await env.DB.prepare("SELECT status FROM webhook_deliveries WHERE id = ?").bind(dB).first())?.status).toBe(
      "dead",
    );
    // The unrestricted admin sees all three.
    const full = await send("GET", `${MODELGATE}/webhooks/${id}/deliveries`, {}, bearer(ADMIN));
    expect(full.body.deliveries).toHaveLength(3);
  });

  it("leaves all-models webhooks and resealing every secret to the unrestricted admin", async () => {
    const { a, token } = await world();
    const reseal = await send("POST", `${MODELGATE}/webhooks/reseal-secrets`, {}, token);
    expect(reseal.status).toBe(403);
    expect(reseal.body.error_code).toBe("PERMISSION_DENIED");
    const id = await webhookAs(bearer(ADMIN), {});
    expect(
      (await send("PATCH", `${MLFLOW}/webhooks/${id}`, { model_name: a }, bearer(ADMIN))).body.webhook.model_name,
    ).toBe(a);
    expect(
      (await send("PATCH", `${MLFLOW}/webhooks/${id}`, { model_name: "" }, bearer(ADMIN))).body.webhook.model_name,
    ).toBeUndefined();
    expect((await send("DELETE", `${MLFLOW}/webhooks/${id}`, {}, bearer(ADMIN))).status).toBe(200);
  });
});
