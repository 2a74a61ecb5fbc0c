import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  call,
  createModel,
  createVersionWith,
  expectError,
  MODELGATE_API,
  stagesOf,
  transitionTo,
  uniqueName,
  type Json,
} from "../helpers";
import { createExperiment, createRun, ok } from "../tracking-helpers";

const POLICY = "/registered-models/policy";
const policyCall = (method: string, params: Json) => call(method, POLICY, params, MODELGATE_API);

async function setPolicy(name: string, policy: Json): Promise<Json> {
  const res = await policyCall("PUT", { name, policy });
  if (res.status !== 200) throw new Error(`set policy of ${name}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

async function modelId(name: string): Promise<string> {
  const row = await env.DB.prepare("SELECT id FROM registered_models WHERE name = ?")
    .bind(name)
    .first<{ id: string }>();
  return row!.id;
}

/** Every version's stage and the number of history rows, straight from D1. */
async function written(name: string): Promise<{ stages: Record<number, string>; history: number }> {
  const id = await modelId(name);
  const versions = await env.DB.prepare("SELECT version, current_stage FROM model_versions WHERE model_id = ?")
    .bind(id)
    .all<{ version: number; current_stage: string }>();
  const history = await env.DB.prepare("SELECT count(*) AS n FROM stage_transitions WHERE model_id = ?")
    .bind(id)
    .first<{ n: number }>();
  return { stages: Object.fromEntries(versions.results.map((v) => [v.version, v.current_stage])), history: history!.n };
}

const promote = (name: string, version: string, stage = "Production") =>
  call("POST", "/model-versions/transition-stage", { name, version, stage, archive_existing_versions: false });

/** Asserts the transition is refused with `message` and leaves stages and history as they were. */
async function expectRefused(
  name: string,
  version: string,
  stage: string,
  status: number,
  code: string,
  message: string,
) {
  const before = await written(name);
  const res = await promote(name, version, stage);
  expectError(res, status, code, message);
  expect(await written(name)).toEqual(before);
}

/** A model with one version in Staging (version 1) and one in None (version 2). */
async function stagedModel(prefix = "Policy"): Promise<string> {
  const name = await createModel(uniqueName(prefix));
  await createVersionWith(name);
  await createVersionWith(name);
  await transitionTo(name, "1", "Staging");
  return name;
}

describe("setting, reading and clearing a policy", () => {
  it("answers no policy for a model that has none", async () => {
    const name = await createModel(uniqueName("Policy"));
    const res = await policyCall("GET", { name });
    expect(res).toEqual({ status: 200, body: { policy: {} } });
  });

  it("stores a policy and answers it in the shape it was sent, with who set it and its rules in words", async () => {
    const name = await createModel(uniqueName("Policy"));
    const policy = {
      Staging: [{ type: "tag", key: "validation", value: "passed" }],
      Production: [
        { type: "time_in_staging", min_seconds: 86_400 },
        { type: "metric", key: "metrics.r2", operator: ">=", value: 0.9 },
        { type: "scope", scope: "admin" },
      ],
    };
    const before = Date.now();
    const set = await setPolicy(name, policy);
    const expected = {
      policy: {
        ...policy,
        Production: [policy.Production[0], { ...policy.Production[1], key: "r2" }, policy.Production[2]],
      },
      updated_by: "local",
      updated_time: expect.any(Number),
      description: {
        Staging: ["tag validation must be 'passed'"],
        Production: [
          "version must have been in Staging for at least 1d",
          "metric r2 of its run must be >= 0.9",
          "the caller needs the 'admin' scope",
        ],
      },
    };
    expect(set).toEqual(expected);
    expect(set.updated_time).toBeGreaterThanOrEqual(before);
    const read = await policyCall("GET", { name });
    expect(read).toEqual({ status: 200, body: set });
  });

  it("replaces the whole policy on a second PUT, and POST does the same", async () => {
    const name = await createModel(uniqueName("Policy"));
    await setPolicy(name, { Production: [{ type: "tag", key: "a" }], Staging: [{ type: "tag", key: "b" }] });
    const res = await policyCall("POST", { name, policy: { Production: [{ type: "tag", key: "c" }] } });
    expect(res.status).toBe(200);
    expect((await policyCall("GET", { name })).body.policy).toEqual({ Production: [{ type: "tag", key: "c" }] });
  });

  it("clears the policy with DELETE, and with a policy of no rules", async () => {
    const name = await stagedModel();
    await setPolicy(name, { Production: [{ type: "tag", key: "validation" }] });
    expect(await policyCall("DELETE", { name })).toEqual({ status: 200, body: {} });
    expect((await policyCall("GET", { name })).body).toEqual({ policy: {} });
    expect((await promote(name, "1")).status).toBe(200);

    await setPolicy(name, { Production: [{ type: "tag", key: "validation" }] });
    expect(await setPolicy(name, { Production: [] })).toEqual({ policy: {} });
    expect((await policyCall("GET", { name })).body).toEqual({ policy: {} });
  });

  it.each<[string, unknown, string]>([
    ["an unknown rule type", { Production: [{ type: "vibes" }] }, "'policy.Production.0.type'"],
    [
      "a bad operator",
      { Production: [{ type: "metric", key: "r2", operator: "=>", value: 0.9 }] },
      "'policy.Production.0.operator'",
    ],
    ["a stage that cannot be guarded", { Archived: [{ type: "tag", key: "x" }] }, "'policy'"],
    ["a misspelt field", { Production: [{ type: "tag", key: "x", vaule: "y" }] }, "'policy.Production.0'"],
    [
      "a text threshold",
      { Production: [{ type: "metric", key: "r2", operator: ">", value: "high" }] },
      "'policy.Production.0.value'",
    ],
  ])(
    "refuses %s with INVALID_PARAMETER_VALUE naming the bad part, and keeps the old policy",
    async (_, policy, part) => {
      const name = await createModel(uniqueName("Policy"));
      const kept = await setPolicy(name, { Production: [{ type: "tag", key: "keep" }] });
      const res = await policyCall("PUT", { name, policy });
      expectError(res, 400, "INVALID_PARAMETER_VALUE");
      expect(res.body.message).toContain(part);
      expect((await policyCall("GET", { name })).body).toEqual(kept);
    },
  );

  it("refuses a missing policy and a missing name", async () => {
    const name = await createModel(uniqueName("Policy"));
    expectError(
      await policyCall("PUT", { name }),
      400,
      "INVALID_PARAMETER_VALUE",
      /Missing value for required parameter 'policy'/,
    );
    expectError(
      await policyCall("GET", {}),
      400,
      "INVALID_PARAMETER_VALUE",
      /Missing value for required parameter 'name'/,
    );
  });

  it("answers 404 for a model that does not exist", async () => {
    const name = uniqueName("Missing");
    expectError(
      await policyCall("GET", { name }),
      404,
      "RESOURCE_DOES_NOT_EXIST",
      `Registered Model with name=${name} not found`,
    );
    expectError(await policyCall("PUT", { name, policy: {} }), 404, "RESOURCE_DOES_NOT_EXIST");
    expectError(
      await policyCall("PUT", { name, policy: { Production: [{ type: "tag", key: "x" }] } }),
      404,
      "RESOURCE_DOES_NOT_EXIST",
    );
    expectError(await policyCall("DELETE", { name }), 404, "RESOURCE_DOES_NOT_EXIST");
  });
});

describe("each rule refuses with its message and writes nothing, and allows once met", () => {
  it("required tag with a value", async () => {
    const name = await stagedModel();
    await setPolicy(name, { Production: [{ type: "tag", key: "validation", value: "passed" }] });
    const refused = (detail: string) =>
      `Promotion policy of '${name}' refused version 1 → Production: tag validation must be 'passed' (${detail}).`;
    await expectRefused(name, "1", "Production", 400, "INVALID_PARAMETER_VALUE", refused("it is missing"));
    await ok("POST", "/model-versions/set-tag", { name, version: "1", key: "validation", value: "failed" });
    await expectRefused(name, "1", "Production", 400, "INVALID_PARAMETER_VALUE", refused("it is 'failed'"));
    await ok("POST", "/model-versions/set-tag", { name, version: "1", key: "validation", value: "passed" });
    expect((await promote(name, "1")).status).toBe(200);
    expect(await stagesOf(name, ["1"])).toEqual({ "1": "Production" });
  });

  it("guards Staging with its own rules and leaves other stages free", async () => {
    const name = await stagedModel();
    await setPolicy(name, { Staging: [{ type: "tag", key: "reviewed" }] });
    await expectRefused(
      name,
      "2",
      "Staging",
      400,
      "INVALID_PARAMETER_VALUE",
      `Promotion policy of '${name}' refused version 2 → Staging: tag reviewed must be set (it is missing).`,
    );
    // Production has no rules here; archiving is never guarded.
    expect((await promote(name, "2", "Production")).status).toBe(200);
    expect((await promote(name, "1", "Archived")).status).toBe(200);
  });

  it("minimum time in Staging, from the transition history", async () => {
    const name = await stagedModel();
    await setPolicy(name, { Production: [{ type: "time_in_staging", min_seconds: 86_400 }] });
    await expectRefused(
      name,
      "1",
      "Production",
      400,
      "INVALID_PARAMETER_VALUE",
      `Promotion policy of '${name}' refused version 1 → Production: version must have been in Staging for at least 1d (it has been in Staging for 0s).`,
    );
    await expectRefused(
      name,
      "2",
      "Production",
      400,
      "INVALID_PARAMETER_VALUE",
      `Promotion policy of '${name}' refused version 2 → Production: version must have been in Staging for at least 1d (it is in None, not Staging).`,
    );
    // The version entered Staging two days ago, as far as the history says.
    await env.DB.prepare(
      "UPDATE stage_transitions SET timestamp = ? WHERE model_id = ? AND version = 1 AND to_stage = 'Staging'",
    )
      .bind(Date.now() - 2 * 86_400_000, await modelId(name))
      .run();
    expect((await promote(name, "1")).status).toBe(200);
  });

  it("metric threshold on the version's run, and a version without a run", async () => {
    const name = await createModel(uniqueName("Policy"));
    const experiment = await createExperiment();
    const run = await createRun(experiment);
    const runId: string = run.info.run_id;
    await ok("POST", "/runs/log-metric", { run_id: runId, key: "r2", value: 0.95, timestamp: Date.now(), step: 0 });
    await ok("POST", "/runs/log-metric", {
      run_id: runId,
      key: "r2",
      value: 0.85,
      timestamp: Date.now() + 1000,
      step: 1,
    });
    await createVersionWith(name, { run_id: runId });
    await createVersionWith(name);
    await createVersionWith(name, { run_id: runId });
    await setPolicy(name, { Production: [{ type: "metric", key: "r2", operator: ">=", value: 0.9 }] });
    const refused = (version: number, detail: string) =>
      `Promotion policy of '${name}' refused version ${version} → Production: metric r2 of its run must be >= 0.9 (${detail}).`;
    // The latest value (0.85, logged last) decides, not the best one.
    await expectRefused(name, "1", "Production", 400, "INVALID_PARAMETER_VALUE", refused(1, "it is 0.85"));
    await expectRefused(name, "2", "Production", 400, "INVALID_PARAMETER_VALUE", refused(2, "version 2 has no run"));
    await setPolicy(name, { Production: [{ type: "metric", key: "mae", operator: "<", value: 1 }] });
    await expectRefused(
      name,
      "3",
      "Production",
      400,
      "INVALID_PARAMETER_VALUE",
      `Promotion policy of '${name}' refused version 3 → Production: metric mae of its run must be < 1 (run ${runId} has no metric mae).`,
    );
    await setPolicy(name, { Production: [{ type: "metric", key: "metrics.r2", operator: "<", value: 0.9 }] });
    expect((await promote(name, "1")).status).toBe(200);
  });

  it("caller scope: with auth off the local user is admin and passes", async () => {
    const name = await stagedModel();
    await setPolicy(name, { Production: [{ type: "scope", scope: "admin" }] });
    expect((await promote(name, "1")).status).toBe(200);
  });

  it("stops at the first failing rule, naming it", async () => {
    const name = await stagedModel();
    await setPolicy(name, {
      Production: [
        { type: "tag", key: "validation", value: "passed" },
        { type: "time_in_staging", min_seconds: 3600 },
      ],
    });
    await ok("POST", "/model-versions/set-tag", { name, version: "1", key: "validation", value: "passed" });
    await expectRefused(
      name,
      "1",
      "Production",
      400,
      "INVALID_PARAMETER_VALUE",
      `Promotion policy of '${name}' refused version 1 → Production: version must have been in Staging for at least 1h (it has been in Staging for 0s).`,
    );
  });

  it("archives nothing when a promotion is refused", async () => {
    const name = await stagedModel();
    await transitionTo(name, "2", "Production");
    await setPolicy(name, { Production: [{ type: "tag", key: "validation" }] });
    await expectRefused(
      name,
      "1",
      "Production",
      400,
      "INVALID_PARAMETER_VALUE",
      `Promotion policy of '${name}' refused version 1 → Production: tag validation must be set (it is missing).`,
    );
    expect(await stagesOf(name, ["1", "2"])).toEqual({ "1": "Staging", "2": "Production" });
  });
});

describe("the policy's life with its model", () => {
  it("survives a rename: the coordinator is keyed by the model's immutable id", async () => {
    const name = await stagedModel();
    const policy = { Production: [{ type: "tag", key: "validation", value: "passed" }] };
    await setPolicy(name, policy);
    const id = await modelId(name);
    const stored = await runInDurableObject(
      env.MODEL_COORDINATOR.get(env.MODEL_COORDINATOR.idFromName(id)),
      (_, state) => state.storage.kv.get("promotion-policy"),
    );
    expect(stored).toMatchObject({
      format: 1,
      record: { policy: { Production: [{ type: "tag", key: "validation", value: "passed" }] }, updatedBy: "local" },
    });
    const renamed = uniqueName("Renamed");
    await ok("POST", "/registered-models/rename", { name, new_name: renamed });
    expect((await policyCall("GET", { name: renamed })).body.policy).toEqual(policy);
    expectError(
      await promote(renamed, "1"),
      400,
      "INVALID_PARAMETER_VALUE",
      `Promotion policy of '${renamed}' refused version 1 → Production: tag validation must be 'passed' (it is missing).`,
    );
  });

  it("is gone after the model is deleted and a model of the same name is created", async () => {
    const name = await stagedModel();
    await setPolicy(name, { Production: [{ type: "tag", key: "validation" }] });
    const oldId = await modelId(name);
    await call("DELETE", "/registered-models/delete", { name });
    await createModel(name);
    await createVersionWith(name);
    expect((await policyCall("GET", { name })).body).toEqual({ policy: {} });
    expect((await promote(name, "1")).status).toBe(200);
    // The deleted model's coordinator dropped it from its own storage too.
    const stub = env.MODEL_COORDINATOR.get(env.MODEL_COORDINATOR.idFromName(oldId));
    expect(await stub.getPolicy(oldId, name)).toEqual({ ok: false, stale: true });
    expect(await runInDurableObject(stub, (_, state) => state.storage.kv.get("promotion-policy"))).toBeUndefined();
  });
});

describe("policy changes and transitions in the coordinator's queue", () => {
  it("lets a transition already queued finish under the old policy before a policy change answers, and checks later ones against the new", async () => {
    const name = await createModel(uniqueName("Queued"));
    for (let i = 0; i < 3; i++) await createVersionWith(name);
    const id = await modelId(name);
    const stub = env.MODEL_COORDINATOR.get(env.MODEL_COORDINATOR.idFromName(id));
    // A rule that makes every check read D1 (the input gate opens while it waits).
    const slow = { type: "time_in_staging", minSeconds: 0 } as const;
    await transitionTo(name, "1", "Staging");
    await transitionTo(name, "2", "Staging");

    const caller = { actor: "t", scope: "admin" } as const;
    const order: string[] = [];
    const first = stub
      .transition(
        id,
        name,
        { version: 1, stage: "Production", archiveExisting: false, actor: "t", comment: null },
        caller,
      )
      .then((r) => (order.push("transition 1"), r));
    const change = stub
      .setPolicy(id, name, {
        policy: { Production: [slow, { type: "tag", key: "validation", value: "passed" }] },
        updatedBy: "t",
        updatedTime: 1,
      })
      .then((r) => (order.push("policy"), r));
    const second = stub
      .transition(
        id,
        name,
        { version: 2, stage: "Production", archiveExisting: false, actor: "t", comment: null },
        caller,
      )
      .then((r) => (order.push("transition 2"), r));
    const [a, b, c] = await Promise.all([first, change, second]);

    expect(a.ok).toBe(true);
    expect(b.ok).toBe(true);
    expect(c).toMatchObject({
      ok: false,
      code: "INVALID_PARAMETER_VALUE",
      message: `Promotion policy of '${name}' refused version 2 → Production: tag validation must be 'passed' (it is missing).`,
    });
    expect(order).toEqual(["transition 1", "policy", "transition 2"]);
    expect(await stagesOf(name, ["1", "2", "3"])).toEqual({ "1": "Production", "2": "Staging", "3": "None" });
  });

  it("checks each of many concurrent promotions against the policy in force when its turn came", async () => {
    const name = await createModel(uniqueName("Racing"));
    for (let i = 0; i < 10; i++)
      await createVersionWith(name, { tags: i % 2 === 0 ? [{ key: "validation", value: "passed" }] : [] });
    await setPolicy(name, { Production: [{ type: "tag", key: "validation", value: "passed" }] });
    const replies = await Promise.all(Array.from({ length: 10 }, (_, i) => promote(name, String(i + 1))));
    // Odd-numbered versions carry the tag (created with i even).
    expect(replies.map((r) => r.status)).toEqual(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? 200 : 400)));
    const history = await call("GET", "/model-versions/transitions", { name, max_results: 100 }, MODELGATE_API);
    const promoted = history.body.transitions
      .filter((t: Json) => t.to_stage === "Production")
      .map((t: Json) => Number(t.version));
    expect(promoted.sort((x: number, y: number) => x - y)).toEqual([1, 3, 5, 7, 9]);
  });
});

describe("rollback under a policy", () => {
  it("is exempt from the version rules: the restored version served in Production before", async () => {
    const name = await createModel(uniqueName("RolledBack"));
    await createVersionWith(name, { tags: [{ key: "validation", value: "passed" }] });
    await createVersionWith(name, { tags: [{ key: "validation", value: "passed" }] });
    await transitionTo(name, "1", "Production");
    await transitionTo(name, "2", "Production");
    // A stricter policy arrives later: version 1 (Archived now, its tag gone) could not be promoted again.
    await ok("DELETE", "/model-versions/delete-tag", { name, version: "1", key: "validation" });
    await setPolicy(name, {
      Production: [
        { type: "time_in_staging", min_seconds: 86_400 },
        { type: "tag", key: "validation", value: "passed" },
        { type: "scope", scope: "admin" },
      ],
    });
    expectError(
      await promote(name, "1"),
      400,
      "INVALID_PARAMETER_VALUE",
      /version must have been in Staging for at least 1d \(it is in Archived, not Staging\)/,
    );
    const rolled = await call("POST", "/registered-models/rollback", { name }, MODELGATE_API);
    expect(rolled.status).toBe(200);
    expect(await stagesOf(name, ["1", "2"])).toEqual({ "1": "Production", "2": "Archived" });
  });
});
