import { describe, expect, it, vi } from "vitest";
import { call, rawCall, uniqueName, type Json } from "../helpers";
import {
  createExperiment,
  createLoggedModel,
  createRun,
  expectMlflowError,
  getRun,
  ok,
  RUN_ID,
} from "../tracking-helpers";

// These tests talk to real D1 through the Worker; on a loaded machine a request can take a while.
vi.setConfig({ testTimeout: 30_000 });

const now = () => Date.now();

describe("runs/create and runs/get", () => {
  it("creates a running run with MLflow's info fields and the mlflow.runName tag", async () => {
    const exp = await createExperiment();
    const start = now();
    const { run } = await ok("POST", "/runs/create", {
      experiment_id: exp,
      user_id: "root",
      run_name: "first",
      start_time: start,
      tags: [{ key: "mlflow.source.name", value: "train.py" }],
    });
    expect(run.info).toEqual({
      run_uuid: run.info.run_id,
      run_id: run.info.run_id,
      experiment_id: exp,
      run_name: "first",
      user_id: "root",
      status: "RUNNING",
      start_time: start,
      artifact_uri: `mlflow-artifacts:/${exp}/${run.info.run_id}/artifacts`,
      lifecycle_stage: "active",
    });
    expect(run.info.run_id).toMatch(RUN_ID);
    expect(run.data.tags).toEqual([
      { key: "mlflow.source.name", value: "train.py" },
      { key: "mlflow.runName", value: "first" },
    ]);
    expect(run.inputs).toEqual({});
    expect(await getRun(run.info.run_id)).toEqual(run);
  });

  it("takes the name from the mlflow.runName tag, or makes one up, and defaults to the Default experiment", async () => {
    const fromTag = (await ok("POST", "/runs/create", { tags: [{ key: "mlflow.runName", value: "tagged" }] })).run;
    expect(fromTag.info).toMatchObject({
      run_name: "tagged",
      experiment_id: "0",
      artifact_uri: `mlflow-artifacts:/0/${fromTag.info.run_id}/artifacts`,
    });
    const unnamed = (await ok("POST", "/runs/create", { experiment_id: "0" })).run;
    expect(unnamed.info.run_name).toMatch(/^[a-z]+-[a-z]+-\d+$/);
    expect(unnamed.data.tags).toEqual([{ key: "mlflow.runName", value: unnamed.info.run_name }]);
    expect(typeof unnamed.info.start_time).toBe("number");
  });

  it("refuses a run_name that contradicts the mlflow.runName tag", async () => {
    const res = await call("POST", "/runs/create", {
      experiment_id: "0",
      run_name: "a",
      tags: [{ key: "mlflow.runName", value: "b" }],
    });
    expectMlflowError(
      res,
      400,
      "INVALID_PARAMETER_VALUE",
      "Both 'run_name' argument and 'mlflow.runName' tag are specified",
    );
  });

  it("answers unknown experiments and runs with RESOURCE_DOES_NOT_EXIST, a missing run_id with INVALID_PARAMETER_VALUE", async () => {
    expectMlflowError(
      await call("POST", "/runs/create", { experiment_id: "77777777" }),
      404,
      "RESOURCE_DOES_NOT_EXIST",
      "No Experiment with id=77777777 exists",
    );
    expectMlflowError(
      await call("GET", "/runs/get", { run_id: "0123456789abcdef0123456789abcdef" }),
      404,
      "RESOURCE_DOES_NOT_EXIST",
      "Run with id=0123456789abcdef0123456789abcdef not found",
    );
    expectMlflowError(
      await call("GET", "/runs/get", {}),
      400,
      "INVALID_PARAMETER_VALUE",
      "Missing value for required parameter 'run_id'",
    );
  });

  it("accepts run_uuid from older clients", async () => {
    const run = await createRun("0");
    expect((await ok("GET", "/runs/get", { run_uuid: run.info.run_id })).run.info.run_id).toBe(run.info.run_id);
  });

  it("refuses bad tags at creation and creates nothing", async () => {
    const exp = await createExperiment();
    expectMlflowError(
      await call("POST", "/runs/create", { experiment_id: exp, tags: [{ key: "bad\u0000key", value: "v" }] }),
      400,
      "INVALID_PARAMETER_VALUE",
      "Invalid tag name",
    );
    expectMlflowError(
      await call("POST", "/runs/create", { experiment_id: exp, tags: [{ key: "k", value: "v".repeat(8001) }] }),
      400,
      "INVALID_PARAMETER_VALUE",
      "exceeded length limit of 8000",
    );
    expect(await ok("POST", "/runs/search", { experiment_ids: [exp], run_view_type: "ALL" })).toEqual({});
  });
});

describe("runs/update, delete and restore", () => {
  it("finishes a run with an end time and answers the run_info", async () => {
    const run = await createRun("0");
    const end = now();
    const { run_info } = await ok("POST", "/runs/update", {
      run_id: run.info.run_id,
      run_uuid: run.info.run_id,
      status: "FINISHED",
      end_time: end,
    });
    expect(run_info).toMatchObject({
      run_id: run.info.run_id,
      status: "FINISHED",
      end_time: end,
      lifecycle_stage: "active",
    });
    expect((await getRun(run.info.run_id)).info.status).toBe("FINISHED");
  });

  it("renames a run and its mlflow.runName tag", async () => {
    const run = await createRun("0", { run_name: "before" });
    const { run_info } = await ok("POST", "/runs/update", { run_id: run.info.run_id, run_name: "after" });
    expect(run_info.run_name).toBe("after");
    const got = await getRun(run.info.run_id);
    expect(got.data.tags).toContainEqual({ key: "mlflow.runName", value: "after" });
    expect(got.info.status).toBe("RUNNING");
  });

  it("accepts every MLflow run status, by name or number, and refuses others", async () => {
    const run = await createRun("0");
    for (const status of ["SCHEDULED", "FAILED", "KILLED", "RUNNING", "FINISHED"]) {
      expect((await ok("POST", "/runs/update", { run_id: run.info.run_id, status })).run_info.status).toBe(status);
    }
    expect((await ok("POST", "/runs/update", { run_id: run.info.run_id, status: 4 })).run_info.status).toBe("FAILED");
    expectMlflowError(
      await call("POST", "/runs/update", { run_id: run.info.run_id, status: "DONE" }),
      400,
      "INVALID_PARAMETER_VALUE",
      "DONE",
    );
    expectMlflowError(
      await call("POST", "/runs/update", { run_id: "f".repeat(32), status: "FINISHED" }),
      404,
      "RESOURCE_DOES_NOT_EXIST",
    );
  });

  it("deletes and restores a run; a deleted run can be read but takes no writes", async () => {
    const run = await createRun("0");
    const id = run.info.run_id;
    expect(await ok("POST", "/runs/delete", { run_id: id })).toEqual({});
    expect((await getRun(id)).info.lifecycle_stage).toBe("deleted");
    const refused = /must be in the 'active' state. Current state is deleted/;
    expectMlflowError(
      await call("POST", "/runs/log-metric", { run_id: id, key: "m", value: 1, timestamp: now() }),
      400,
      "INVALID_PARAMETER_VALUE",
      refused,
    );
    expectMlflowError(
      await call("POST", "/runs/log-parameter", { run_id: id, key: "p", value: "1" }),
      400,
      "INVALID_PARAMETER_VALUE",
      refused,
    );
    expectMlflowError(
      await call("POST", "/runs/set-tag", { run_id: id, key: "t", value: "1" }),
      400,
      "INVALID_PARAMETER_VALUE",
      refused,
    );
    expectMlflowError(
      await call("POST", "/runs/update", { run_id: id, status: "FINISHED" }),
      400,
      "INVALID_PARAMETER_VALUE",
      refused,
    );
    expect(await ok("POST", "/runs/restore", { run_id: id })).toEqual({});
    expect((await getRun(id)).info.lifecycle_stage).toBe("active");
    await ok("POST", "/runs/log-parameter", { run_id: id, key: "p", value: "1" });
    expectMlflowError(await call("POST", "/runs/delete", { run_id: "e".repeat(32) }), 404, "RESOURCE_DOES_NOT_EXIST");
    expectMlflowError(await call("POST", "/runs/restore", { run_id: "e".repeat(32) }), 404, "RESOURCE_DOES_NOT_EXIST");
  });
});

describe("runs/log-metric and metrics/get-history", () => {
  it("keeps the full history and the latest value per key by step, then timestamp, then value", async () => {
    const run = await createRun("0");
    const id = run.info.run_id;
    const t = now();
    await ok("POST", "/runs/log-metric", { run_id: id, key: "loss", value: 0.9, timestamp: t, step: 0 });
    await ok("POST", "/runs/log-metric", { run_id: id, key: "loss", value: 0.5, timestamp: t + 10, step: 2 });
    // An older step logged later does not replace the latest value.
    await ok("POST", "/runs/log-metric", { run_id: id, key: "loss", value: 0.7, timestamp: t + 20, step: 1 });
    // Logging exactly the same point again is kept once.
    await ok("POST", "/runs/log-metric", { run_id: id, key: "loss", value: 0.5, timestamp: t + 10, step: 2 });
    const got = await getRun(id);
    expect(got.data.metrics).toEqual([{ key: "loss", value: 0.5, timestamp: t + 10, step: 2 }]);
    const history = await ok("GET", "/metrics/get-history", { run_id: id, metric_key: "loss" });
    expect(history.metrics).toEqual([
      { key: "loss", value: 0.9, timestamp: t, step: 0 },
      { key: "loss", value: 0.5, timestamp: t + 10, step: 2 },
      { key: "loss", value: 0.7, timestamp: t + 20, step: 1 },
    ]);
    expect(history.next_page_token).toBeUndefined();
  });

  it("pages the history with max_results and page_token", async () => {
    const run = await createRun("0");
    const id = run.info.run_id;
    const metrics = Array.from({ length: 7 }, (_, i) => ({ key: "acc", value: i / 10, timestamp: 1000 + i, step: i }));
    await ok("POST", "/runs/log-batch", { run_id: id, metrics });
    const seen: number[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await ok("GET", "/metrics/get-history", {
        run_id: id,
        run_uuid: id,
        metric_key: "acc",
        max_results: 3,
        ...(token ? { page_token: token } : {}),
      });
      seen.push(...page.metrics.map((m: Json) => m.step));
      token = page.next_page_token;
      pages++;
    } while (token);
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(pages).toBe(3);
    expect(await ok("GET", "/metrics/get-history", { run_id: id, metric_key: "never-logged" })).toEqual({});
    expectMlflowError(
      await call("GET", "/metrics/get-history", { run_id: "a".repeat(32), metric_key: "acc" }),
      404,
      "RESOURCE_DOES_NOT_EXIST",
    );
    expectMlflowError(
      await call("GET", "/metrics/get-history", { run_id: id }),
      400,
      "INVALID_PARAMETER_VALUE",
      "metric_key",
    );
  });

  it("carries NaN and infinities the way protobuf's JSON does", async () => {
    const run = await createRun("0");
    const id = run.info.run_id;
    await ok("POST", "/runs/log-batch", {
      run_id: id,
      metrics: [
        { key: "nan", value: "NaN", timestamp: 1, step: 0 },
        { key: "inf", value: "Infinity", timestamp: 1, step: 0 },
        { key: "neg", value: "-Infinity", timestamp: 1, step: 0 },
      ],
    });
    const byKey = Object.fromEntries((await getRun(id)).data.metrics.map((m: Json) => [m.key, m.value]));
    expect(byKey).toEqual({ nan: "NaN", inf: 1.7976931348623157e308, neg: -1.7976931348623157e308 });
  });

  it("refuses a missing timestamp, a non-numeric value and a bad key, writing nothing", async () => {
    const run = await createRun("0");
    const id = run.info.run_id;
    expectMlflowError(
      await call("POST", "/runs/log-metric", { run_id: id, key: "m", value: 1 }),
      400,
      "INVALID_PARAMETER_VALUE",
      "Missing value for required parameter 'timestamp'",
    );
    expectMlflowError(
      await call("POST", "/runs/log-metric", { run_id: id, key: "m", value: "fast", timestamp: 1 }),
      400,
      "INVALID_PARAMETER_VALUE",
      "Got invalid value fast for metric 'm'",
    );
    expectMlflowError(
      await call("POST", "/runs/log-metric", { run_id: id, key: "a//b", value: 1, timestamp: 1 }),
      400,
      "INVALID_PARAMETER_VALUE",
      "Invalid metric name: 'a//b'",
    );
    expectMlflowError(
      await call("POST", "/runs/log-metric", { run_id: id, key: "m", value: 1, timestamp: -5 }),
      400,
      "INVALID_PARAMETER_VALUE",
      "Timestamp must be a nonnegative",
    );
    expectMlflowError(
      await call("POST", "/runs/log-metric", { run_id: "b".repeat(32), key: "m", value: 1, timestamp: 1 }),
      404,
      "RESOURCE_DOES_NOT_EXIST",
    );
    expect((await getRun(id)).data).toEqual({ tags: [{ key: "mlflow.runName", value: run.info.run_name }] });
  });
});

describe("runs/log-parameter", () => {
  it("accepts the same value twice and refuses a different one, keeping the first", async () => {
    const run = await createRun("0");
    const id = run.info.run_id;
    await ok("POST", "/runs/log-parameter", { run_id: id, key: "alpha", value: "0.5" });
    await ok("POST", "/runs/log-parameter", { run_id: id, key: "alpha", value: "0.5" });
    const changed = await call("POST", "/runs/log-parameter", { run_id: id, key: "alpha", value: "0.6" });
    expectMlflowError(
      changed,
      400,
      "INVALID_PARAMETER_VALUE",
      `Changing param values is not allowed. Param with key='alpha' was already logged with value='0.5' for run ID='${id}'. Attempted logging new value '0.6'.`,
    );
    expect((await getRun(id)).data.params).toEqual([{ key: "alpha", value: "0.5" }]);
  });

  it("lets exactly one of many concurrent different values win", async () => {
    const run = await createRun("0");
    const id = run.info.run_id;
    const replies = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        call("POST", "/runs/log-parameter", { run_id: id, key: "seed", value: String(i) }),
      ),
    );
    const winners = replies.filter((r) => r.status === 200);
    expect(winners).toHaveLength(1);
    for (const r of replies.filter((r) => r.status !== 200))
      expectMlflowError(r, 400, "INVALID_PARAMETER_VALUE", "Changing param values is not allowed");
    const winner = replies.findIndex((r) => r.status === 200);
    expect((await getRun(id)).data.params).toEqual([{ key: "seed", value: String(winner) }]);
  });

  it("refuses values over 6000 characters and keys over 250", async () => {
    const run = await createRun("0");
    expectMlflowError(
      await call("POST", "/runs/log-parameter", { run_id: run.info.run_id, key: "p", value: "x".repeat(6001) }),
      400,
      "INVALID_PARAMETER_VALUE",
      "exceeded length limit of 6000",
    );
    expectMlflowError(
      await call("POST", "/runs/log-parameter", { run_id: run.info.run_id, key: "k".repeat(251), value: "x" }),
      400,
      "INVALID_PARAMETER_VALUE",
      "exceeded length limit of 250",
    );
    await ok("POST", "/runs/log-parameter", { run_id: run.info.run_id, key: "k".repeat(250), value: "x".repeat(6000) });
  });
});

describe("runs/log-batch", () => {
  const metricList = (n: number, key = "m") =>
    Array.from({ length: n }, (_, i) => ({ key: `${key}${i % 50}`, value: i, timestamp: 1000 + i, step: i }));

  it("writes 1000 metrics, 100 long params and 100 long tags in one request", async () => {
    const run = await createRun("0");
    const id = run.info.run_id;
    // 900 metrics + 50 params + 50 tags = 1000 items, the most one request may carry.
    const params = Array.from({ length: 50 }, (_, i) => ({ key: `p${i}`, value: `${i}`.padEnd(6000, "v") }));
    const tags = Array.from({ length: 50 }, (_, i) => ({ key: `t${i}`, value: `${i}`.padEnd(8000, "é") }));
    await ok("POST", "/runs/log-batch", { run_id: id, metrics: metricList(900), params, tags });
    await ok("POST", "/runs/log-batch", { run_id: id, metrics: metricList(1000, "n") });
    await ok("POST", "/runs/log-batch", {
      run_id: id,
      params: Array.from({ length: 100 }, (_, i) => ({ key: `q${i}`, value: "w".repeat(6000) })),
      tags: Array.from({ length: 100 }, (_, i) => ({ key: `u${i}`, value: "€".repeat(8000) })),
    });
    const got = await getRun(id);
    expect(got.data.params).toHaveLength(150);
    expect(got.data.tags).toHaveLength(151);
    expect(got.data.metrics).toHaveLength(100);
    expect(got.data.metrics.find((m: Json) => m.key === "m49")).toEqual({
      key: "m49",
      value: 899,
      timestamp: 1899,
      step: 899,
    });
    const history = await ok("GET", "/metrics/get-history", { run_id: id, metric_key: "n7" });
    expect(history.metrics).toHaveLength(20);
    expect(got.data.params.find((p: Json) => p.key === "p7").value).toHaveLength(6000);
    expect(got.data.tags.find((t: Json) => t.key === "u99").value).toBe("€".repeat(8000));
  });

  it("refuses batches over MLflow's limits and writes nothing", async () => {
    const run = await createRun("0");
    const id = run.info.run_id;
    const params = (n: number) => Array.from({ length: n }, (_, i) => ({ key: `p${i}`, value: "v" }));
    const tags = (n: number) => Array.from({ length: n }, (_, i) => ({ key: `t${i}`, value: "v" }));
    expectMlflowError(
      await call("POST", "/runs/log-batch", { run_id: id, metrics: metricList(1001) }),
      400,
      "INVALID_PARAMETER_VALUE",
      "at most 1000 metrics. Got 1001 metrics",
    );
    expectMlflowError(
      await call("POST", "/runs/log-batch", { run_id: id, params: params(101) }),
      400,
      "INVALID_PARAMETER_VALUE",
      "at most 100 params. Got 101 params",
    );
    expectMlflowError(
      await call("POST", "/runs/log-batch", { run_id: id, tags: tags(101) }),
      400,
      "INVALID_PARAMETER_VALUE",
      "at most 100 tags. Got 101 tags",
    );
    expectMlflowError(
      await call("POST", "/runs/log-batch", {
        run_id: id,
        metrics: metricList(901),
        params: params(50),
        tags: tags(50),
      }),
      400,
      "INVALID_PARAMETER_VALUE",
      "at most 1000 metrics, params, and tags. Got 1001",
    );
    expectMlflowError(
      await call("POST", "/runs/log-batch", {
        run_id: id,
        metrics: metricList(3),
        params: [{ key: "p", value: "x".repeat(6001) }],
      }),
      400,
      "INVALID_PARAMETER_VALUE",
      "exceeded length limit of 6000",
    );
    expectMlflowError(
      await call("POST", "/runs/log-batch", {
        run_id: id,
        metrics: metricList(3),
        tags: [{ key: "t", value: "x".repeat(8001) }],
      }),
      400,
      "INVALID_PARAMETER_VALUE",
      "exceeded length limit of 8000",
    );
    expectMlflowError(
      await call("POST", "/runs/log-batch", {
        run_id: id,
        params: [
          { key: "p", value: "1" },
          { key: "p", value: "1" },
        ],
      }),
      400,
      "INVALID_PARAMETER_VALUE",
      "Duplicate parameter keys have been submitted",
    );
    expect((await getRun(id)).data).toEqual({ tags: [{ key: "mlflow.runName", value: run.info.run_name }] });
    expect(await ok("GET", "/metrics/get-history", { run_id: id, metric_key: "m0" })).toEqual({});
  });

  it("is atomic: a changed param fails the whole batch, metrics and tags included", async () => {
    const run = await createRun("0");
    const id = run.info.run_id;
    await ok("POST", "/runs/log-batch", { run_id: id, params: [{ key: "lr", value: "0.1" }] });
    const res = await call("POST", "/runs/log-batch", {
      run_id: id,
      metrics: [{ key: "loss", value: 1, timestamp: 5, step: 0 }],
      params: [
        { key: "lr", value: "0.2" },
        { key: "epochs", value: "3" },
      ],
      tags: [{ key: "note", value: "x" }],
    });
    expectMlflowError(res, 400, "INVALID_PARAMETER_VALUE", "Changing param values is not allowed");
    const got = await getRun(id);
    expect(got.data.params).toEqual([{ key: "lr", value: "0.1" }]);
    expect(got.data.metrics).toBeUndefined();
    expect(got.data.tags).toEqual([{ key: "mlflow.runName", value: run.info.run_name }]);
    // The same value again is fine, alongside new data.
    await ok("POST", "/runs/log-batch", {
      run_id: id,
      params: [
        { key: "lr", value: "0.1" },
        { key: "epochs", value: "3" },
      ],
    });
    expect((await getRun(id)).data.params).toEqual([
      { key: "lr", value: "0.1" },
      { key: "epochs", value: "3" },
    ]);
  });

  it("renames the run when the batch sets mlflow.runName", async () => {
    const run = await createRun("0");
    await ok("POST", "/runs/log-batch", {
      run_id: run.info.run_id,
      tags: [{ key: "mlflow.runName", value: "renamed" }],
    });
    expect((await getRun(run.info.run_id)).info.run_name).toBe("renamed");
  });

  it("records MLflow 3 metrics that carry a model_id on that logged model, and refuses unknown models", async () => {
    const exp = await createExperiment();
    const run = await createRun(exp);
    const model = await createLoggedModel(exp, { source_run_id: run.info.run_id });
    await ok("POST", "/runs/log-batch", {
      run_id: run.info.run_id,
      metrics: [
        {
          key: "rmse",
          value: 1.5,
          timestamp: 10,
          step: 0,
          model_id: model.info.model_id,
          dataset_name: "test",
          dataset_digest: "abc",
        },
      ],
    });
    const got = (await ok("GET", `/logged-models/${model.info.model_id}`)).model;
    expect(got.data.metrics).toEqual([
      {
        key: "rmse",
        value: 1.5,
        timestamp: 10,
        step: 0,
        dataset_name: "test",
        dataset_digest: "abc",
        model_id: model.info.model_id,
        run_id: run.info.run_id,
      },
    ]);
    const history = await ok("GET", "/metrics/get-history", { run_id: run.info.run_id, metric_key: "rmse" });
    expect(history.metrics).toEqual([
      {
        key: "rmse",
        value: 1.5,
        timestamp: 10,
        step: 0,
        dataset_name: "test",
        dataset_digest: "abc",
        model_id: model.info.model_id,
      },
    ]);
    expectMlflowError(
      await call("POST", "/runs/log-batch", {
        run_id: run.info.run_id,
        metrics: [{ key: "x", value: 1, timestamp: 1, model_id: "m-00000000000000000000000000000000" }],
      }),
      404,
      "RESOURCE_DOES_NOT_EXIST",
    );
  });
});

describe("runs/set-tag and runs/delete-tag", () => {
  it("sets, overwrites and deletes tags; mlflow.runName renames the run", async () => {
    const run = await createRun("0");
    const id = run.info.run_id;
    await ok("POST", "/runs/set-tag", { run_id: id, key: "stage", value: "a" });
    await ok("POST", "/runs/set-tag", { run_id: id, key: "stage", value: "b" });
    await ok("POST", "/runs/set-tag", { run_id: id, key: "mlflow.runName", value: "new-name" });
    let got = await getRun(id);
    expect(got.info.run_name).toBe("new-name");
    expect(got.data.tags).toEqual([
      { key: "mlflow.runName", value: "new-name" },
      { key: "stage", value: "b" },
    ]);
    await ok("POST", "/runs/delete-tag", { run_id: id, key: "stage" });
    got = await getRun(id);
    expect(got.data.tags).toEqual([{ key: "mlflow.runName", value: "new-name" }]);
    expectMlflowError(
      await call("POST", "/runs/delete-tag", { run_id: id, key: "stage" }),
      404,
      "RESOURCE_DOES_NOT_EXIST",
      `No tag with name: stage in run with id ${id}`,
    );
    expectMlflowError(
      await call("POST", "/runs/set-tag", { run_id: id, key: "stage" }),
      400,
      "INVALID_PARAMETER_VALUE",
      "'value'",
    );
  });
});

describe("runs/log-model (MLflow 2)", () => {
  const model = (runId: string, path: string) =>
    JSON.stringify({
      run_id: runId,
      artifact_path: path,
      utc_time_created: "2026-11-27 04:16:51.453998",
      flavors: { python_function: { loader_module: "mlflow.sklearn" } },
      signature: { inputs: "[...]" },
      model_uuid: "55e13295ad3b4f689f83225ce140f4e1",
    });

  it("appends each model to the mlflow.log-model.history tag as a JSON list, as MLflow writes it", async () => {
    const run = await createRun("0");
    const id = run.info.run_id;
    await ok("POST", "/runs/log-model", { run_id: id, model_json: model(id, "first") });
    await ok("POST", "/runs/log-model", { run_id: id, model_json: model(id, "second") });
    const tag = (await getRun(id)).data.tags.find((t: Json) => t.key === "mlflow.log-model.history");
    const entry = (path: string) =>
      `{"run_id": "${id}", "artifact_path": "${path}", "utc_time_created": "2026-11-27 04:16:51.453998", "flavors": {"python_function": {"loader_module": "mlflow.sklearn"}}, "model_uuid": "55e13295ad3b4f689f83225ce140f4e1"}`;
    expect(tag.value).toBe(`[${entry("first")}, ${entry("second")}]`);
    expect(JSON.parse(tag.value).map((m: Json) => m.artifact_path)).toEqual(["first", "second"]);
  });

  it("keeps every one of concurrent log-model calls", async () => {
    const run = await createRun("0");
    const id = run.info.run_id;
    await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        ok("POST", "/runs/log-model", { run_id: id, model_json: model(id, `m${i}`) }),
      ),
    );
    const tag = (await getRun(id)).data.tags.find((t: Json) => t.key === "mlflow.log-model.history");
    expect(
      JSON.parse(tag.value)
        .map((m: Json) => m.artifact_path)
        .sort(),
    ).toEqual(Array.from({ length: 8 }, (_, i) => `m${i}`));
  });

  it("refuses a model that would grow the history past 1,000,000 characters, keeping what was logged", async () => {
    const run = await createRun("0");
    const id = run.info.run_id;
    const big = (path: string) =>
      JSON.stringify({
        run_id: id,
        artifact_path: path,
        utc_time_created: "t",
        flavors: { python_function: { blob: "x".repeat(600_000) } },
      });
    await ok("POST", "/runs/log-model", { run_id: id, model_json: big("first") });
    expectMlflowError(
      await call("POST", "/runs/log-model", { run_id: id, model_json: big("second") }),
      400,
      "INVALID_PARAMETER_VALUE",
      "would exceed 1000000",
    );
    const tag = (await getRun(id)).data.tags.find((t: Json) => t.key === "mlflow.log-model.history");
    expect(JSON.parse(tag.value).map((m: Json) => m.artifact_path)).toEqual(["first"]);
  });

  it("refuses malformed model JSON and models missing mandatory fields", async () => {
    const run = await createRun("0");
    expectMlflowError(
      await call("POST", "/runs/log-model", { run_id: run.info.run_id, model_json: "{not json" }),
      400,
      "INVALID_PARAMETER_VALUE",
      "Malformed model info",
    );
    expectMlflowError(
      await call("POST", "/runs/log-model", { run_id: run.info.run_id, model_json: JSON.stringify({ run_id: "x" }) }),
      400,
      "INVALID_PARAMETER_VALUE",
      "Model json is missing mandatory fields",
    );
    expect((await getRun(run.info.run_id)).data.tags).toHaveLength(1);
  });
});

describe("runs/log-inputs and runs/outputs", () => {
  it("records dataset inputs once per name and digest, and model inputs", async () => {
    const exp = await createExperiment();
    const run = await createRun(exp);
    const model = await createLoggedModel(exp);
    const dataset = {
      name: "houses",
      digest: "d1",
      source_type: "local",
      source: '{"uri": "/data"}',
      schema: "{}",
      profile: '{"rows": 3}',
    };
    await ok("POST", "/runs/log-inputs", {
      run_id: run.info.run_id,
      datasets: [
        { tags: [{ key: "mlflow.data.context", value: "training" }], dataset },
        { tags: [], dataset },
      ],
      models: [{ model_id: model.info.model_id }],
    });
    await ok("POST", "/runs/log-inputs", { run_id: run.info.run_id, datasets: [{ dataset }] });
    expect((await getRun(run.info.run_id)).inputs).toEqual({
      dataset_inputs: [{ tags: [{ key: "mlflow.data.context", value: "training" }], dataset }],
      model_inputs: [{ model_id: model.info.model_id }],
    });
    expectMlflowError(
      await call("POST", "/runs/log-inputs", {
        run_id: run.info.run_id,
        datasets: [{ dataset: { name: "x", digest: "y", source_type: "local" } }],
      }),
      400,
      "INVALID_PARAMETER_VALUE",
      "source",
    );
  });

  it("stores large dataset schemas and profiles, and refuses a dataset input over Modelgate's row size", async () => {
    const run = await createRun("0");
    const big = {
      name: "big",
      digest: "d",
      source_type: "local",
      source: "s",
      schema: "s".repeat(1_000_000),
      profile: "p".repeat(850_000),
    };
    await ok("POST", "/runs/log-inputs", { run_id: run.info.run_id, datasets: [{ dataset: big }] });
    expect((await getRun(run.info.run_id)).inputs.dataset_inputs[0].dataset).toEqual(big);
    const tooBig = { ...big, name: "too-big", schema: "é".repeat(1_000_000) };
    expectMlflowError(
      await call("POST", "/runs/log-inputs", { run_id: run.info.run_id, datasets: [{ dataset: tooBig }] }),
      400,
      "INVALID_PARAMETER_VALUE",
      "at most 1900000 bytes per dataset input",
    );
    expect((await getRun(run.info.run_id)).inputs.dataset_inputs).toHaveLength(1);
  });

  it("logs many dataset inputs in one request", async () => {
    const run = await createRun("0");
    const datasets = Array.from({ length: 40 }, (_, i) => ({
      tags: [{ key: "mlflow.data.context", value: "train" }],
      dataset: { name: `d${i}`, digest: `${i}`, source_type: "local", source: "s" },
    }));
    await ok("POST", "/runs/log-inputs", { run_id: run.info.run_id, datasets });
    const inputs = (await getRun(run.info.run_id)).inputs.dataset_inputs;
    expect(inputs.map((d: Json) => d.dataset.name)).toEqual(datasets.map((d) => d.dataset.name));
  });

  it("links a run to the logged models it produced", async () => {
    const exp = await createExperiment();
    const run = await createRun(exp);
    const model = await createLoggedModel(exp, { source_run_id: run.info.run_id });
    await ok("POST", "/runs/outputs", {
      run_id: run.info.run_id,
      models: [{ model_id: model.info.model_id, step: 3 }],
    });
    expect((await getRun(run.info.run_id)).outputs).toEqual({
      model_outputs: [{ model_id: model.info.model_id, step: 3 }],
    });
    expectMlflowError(
      await call("POST", "/runs/outputs", {
        run_id: run.info.run_id,
        models: [{ model_id: "m-ffffffffffffffffffffffffffffffff", step: 0 }],
      }),
      404,
      "RESOURCE_DOES_NOT_EXIST",
      "Logged model with ID 'm-ffffffffffffffffffffffffffffffff' not found.",
    );
  });
});

// Search tests seed dozens of runs each; give them room on a busy machine.
describe("artifacts/list", () => {
  it("lists one folder of a run's artifacts with paths relative to the run's root", async () => {
    const exp = await createExperiment();
    const run = await createRun(exp);
    const base = `http://modelgate.test/api/2.0/mlflow-artifacts/artifacts/${exp}/${run.info.run_id}/artifacts`;
    for (const [file, body] of [
      ["model/MLmodel", "flavors: {}"],
      ["model/data/weights.bin", "0123456789"],
      ["notes.txt", "hi"],
    ]) {
      const res = await rawCall("PUT", `${base}/${file}`, body, { "content-type": "application/octet-stream" });
      expect(res.status).toBe(200);
    }
    const root = await ok("GET", "/artifacts/list", { run_id: run.info.run_id });
    expect(root).toEqual({
      root_uri: run.info.artifact_uri,
      files: [
        { path: "model", is_dir: true },
        { path: "notes.txt", is_dir: false, file_size: 2 },
      ],
    });
    const model = await ok("GET", "/artifacts/list", { run_uuid: run.info.run_id, path: "model" });
    expect(model.files).toEqual([
      { path: "model/MLmodel", is_dir: false, file_size: 11 },
      { path: "model/data", is_dir: true },
    ]);
    expect(await ok("GET", "/artifacts/list", { run_id: run.info.run_id, path: "nothing/here" })).toEqual({
      root_uri: run.info.artifact_uri,
    });
    expectMlflowError(
      await call("GET", "/artifacts/list", { run_id: run.info.run_id, path: "../other" }),
      400,
      "INVALID_PARAMETER_VALUE",
      "Invalid artifact path",
    );
    expectMlflowError(await call("GET", "/artifacts/list", { run_id: "d".repeat(32) }), 404, "RESOURCE_DOES_NOT_EXIST");
  });

  it("lists nothing for a run stored outside the proxied artifact store", async () => {
    const exp = await createExperiment({ artifact_location: "s3://elsewhere/exp" });
    const run = await createRun(exp);
    expect(run.info.artifact_uri).toBe(`s3://elsewhere/exp/${run.info.run_id}/artifacts`);
    expect(await ok("GET", "/artifacts/list", { run_id: run.info.run_id })).toEqual({
      root_uri: run.info.artifact_uri,
    });
  });
});

describe("runs/search", { timeout: 60_000 }, () => {
  /** An experiment with runs that differ in metrics, params, tags and status. */
  async function seeded(count: number): Promise<{ exp: string; runs: Json[] }> {
    const exp = await createExperiment();
    const runs = await Promise.all(
      Array.from({ length: count }, async (_, i) => {
        const run = await createRun(exp, { run_name: `run-${i}`, start_time: 1_000_000 + (i % 4) * 10 });
        await ok("POST", "/runs/log-batch", {
          run_id: run.info.run_id,
          metrics: [{ key: "rmse", value: (i % 5) / 10, timestamp: 1, step: 0 }],
          params: [{ key: "model", value: i % 2 ? "tree" : "linear" }],
          tags: [{ key: "team", value: i % 3 === 0 ? "search" : "ads" }],
        });
        if (i % 4 === 0)
          await ok("POST", "/runs/update", { run_id: run.info.run_id, status: "FINISHED", end_time: 2_000_000 });
        return run;
      }),
    );
    return { exp, runs };
  }
  const names = (body: Json) => (body.runs ?? []).map((r: Json) => r.info.run_name);

  it("filters on metrics, params, tags and attributes joined by AND", async () => {
    const { exp } = await seeded(10);
    const search = async (filter: string) =>
      names(await ok("POST", "/runs/search", { experiment_ids: [exp], filter, order_by: ["attributes.run_name ASC"] }));
    expect(await search("metrics.rmse > 0.25")).toEqual(["run-3", "run-4", "run-8", "run-9"]);
    expect(await search("params.model = 'tree'")).toEqual(["run-1", "run-3", "run-5", "run-7", "run-9"]);
    expect(await search("tags.team = 'search'")).toEqual(["run-0", "run-3", "run-6", "run-9"]);
    expect(await search("attributes.status = 'FINISHED'")).toEqual(["run-0", "run-4", "run-8"]);
    expect(await search("metrics.rmse > 0.25 AND params.model = 'tree' AND tags.team = 'search'")).toEqual([
      "run-3",
      "run-9",
    ]);
    expect(await search("attributes.run_name LIKE 'run-1%'")).toEqual(["run-1"]);
    expect(await search("attributes.run_name ILIKE 'RUN-2'")).toEqual(["run-2"]);
    expect(await search("params.model != 'tree' and metrics.rmse <= 0")).toEqual(["run-0"]);
    expect(await search("metrics.missing > 0")).toEqual([]);
  });

  it("filters on run ids with IN and on start_time", async () => {
    const { exp, runs } = await seeded(4);
    const ids = [runs[1]!.info.run_id, runs[2]!.info.run_id];
    const body = await ok("POST", "/runs/search", {
      experiment_ids: [exp],
      filter: `attributes.run_id IN ('${ids[0]}', '${ids[1]}')`,
    });
    expect(body.runs.map((r: Json) => r.info.run_id).sort()).toEqual([...ids].sort());
    const late = await ok("POST", "/runs/search", {
      experiment_ids: [exp],
      filter: "attributes.start_time >= 1000020",
      order_by: ["attributes.start_time ASC"],
    });
    expect(names(late)).toEqual(["run-2", "run-3"]);
  });

  it("orders by metrics, params and attributes, runs without the metric last", async () => {
    const { exp, runs } = await seeded(5);
    const extra = await createRun(exp, { run_name: "no-metrics", start_time: 5 });
    const asc = names(
      await ok("POST", "/runs/search", {
        experiment_ids: [exp],
        order_by: ["metrics.rmse ASC", "attributes.run_name DESC"],
      }),
    );
    expect(asc).toEqual(["run-0", "run-1", "run-2", "run-3", "run-4", "no-metrics"]);
    const desc = names(await ok("POST", "/runs/search", { experiment_ids: [exp], order_by: ["metrics.rmse DESC"] }));
    expect(desc).toEqual(["run-4", "run-3", "run-2", "run-1", "run-0", "no-metrics"]);
    const byParam = names(
      await ok("POST", "/runs/search", {
        experiment_ids: [exp],
        order_by: ["params.model ASC", "attributes.run_name ASC"],
      }),
    );
    expect(byParam).toEqual(["run-0", "run-2", "run-4", "run-1", "run-3", "no-metrics"]);
    // Default order: newest start_time first.
    const byDefault = (await ok("POST", "/runs/search", { experiment_ids: [exp] })).runs.map(
      (r: Json) => r.info.start_time,
    );
    expect(byDefault).toEqual([...byDefault].sort((a, b) => b - a));
    expect(runs).toHaveLength(5);
    expect(extra.info.run_name).toBe("no-metrics");
  });

  it("pages through every run exactly once, also with ties in the sort key", async () => {
    const { exp, runs } = await seeded(23);
    for (const order_by of [
      [],
      ["metrics.rmse ASC"],
      ["attributes.start_time DESC"],
      ["params.model DESC", "tags.team ASC"],
    ]) {
      const seen: string[] = [];
      let token: string | undefined;
      do {
        const page = await ok("POST", "/runs/search", {
          experiment_ids: [exp],
          max_results: 4,
          order_by,
          page_token: token,
        });
        expect(page.runs.length).toBeLessThanOrEqual(4);
        seen.push(...page.runs.map((r: Json) => r.info.run_id));
        token = page.next_page_token;
      } while (token);
      expect(seen).toHaveLength(23);
      expect(new Set(seen)).toEqual(new Set(runs.map((r) => r.info.run_id)));
    }
  });

  it("returns full runs, honours run_view_type and searches by GET too", async () => {
    const { exp, runs } = await seeded(3);
    await ok("POST", "/runs/delete", { run_id: runs[0]!.info.run_id });
    const active = await ok("GET", "/runs/search", { experiment_ids: exp, filter: "params.model = 'linear'" });
    expect(active.runs).toHaveLength(1);
    expect(active.runs[0]).toEqual(await getRun(runs[2]!.info.run_id));
    const deleted = await ok("POST", "/runs/search", { experiment_ids: [exp], run_view_type: "DELETED_ONLY" });
    expect(names(deleted)).toEqual(["run-0"]);
    const all = await ok("POST", "/runs/search", { experiment_ids: [exp], run_view_type: "ALL" });
    expect(all.runs).toHaveLength(3);
    expect(await ok("POST", "/runs/search", { experiment_ids: [] })).toEqual({});
    const otherExp = await createExperiment();
    const both = await ok("GET", "/runs/search", { experiment_ids: [exp, otherExp] });
    expect(both.runs).toHaveLength(2);
  });

  it("answers the longest filter and order_by it accepts, and refuses longer ones", async () => {
    const { exp } = await seeded(3);
    const conditions = Array.from({ length: 20 }, (_, i) =>
      i % 3 === 0 ? `metrics.rmse >= ${-i}` : i % 3 === 1 ? `params.model LIKE '%'` : `tags.team != 'nobody${i}'`,
    );
    const order_by = Array.from({ length: 10 }, (_, i) => (i % 2 ? `params.p${i} DESC` : `metrics.m${i} ASC`));
    const body = await ok("POST", "/runs/search", {
      experiment_ids: [exp],
      filter: conditions.join(" AND "),
      order_by,
    });
    expect(body.runs).toHaveLength(3);
    const tooMany = await call("POST", "/runs/search", {
      experiment_ids: [exp],
      filter: [...conditions, "metrics.rmse > 0"].join(" AND "),
    });
    expectMlflowError(tooMany, 400, "INVALID_PARAMETER_VALUE", "at most 20 conditions");
    expectMlflowError(
      await call("POST", "/runs/search", { experiment_ids: [exp], order_by: [...order_by, "metrics.x"] }),
      400,
      "INVALID_PARAMETER_VALUE",
      "at most 10 clauses",
    );
  });

  it("refuses unsupported filters naming the part, and bad paging parameters", async () => {
    const exp = await createExperiment();
    const bad = async (body: Json, part: string | RegExp) =>
      expectMlflowError(
        await call("POST", "/runs/search", { experiment_ids: [exp], ...body }),
        400,
        "INVALID_PARAMETER_VALUE",
        part,
      );
    await bad({ filter: "metrics.rmse > 'high'" }, "metrics.rmse");
    await bad({ filter: "params.alpha > '1'" }, "params.alpha");
    await bad({ filter: "attributes.colour = 'red'" }, "attributes.colour");
    await bad({ filter: "datasets.colour = 'd'" }, "colour");
    await bad({ filter: "dataset.name = 3" }, "dataset.name");
    await bad({ filter: "widgets.count = 3" }, "widgets");
    await bad({ filter: "metrics.a > 1 OR metrics.b > 1" }, "OR");
    await bad({ filter: "params.alpha = 0.5" }, "quoted string");
    await bad({ filter: "metrics.rmse >" }, "end of input");
    await bad({ order_by: ["metrics.rmse SIDEWAYS"] }, "SIDEWAYS");
    await bad({ run_view_type: "SOME" }, "view type");
    await bad({ max_results: 50001 }, "max_results");
    await bad({ max_results: 0 }, "max_results");
    await bad({ page_token: "not-a-token" }, "page token");
    await ok("POST", "/runs/search", { experiment_ids: [exp], max_results: 50000 });
  });
});

describe("tracking writes never leave a partial state", () => {
  it("writes nothing for a batch with one bad metric among good ones", async () => {
    const run = await createRun("0", { run_name: uniqueName("atomic") });
    const res = await call("POST", "/runs/log-batch", {
      run_id: run.info.run_id,
      metrics: [
        { key: "good", value: 1, timestamp: 1 },
        { key: "bad", value: "x", timestamp: 1 },
      ],
      tags: [{ key: "t", value: "v" }],
    });
    expectMlflowError(res, 400, "INVALID_PARAMETER_VALUE");
    expect((await getRun(run.info.run_id)).data.metrics).toBeUndefined();
  });
});
