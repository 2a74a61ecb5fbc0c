import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, testClock } from "../helpers";
import { ADMIN, basic, bearer, clientAddress, createToken, ORIGIN, send } from "./helpers";

const MLFLOW = "/api/2.0/mlflow";
let n = 0;
const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${++n}`;

/** `send` for a change, returning once its audit row (written after the answer) is in. */
const sendAudited = (method: string, path: string, params: Record<string, unknown>, authorization: string) =>
  call(method, path, params, ORIGIN, { headers: { authorization }, settle: true });

async function modelWithVersion(auth: string) {
  const name = unique("auth-model");
  expect((await sendAudited("POST", `${MLFLOW}/registered-models/create`, { name }, auth)).status).toBe(200);
  expect(
    (await sendAudited("POST", `${MLFLOW}/model-versions/create`, { name, source: "s3://m/1" }, auth)).status,
  ).toBe(200);
  return name;
}

describe("tokens", () => {
  it("shows the secret once, stores only its hash, and lists tokens without secrets", async () => {
    const created = await send(
      "POST",
      "/api/2.0/modelgate/tokens",
      { name: unique("ci"), scopes: ["write"] },
      bearer(ADMIN),
    );
    expect(created.status).toBe(200);
    const secret = created.body.secret as string;
    expect(secret).toMatch(/^mg_[0-9a-f]{64}$/);
    expect(created.body.token).toMatchObject({ scopes: ["read", "write"], created_by: "admin" });
    const row = await env.DB.prepare("SELECT * FROM api_tokens WHERE id = ?")
      .bind(created.body.token.id)
      .first<Record<string, string>>();
    expect(JSON.stringify(row)).not.toContain(secret.slice(3));
    const listed = await send("GET", "/api/2.0/modelgate/tokens", {}, bearer(ADMIN));
    expect(JSON.stringify(listed.body)).not.toContain(secret.slice(3));
    expect(listed.body.tokens.some((t: { id: string }) => t.id === created.body.token.id)).toBe(true);
  });

  it("accepts the token as bearer and as the basic-auth password (MLFLOW_TRACKING_USERNAME/PASSWORD)", async () => {
    const secret = await createToken({ name: unique("reader"), scopes: ["read"] });
    expect((await send("GET", `${MLFLOW}/registered-models/search`, {}, bearer(secret))).status).toBe(200);
    expect((await send("GET", `${MLFLOW}/registered-models/search`, {}, basic("alice", secret))).status).toBe(200);
    const wrong = await send(
      "GET",
      `${MLFLOW}/registered-models/search`,
      {},
      basic("alice", "mg_wrong"),
      clientAddress(),
    );
    expect(wrong).toMatchObject({ status: 401, body: { error_code: "UNAUTHENTICATED" } });
  });

  it("stops a revoked token at once and an expired one when it expires", async () => {
    const created = await send(
      "POST",
      "/api/2.0/modelgate/tokens",
      { name: unique("short"), scopes: ["read"] },
      bearer(ADMIN),
    );
    const secret = created.body.secret as string;
    expect((await send("GET", `${MLFLOW}/registered-models/search`, {}, bearer(secret))).status).toBe(200);
    expect((await send("DELETE", `/api/2.0/modelgate/tokens/${created.body.token.id}`, {}, bearer(ADMIN))).status).toBe(
      200,
    );
    const revoked = await send("GET", `${MLFLOW}/registered-models/search`, {}, bearer(secret), clientAddress());
    expect(revoked.status).toBe(401);
    expect((await send("DELETE", `/api/2.0/modelgate/tokens/${created.body.token.id}`, {}, bearer(ADMIN))).status).toBe(
      404,
    );

    testClock.freeze();
    const brief = await createToken({ name: unique("brief"), scopes: ["read"], expires_in: 1 });
    testClock.advance(999);
    expect((await send("GET", `${MLFLOW}/registered-models/search`, {}, bearer(brief))).status).toBe(200);
    testClock.advance(1);
    const expired = await send("GET", `${MLFLOW}/registered-models/search`, {}, bearer(brief), clientAddress());
    expect(expired.status).toBe(401);
    expect(expired.body.message).toContain("expired");
  });

  it("narrows a per-model token to its models, with MLflow's EDIT meaning promote", async () => {
    const mine = await modelWithVersion(bearer(ADMIN));
    const other = await modelWithVersion(bearer(ADMIN));
    const secret = await createToken({ name: unique("team"), scopes: ["EDIT"], models: [mine] });
    const promote = (name: string) =>
      send(
        "POST",
        `${MLFLOW}/model-versions/transition-stage`,
        { name, version: "1", stage: "Production" },
        bearer(secret),
      );
    expect((await promote(mine)).status).toBe(200);
    const refused = await promote(other);
    expect(refused).toMatchObject({ status: 403, body: { error_code: "PERMISSION_DENIED" } });
    expect(refused.body.message).toContain(other);
    const stage = await send("GET", `${MLFLOW}/model-versions/get`, { name: other, version: "1" }, bearer(ADMIN));
    expect(stage.body.model_version.current_stage).toBe("None");
    // EDIT is promote, not admin: no deletes.
    expect((await send("DELETE", `${MLFLOW}/registered-models/delete`, { name: mine }, bearer(secret))).status).toBe(
      403,
    );
  });

  it("does not let a token hand out more than it holds", async () => {
    const promoter = await createToken({ name: unique("promoter"), scopes: ["promote"] });
    const attempt = await send(
      "POST",
      "/api/2.0/modelgate/tokens",
      { name: "escalate", scopes: ["admin"] },
      bearer(promoter),
    );
    expect(attempt.status).toBe(403);
    const bad = await send("POST", "/api/2.0/modelgate/tokens", { name: "x", scopes: ["superuser"] }, bearer(ADMIN));
    expect(bad).toMatchObject({ status: 400, body: { error_code: "INVALID_PARAMETER_VALUE" } });
  });

  it("slows down guessing: too many failed authentications from one address get 429", async () => {
    const client = clientAddress();
    const statuses: number[] = [];
    for (let i = 0; i < 22; i++)
      statuses.push(
        (await send("GET", `${MLFLOW}/registered-models/search`, {}, bearer(`mg_guess_${i}`), client)).status,
      );
    expect(statuses.slice(0, 20)).toEqual(Array(20).fill(401));
    expect(statuses.slice(20)).toEqual([429, 429]);
  });
});

describe("audit", () => {
  it("records who changed what (not reads sent as POST), and the history shows who promoted", async () => {
    const actor = unique("deployer");
    const secret = await createToken({ name: actor, scopes: ["promote"] });
    const name = await modelWithVersion(bearer(secret));
    // A read MLflow sends as POST (every model load does) changes nothing, so it is not audited.
    const latest = await send("POST", `${MLFLOW}/registered-models/get-latest-versions`, { name }, bearer(secret));
    expect(latest.status).toBe(200);
    await sendAudited(
      "POST",
      `${MLFLOW}/model-versions/transition-stage`,
      { name, version: "1", stage: "Production" },
      bearer(secret),
    );
    const history = await send("GET", "/api/2.0/modelgate/model-versions/transitions", { name }, bearer(secret));
    expect(history.body.transitions[0]).toMatchObject({ version: "1", to_stage: "Production", actor });
    const version = await send("GET", `${MLFLOW}/model-versions/get`, { name, version: "1" }, bearer(secret));
    expect(version.body.model_version.user_id).toBe(actor);

    // Minting signed URLs is a read that grants access: audited like a change.
    const signed = await sendAudited("POST", `/v1/models/${name}/versions/1/signed-urls`, {}, bearer(secret));
    expect(signed.status).toBe(200);

    const events: { actor: string; action: string; model?: string }[] = (
      await send("GET", "/api/2.0/modelgate/audit", { model: name }, bearer(ADMIN))
    ).body.events;
    expect(events.map((e) => e.action)).toEqual([
      `POST /v1/models/${name}/versions/1/signed-urls`,
      `POST ${MLFLOW}/model-versions/transition-stage`,
      `POST ${MLFLOW}/model-versions/create`,
      `POST ${MLFLOW}/registered-models/create`,
    ]);
    expect(new Set(events.map((e) => e.actor))).toEqual(new Set([actor]));
    const byActor = await send("GET", "/api/2.0/modelgate/audit", { actor, since: Date.now() - 60_000 }, bearer(ADMIN));
    expect(byActor.body.events.length).toBeGreaterThanOrEqual(4);
    expect((await send("GET", "/api/2.0/modelgate/audit", {}, bearer(secret))).status).toBe(403);
  });
});
