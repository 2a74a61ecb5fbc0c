import { describe, expect, it } from "vitest";
import { call, createModel, createVersion, expectError, MODELGATE_API, transitionTo, uniqueName } from "../helpers";

const events = (params: Record<string, unknown>) => call("GET", "/events", params, MODELGATE_API);

describe("GET /api/2.0/modelgate/events", () => {
  it("answers a model's events in sequence order, in the wire shape", async () => {
    const name = await createModel();
    await createVersion(name);
    await transitionTo(name, "1", "Production", false, "ship it");
    const res = await events({ name });
    expect(res.status).toBe(200);
    expect(res.body.next_page_token).toBeUndefined();
    expect(res.body.events.map((e: { type: string }) => e.type)).toEqual([
      "registered_model.created",
      "model_version.created",
      "model_version.ready",
      "model_version.stage_transitioned",
    ]);
    expect(res.body.events[3]).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      type: "model_version.stage_transitioned",
      model_name: name,
      version: "1",
      from: "None",
      to: "Production",
      actor: "local",
      timestamp: expect.any(Number),
      sequence: 4,
      data: { comment: "ship it", archive_existing_versions: "false" },
    });
    // Unset fields are left out, as in every other answer; data is always there.
    expect(res.body.events[0]).toEqual({
      id: expect.any(String),
      type: "registered_model.created",
      model_name: name,
      to: name,
      actor: "local",
      timestamp: expect.any(Number),
      sequence: 1,
      data: {},
    });
  });

  it("pages with max_results and next_page_token, and starts after after_sequence", async () => {
    const name = await createModel();
    for (let i = 0; i < 6; i++) await call("POST", "/registered-models/set-tag", { name, key: `k${i}`, value: "v" });
    const seen: number[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const res = await events({ name, max_results: 3, ...(token ? { page_token: token } : {}) });
      expect(res.status).toBe(200);
      seen.push(...res.body.events.map((e: { sequence: number }) => e.sequence));
      token = res.body.next_page_token;
      pages += 1;
    } while (token && pages < 10);
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(pages).toBe(3);
    const after = await events({ name, after_sequence: 5 });
    expect(after.body.events.map((e: { sequence: number }) => e.sequence)).toEqual([6, 7]);
    expect((await events({ name, after_sequence: 7 })).body).toEqual({ events: [] });
  });

  it("does not show a deleted model's events under a new model of the same name", async () => {
    const name = await createModel();
    await createVersion(name);
    await call("DELETE", "/registered-models/delete", { name });
    await createModel(name);
    const res = await events({ name });
    expect(res.body.events.map((e: { type: string; sequence: number }) => [e.type, e.sequence])).toEqual([
      ["registered_model.created", 1],
    ]);
  });

  it("refuses bad input with MLflow's error JSON", async () => {
    const name = await createModel();
    expectError(await events({}), 400, "INVALID_PARAMETER_VALUE", /'name'/);
    expectError(await events({ name, max_results: 0 }), 400, "INVALID_PARAMETER_VALUE", /max_results/);
    expectError(await events({ name, max_results: "many" }), 400, "INVALID_PARAMETER_VALUE", /max_results/);
    expectError(await events({ name, after_sequence: -1 }), 400, "INVALID_PARAMETER_VALUE", /after_sequence/);
    expectError(await events({ name, page_token: "not-a-token" }), 400, "INVALID_PARAMETER_VALUE", /page token/);
    expectError(await events({ name: uniqueName("absent") }), 404, "RESOURCE_DOES_NOT_EXIST");
  });
});
