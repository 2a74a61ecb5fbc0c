import { describe, expect, it, vi } from "vitest";
import { call, rawCall, uniqueName, type Json } from "../helpers";
import {
  createExperiment,
  createLoggedModel,
  createRun,
  expectMlflowError,
  LOGGED_MODEL_ID,
  ok,
} from "../tracking-helpers";

// These tests talk to real D1 through the Worker; on a loaded machine a request can take a while.
vi.setConfig({ testTimeout: 30_000 });

const MISSING = "m-0123456789abcdef0123456789abcdef";

describe("POST /logged-models", () => {
  it("creates a pending model under the experiment's artifact location, as MLflow 3 answers", async () => {
    const exp = await createExperiment();
    const run = await createRun(exp);
    const before = Date.now();
    const { model } = await ok("POST", "/logged-models", {
      experiment_id: exp,
      name: "linear_regression_model",
      source_run_id: run.info.run_id,
      params: [{ key: "alpha", value: "0.5" }],
      tags: [
        { key: "mlflow.user", value: "root" },
        { key: "mlflow.source.name", value: "train.py" },
      ],
    });
    const id = model.info.model_id;
    expect(id).toMatch(LOGGED_MODEL_ID);
    expect(model).toEqual({
      info: {
        model_id: id,
        experiment_id: exp,
        name: "linear_regression_model",
        creation_timestamp_ms: expect.any(Number),
        last_updated_timestamp_ms: model.info.creation_timestamp_ms,
        artifact_uri: `mlflow-artifacts:/${exp}/models/${id}/artifacts`,
        status: "LOGGED_MODEL_PENDING",
        model_type: "",
        source_run_id: run.info.run_id,
        // MLflow lists a logged model's tags by key.
        tags: [
          { key: "mlflow.source.name", value: "train.py" },
          { key: "mlflow.user", value: "root" },
        ],
      },
      data: { params: [{ key: "alpha", value: "0.5" }] },
    });
    expect(model.info.creation_timestamp_ms).toBeGreaterThanOrEqual(before);
    expect((await ok("GET", `/logged-models/${id}`)).model).toEqual(model);
  });

  it("names unnamed models, keeps a model type, and follows a custom artifact location", async () => {
    const exp = await createExperiment({ artifact_location: "mlflow-artifacts:/custom/place/" });
    const model = await createLoggedModel(exp, { model_type: "agent" });
    expect(model.info.name).toMatch(/^[a-z]+-[a-z]+-\d+$/);
    expect(model.info.model_type).toBe("agent");
    expect(model.info.artifact_uri).toBe(`mlflow-artifacts:/custom/place/models/${model.info.model_id}/artifacts`);
    expect(model.info.source_run_id).toBeUndefined();
    expect(model.data).toEqual({});
  });

  it("refuses bad names, unknown or deleted experiments, unknown source runs and duplicate params", async () => {
    const exp = await createExperiment();
    expectMlflowError(
      await call("POST", "/logged-models", { experiment_id: exp, name: "a/b" }),
      400,
      "INVALID_PARAMETER_VALUE",
      "Invalid model name",
    );
    expectMlflowError(
      await call("POST", "/logged-models", { experiment_id: exp, name: "" }),
      400,
      "INVALID_PARAMETER_VALUE",
      "Invalid model name",
    );
    expectMlflowError(
      await call("POST", "/logged-models", { name: "x" }),
      400,
      "INVALID_PARAMETER_VALUE",
      "Missing value for required parameter 'experiment_id'",
    );
    expectMlflowError(
      await call("POST", "/logged-models", { experiment_id: "66666666" }),
      404,
      "RESOURCE_DOES_NOT_EXIST",
      "No Experiment with id=66666666 exists",
    );
    expectMlflowError(
      await call("POST", "/logged-models", { experiment_id: exp, source_run_id: "c".repeat(32) }),
      404,
      "RESOURCE_DOES_NOT_EXIST",
      "Run with id=",
    );
    expectMlflowError(
      await call("POST", "/logged-models", {
        experiment_id: exp,
        params: [
          { key: "a", value: "1" },
          { key: "a", value: "2" },
        ],
      }),
      400,
      "INVALID_PARAMETER_VALUE",
      "Duplicate parameter keys",
    );
    const deleted = await createExperiment();
    await ok("POST", "/experiments/delete", { experiment_id: deleted });
    expectMlflowError(
      await call("POST", "/logged-models", { experiment_id: deleted }),
      400,
      "INVALID_PARAMETER_VALUE",
      "must be in the 'active' state",
    );
    expect(await ok("POST", "/logged-models/search", { experiment_ids: [exp] })).toEqual({});
  });
});

describe("GET, PATCH and DELETE /logged-models/{id}", () => {
  it("finalizes a model as READY or UPLOAD_FAILED and refuses other statuses", async () => {
    const exp = await createExperiment();
    const model = await createLoggedModel(exp);
    const id = model.info.model_id;
    const ready = (await ok("PATCH", `/logged-models/${id}`, { model_id: id, status: "LOGGED_MODEL_READY" })).model;
    expect(ready.info.status).toBe("LOGGED_MODEL_READY");
    expect(ready.info.last_updated_timestamp_ms).toBeGreaterThanOrEqual(model.info.last_updated_timestamp_ms);
    expect(ready.info.creation_timestamp_ms).toBe(model.info.creation_timestamp_ms);
    const failed = (await ok("PATCH", `/logged-models/${id}`, { status: "LOGGED_MODEL_UPLOAD_FAILED" })).model;
    expect(failed.info.status).toBe("LOGGED_MODEL_UPLOAD_FAILED");
    expectMlflowError(
      await call("PATCH", `/logged-models/${id}`, { status: "LOGGED_MODEL_PENDING" }),
      400,
      "INVALID_PARAMETER_VALUE",
    );
    expectMlflowError(
      await call("PATCH", `/logged-models/${id}`, { status: "DONE" }),
      400,
      "INVALID_PARAMETER_VALUE",
      "DONE",
    );
    expectMlflowError(await call("PATCH", `/logged-models/${id}`, {}), 400, "INVALID_PARAMETER_VALUE", "'status'");
    expectMlflowError(
      await call("PATCH", `/logged-models/${MISSING}`, { status: "LOGGED_MODEL_READY" }),
      404,
      "RESOURCE_DOES_NOT_EXIST",
    );
  });

  it("answers unknown models with MLflow's message", async () => {
    expectMlflowError(
      await call("GET", `/logged-models/${MISSING}`),
      404,
      "RESOURCE_DOES_NOT_EXIST",
      `Logged model with ID '${MISSING}' not found.`,
    );
  });

  it("deletes a model: it is gone for reads, writes and search", async () => {
    const exp = await createExperiment();
    const model = await createLoggedModel(exp);
    const id = model.info.model_id;
    expect(await ok("DELETE", `/logged-models/${id}`, { model_id: id })).toEqual({});
    expectMlflowError(await call("GET", `/logged-models/${id}`), 404, "RESOURCE_DOES_NOT_EXIST");
    expectMlflowError(await call("DELETE", `/logged-models/${id}`), 404, "RESOURCE_DOES_NOT_EXIST");
    expectMlflowError(
      await call("PATCH", `/logged-models/${id}/tags`, { tags: [{ key: "a", value: "b" }] }),
      404,
      "RESOURCE_DOES_NOT_EXIST",
    );
    expect(await ok("POST", "/logged-models/search", { experiment_ids: [exp] })).toEqual({});
  });

  it("is served under /ajax-api too", async () => {
    const exp = await createExperiment();
    const model = await createLoggedModel(exp);
    const res = await rawCall("GET", `http://modelgate.test/ajax-api/2.0/mlflow/logged-models/${model.info.model_id}`);
    expect(res.status).toBe(200);
  });
});

describe("logged model tags and params", () => {
  it("sets, overwrites and deletes tags, keys with slashes included", async () => {
    const exp = await createExperiment();
    const id = (await createLoggedModel(exp, { tags: [{ key: "b", value: "1" }] })).info.model_id;
    expect(
      await ok("PATCH", `/logged-models/${id}/tags`, {
        tags: [
          { key: "b", value: "2" },
          { key: "a/x", value: "3" },
        ],
      }),
    ).toEqual({});
    expect((await ok("GET", `/logged-models/${id}`)).model.info.tags).toEqual([
      { key: "a/x", value: "3" },
      { key: "b", value: "2" },
    ]);
    expect(await ok("DELETE", `/logged-models/${id}/tags/a/x`)).toEqual({});
    expect(await ok("DELETE", `/logged-models/${id}/tags/${encodeURIComponent("b")}`)).toEqual({});
    expect((await ok("GET", `/logged-models/${id}`)).model.info.tags).toBeUndefined();
    expectMlflowError(
      await call("DELETE", `/logged-models/${id}/tags/b`),
      404,
      "RESOURCE_DOES_NOT_EXIST",
      `No tag with key 'b' found for model with ID '${id}'.`,
    );
    expectMlflowError(
      await call("PATCH", `/logged-models/${id}/tags`, { tags: [{ key: "k", value: "v".repeat(8001) }] }),
      400,
      "INVALID_PARAMETER_VALUE",
    );
  });

  it("logs params, accepting the same value again and refusing a change", async () => {
    const exp = await createExperiment();
    const id = (await createLoggedModel(exp, { params: [{ key: "alpha", value: "0.5" }] })).info.model_id;
    expect(
      await ok("POST", `/logged-models/${id}/params`, {
        params: [
          { key: "alpha", value: "0.5" },
          { key: "beta", value: "2" },
        ],
      }),
    ).toEqual({});
    expectMlflowError(
      await call("POST", `/logged-models/${id}/params`, { params: [{ key: "beta", value: "3" }] }),
      400,
      "INVALID_PARAMETER_VALUE",
      "Changing param values is not allowed",
    );
    expect((await ok("GET", `/logged-models/${id}`)).model.data.params).toEqual([
      { key: "alpha", value: "0.5" },
      { key: "beta", value: "2" },
    ]);
    expectMlflowError(
      await call("POST", `/logged-models/${MISSING}/params`, { params: [] }),
      404,
      "RESOURCE_DOES_NOT_EXIST",
    );
  });
});

describe("POST /logged-models/search", () => {
  async function seeded(): Promise<{ exp: string; models: Json[] }> {
    const exp = await createExperiment();
    const run = await createRun(exp);
    const models: Json[] = [];
    for (let i = 0; i < 6; i++) {
      const model = await createLoggedModel(exp, {
        name: `model-${i}`,
        source_run_id: run.info.run_id,
        params: [{ key: "kind", value: i % 2 ? "tree" : "linear" }],
        tags: [{ key: "team", value: i < 3 ? "a" : "b" }],
      });
      await ok("POST", "/runs/log-batch", {
        run_id: run.info.run_id,
        metrics: [
          {
            key: "rmse",
            value: i / 10,
            timestamp: 100 + i,
            step: 0,
            model_id: model.info.model_id,
            dataset_name: i % 2 ? "eval" : "test",
          },
        ],
      });
      if (i % 3 === 0) await ok("PATCH", `/logged-models/${model.info.model_id}`, { status: "LOGGED_MODEL_READY" });
      models.push(model);
    }
    return { exp, models };
  }
  const names = (body: Json) => (body.models ?? []).map((m: Json) => m.info.name);

  it("filters by attributes, params, tags and metrics and orders by fields and metrics", async () => {
    const { exp } = await seeded();
    const search = async (body: Json) =>
      names(
        await ok("POST", "/logged-models/search", {
          experiment_ids: [exp],
          order_by: [{ field_name: "name", ascending: true }],
          ...body,
        }),
      );
    expect(await search({ filter: "status = 'LOGGED_MODEL_READY'" })).toEqual(["model-0", "model-3"]);
    expect(await search({ filter: "params.kind = 'tree'" })).toEqual(["model-1", "model-3", "model-5"]);
    expect(await search({ filter: "tags.team = 'b' AND metrics.rmse > 0.35" })).toEqual(["model-4", "model-5"]);
    expect(await search({ filter: "name LIKE 'model-%' AND metrics.rmse < 0.25" })).toEqual([
      "model-0",
      "model-1",
      "model-2",
    ]);
    expect(await search({ datasets: [{ dataset_name: "eval" }] })).toEqual(["model-1", "model-3", "model-5"]);
    expect(await search({ filter: "metrics.rmse >= 0.2", datasets: [{ dataset_name: "test" }] })).toEqual([
      "model-2",
      "model-4",
    ]);
    expect(await search({ order_by: [{ field_name: "metrics.rmse", ascending: false }] })).toEqual([
      "model-5",
      "model-4",
      "model-3",
      "model-2",
      "model-1",
      "model-0",
    ]);
    // Default order: newest first.
    expect(names(await ok("POST", "/logged-models/search", { experiment_ids: [exp] }))).toEqual([
      "model-5",
      "model-4",
      "model-3",
      "model-2",
      "model-1",
      "model-0",
    ]);
  });

  it("pages through every model exactly once", async () => {
    const { exp, models } = await seeded();
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await ok("POST", "/logged-models/search", {
        experiment_ids: [exp],
        max_results: 4,
        page_token: token,
      });
      seen.push(...page.models.map((m: Json) => m.info.model_id));
      token = page.next_page_token;
    } while (token);
    expect(seen.sort()).toEqual(models.map((m) => m.info.model_id).sort());
  });

  it("answers the longest filter and order_by it accepts, with datasets", async () => {
    const { exp } = await seeded();
    const filter = Array.from({ length: 20 }, (_, i) => `metrics.rmse >= ${-i}`).join(" AND ");
    const order_by = Array.from({ length: 10 }, (_, i) => ({ field_name: `metrics.m${i}`, ascending: i % 2 === 0 }));
    const datasets = [{ dataset_name: "eval" }, { dataset_name: "test", dataset_digest: "none" }];
    expect(
      names(await ok("POST", "/logged-models/search", { experiment_ids: [exp], filter, order_by, datasets })).sort(),
    ).toEqual(["model-1", "model-3", "model-5"]);
  });

  it("refuses unsupported filters and order fields", async () => {
    const exp = await createExperiment();
    const bad = async (body: Json, part: string) =>
      expectMlflowError(
        await call("POST", "/logged-models/search", { experiment_ids: [exp], ...body }),
        400,
        "INVALID_PARAMETER_VALUE",
        part,
      );
    await bad({ filter: "colour = 'red'" }, "colour");
    await bad({ filter: "metrics.rmse = 'x'" }, "metrics.rmse");
    await bad({ order_by: [{ field_name: "params.kind" }] }, "params.kind");
    await bad({ datasets: [{ dataset_digest: "abc" }] }, "dataset_name");
    expect(await ok("POST", "/logged-models/search", { experiment_ids: [uniqueName("none")] })).toEqual({});
  });
});
