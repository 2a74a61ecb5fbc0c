import { beforeAll, describe, expect, it } from "vitest";
import { call, createModel, createVersion, uniqueName, type Json } from "./../helpers";
import { createExperiment, createLoggedModel, createRun, expectMlflowError } from "../tracking-helpers";

// One tag/key rule set (issue 15): registry tags and run tags disagreed (`a/./b` was a valid
// registered-model tag and an invalid run tag). MLflow's server checks every tag key, of every
// entity, with the same `_validate_tag_name` (mlflow/utils/validation.py), and param and metric
// keys with the same rule: so does Modelgate, with MLflow's message, on every route that sets one.

let model: string;
let experimentId: string;
let runId: string;
let loggedModelId: string;

beforeAll(async () => {
  model = await createModel(uniqueName("keys"));
  await createVersion(model);
  experimentId = await createExperiment();
  runId = (await createRun(experimentId)).info.run_id;
  loggedModelId = (await createLoggedModel(experimentId)).info.model_id;
});

/** Every route that sets a tag, each with the key and value given; and how to read the tags back. */
const setters = (): {
  what: string;
  set: (key: string, value: string) => Promise<{ status: number; body: Json }>;
  tags: () => Promise<Record<string, string>>;
}[] => {
  const byKey = (tags: { key: string; value: string }[] | undefined) =>
    Object.fromEntries((tags ?? []).map((t) => [t.key, t.value]));
  return [
    {
      what: "registered-model tag",
      set: (key, value) => call("POST", "/registered-models/set-tag", { name: model, key, value }),
      tags: async () =>
        byKey((await call("GET", "/registered-models/get", { name: model })).body.registered_model.tags),
    },
    {
      what: "model-version tag",
      set: (key, value) => call("POST", "/model-versions/set-tag", { name: model, version: "1", key, value }),
      tags: async () =>
        byKey((await call("GET", "/model-versions/get", { name: model, version: "1" })).body.model_version.tags),
    },
    {
      what: "experiment tag",
      set: (key, value) => call("POST", "/experiments/set-experiment-tag", { experiment_id: experimentId, key, value }),
      tags: async () =>
        byKey((await call("GET", "/experiments/get", { experiment_id: experimentId })).body.experiment.tags),
    },
    {
      what: "run tag",
      set: (key, value) => call("POST", "/runs/set-tag", { run_id: runId, key, value }),
      tags: async () => byKey((await call("GET", "/runs/get", { run_id: runId })).body.run.data.tags),
    },
    {
      what: "logged-model tag",
      set: (key, value) => call("PATCH", `/logged-models/${loggedModelId}/tags`, { tags: [{ key, value }] }),
      tags: async () => byKey((await call("GET", `/logged-models/${loggedModelId}`)).body.model.info.tags),
    },
  ];
};

describe("one rule for every tag key", () => {
  it.each([
    ["a/./b", "a/b"],
    ["a//b", "a/b"],
    ["dir/", "dir"],
    ["/abs", "/abs"],
    ["a/../b", "b"],
    ["", "."],
  ])("refuses the key %j on every entity, with MLflow's message, storing nothing", async (key, resolved) => {
    for (const setter of setters()) {
      const value = `v-${crypto.randomUUID()}`;
      const res = await setter.set(key, value);
      expectMlflowError(
        res,
        400,
        "INVALID_PARAMETER_VALUE",
        `Invalid tag name: '${key}'. Names may be treated as files in certain cases, and must not resolve to other names when treated as such. This name would resolve to '${resolved}'`,
      );
      expect(Object.values(await setter.tags()), setter.what).not.toContain(value);
    }
  });

  it.each(["a/b", "a.b-c_d", "val loss", "train:acc", "ünïcode"])("accepts the key %j on every entity", async (key) => {
    for (const setter of setters()) {
      const value = `v-${crypto.randomUUID()}`;
      expect((await setter.set(key, value)).status, setter.what).toBe(200);
      expect((await setter.tags())[key], setter.what).toBe(value);
    }
  });

  it("refuses param and metric keys by the same rule", async () => {
    expectMlflowError(
      await call("POST", "/runs/log-parameter", { run_id: runId, key: "a/./b", value: "1" }),
      400,
      "INVALID_PARAMETER_VALUE",
      "Invalid parameter name: 'a/./b'. Names may be treated as files",
    );
    expectMlflowError(
      await call("POST", "/runs/log-metric", { run_id: runId, key: "a/./b", value: 1, timestamp: 1 }),
      400,
      "INVALID_PARAMETER_VALUE",
      "Invalid metric name: 'a/./b'. Names may be treated as files",
    );
  });
});
