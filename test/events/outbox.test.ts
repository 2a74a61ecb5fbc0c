import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, createModel, createVersion, expectError, transitionTo, uniqueName } from "../helpers";
import { openDatabase } from "../../src/repositories/database";
import { ModelRepository } from "../../src/repositories/model-repository";
import { eventRows, modelIdOf, outboxOf, summary } from "./helpers";

const ok = async (res: Promise<{ status: number; body: Record<string, unknown> }>) => {
  const r = await res;
  if (r.status !== 200) throw new Error(`${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
};

describe("every registry change writes its events in the same batch", () => {
  it("records each kind of change as its event(s), numbered 1, 2, 3, ... without gaps", async () => {
    const name = await createModel();
    const id = await modelIdOf(name);
    await ok(call("POST", "/registered-models/set-tag", { name, key: "team", value: "pricing" }));
    await ok(call("DELETE", "/registered-models/delete-tag", { name, key: "team" }));
    await createVersion(name); // 1: READY (an outside store)
    await ok(call("POST", "/model-versions/create", { name, source: `runs:/${"0".repeat(32)}/model` })); // 2: FAILED
    await createVersion(name); // 3
    await ok(call("POST", "/model-versions/set-tag", { name, version: "1", key: "validation", value: "passed" }));
    await ok(call("DELETE", "/model-versions/delete-tag", { name, version: "1", key: "validation" }));
    await ok(call("POST", "/registered-models/alias", { name, alias: "champion", version: "1" }));
    await ok(call("POST", "/registered-models/alias", { name, alias: "champion", version: "3" }));
    await transitionTo(name, "1", "Production", false, "first release");
    await transitionTo(name, "3", "Production");
    await ok(call("POST", "/registered-models/alias", { name, alias: "shadow", version: "3" }));
    await ok(call("DELETE", "/registered-models/alias", { name, alias: "shadow" }));
    await ok(call("DELETE", "/model-versions/delete", { name, version: "3" }));
    const renamed = uniqueName("renamed");
    await ok(call("POST", "/registered-models/rename", { name, new_name: renamed }));
    await ok(call("DELETE", "/registered-models/delete", { name: renamed }));

    const rows = await eventRows(id);
    expect(summary(rows)).toEqual([
      ["registered_model.created", null, null, name, {}],
      ["registered_model_tag.set", null, null, null, { key: "team", value: "pricing" }],
      ["registered_model_tag.deleted", null, null, null, { key: "team" }],
      ["model_version.created", 1, null, "READY", { source: "s3://models/abc/model", status: "READY" }],
      ["model_version.ready", 1, null, "READY", { storage_location: "s3://models/abc/model" }],
      [
        "model_version.created",
        2,
        null,
        "FAILED_REGISTRATION",
        { source: `runs:/${"0".repeat(32)}/model`, status: "FAILED_REGISTRATION" },
      ],
      [
        "model_version.failed",
        2,
        null,
        "FAILED_REGISTRATION",
        { status_message: expect.stringContaining("could not be resolved") },
      ],
      ["model_version.created", 3, null, "READY", { source: "s3://models/abc/model", status: "READY" }],
      ["model_version.ready", 3, null, "READY", { storage_location: "s3://models/abc/model" }],
      ["model_version_tag.set", 1, null, null, { key: "validation", value: "passed" }],
      ["model_version_tag.deleted", 1, null, null, { key: "validation" }],
      ["model_version_alias.created", 1, null, "1", { alias: "champion" }],
      ["model_version_alias.created", 3, "1", "3", { alias: "champion" }],
      [
        "model_version.stage_transitioned",
        1,
        "None",
        "Production",
        { comment: "first release", archive_existing_versions: "false" },
      ],
      ["model_version.stage_transitioned", 3, "None", "Production", { archive_existing_versions: "false" }],
      // The promotion archived version 1: its own event, in the same batch.
      [
        "model_version.stage_transitioned",
        1,
        "Production",
        "Archived",
        { comment: "Archived by the transition of version 3 to Production", archived_by: "3" },
      ],
      ["model_version_alias.created", 3, null, "3", { alias: "shadow" }],
      ["model_version_alias.deleted", 3, "3", null, { alias: "shadow" }],
      // Deleting version 3 also removed @champion, which pointed at it.
      ["model_version.deleted", 3, "Production", null, {}],
      ["model_version_alias.deleted", 3, "3", null, { alias: "champion", reason: "version_deleted" }],
      ["registered_model.renamed", null, name, renamed, {}],
      ["registered_model.deleted", null, renamed, null, {}],
    ]);
    expect(rows.map((r) => r.sequence)).toEqual(rows.map((_, i) => i + 1));
    expect(new Set(rows.map((r) => r.id)).size).toBe(rows.length);
    // Auth is off in this project: the caller is the local user, and every event names it.
    expect(new Set(rows.map((r) => r.actor))).toEqual(new Set(["local"]));
    // Each event carries the model's name at the time: the new name from the rename on.
    expect(rows.map((r) => r.model_name)).toEqual([...Array(rows.length - 2).fill(name), renamed, renamed]);
    for (let i = 1; i < rows.length; i++) expect(rows[i]!.timestamp).toBeGreaterThanOrEqual(rows[i - 1]!.timestamp);
  });

  it("carries the tags and description given at creation, as MLflow's created webhooks do", async () => {
    const name = uniqueName("described");
    await ok(
      call("POST", "/registered-models/create", {
        name,
        description: "prices houses",
        tags: [{ key: "team", value: "pricing" }],
      }),
    );
    const id = await modelIdOf(name);
    await ok(
      call("POST", "/model-versions/create", {
        name,
        source: "s3://models/abc/model",
        description: "first fit",
        tags: [{ key: "data", value: "2026-11" }],
      }),
    );
    const [model, version] = await eventRows(id);
    expect(JSON.parse(model!.data)).toEqual({
      tags: JSON.stringify({ team: "pricing" }),
      description: "prices houses",
    });
    expect(JSON.parse(version!.data)).toMatchObject({
      tags: JSON.stringify({ data: "2026-11" }),
      description: "first fit",
    });
  });

  it("gives a change and its events one timestamp and one batch: the version row and its events agree", async () => {
    const name = await createModel();
    const id = await modelIdOf(name);
    const version = await createVersion(name);
    const [, created, ready] = await eventRows(id);
    expect([created!.timestamp, ready!.timestamp]).toEqual([version.creation_timestamp, version.creation_timestamp]);
  });

  it("writes nothing for calls that change nothing (absent tag or alias, alias already there)", async () => {
    const name = await createModel();
    const id = await modelIdOf(name);
    await createVersion(name);
    await ok(call("POST", "/registered-models/alias", { name, alias: "champion", version: "1" }));
    const before = (await eventRows(id)).length;
    await ok(call("DELETE", "/registered-models/delete-tag", { name, key: "absent" }));
    await ok(call("DELETE", "/model-versions/delete-tag", { name, version: "1", key: "absent" }));
    await ok(call("DELETE", "/registered-models/alias", { name, alias: "absent" }));
    await ok(call("POST", "/registered-models/alias", { name, alias: "champion", version: "1" }));
    expect(await eventRows(id)).toHaveLength(before);
  });
});

describe("a change that fails writes no event", () => {
  it("refused by the database (rename onto a taken name): neither the change nor its event", async () => {
    const name = await createModel();
    const taken = await createModel();
    const id = await modelIdOf(name);
    const before = await outboxOf(id);
    const res = await call("POST", "/registered-models/rename", { name, new_name: taken });
    expectError(res, 400, "RESOURCE_ALREADY_EXISTS");
    expect(await outboxOf(id)).toEqual(before);
    expect((await ok(call("GET", "/registered-models/get", { name }))).registered_model).toMatchObject({ name });
  });

  it("refused by a rule (unknown version, bad stage): no event", async () => {
    const name = await createModel();
    const id = await modelIdOf(name);
    await createVersion(name);
    const before = await outboxOf(id);
    expectError(
      await call("POST", "/model-versions/transition-stage", { name, version: "9", stage: "Production" }),
      404,
      "RESOURCE_DOES_NOT_EXIST",
    );
    expectError(
      await call("POST", "/model-versions/transition-stage", { name, version: "1", stage: "Retired" }),
      400,
      "INVALID_PARAMETER_VALUE",
    );
    expectError(
      await call("POST", "/registered-models/alias", { name, alias: "champion", version: "9" }),
      404,
      "RESOURCE_DOES_NOT_EXIST",
    );
    expectError(
      await call("POST", "/model-versions/set-tag", { name, version: "9", key: "k", value: "v" }),
      404,
      "RESOURCE_DOES_NOT_EXIST",
    );
    expectError(await call("DELETE", "/model-versions/delete", { name, version: "9" }), 404, "RESOURCE_DOES_NOT_EXIST");
    expect(await outboxOf(id)).toEqual(before);
  });

  it("rolls the events back with a batch that fails after inserting them (second Production row)", async () => {
    const name = await createModel();
    const id = await modelIdOf(name);
    await createVersion(name);
    await createVersion(name);
    await transitionTo(name, "1", "Production");
    const before = await outboxOf(id);
    // Bypassing the writer's archive rule, so the partial unique index on Production refuses the
    // batch at its update, after the event insert that comes first in it.
    const repo = new ModelRepository(openDatabase(env.DB));
    const outbox = {
      modelName: name,
      actor: "test",
      timestamp: Date.now(),
      events: [
        { type: "model_version.stage_transitioned" as const, version: 2, from: "None", to: "Production", data: {} },
      ],
    };
    await expect(
      repo.transition(
        id,
        [{ version: 2, fromStage: "None", toStage: "Production", comment: null }],
        "test",
        Date.now(),
        outbox,
      ),
    ).rejects.toThrow();
    expect(await outboxOf(id)).toEqual(before);
  });
});

describe("sequence numbers under concurrency", () => {
  it("numbers 40 concurrent changes of one model 1..N with no gap or repeat", async () => {
    const name = await createModel();
    const id = await modelIdOf(name);
    const replies = await Promise.all([
      ...Array.from({ length: 20 }, (_, i) =>
        call("POST", "/registered-models/set-tag", { name, key: `k${i}`, value: String(i) }),
      ),
      ...Array.from({ length: 20 }, (_, i) =>
        call("POST", "/model-versions/create", { name, source: `s3://models/run${i}/model` }),
      ),
    ]);
    expect(replies.map((r) => r.status)).toEqual(Array(40).fill(200));
    const rows = await eventRows(id);
    // created + 20 tags + 20 × (created, ready)
    expect(rows).toHaveLength(1 + 20 + 40);
    expect(rows.map((r) => r.sequence)).toEqual(rows.map((_, i) => i + 1));
    // A version's ready event directly follows its created event: both come from one batch.
    rows.forEach((r, i) => {
      if (r.type === "model_version.ready")
        expect([rows[i - 1]!.type, rows[i - 1]!.version]).toEqual(["model_version.created", r.version]);
    });
  });

  it("lets the unique index refuse a repeated sequence number", async () => {
    const name = await createModel();
    const id = await modelIdOf(name);
    await expect(
      env.DB.prepare(
        "INSERT INTO events (id, model_id, model_name, sequence, type, timestamp) VALUES (?, ?, ?, 1, 'registered_model.created', 0)",
      )
        .bind(crypto.randomUUID(), id, name)
        .run(),
    ).rejects.toThrow(/UNIQUE/);
  });
});
