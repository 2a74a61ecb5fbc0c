import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, createModel, createVersion, uniqueName } from "../helpers";

describe("per-model serialization", () => {
  it("gives 50 concurrent registrations exactly versions 1..50", async () => {
    const name = await createModel();
    const replies = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        call("POST", "/model-versions/create", { name, source: `s3://models/run${i}/model` }),
      ),
    );
    expect(replies.map((r) => r.status)).toEqual(Array(50).fill(200));
    const versions = replies.map((r) => Number(r.body.model_version.version)).sort((a, b) => a - b);
    expect(versions).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    const rows = await env.DB.prepare(
      "SELECT count(*) AS n, min(version) AS lo, max(version) AS hi FROM model_versions v JOIN registered_models m ON m.id = v.model_id WHERE m.name = ?",
    )
      .bind(name)
      .first<{ n: number; lo: number; hi: number }>();
    expect(rows).toEqual({ n: 50, lo: 1, hi: 50 });
  });

  it("leaves exactly one Production version and 50 history rows after 50 concurrent promotions", async () => {
    const name = await createModel();
    for (let i = 0; i < 50; i++) await createVersion(name);
    const replies = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        call("POST", "/model-versions/transition-stage", {
          name,
          version: String(i + 1),
          stage: "Production",
          archive_existing_versions: false,
        }),
      ),
    );
    expect(replies.map((r) => r.status)).toEqual(Array(50).fill(200));

    const search = await call("GET", "/model-versions/search", { filter: `name = '${name}'`, max_results: 100 });
    const stages = search.body.model_versions.map((v: { current_stage: string }) => v.current_stage);
    expect(stages.filter((s: string) => s === "Production")).toHaveLength(1);
    expect(stages.filter((s: string) => s === "Archived")).toHaveLength(49);

    const latest = await call("GET", "/registered-models/get-latest-versions", { name, stages: "Production" });
    expect(latest.body.model_versions).toHaveLength(1);

    // One row per requested promotion, plus one per version archived by a later promotion.
    const history = await call(
      "GET",
      "/model-versions/transitions",
      { name, max_results: 1000 },
      "http://modelgate.test/api/2.0/modelgate",
    );
    const promotions = history.body.transitions.filter((t: { to_stage: string }) => t.to_stage === "Production");
    expect(promotions).toHaveLength(50);
    const archivals = history.body.transitions.filter((t: { to_stage: string }) => t.to_stage === "Archived");
    expect(archivals).toHaveLength(49);
  });

  it("lets exactly one of 20 concurrent creates of one name succeed", async () => {
    const name = uniqueName();
    const replies = await Promise.all(
      Array.from({ length: 20 }, () => call("POST", "/registered-models/create", { name })),
    );
    expect(replies.filter((r) => r.status === 200)).toHaveLength(1);
    const refused = replies.filter((r) => r.status !== 200);
    expect(refused).toHaveLength(19);
    for (const r of refused)
      expect(r.body).toEqual({
        error_code: "RESOURCE_ALREADY_EXISTS",
        message: `Registered Model (name=${name}) already exists.`,
      });
  });

  it("keeps version numbers unique across a rename racing registrations", async () => {
    const name = await createModel();
    const renamed = uniqueName("renamed");
    const creates = Array.from({ length: 20 }, () =>
      call("POST", "/model-versions/create", { name, source: "s3://models/r/model" }),
    );
    const rename = call("POST", "/registered-models/rename", { name, new_name: renamed });
    const replies = await Promise.all([...creates, rename]);
    expect(replies.at(-1)!.status).toBe(200);
    const created = replies
      .slice(0, 20)
      .filter((r) => r.status === 200)
      .map((r) => Number(r.body.model_version.version));
    // Registrations that arrive after the rename find no model under the old name (404); none collide.
    for (const r of replies.slice(0, 20)) expect([200, 404]).toContain(r.status);
    expect(new Set(created).size).toBe(created.length);
    const search = await call("GET", "/model-versions/search", { filter: `name = '${renamed}'` });
    expect(search.body.model_versions ?? []).toHaveLength(created.length);
  });
});

describe("the Production invariant in the database", () => {
  it("refuses a second Production row for one model even if code were wrong", async () => {
    const name = await createModel();
    await createVersion(name);
    await createVersion(name);
    await call("POST", "/model-versions/transition-stage", { name, version: "1", stage: "Production" });
    const model = await env.DB.prepare("SELECT id FROM registered_models WHERE name = ?")
      .bind(name)
      .first<{ id: string }>();
    await expect(
      env.DB.prepare("UPDATE model_versions SET current_stage = 'Production' WHERE model_id = ? AND version = 2")
        .bind(model!.id)
        .run(),
    ).rejects.toThrow(/UNIQUE constraint failed/);
  });
});
