import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ADMIN, bearer, createToken, send } from "./helpers";

const API = "/api/2.0/mlflow";
const uniqueName = () => `auth-events-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

describe("events with access control on", () => {
  it("record the token that made each change as its actor", async () => {
    const name = uniqueName();
    const writer = await createToken({ name: "ci-trainer", scopes: ["write"], models: [name] });
    const promoter = await createToken({ name: "release-bot", scopes: ["promote"], models: [name] });
    expect((await send("POST", `${API}/registered-models/create`, { name }, bearer(writer))).status).toBe(200);
    expect(
      (await send("POST", `${API}/model-versions/create`, { name, source: "s3://b/m" }, bearer(writer))).status,
    ).toBe(200);
    expect(
      (
        await send(
          "POST",
          `${API}/model-versions/transition-stage`,
          { name, version: "1", stage: "Production" },
          bearer(promoter),
        )
      ).status,
    ).toBe(200);
    const id = (await env.DB.prepare("SELECT id FROM registered_models WHERE name = ?")
      .bind(name)
      .first<{ id: string }>())!.id;
    const { results } = await env.DB.prepare("SELECT type, actor FROM events WHERE model_id = ? ORDER BY sequence")
      .bind(id)
      .all();
    expect(results).toEqual([
      { type: "registered_model.created", actor: "ci-trainer" },
      { type: "model_version.created", actor: "ci-trainer" },
      { type: "model_version.ready", actor: "ci-trainer" },
      { type: "model_version.stage_transitioned", actor: "release-bot" },
    ]);
  });

  it("are readable with read rights on the model only", async () => {
    const name = uniqueName();
    const other = uniqueName();
    expect((await send("POST", `${API}/registered-models/create`, { name }, bearer(ADMIN))).status).toBe(200);
    const mine = await createToken({ name: "reader", scopes: ["read"], models: [name] });
    const theirs = await createToken({ name: "other-reader", scopes: ["read"], models: [other] });
    const ok = await send("GET", "/api/2.0/modelgate/events", { name }, bearer(mine));
    expect(ok.status).toBe(200);
    expect(ok.body.events.map((e: { type: string; actor: string }) => [e.type, e.actor])).toEqual([
      ["registered_model.created", "admin"],
    ]);
    const refused = await send("GET", "/api/2.0/modelgate/events", { name }, bearer(theirs));
    expect([refused.status, refused.body.error_code]).toEqual([403, "PERMISSION_DENIED"]);
    expect((await send("GET", "/api/2.0/modelgate/events", { name })).status).toBe(401);
  });
});
