import { describe, expect, it, vi } from "vitest";
import { call, rawCall, testClock, uniqueName } from "../helpers";
import { createExperiment, createRun, expectMlflowError, getRun, ok } from "../tracking-helpers";

// These tests talk to real D1 through the Worker; on a loaded machine a request can take a while.
vi.setConfig({ testTimeout: 30_000 });

describe("experiments/create and get", () => {
  it("creates an experiment with the default artifact location and returns its id as a string of digits", async () => {
    const name = uniqueName("exp");
    const { experiment_id } = await ok("POST", "/experiments/create", { name });
    expect(experiment_id).toMatch(/^\d+$/);
    const { experiment } = await ok("GET", "/experiments/get", { experiment_id });
    expect(experiment).toEqual({
      experiment_id,
      name,
      artifact_location: `mlflow-artifacts:/${experiment_id}`,
      lifecycle_stage: "active",
      last_update_time: expect.any(Number),
      creation_time: expect.any(Number),
    });
  });

  it("keeps a given artifact location and tags", async () => {
    const id = await createExperiment({
      artifact_location: "s3://bucket/somewhere",
      tags: [
        { key: "team", value: "search" },
        { key: "mlflow.note.content", value: "hello" },
      ],
    });
    const { experiment } = await ok("GET", "/experiments/get", { experiment_id: id });
    expect(experiment.artifact_location).toBe("s3://bucket/somewhere");
    expect(experiment.tags).toEqual([
      { key: "team", value: "search" },
      { key: "mlflow.note.content", value: "hello" },
    ]);
  });

  it("has the Default experiment '0' from the start", async () => {
    const { experiment } = await ok("GET", "/experiments/get", { experiment_id: "0" });
    expect(experiment).toMatchObject({
      experiment_id: "0",
      name: "Default",
      artifact_location: "mlflow-artifacts:/0",
      lifecycle_stage: "active",
    });
    const byName = await ok("GET", "/experiments/get-by-name", { experiment_name: "Default" });
    expect(byName.experiment.experiment_id).toBe("0");
  });

  it("refuses a duplicate name with RESOURCE_ALREADY_EXISTS (400) and writes nothing", async () => {
    const name = uniqueName("exp");
    await ok("POST", "/experiments/create", { name });
    const again = await call("POST", "/experiments/create", { name, tags: [{ key: "x", value: "y" }] });
    expectMlflowError(again, 400, "RESOURCE_ALREADY_EXISTS", `Experiment(name=${name}) already exists.`);
    const search = await ok("POST", "/experiments/search", { filter: `name = '${name}'` });
    expect(search.experiments).toHaveLength(1);
    expect(search.experiments[0].tags).toBeUndefined();
  });

  it("refuses an empty or missing name, a runs:/ artifact location and bad tag keys", async () => {
    expectMlflowError(
      await call("POST", "/experiments/create", { name: "" }),
      400,
      "INVALID_PARAMETER_VALUE",
      "Invalid experiment name",
    );
    expectMlflowError(await call("POST", "/experiments/create", {}), 400, "INVALID_PARAMETER_VALUE", "'name'");
    expectMlflowError(
      await call("POST", "/experiments/create", { name: uniqueName(), artifact_location: "runs:/abc/model" }),
      400,
      "INVALID_PARAMETER_VALUE",
      "runs:/",
    );
    expectMlflowError(
      await call("POST", "/experiments/create", { name: uniqueName(), tags: [{ key: "../x", value: "v" }] }),
      400,
      "INVALID_PARAMETER_VALUE",
      "Invalid tag name",
    );
    expectMlflowError(
      await call("POST", "/experiments/create", { name: "x".repeat(501) }),
      400,
      "INVALID_PARAMETER_VALUE",
      "maximum length",
    );
  });

  it("answers unknown ids and names with RESOURCE_DOES_NOT_EXIST (404)", async () => {
    expectMlflowError(
      await call("GET", "/experiments/get", { experiment_id: "987654321" }),
      404,
      "RESOURCE_DOES_NOT_EXIST",
      "No Experiment with id=987654321 exists",
    );
    expectMlflowError(
      await call("GET", "/experiments/get", { experiment_id: "not-a-number" }),
      404,
      "RESOURCE_DOES_NOT_EXIST",
    );
    const name = uniqueName("missing");
    expectMlflowError(
      await call("GET", "/experiments/get-by-name", { experiment_name: name }),
      404,
      "RESOURCE_DOES_NOT_EXIST",
      `Could not find experiment with name '${name}'`,
    );
    expectMlflowError(
      await call("GET", "/experiments/get", {}),
      400,
      "INVALID_PARAMETER_VALUE",
      "Missing value for required parameter 'experiment_id'",
    );
  });

  it("is served under /ajax-api too", async () => {
    const res = await rawCall("GET", "http://modelgate.test/ajax-api/2.0/mlflow/experiments/get?experiment_id=0");
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text).experiment.name).toBe("Default");
  });
});

describe("experiments/update, delete and restore", () => {
  it("renames an experiment; the old name is free, the new one is found", async () => {
    const name = uniqueName("exp");
    const id = await createExperiment({ name });
    const newName = uniqueName("renamed");
    expect(await ok("POST", "/experiments/update", { experiment_id: id, new_name: newName })).toEqual({});
    expect((await ok("GET", "/experiments/get-by-name", { experiment_name: newName })).experiment.experiment_id).toBe(
      id,
    );
    expectMlflowError(
      await call("GET", "/experiments/get-by-name", { experiment_name: name }),
      404,
      "RESOURCE_DOES_NOT_EXIST",
    );
  });

  it("refuses to rename onto a taken name or an empty one", async () => {
    const taken = uniqueName("taken");
    await createExperiment({ name: taken });
    const id = await createExperiment();
    expectMlflowError(
      await call("POST", "/experiments/update", { experiment_id: id, new_name: taken }),
      400,
      "RESOURCE_ALREADY_EXISTS",
    );
    expectMlflowError(
      await call("POST", "/experiments/update", { experiment_id: id, new_name: "" }),
      400,
      "INVALID_PARAMETER_VALUE",
    );
    expectMlflowError(
      await call("POST", "/experiments/update", { experiment_id: "99999999", new_name: "x" }),
      404,
      "RESOURCE_DOES_NOT_EXIST",
    );
  });

  it("deletes and restores an experiment together with its runs", async () => {
    const id = await createExperiment();
    const run = await createRun(id);
    expect(await ok("POST", "/experiments/delete", { experiment_id: id })).toEqual({});
    const deleted = (await ok("GET", "/experiments/get", { experiment_id: id })).experiment;
    expect(deleted.lifecycle_stage).toBe("deleted");
    expect((await getRun(run.info.run_id)).info.lifecycle_stage).toBe("deleted");
    // A deleted experiment takes no new runs and no renames, and cannot be deleted twice.
    expectMlflowError(
      await call("POST", "/runs/create", { experiment_id: id }),
      400,
      "INVALID_PARAMETER_VALUE",
      "must be in the 'active' state",
    );
    expectMlflowError(
      await call("POST", "/experiments/update", { experiment_id: id, new_name: uniqueName() }),
      400,
      "INVALID_PARAMETER_VALUE",
    );
    expectMlflowError(await call("POST", "/experiments/delete", { experiment_id: id }), 404, "RESOURCE_DOES_NOT_EXIST");

    expect(await ok("POST", "/experiments/restore", { experiment_id: id })).toEqual({});
    expect((await ok("GET", "/experiments/get", { experiment_id: id })).experiment.lifecycle_stage).toBe("active");
    expect((await getRun(run.info.run_id)).info.lifecycle_stage).toBe("active");
    expectMlflowError(
      await call("POST", "/experiments/restore", { experiment_id: id }),
      404,
      "RESOURCE_DOES_NOT_EXIST",
    );
  });

  it("refuses to delete the Default experiment", async () => {
    expectMlflowError(
      await call("POST", "/experiments/delete", { experiment_id: "0" }),
      400,
      "INVALID_PARAMETER_VALUE",
      "default experiment",
    );
    expect((await ok("GET", "/experiments/get", { experiment_id: "0" })).experiment.lifecycle_stage).toBe("active");
  });
});

describe("experiments/set-experiment-tag", () => {
  it("sets and overwrites a tag", async () => {
    const id = await createExperiment();
    await ok("POST", "/experiments/set-experiment-tag", { experiment_id: id, key: "owner", value: "a" });
    await ok("POST", "/experiments/set-experiment-tag", { experiment_id: id, key: "owner", value: "b" });
    expect((await ok("GET", "/experiments/get", { experiment_id: id })).experiment.tags).toEqual([
      { key: "owner", value: "b" },
    ]);
  });

  it("refuses values over 5000 characters, unknown and deleted experiments", async () => {
    const id = await createExperiment();
    expectMlflowError(
      await call("POST", "/experiments/set-experiment-tag", { experiment_id: id, key: "k", value: "v".repeat(5001) }),
      400,
      "INVALID_PARAMETER_VALUE",
      "exceeded length limit of 5000",
    );
    expectMlflowError(
      await call("POST", "/experiments/set-experiment-tag", { experiment_id: "88888888", key: "k", value: "v" }),
      404,
      "RESOURCE_DOES_NOT_EXIST",
    );
    await ok("POST", "/experiments/delete", { experiment_id: id });
    expectMlflowError(
      await call("POST", "/experiments/set-experiment-tag", { experiment_id: id, key: "k", value: "v" }),
      400,
      "INVALID_PARAMETER_VALUE",
    );
    expect((await ok("GET", "/experiments/get", { experiment_id: id })).experiment.tags).toBeUndefined();
  });
});

describe("experiments/search", () => {
  it("filters by name and tags, orders, and pages through every match exactly once", async () => {
    const prefix = uniqueName("search");
    const ids: string[] = [];
    testClock.freeze();
    for (let i = 0; i < 5; i++) {
      ids.push(
        await createExperiment({ name: `${prefix}-${i}`, tags: [{ key: "parity", value: i % 2 ? "odd" : "even" }] }),
      );
      testClock.advance();
    }
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await ok("POST", "/experiments/search", {
        filter: `name LIKE '${prefix}-%'`,
        max_results: 2,
        page_token: token,
      });
      seen.push(...page.experiments.map((e: { experiment_id: string }) => e.experiment_id));
      token = page.next_page_token;
    } while (token);
    // Default order: newest first.
    expect(seen).toEqual([...ids].reverse());

    const odd = await ok("GET", "/experiments/search", {
      filter: `name LIKE '${prefix}%' AND tags.parity = 'odd'`,
      order_by: "name ASC",
    });
    expect(odd.experiments.map((e: { name: string }) => e.name)).toEqual([`${prefix}-1`, `${prefix}-3`]);
  });

  it("honours view_type and leaves deleted experiments out by default", async () => {
    const prefix = uniqueName("view");
    const kept = await createExperiment({ name: `${prefix}-kept` });
    const gone = await createExperiment({ name: `${prefix}-gone` });
    await ok("POST", "/experiments/delete", { experiment_id: gone });
    const ids = async (view_type?: string) =>
      ((await ok("POST", "/experiments/search", { filter: `name LIKE '${prefix}%'`, view_type })).experiments ?? [])
        .map((e: { experiment_id: string }) => e.experiment_id)
        .sort();
    expect(await ids()).toEqual([kept]);
    expect(await ids("DELETED_ONLY")).toEqual([gone]);
    expect(await ids("ALL")).toEqual([kept, gone].sort());
  });

  it("answers an empty result with {} and a bad filter or view type with INVALID_PARAMETER_VALUE", async () => {
    expect(await ok("POST", "/experiments/search", { filter: `name = '${uniqueName("none")}'` })).toEqual({});
    expectMlflowError(
      await call("POST", "/experiments/search", { filter: "metrics.x > 1" }),
      400,
      "INVALID_PARAMETER_VALUE",
      "metrics.x",
    );
    expectMlflowError(
      await call("POST", "/experiments/search", { filter: "name = 'a' OR name = 'b'" }),
      400,
      "INVALID_PARAMETER_VALUE",
      "OR",
    );
    expectMlflowError(
      await call("POST", "/experiments/search", { view_type: "SOMETIMES" }),
      400,
      "INVALID_PARAMETER_VALUE",
      "view type",
    );
    expectMlflowError(
      await call("POST", "/experiments/search", { max_results: 50001 }),
      400,
      "INVALID_PARAMETER_VALUE",
      "max_results",
    );
    expectMlflowError(
      await call("POST", "/experiments/search", { order_by: ["colour ASC"] }),
      400,
      "INVALID_PARAMETER_VALUE",
      "colour",
    );
  });
});
