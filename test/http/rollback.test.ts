import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  call,
  createModel,
  createVersion,
  createVersionWith,
  expectError,
  MODELGATE_API,
  stagesOf,
  transitionTo,
  uniqueName,
} from "../helpers";
import { outboxOf, modelIdOf, summary, eventRows } from "../events/helpers";

const rollback = (params: Record<string, unknown>) =>
  call("POST", "/registered-models/rollback", params, MODELGATE_API);
const history = async (name: string) =>
  (await call("GET", "/model-versions/transitions", { name }, MODELGATE_API)).body.transitions as Record<
    string,
    string
  >[];

async function modelWith(versions: number): Promise<string> {
  const name = await createModel();
  for (let i = 0; i < versions; i++) await createVersion(name);
  return name;
}

/** Every row of every table that a rollback writes, for "writes nothing" checks. */
async function snapshot(name: string) {
  const id = await modelIdOf(name);
  const rows = async (sql: string) => (await env.DB.prepare(sql).bind(id).all()).results;
  return {
    versions: await rows(
      "SELECT version, current_stage, last_updated_time FROM model_versions WHERE model_id = ? ORDER BY version",
    ),
    history: await rows("SELECT * FROM stage_transitions WHERE model_id = ? ORDER BY id"),
    events: await outboxOf(id),
  };
}

describe("POST /api/2.0/modelgate/registered-models/rollback", () => {
  it("restores the previous Production version and archives the current one, in one change with history and events", async () => {
    const name = await modelWith(3);
    await transitionTo(name, "1", "Production");
    await transitionTo(name, "2", "Production");
    const id = await modelIdOf(name);
    const before = (await eventRows(id)).length;

    const res = await rollback({ name, comment: "latency regression" });
    expect(res.status).toBe(200);
    expect(res.body.archived_version).toBe("2");
    expect(res.body.model_version).toMatchObject({ name, version: "1", current_stage: "Production", status: "READY" });
    expect(await stagesOf(name, ["1", "2", "3"])).toEqual({ "1": "Production", "2": "Archived", "3": "None" });

    const rows = (await history(name)).slice(0, 2);
    expect(rows.map((t) => [t.version, t.from_stage, t.to_stage, t.comment])).toEqual([
      ["2", "Production", "Archived", "Archived by the rollback to version 1"],
      ["1", "Archived", "Production", "rollback to version 1: latency regression"],
    ]);
    // One batch: both history rows carry the same instant.
    expect(rows[0]!.timestamp).toBe(rows[1]!.timestamp);

    const events = (await eventRows(id)).slice(before);
    expect(summary(events)).toEqual([
      [
        "model_version.stage_transitioned",
        1,
        "Archived",
        "Production",
        {
          comment: "rollback to version 1: latency regression",
          reason: "rollback",
          archive_existing_versions: "false",
        },
      ],
      [
        "model_version.stage_transitioned",
        2,
        "Production",
        "Archived",
        { comment: "Archived by the rollback to version 1", reason: "rollback", archived_by: "1" },
      ],
    ]);
    expect(events.map((e) => e.sequence)).toEqual([before + 1, before + 2]);
    expect(events[0]!.timestamp).toBe(Number(rows[0]!.timestamp));
  });

  it("rolls back again to the version it rolled back from, and skips a deleted candidate", async () => {
    const name = await modelWith(3);
    await transitionTo(name, "1", "Production");
    await transitionTo(name, "2", "Production");
    await transitionTo(name, "3", "Production");
    await call("DELETE", "/model-versions/delete", { name, version: "2" });
    const first = await rollback({ name });
    expect([first.body.model_version.version, first.body.archived_version]).toEqual(["1", "3"]);
    const second = await rollback({ name });
    expect([second.body.model_version.version, second.body.archived_version]).toEqual(["3", "1"]);
    expect((await history(name))[1]!.comment).toBe("rollback to version 3");
  });

  it("refuses without an earlier Production version, and without any Production version, writing nothing", async () => {
    const name = await modelWith(2);
    const empty = await snapshot(name);
    expectError(
      await rollback({ name }),
      409,
      "RESOURCE_CONFLICT",
      `Model '${name}' has no version in Production, so there is nothing to roll back.`,
    );
    expect(await snapshot(name)).toEqual(empty);

    await transitionTo(name, "1", "Staging");
    await transitionTo(name, "1", "Production");
    const before = await snapshot(name);
    expectError(
      await rollback({ name, comment: "please" }),
      409,
      "RESOURCE_CONFLICT",
      `Model '${name}' has no earlier Production version to roll back to (version 1 is the only one that has been in Production).`,
    );
    expect(await snapshot(name)).toEqual(before);
  });

  it("refuses bad input and unknown models with MLflow's error JSON", async () => {
    expectError(await rollback({}), 400, "INVALID_PARAMETER_VALUE", /'name'/);
    expectError(await rollback({ name: 42 }), 400, "INVALID_PARAMETER_VALUE", /'name'/);
    expectError(await rollback({ name: "x", comment: "c".repeat(1001) }), 400, "INVALID_PARAMETER_VALUE", /Comment/);
    expectError(await rollback({ name: uniqueName("absent") }), 404, "RESOURCE_DOES_NOT_EXIST");
  });

  it("serializes with concurrent promotions: each rollback decides on the Production it sees", async () => {
    const name = await modelWith(4);
    await transitionTo(name, "1", "Production");
    await transitionTo(name, "2", "Production");
    const replies = await Promise.all([
      rollback({ name }),
      call("POST", "/model-versions/transition-stage", { name, version: "3", stage: "Production" }),
      rollback({ name }),
    ]);
    expect(replies.map((r) => r.status)).toEqual([200, 200, 200]);
    const stages = Object.values(await stagesOf(name, ["1", "2", "3", "4"]));
    expect(stages.filter((s) => s === "Production")).toHaveLength(1);
    const id = await modelIdOf(name);
    const rows = await eventRows(id);
    expect(rows.map((r) => r.sequence)).toEqual(rows.map((_, i) => i + 1));
  });
});

describe("POST /api/2.0/modelgate/registered-models/rollback with a target version", () => {
  /** Versions 1..n, each promoted to Production in turn (so n is in Production, 1..n-1 Archived). */
  async function servedInTurn(n: number): Promise<string> {
    const name = await modelWith(n + 1);
    for (let v = 1; v <= n; v++) await transitionTo(name, String(v), "Production");
    return name;
  }

  it("restores exactly the named earlier Production version, in one change with history and events like a plain rollback", async () => {
    const name = await servedInTurn(3);
    const id = await modelIdOf(name);
    const before = (await eventRows(id)).length;

    const res = await rollback({ name, version: "1", comment: "v2 and v3 share the regression" });
    expect(res.status).toBe(200);
    expect(res.body.archived_version).toBe("3");
    expect(res.body.model_version).toMatchObject({ name, version: "1", current_stage: "Production", status: "READY" });
    expect(await stagesOf(name, ["1", "2", "3", "4"])).toEqual({
      "1": "Production",
      "2": "Archived",
      "3": "Archived",
      "4": "None",
    });

    const rows = (await history(name)).slice(0, 2);
    expect(rows.map((t) => [t.version, t.from_stage, t.to_stage, t.comment])).toEqual([
      ["3", "Production", "Archived", "Archived by the rollback to version 1"],
      ["1", "Archived", "Production", "rollback to version 1: v2 and v3 share the regression"],
    ]);
    expect(rows[0]!.timestamp).toBe(rows[1]!.timestamp);
    const events = (await eventRows(id)).slice(before);
    expect(summary(events)).toEqual([
      [
        "model_version.stage_transitioned",
        1,
        "Archived",
        "Production",
        {
          comment: "rollback to version 1: v2 and v3 share the regression",
          reason: "rollback",
          archive_existing_versions: "false",
        },
      ],
      [
        "model_version.stage_transitioned",
        3,
        "Production",
        "Archived",
        { comment: "Archived by the rollback to version 1", reason: "rollback", archived_by: "1" },
      ],
    ]);
    expect(events.map((e) => e.sequence)).toEqual([before + 1, before + 2]);
  });

  it("takes the version as a number too, and a later rollback without one keeps going back to the version rolled back from", async () => {
    const name = await servedInTurn(3);
    const to2 = await rollback({ name, version: 2 });
    expect([to2.status, to2.body.model_version?.version, to2.body.archived_version]).toEqual([200, "2", "3"]);
    const plain = await rollback({ name });
    expect([plain.body.model_version.version, plain.body.archived_version]).toEqual(["3", "2"]);
    const to1 = await rollback({ name, version: "1" });
    expect([to1.body.model_version.version, to1.body.archived_version]).toEqual(["1", "3"]);
    expect(await stagesOf(name, ["1", "2", "3"])).toEqual({ "1": "Production", "2": "Archived", "3": "Archived" });
  });

  it("refuses a version that is in Production now, never was, does not exist or is not READY, writing nothing", async () => {
    const name = await servedInTurn(2);
    await transitionTo(name, "3", "Staging");
    const failed = await createVersionWith(name, {
      source: `mlflow-artifacts:/1/${uniqueName("run")}/artifacts/missing`,
    });
    expect([failed.version, failed.status]).toEqual(["4", "FAILED_REGISTRATION"]);
    const before = await snapshot(name);

    expectError(
      await rollback({ name, version: "2" }),
      409,
      "RESOURCE_CONFLICT",
      `Version 2 of '${name}' is the version in Production now, so there is nothing to roll back to. Nothing was rolled back.`,
    );
    expectError(
      await rollback({ name, version: "3" }),
      409,
      "RESOURCE_CONFLICT",
      `Version 3 of '${name}' has never been in Production, so a rollback cannot restore it (a rollback goes back to an earlier Production version; promote a new one instead). Nothing was rolled back.`,
    );
    expectError(
      await rollback({ name, version: "9" }),
      404,
      "RESOURCE_DOES_NOT_EXIST",
      `Model Version (name=${name}, version=9) not found`,
    );
    expectError(
      await rollback({ name, version: "4" }),
      400,
      "INVALID_PARAMETER_VALUE",
      `Model Version (name=${name}, version=4) is FAILED_REGISTRATION: only a READY version can enter Production.`,
    );
    expectError(await rollback({ name, version: "one" }), 400, "INVALID_PARAMETER_VALUE");
    expectError(await rollback({ name, version: "0" }), 400, "INVALID_PARAMETER_VALUE");
    expect(await snapshot(name)).toEqual(before);
  });

  it("refuses a target when nothing is in Production, writing nothing", async () => {
    const name = await servedInTurn(2);
    await transitionTo(name, "2", "Archived");
    const before = await snapshot(name);
    expectError(
      await rollback({ name, version: "1" }),
      409,
      "RESOURCE_CONFLICT",
      `Model '${name}' has no version in Production, so there is nothing to roll back.`,
    );
    expect(await snapshot(name)).toEqual(before);
  });

  it("serializes with concurrent promotions and rollbacks: one Production version, gapless events, history that agrees", async () => {
    const name = await servedInTurn(3);
    const replies = await Promise.all([
      rollback({ name, version: "1" }),
      call("POST", "/model-versions/transition-stage", { name, version: "4", stage: "Production" }),
      rollback({ name, version: "2" }),
      rollback({ name }),
    ]);
    for (const r of replies) expect([200, 409]).toContain(r.status);
    expect(replies[1].status).toBe(200);
    const stages = await stagesOf(name, ["1", "2", "3", "4"]);
    const live = Object.keys(stages).filter((v) => stages[v] === "Production");
    expect(live).toHaveLength(1);
    // The newest promotion row in the history names the version in Production.
    expect((await history(name)).find((t) => t.to_stage === "Production")?.version).toBe(live[0]);
    const rows = await eventRows(await modelIdOf(name));
    expect(rows.map((r) => r.sequence)).toEqual(rows.map((_, i) => i + 1));
  });
});
