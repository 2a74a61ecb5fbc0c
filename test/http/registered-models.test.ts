import { describe, expect, it, vi } from "vitest";
import {
  AJAX_API,
  API,
  call,
  createModel,
  createModelWith,
  createVersionWith,
  EXTERNAL_SOURCE,
  expectError,
  testClock,
  transitionTo,
  uniqueName,
  type Json,
} from "../helpers";

// Each test drives the Worker through many real D1 and Durable Object round trips.
vi.setConfig({ testTimeout: 30_000 });

const get = (name: string, base = API) => call("GET", "/registered-models/get", { name }, base);
const getAlias = (name: string, alias: string, base = API) =>
  call("GET", "/registered-models/alias", { name, alias }, base);
const versionsNamed = async (name: string) =>
  (await call("GET", "/model-versions/search", { filter: `name = '${name}'` })).body.model_versions ?? [];
const byVersion = (versions: Json[]) => [...versions].sort((a, b) => Number(a.version) - Number(b.version));
const byStage = (versions: Json[]) => Object.fromEntries(versions.map((v) => [v.current_stage, v.version]));

describe("registered-models/create", () => {
  it("creates a model and answers MLflow's shape: name and timestamps, nothing unset", async () => {
    const name = uniqueName();
    const before = Date.now();
    const res = await call("POST", "/registered-models/create", { name });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body)).toEqual(["registered_model"]);
    const model = res.body.registered_model;
    expect(model).toEqual({ name, creation_timestamp: expect.any(Number), last_updated_timestamp: expect.any(Number) });
    expect(model.creation_timestamp).toBe(model.last_updated_timestamp);
    expect(model.creation_timestamp).toBeGreaterThanOrEqual(before - 1000);
    expect(model.creation_timestamp).toBeLessThanOrEqual(Date.now() + 1000);
  });

  it("stores the tags and description it is created with", async () => {
    const name = uniqueName();
    const created = await createModelWith({
      name,
      description: "Predicts house prices.",
      tags: [
        { key: "team", value: "pricing" },
        { key: "key with space", value: "v" },
      ],
    });
    expect(created.description).toBe("Predicts house prices.");
    expect([...created.tags].sort((a: Json, b: Json) => a.key.localeCompare(b.key))).toEqual([
      { key: "key with space", value: "v" },
      { key: "team", value: "pricing" },
    ]);
    const got = await get(name);
    expect(got.status).toBe(200);
    expect(got.body.registered_model.description).toBe("Predicts house prices.");
    expect(got.body.registered_model.tags).toHaveLength(2);
    expect(got.body.registered_model.tags).toEqual(
      expect.arrayContaining([
        { key: "team", value: "pricing" },
        { key: "key with space", value: "v" },
      ]),
    );
  });

  it("keeps the last value when the same tag key is given twice", async () => {
    const name = uniqueName();
    await createModelWith({
      name,
      tags: [
        { key: "k", value: "first" },
        { key: "k", value: "second" },
      ],
    });
    expect((await get(name)).body.registered_model.tags).toEqual([{ key: "k", value: "second" }]);
  });

  it("answers RESOURCE_ALREADY_EXISTS (400, not 409) for a duplicate name and keeps the first model", async () => {
    const name = await createModelWith({ name: uniqueName(), description: "first" }).then((m) => m.name);
    const res = await call("POST", "/registered-models/create", { name, description: "second" });
    expectError(res, 400, "RESOURCE_ALREADY_EXISTS", `Registered Model (name=${name}) already exists.`);
    expect((await get(name)).body.registered_model.description).toBe("first");
  });

  it("treats names as case-sensitive, as MLflow's SQL store does", async () => {
    const name = uniqueName("CaseModel");
    await createModel(name);
    const res = await call("POST", "/registered-models/create", { name: name.toLowerCase() });
    expect(res.status).toBe(200);
    expect(res.body.registered_model.name).toBe(name.toLowerCase());
  });

  it("accepts a 256-character name", async () => {
    const name = uniqueName().padEnd(256, "x");
    const res = await call("POST", "/registered-models/create", { name });
    expect(res.status).toBe(200);
    expect(res.body.registered_model.name).toBe(name);
  });

  it.each<[string, Json, string | RegExp]>([
    ["an empty name", { name: "" }, "Registered model name cannot be empty."],
    ["a blank name", { name: "   " }, "Registered model name cannot be empty."],
    ["a 257-character name", { name: "n".repeat(257) }, /maximum length of 256/],
    ["a numeric name", { name: 123 }, /'name'/],
    ["a null name", { name: null }, /'name'/],
    ["a list as name", { name: ["a"] }, /'name'/],
    ["no name at all", {}, /Missing value for required parameter 'name'/],
    ["tags that are not a list", { name: uniqueName("tags-not-list"), tags: "team=pricing" }, /'tags'/],
    [
      "a tag with a numeric value",
      { name: uniqueName("tag-numeric"), tags: [{ key: "k", value: 1 }] },
      /'tags\.0\.value'/,
    ],
    [
      "a tag with an over-long key",
      { name: uniqueName("tag-long"), tags: [{ key: "k".repeat(251), value: "v" }] },
      /maximum length of 250/,
    ],
    ["a numeric description", { name: uniqueName("desc-numeric"), description: 5 }, /'description'/],
  ])("rejects %s with INVALID_PARAMETER_VALUE", async (_what, params, message) => {
    const res = await call("POST", "/registered-models/create", params);
    expectError(res, 400, "INVALID_PARAMETER_VALUE", message);
    if (typeof params.name === "string" && params.name.trim() !== "" && params.name.length <= 256) {
      expectError(await get(params.name), 404, "RESOURCE_DOES_NOT_EXIST");
    }
  });
});

describe("registered-models/get", () => {
  it("answers RESOURCE_DOES_NOT_EXIST with MLflow's message for an unknown name", async () => {
    const name = uniqueName("DoesNotExist");
    expectError(await get(name), 404, "RESOURCE_DOES_NOT_EXIST", `Registered Model with name=${name} not found`);
  });

  it("returns tags, aliases and the latest version per stage", async () => {
    const name = await createModel();
    await createVersionWith(name);
    await createVersionWith(name);
    await transitionTo(name, "1", "Production");
    await call("POST", "/registered-models/set-tag", { name, key: "team", value: "pricing" });
    await call("POST", "/registered-models/alias", { name, alias: "champion", version: "2" });
    const res = await get(name);
    expect(res.status).toBe(200);
    const model = res.body.registered_model;
    expect(model.name).toBe(name);
    expect(model.tags).toEqual([{ key: "team", value: "pricing" }]);
    expect(model.aliases).toEqual([{ alias: "champion", version: "2" }]);
    expect(byStage(model.latest_versions)).toEqual({ None: "2", Production: "1" });
    expect(model.latest_versions).toHaveLength(2);
    const two = model.latest_versions.find((v: Json) => v.version === "2");
    expect(two).toMatchObject({ name, status: "READY" });
    // As MLflow's server answers: aliases are listed on the model, not on its latest_versions entries.
    expect(two).not.toHaveProperty("aliases");
  });

  it("handles names with spaces, non-ASCII letters and LIKE wildcards", async () => {
    const name = `${uniqueName("odd")} ü 名前 %_ it's`;
    expect((await call("POST", "/registered-models/create", { name })).status).toBe(200);
    expect((await get(name)).body.registered_model.name).toBe(name);
    expect((await createVersionWith(name)).name).toBe(name);
    const found = await call("GET", "/registered-models/search", { filter: `name = "${name}"` });
    expect(found.body.registered_models.map((m: Json) => m.name)).toEqual([name]);
  });

  it("reflects a version's new tag and description in latest_versions, and a new alias on the model, straight away", async () => {
    const name = await createModel();
    await createVersionWith(name);
    expect((await get(name)).body.registered_model.latest_versions[0]).not.toHaveProperty("tags");
    await call("POST", "/model-versions/set-tag", { name, version: "1", key: "k", value: "v" });
    await call("PATCH", "/model-versions/update", { name, version: "1", description: "new" });
    await call("POST", "/registered-models/alias", { name, alias: "champion", version: "1" });
    const model = (await get(name)).body.registered_model;
    expect(model.latest_versions[0]).toMatchObject({
      version: "1",
      description: "new",
      tags: [{ key: "k", value: "v" }],
    });
    expect(model.aliases).toEqual([{ alias: "champion", version: "1" }]);
  });

  it("requires the name parameter", async () => {
    expectError(await call("GET", "/registered-models/get", {}), 400, "INVALID_PARAMETER_VALUE", /'name'/);
  });
});

describe("registered-models/rename", () => {
  it("renames the model; its versions, tags and aliases follow", async () => {
    const oldName = await createModel();
    const newName = uniqueName("renamed");
    await createVersionWith(oldName, { run_id: "run1" });
    await createVersionWith(oldName);
    await call("POST", "/registered-models/set-tag", { name: oldName, key: "team", value: "pricing" });
    await call("POST", "/registered-models/alias", { name: oldName, alias: "champion", version: "1" });

    const res = await call("POST", "/registered-models/rename", { name: oldName, new_name: newName });
    expect(res.status).toBe(200);
    expect(res.body.registered_model.name).toBe(newName);
    expect(res.body.registered_model.latest_versions.map((v: Json) => v.name)).toEqual([newName]);

    const got = (await get(newName)).body.registered_model;
    expect(got.tags).toEqual([{ key: "team", value: "pricing" }]);
    expect(got.aliases).toEqual([{ alias: "champion", version: "1" }]);
    const v1 = await call("GET", "/model-versions/get", { name: newName, version: "1" });
    expect(v1.status).toBe(200);
    expect(v1.body.model_version).toMatchObject({ name: newName, version: "1", run_id: "run1", aliases: ["champion"] });
    expect((await getAlias(newName, "champion")).body.model_version.version).toBe("1");
    expect(byVersion(await versionsNamed(newName)).map((v) => [v.name, v.version])).toEqual([
      [newName, "1"],
      [newName, "2"],
    ]);
  });

  it("answers 404 for the old name afterwards", async () => {
    const oldName = await createModel();
    const newName = uniqueName("renamed");
    await createVersionWith(oldName);
    expect((await call("POST", "/registered-models/rename", { name: oldName, new_name: newName })).status).toBe(200);
    expectError(await get(oldName), 404, "RESOURCE_DOES_NOT_EXIST", `Registered Model with name=${oldName} not found`);
    expectError(
      await call("GET", "/model-versions/get", { name: oldName, version: "1" }),
      404,
      "RESOURCE_DOES_NOT_EXIST",
    );
    expect(await versionsNamed(oldName)).toEqual([]);
  });

  it("keeps numbering versions where the model left off", async () => {
    const oldName = await createModel();
    const newName = uniqueName("renamed");
    await createVersionWith(oldName);
    await createVersionWith(oldName);
    await call("POST", "/registered-models/rename", { name: oldName, new_name: newName });
    expect((await createVersionWith(newName)).version).toBe("3");
  });

  it("lets a new model take the old name, and the two stay separate", async () => {
    const oldName = await createModel();
    const newName = uniqueName("renamed");
    await createVersionWith(oldName, { source: "s3://modelgate-test-bucket/original/model" });
    await call("POST", "/registered-models/set-tag", { name: oldName, key: "generation", value: "first" });
    await call("POST", "/registered-models/rename", { name: oldName, new_name: newName });

    const recreated = await call("POST", "/registered-models/create", { name: oldName });
    expect(recreated.status).toBe(200);
    expect(recreated.body.registered_model).not.toHaveProperty("latest_versions");
    expect(recreated.body.registered_model).not.toHaveProperty("tags");

    const fresh = await createVersionWith(oldName, { source: "s3://modelgate-test-bucket/fresh/model" });
    expect(fresh.version).toBe("1");
    await call("POST", "/registered-models/set-tag", { name: oldName, key: "generation", value: "second" });

    const [renamed, reused] = [(await get(newName)).body.registered_model, (await get(oldName)).body.registered_model];
    expect(renamed.tags).toEqual([{ key: "generation", value: "first" }]);
    expect(reused.tags).toEqual([{ key: "generation", value: "second" }]);
    expect(renamed.latest_versions.map((v: Json) => v.source)).toEqual(["s3://modelgate-test-bucket/original/model"]);
    expect(reused.latest_versions.map((v: Json) => v.source)).toEqual(["s3://modelgate-test-bucket/fresh/model"]);
    expect((await createVersionWith(newName)).version).toBe("2");
    expect((await versionsNamed(oldName)).map((v: Json) => v.version)).toEqual(["1"]);
    expect(byVersion(await versionsNamed(newName)).map((v: Json) => v.version)).toEqual(["1", "2"]);
  });

  it("answers RESOURCE_ALREADY_EXISTS when the new name is taken, and renames nothing", async () => {
    const a = await createModel();
    const b = await createModel();
    await createVersionWith(a);
    const res = await call("POST", "/registered-models/rename", { name: a, new_name: b });
    expectError(res, 400, "RESOURCE_ALREADY_EXISTS", `Registered Model (name=${b}) already exists.`);
    expect((await get(a)).body.registered_model.latest_versions).toHaveLength(1);
    expect((await get(b)).body.registered_model).not.toHaveProperty("latest_versions");
    // The model still works under its old name after the refused rename.
    expect((await createVersionWith(a)).version).toBe("2");
  });

  it("answers RESOURCE_DOES_NOT_EXIST for an unknown model", async () => {
    const name = uniqueName("missing");
    const res = await call("POST", "/registered-models/rename", { name, new_name: uniqueName() });
    expectError(res, 404, "RESOURCE_DOES_NOT_EXIST", `Registered Model with name=${name} not found`);
  });

  it.each<[string, Json]>([
    ["an empty new name", { new_name: "" }],
    ["a numeric new name", { new_name: 5 }],
    ["no new name", {}],
  ])("rejects %s with INVALID_PARAMETER_VALUE and keeps the name", async (_what, params) => {
    const name = await createModel();
    expectError(await call("POST", "/registered-models/rename", { name, ...params }), 400, "INVALID_PARAMETER_VALUE");
    expect((await get(name)).status).toBe(200);
  });
});

describe("registered-models/update", () => {
  it("sets the description and moves last_updated_timestamp forward", async () => {
    testClock.freeze();
    const created = await createModelWith({ name: uniqueName() });
    testClock.advance();
    const res = await call("PATCH", "/registered-models/update", {
      name: created.name,
      description: "Predicts house prices from three synthetic features.",
    });
    expect(res.status).toBe(200);
    const model = res.body.registered_model;
    expect(model).toMatchObject({
      name: created.name,
      description: "Predicts house prices from three synthetic features.",
    });
    expect(model.creation_timestamp).toBe(created.creation_timestamp);
    expect(model.last_updated_timestamp).toBeGreaterThan(created.last_updated_timestamp);
    expect((await get(created.name)).body.registered_model.description).toBe(
      "Predicts house prices from three synthetic features.",
    );
  });

  it("answers with latest_versions like registered-models/get", async () => {
    const name = await createModel();
    await createVersionWith(name);
    const res = await call("PATCH", "/registered-models/update", { name, description: "d" });
    expect(res.body.registered_model.latest_versions.map((v: Json) => v.version)).toEqual(["1"]);
  });

  it("answers RESOURCE_DOES_NOT_EXIST for an unknown model", async () => {
    const name = uniqueName("missing");
    expectError(
      await call("PATCH", "/registered-models/update", { name, description: "d" }),
      404,
      "RESOURCE_DOES_NOT_EXIST",
    );
  });

  it("rejects an over-long description and keeps the old one", async () => {
    const name = (await createModelWith({ name: uniqueName(), description: "kept" })).name;
    const res = await call("PATCH", "/registered-models/update", { name, description: "d".repeat(5001) });
    expectError(res, 400, "INVALID_PARAMETER_VALUE", /maximum length of 5000/);
    expect((await get(name)).body.registered_model.description).toBe("kept");
  });
});

describe("registered-models/delete", () => {
  it("deletes the model, its versions, tags and aliases", async () => {
    const name = await createModel();
    await createVersionWith(name);
    await createVersionWith(name);
    await call("POST", "/registered-models/set-tag", { name, key: "team", value: "pricing" });
    await call("POST", "/registered-models/alias", { name, alias: "champion", version: "1" });

    const res = await call("DELETE", "/registered-models/delete", { name });
    expect(res).toEqual({ status: 200, body: {} });
    expectError(await get(name), 404, "RESOURCE_DOES_NOT_EXIST", `Registered Model with name=${name} not found`);
    expectError(await call("GET", "/model-versions/get", { name, version: "1" }), 404, "RESOURCE_DOES_NOT_EXIST");
    expectError(await getAlias(name, "champion"), 404, "RESOURCE_DOES_NOT_EXIST");
    const search = await call("GET", "/model-versions/search", { filter: `name = '${name}'`, max_results: 10000 });
    expect(search).toEqual({ status: 200, body: {} });
  });

  it("frees the name: a model created under it starts empty, at version 1", async () => {
    const name = await createModel();
    await createVersionWith(name);
    await createVersionWith(name);
    await transitionTo(name, "2", "Production");
    await call("POST", "/registered-models/set-tag", { name, key: "team", value: "pricing" });
    await call("POST", "/registered-models/alias", { name, alias: "champion", version: "2" });
    await call("DELETE", "/registered-models/delete", { name });

    const recreated = await call("POST", "/registered-models/create", { name });
    expect(recreated.status).toBe(200);
    const model = (await get(name)).body.registered_model;
    expect(model).not.toHaveProperty("tags");
    expect(model).not.toHaveProperty("aliases");
    expect(model).not.toHaveProperty("latest_versions");
    expectError(
      await getAlias(name, "champion"),
      400,
      "INVALID_PARAMETER_VALUE",
      "Registered model alias champion not found.",
    );
    expectError(await call("GET", "/model-versions/get", { name, version: "2" }), 404, "RESOURCE_DOES_NOT_EXIST");
    const v = await createVersionWith(name);
    expect(v).toMatchObject({ version: "1", current_stage: "None" });
    expect(await versionsNamed(name)).toHaveLength(1);
  });

  it("answers RESOURCE_DOES_NOT_EXIST for an unknown model", async () => {
    const name = uniqueName("missing");
    expectError(
      await call("DELETE", "/registered-models/delete", { name }),
      404,
      "RESOURCE_DOES_NOT_EXIST",
      `Registered Model with name=${name} not found`,
    );
  });

  it("answers RESOURCE_DOES_NOT_EXIST when deleting twice", async () => {
    const name = await createModel();
    expect((await call("DELETE", "/registered-models/delete", { name })).status).toBe(200);
    expectError(await call("DELETE", "/registered-models/delete", { name }), 404, "RESOURCE_DOES_NOT_EXIST");
  });
});

describe("registered-models/get-latest-versions", () => {
  /** v1 Staging, v2 Staging, v3 Production, v4 Archived, v5 None, v6 None. */
  async function modelInEveryStage(): Promise<string> {
    const name = await createModel();
    for (let i = 0; i < 6; i++) await createVersionWith(name);
    await transitionTo(name, "1", "Staging");
    await transitionTo(name, "2", "Staging");
    await transitionTo(name, "3", "Production");
    await transitionTo(name, "4", "Archived");
    return name;
  }

  it("answers the highest version of every stage when no stages are given (POST)", async () => {
    const name = await modelInEveryStage();
    const res = await call("POST", "/registered-models/get-latest-versions", { name });
    expect(res.status).toBe(200);
    expect(byStage(res.body.model_versions)).toEqual({ None: "6", Staging: "2", Production: "3", Archived: "4" });
    expect(res.body.model_versions).toHaveLength(4);
  });

  it("answers the highest version of every stage for an empty stages list", async () => {
    const name = await modelInEveryStage();
    const res = await call("POST", "/registered-models/get-latest-versions", { name, stages: [] });
    expect(byStage(res.body.model_versions)).toEqual({ None: "6", Staging: "2", Production: "3", Archived: "4" });
  });

  it("answers only the requested stages (POST body)", async () => {
    const name = await modelInEveryStage();
    const res = await call("POST", "/registered-models/get-latest-versions", { name, stages: ["Staging"] });
    expect(res.status).toBe(200);
    expect(res.body.model_versions).toHaveLength(1);
    expect(res.body.model_versions[0]).toMatchObject({ name, version: "2", current_stage: "Staging", status: "READY" });
  });

  it("reads repeated stages query keys on GET", async () => {
    const name = await modelInEveryStage();
    const res = await call("GET", "/registered-models/get-latest-versions", {
      name,
      stages: ["Production", "Staging"],
    });
    expect(res.status).toBe(200);
    expect(byStage(res.body.model_versions)).toEqual({ Staging: "2", Production: "3" });
  });

  it("reads a single stages query key on GET", async () => {
    const name = await modelInEveryStage();
    const res = await call("GET", "/registered-models/get-latest-versions", { name, stages: "Archived" });
    expect(byStage(res.body.model_versions)).toEqual({ Archived: "4" });
  });

  it("answers every stage on GET without stages", async () => {
    const name = await modelInEveryStage();
    const res = await call("GET", "/registered-models/get-latest-versions", { name });
    expect(byStage(res.body.model_versions)).toEqual({ None: "6", Staging: "2", Production: "3", Archived: "4" });
  });

  it("matches stage names case-insensitively", async () => {
    const name = await modelInEveryStage();
    const res = await call("POST", "/registered-models/get-latest-versions", {
      name,
      stages: ["production", "STAGING"],
    });
    expect(byStage(res.body.model_versions)).toEqual({ Staging: "2", Production: "3" });
  });

  it("answers {} when no version is in the requested stage", async () => {
    const name = await createModel();
    await createVersionWith(name);
    const res = await call("POST", "/registered-models/get-latest-versions", { name, stages: ["Production"] });
    expect(res).toEqual({ status: 200, body: {} });
  });

  it("skips versions that are not READY", async () => {
    const name = await createModel();
    await createVersionWith(name);
    // A copy of a version that does not exist cannot be registered.
    const failed = await createVersionWith(name, { source: `models:/${uniqueName("no-such-model")}/7` });
    expect(failed).toMatchObject({ version: "2", status: "FAILED_REGISTRATION" });
    const res = await call("POST", "/registered-models/get-latest-versions", { name });
    expect(res.body.model_versions.map((v: Json) => v.version)).toEqual(["1"]);
  });

  it("rejects an unknown stage with MLflow's message", async () => {
    const name = await modelInEveryStage();
    const res = await call("POST", "/registered-models/get-latest-versions", { name, stages: ["Production", "Prod"] });
    expectError(
      res,
      400,
      "INVALID_PARAMETER_VALUE",
      "Invalid Model Version stage: Prod. Value must be one of None, Staging, Production, Archived.",
    );
    const viaGet = await call("GET", "/registered-models/get-latest-versions", { name, stages: "Prod" });
    expectError(
      viaGet,
      400,
      "INVALID_PARAMETER_VALUE",
      "Invalid Model Version stage: Prod. Value must be one of None, Staging, Production, Archived.",
    );
  });

  it("answers RESOURCE_DOES_NOT_EXIST for an unknown model", async () => {
    const name = uniqueName("missing");
    expectError(
      await call("POST", "/registered-models/get-latest-versions", { name, stages: ["Production"] }),
      404,
      "RESOURCE_DOES_NOT_EXIST",
      `Registered Model with name=${name} not found`,
    );
  });
});

describe("registered-models/set-tag and delete-tag", () => {
  it("sets a tag and answers {}", async () => {
    const name = await createModel();
    const res = await call("POST", "/registered-models/set-tag", { name, key: "team", value: "pricing" });
    expect(res).toEqual({ status: 200, body: {} });
    expect((await get(name)).body.registered_model.tags).toEqual([{ key: "team", value: "pricing" }]);
  });

  it("overwrites an existing tag (upsert)", async () => {
    const name = await createModel();
    await call("POST", "/registered-models/set-tag", { name, key: "team", value: "pricing" });
    await call("POST", "/registered-models/set-tag", { name, key: "team", value: "search" });
    expect((await get(name)).body.registered_model.tags).toEqual([{ key: "team", value: "search" }]);
  });

  it("accepts a 250-character key and a 5000-character value", async () => {
    const name = await createModel();
    const key = "k".repeat(250);
    const value = "v".repeat(5000);
    expect((await call("POST", "/registered-models/set-tag", { name, key, value })).status).toBe(200);
    expect((await get(name)).body.registered_model.tags).toEqual([{ key, value }]);
  });

  it.each<[string, Json]>([
    ["an over-long key", { key: "k".repeat(251), value: "v" }],
    ["an over-long value", { key: "k", value: "v".repeat(100_001) }],
    ["an empty key", { key: "", value: "v" }],
    ["a numeric value", { key: "k", value: 5 }],
    ["no value", { key: "k" }],
  ])("rejects %s and sets nothing", async (_what, params) => {
    const name = await createModel();
    expectError(await call("POST", "/registered-models/set-tag", { name, ...params }), 400, "INVALID_PARAMETER_VALUE");
    expect((await get(name)).body.registered_model).not.toHaveProperty("tags");
  });

  it("deletes a tag and answers {}", async () => {
    const name = await createModel();
    await call("POST", "/registered-models/set-tag", { name, key: "team", value: "pricing" });
    await call("POST", "/registered-models/set-tag", { name, key: "tier", value: "gold" });
    expect(await call("DELETE", "/registered-models/delete-tag", { name, key: "team" })).toEqual({
      status: 200,
      body: {},
    });
    expect((await get(name)).body.registered_model.tags).toEqual([{ key: "tier", value: "gold" }]);
  });

  it("treats deleting an absent tag as a no-op", async () => {
    const name = await createModel();
    await call("POST", "/registered-models/set-tag", { name, key: "tier", value: "gold" });
    expect(await call("DELETE", "/registered-models/delete-tag", { name, key: "never-set" })).toEqual({
      status: 200,
      body: {},
    });
    expect((await get(name)).body.registered_model.tags).toEqual([{ key: "tier", value: "gold" }]);
  });

  it("answers RESOURCE_DOES_NOT_EXIST for an unknown model", async () => {
    const name = uniqueName("missing");
    expectError(
      await call("POST", "/registered-models/set-tag", { name, key: "k", value: "v" }),
      404,
      "RESOURCE_DOES_NOT_EXIST",
    );
    expectError(
      await call("DELETE", "/registered-models/delete-tag", { name, key: "k" }),
      404,
      "RESOURCE_DOES_NOT_EXIST",
    );
  });
});

describe("registered-models/alias", () => {
  it("sets an alias; GET alias answers the version with its aliases", async () => {
    const name = await createModel();
    await createVersionWith(name);
    await createVersionWith(name, { run_id: "run2" });
    expect(await call("POST", "/registered-models/alias", { name, alias: "champion", version: "2" })).toEqual({
      status: 200,
      body: {},
    });

    const res = await getAlias(name, "champion");
    expect(res.status).toBe(200);
    expect(res.body.model_version).toMatchObject({
      name,
      version: "2",
      run_id: "run2",
      current_stage: "None",
      aliases: ["champion"],
    });
    expect((await get(name)).body.registered_model.aliases).toEqual([{ alias: "champion", version: "2" }]);
    expect((await call("GET", "/model-versions/get", { name, version: "2" })).body.model_version.aliases).toEqual([
      "champion",
    ]);
    expect((await call("GET", "/model-versions/get", { name, version: "1" })).body.model_version).not.toHaveProperty(
      "aliases",
    );
  });

  it("accepts the version as a JSON number", async () => {
    const name = await createModel();
    await createVersionWith(name);
    expect((await call("POST", "/registered-models/alias", { name, alias: "numeric", version: 1 })).status).toBe(200);
    expect((await getAlias(name, "numeric")).body.model_version.version).toBe("1");
  });

  it("moves an existing alias to another version", async () => {
    const name = await createModel();
    await createVersionWith(name);
    await createVersionWith(name);
    await call("POST", "/registered-models/alias", { name, alias: "champion", version: "1" });
    await call("POST", "/registered-models/alias", { name, alias: "champion", version: "2" });
    expect((await getAlias(name, "champion")).body.model_version.version).toBe("2");
    expect((await get(name)).body.registered_model.aliases).toEqual([{ alias: "champion", version: "2" }]);
    expect((await call("GET", "/model-versions/get", { name, version: "1" })).body.model_version).not.toHaveProperty(
      "aliases",
    );
  });

  it("keeps several aliases on one version", async () => {
    const name = await createModel();
    await createVersionWith(name);
    await call("POST", "/registered-models/alias", { name, alias: "champion", version: "1" });
    await call("POST", "/registered-models/alias", { name, alias: "blessed", version: "1" });
    expect(
      [...(await call("GET", "/model-versions/get", { name, version: "1" })).body.model_version.aliases].sort(),
    ).toEqual(["blessed", "champion"]);
    const aliases = (await get(name)).body.registered_model.aliases;
    expect([...aliases].sort((a: Json, b: Json) => a.alias.localeCompare(b.alias))).toEqual([
      { alias: "blessed", version: "1" },
      { alias: "champion", version: "1" },
    ]);
  });

  it("deletes an alias: GET alias then answers 400 and the model lists no aliases", async () => {
    const name = await createModel();
    await createVersionWith(name);
    await call("POST", "/registered-models/alias", { name, alias: "champion", version: "1" });
    expect(await call("DELETE", "/registered-models/alias", { name, alias: "champion" })).toEqual({
      status: 200,
      body: {},
    });
    expectError(
      await getAlias(name, "champion"),
      400,
      "INVALID_PARAMETER_VALUE",
      "Registered model alias champion not found.",
    );
    expect((await get(name)).body.registered_model).not.toHaveProperty("aliases");
    expect((await call("GET", "/model-versions/get", { name, version: "1" })).body.model_version).not.toHaveProperty(
      "aliases",
    );
  });

  it("treats deleting an absent alias as a no-op", async () => {
    const name = await createModel();
    expect(await call("DELETE", "/registered-models/alias", { name, alias: "never-set" })).toEqual({
      status: 200,
      body: {},
    });
  });

  it("answers INVALID_PARAMETER_VALUE (400, as MLflow) with MLflow's message for a missing alias", async () => {
    const name = await createModel();
    await createVersionWith(name);
    expectError(
      await getAlias(name, "champion"),
      400,
      "INVALID_PARAMETER_VALUE",
      "Registered model alias champion not found.",
    );
  });

  it.each(["latest", "LATEST", "Latest", "v1", "V2", "v10"])("refuses the reserved alias %j", async (alias) => {
    const name = await createModel();
    await createVersionWith(name);
    expectError(
      await call("POST", "/registered-models/alias", { name, alias, version: "1" }),
      400,
      "INVALID_PARAMETER_VALUE",
      /reserved/,
    );
    expect((await get(name)).body.registered_model).not.toHaveProperty("aliases");
  });

  it.each(["bad alias", "bad.alias", "bad/alias", "bad@alias", "", "a".repeat(256)])(
    "refuses the malformed alias %j",
    async (alias) => {
      const name = await createModel();
      await createVersionWith(name);
      expectError(
        await call("POST", "/registered-models/alias", { name, alias, version: "1" }),
        400,
        "INVALID_PARAMETER_VALUE",
      );
      expect((await get(name)).body.registered_model).not.toHaveProperty("aliases");
    },
  );

  it("answers RESOURCE_DOES_NOT_EXIST for an alias to a missing version", async () => {
    const name = await createModel();
    await createVersionWith(name);
    const res = await call("POST", "/registered-models/alias", { name, alias: "champion", version: "9" });
    expectError(res, 404, "RESOURCE_DOES_NOT_EXIST", `Model Version (name=${name}, version=9) not found`);
    expect((await get(name)).body.registered_model).not.toHaveProperty("aliases");
  });

  it("answers INVALID_PARAMETER_VALUE for an alias to a non-numeric version", async () => {
    const name = await createModel();
    await createVersionWith(name);
    expectError(
      await call("POST", "/registered-models/alias", { name, alias: "champion", version: "abc" }),
      400,
      "INVALID_PARAMETER_VALUE",
      /version/,
    );
  });

  it("answers RESOURCE_DOES_NOT_EXIST for every alias route of an unknown model", async () => {
    const name = uniqueName("missing");
    const message = `Registered Model with name=${name} not found`;
    expectError(
      await call("POST", "/registered-models/alias", { name, alias: "champion", version: "1" }),
      404,
      "RESOURCE_DOES_NOT_EXIST",
      message,
    );
    expectError(
      await call("DELETE", "/registered-models/alias", { name, alias: "champion" }),
      404,
      "RESOURCE_DOES_NOT_EXIST",
      message,
    );
    expectError(await getAlias(name, "champion"), 404, "RESOURCE_DOES_NOT_EXIST", message);
  });

  it("drops the alias when its version is deleted", async () => {
    const name = await createModel();
    await createVersionWith(name);
    await createVersionWith(name);
    await call("POST", "/registered-models/alias", { name, alias: "champion", version: "2" });
    await call("POST", "/registered-models/alias", { name, alias: "stable", version: "1" });
    await call("DELETE", "/model-versions/delete", { name, version: "2" });
    expectError(
      await getAlias(name, "champion"),
      400,
      "INVALID_PARAMETER_VALUE",
      "Registered model alias champion not found.",
    );
    expect((await get(name)).body.registered_model.aliases).toEqual([{ alias: "stable", version: "1" }]);
  });
});

describe("the same routes under /ajax-api/2.0/mlflow", () => {
  it("serves the registered-model lifecycle as /api does", async () => {
    const name = uniqueName("ajax");
    const created = await call(
      "POST",
      "/registered-models/create",
      { name, tags: [{ key: "ui", value: "yes" }] },
      AJAX_API,
    );
    expect(created.status).toBe(200);
    expect(created.body.registered_model.name).toBe(name);
    expect((await get(name, AJAX_API)).body.registered_model.tags).toEqual([{ key: "ui", value: "yes" }]);
    // Both trees see the same registry.
    expect((await get(name, API)).status).toBe(200);

    const version = await call("POST", "/model-versions/create", { name, source: EXTERNAL_SOURCE }, AJAX_API);
    expect(version.body.model_version.version).toBe("1");
    expect(
      (await call("POST", "/registered-models/alias", { name, alias: "champion", version: "1" }, AJAX_API)).status,
    ).toBe(200);
    expect((await getAlias(name, "champion", AJAX_API)).body.model_version.version).toBe("1");
    expect(
      (await call("POST", "/model-versions/transition-stage", { name, version: "1", stage: "Staging" }, AJAX_API))
        .status,
    ).toBe(200);
    const latest = await call("GET", "/registered-models/get-latest-versions", { name, stages: "Staging" }, AJAX_API);
    expect(latest.body.model_versions.map((v: Json) => v.version)).toEqual(["1"]);
    const search = await call("GET", "/registered-models/search", { filter: `name = '${name}'` }, AJAX_API);
    expect(search.body.registered_models.map((m: Json) => m.name)).toEqual([name]);
    expect(
      (await call("PATCH", "/registered-models/update", { name, description: "via ajax" }, AJAX_API)).body
        .registered_model.description,
    ).toBe("via ajax");
    expect((await call("POST", "/registered-models/set-tag", { name, key: "k", value: "v" }, AJAX_API)).status).toBe(
      200,
    );
    expect((await call("DELETE", "/registered-models/delete-tag", { name, key: "k" }, AJAX_API)).status).toBe(200);
    expect((await call("DELETE", "/registered-models/alias", { name, alias: "champion" }, AJAX_API)).status).toBe(200);
    const newName = uniqueName("ajax-renamed");
    expect(
      (await call("POST", "/registered-models/rename", { name, new_name: newName }, AJAX_API)).body.registered_model
        .name,
    ).toBe(newName);
    expect(await call("DELETE", "/registered-models/delete", { name: newName }, AJAX_API)).toEqual({
      status: 200,
      body: {},
    });
    expectError(await get(newName, API), 404, "RESOURCE_DOES_NOT_EXIST");
  });

  it("answers errors with the same codes as /api", async () => {
    const name = uniqueName("ajax-missing");
    expectError(
      await get(name, AJAX_API),
      404,
      "RESOURCE_DOES_NOT_EXIST",
      `Registered Model with name=${name} not found`,
    );
    const existing = await createModel();
    expectError(
      await call("POST", "/registered-models/create", { name: existing }, AJAX_API),
      400,
      "RESOURCE_ALREADY_EXISTS",
    );
    expectError(
      await call("POST", "/registered-models/create", { name: "" }, AJAX_API),
      400,
      "INVALID_PARAMETER_VALUE",
    );
    expectError(await call("GET", "/registered-models/nope", {}, AJAX_API), 404, "ENDPOINT_NOT_FOUND");
  });
});
