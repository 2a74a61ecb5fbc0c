import { describe, expect, it, vi } from "vitest";
import {
  AJAX_API,
  call,
  createModel,
  createVersionWith,
  expectError,
  EXTERNAL_SOURCE,
  MODELGATE_API,
  stagesOf,
  testClock,
  transitionTo,
  uniqueName,
  type Json,
} from "../helpers";

// Each test drives the Worker through many real D1 and Durable Object round trips.
vi.setConfig({ testTimeout: 30_000 });

const getVersion = (name: string, version: string) => call("GET", "/model-versions/get", { name, version });
const transition = (params: Json) => call("POST", "/model-versions/transition-stage", params);
const history = (name: string, params: Json = {}) =>
  call("GET", "/model-versions/transitions", { name, ...params }, MODELGATE_API);
const latest = async (name: string, stages?: string[]) =>
  (await call("POST", "/registered-models/get-latest-versions", { name, ...(stages ? { stages } : {}) })).body
    .model_versions ?? [];
const STAGE_ERROR = (stage: string) =>
  `Invalid Model Version stage: ${stage}. Value must be one of None, Staging, Production, Archived.`;

/** A model with `count` versions, all in stage None. */
async function modelWithVersions(count: number): Promise<string> {
  const name = await createModel();
  for (let i = 0; i < count; i++) await createVersionWith(name);
  return name;
}

describe("model-versions/create", () => {
  it('answers version "1" as a string with MLflow\'s fields: stage None, READY, empty description and run_link', async () => {
    const name = await createModel();
    const res = await call("POST", "/model-versions/create", {
      name,
      source: "s3://modelgate-test-bucket/3104e779/artifacts/linear_regression_model",
      run_id: "3104e779eb424b1e97ba09274a4dd10a",
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      model_version: {
        name,
        version: "1",
        creation_timestamp: expect.any(Number),
        last_updated_timestamp: expect.any(Number),
        current_stage: "None",
        description: "",
        source: "s3://modelgate-test-bucket/3104e779/artifacts/linear_regression_model",
        run_id: "3104e779eb424b1e97ba09274a4dd10a",
        status: "READY",
        run_link: "",
      },
    });
    expect(res.body.model_version.creation_timestamp).toBe(res.body.model_version.last_updated_timestamp);
  });

  it("numbers versions 1, 2, 3 per model, as strings", async () => {
    const name = await createModel();
    const other = await createModel();
    expect((await createVersionWith(name)).version).toBe("1");
    expect((await createVersionWith(other)).version).toBe("1");
    expect((await createVersionWith(name)).version).toBe("2");
    expect((await createVersionWith(name)).version).toBe("3");
  });

  it("stores tags, description and run_link", async () => {
    const name = await createModel();
    const v = await createVersionWith(name, {
      description: "first cut",
      run_link: "http://tracking/runs/abc",
      tags: [{ key: "validation_status", value: "approved" }],
    });
    expect(v).toMatchObject({
      description: "first cut",
      run_link: "http://tracking/runs/abc",
      tags: [{ key: "validation_status", value: "approved" }],
    });
    expect((await getVersion(name, "1")).body.model_version).toMatchObject({
      description: "first cut",
      run_link: "http://tracking/runs/abc",
      tags: [{ key: "validation_status", value: "approved" }],
    });
  });

  it("moves the registered model's last_updated_timestamp to the new version's creation time", async () => {
    testClock.freeze();
    const name = await createModel();
    const created = (await call("GET", "/registered-models/get", { name })).body.registered_model;
    testClock.advance();
    const v = await createVersionWith(name);
    const model = (await call("GET", "/registered-models/get", { name })).body.registered_model;
    expect(model.creation_timestamp).toBe(created.creation_timestamp);
    expect(model.last_updated_timestamp).toBe(v.creation_timestamp);
    expect(model.last_updated_timestamp).toBeGreaterThan(created.last_updated_timestamp);
  });

  it("tolerates request fields it does not know (newer clients send more)", async () => {
    const name = await createModel();
    const res = await call("POST", "/model-versions/create", {
      name,
      source: EXTERNAL_SOURCE,
      some_future_field: { nested: true },
    });
    expect(res.status).toBe(200);
    expect(res.body.model_version.version).toBe("1");
  });

  it("answers RESOURCE_DOES_NOT_EXIST for an unknown model", async () => {
    const name = uniqueName("missing");
    const res = await call("POST", "/model-versions/create", { name, source: EXTERNAL_SOURCE });
    expectError(res, 404, "RESOURCE_DOES_NOT_EXIST", `Registered Model with name=${name} not found`);
  });

  it.each<[string, Json, RegExp]>([
    ["a missing source", {}, /Missing value for required parameter 'source'/],
    ["an empty source", { source: "" }, /source cannot be empty/],
    ["a numeric source", { source: 5 }, /'source'/],
    ["a 501-character source", { source: `s3://b/${"s".repeat(495)}` }, /maximum length of 500/],
    ["an over-long description", { source: EXTERNAL_SOURCE, description: "d".repeat(5001) }, /maximum length of 5000/],
    [
      "a tag with an over-long value",
      { source: EXTERNAL_SOURCE, tags: [{ key: "k", value: "v".repeat(100_001) }] },
      /maximum length of 100000/,
    ],
    ["a tag without a value", { source: EXTERNAL_SOURCE, tags: [{ key: "k" }] }, /'tags\.0\.value'/],
    ["a numeric run_id", { source: EXTERNAL_SOURCE, run_id: 42 }, /'run_id'/],
  ])("rejects %s with INVALID_PARAMETER_VALUE and uses up no version number", async (_what, params, message) => {
    const name = await createModel();
    expectError(
      await call("POST", "/model-versions/create", { name, ...params }),
      400,
      "INVALID_PARAMETER_VALUE",
      message,
    );
    expect((await call("GET", "/registered-models/get", { name })).body.registered_model).not.toHaveProperty(
      "latest_versions",
    );
    expect((await createVersionWith(name)).version).toBe("1");
  });

  it("registers a copy of another version (models:/<name>/<version>) downloading the original's files", async () => {
    const original = await createModel();
    await createVersionWith(original, { source: "s3://modelgate-test-bucket/original/model", run_id: "origrun" });
    const copy = await createModel();
    const v = await createVersionWith(copy, { source: `models:/${original}/1` });
    expect(v).toMatchObject({ version: "1", status: "READY", source: `models:/${original}/1`, run_id: "origrun" });
    const uri = await call("GET", "/model-versions/get-download-uri", { name: copy, version: "1" });
    expect(uri).toEqual({ status: 200, body: { artifact_uri: "s3://modelgate-test-bucket/original/model" } });
  });

  it("registers a copy of an aliased version (models:/<name>@<alias>)", async () => {
    const original = await createModel();
    await createVersionWith(original, { source: "s3://modelgate-test-bucket/first/model" });
    await createVersionWith(original, { source: "s3://modelgate-test-bucket/second/model" });
    await call("POST", "/registered-models/alias", { name: original, alias: "champion", version: "2" });
    const copy = await createModel();
    const v = await createVersionWith(copy, { source: `models:/${original}@champion` });
    expect(v.status).toBe("READY");
    expect(
      (await call("GET", "/model-versions/get-download-uri", { name: copy, version: "1" })).body.artifact_uri,
    ).toBe("s3://modelgate-test-bucket/second/model");
  });
});

describe("model-versions/get", () => {
  it("answers the version with its tags and aliases", async () => {
    const name = await createModel();
    await createVersionWith(name, { run_id: "abc", tags: [{ key: "k", value: "v" }] });
    await call("POST", "/registered-models/alias", { name, alias: "champion", version: "1" });
    const res = await getVersion(name, "1");
    expect(res.status).toBe(200);
    expect(res.body.model_version).toEqual({
      name,
      version: "1",
      creation_timestamp: expect.any(Number),
      last_updated_timestamp: expect.any(Number),
      current_stage: "None",
      description: "",
      source: EXTERNAL_SOURCE,
      run_id: "abc",
      status: "READY",
      tags: [{ key: "k", value: "v" }],
      run_link: "",
      aliases: ["champion"],
      // Modelgate's own field (docs/supply-chain.md); an external source has no files to scan, so it
      // is clean once its coordinator records that, pending until then.
      scan: expect.stringMatching(/^(pending|clean)$/),
    });
  });

  it("answers RESOURCE_DOES_NOT_EXIST with MLflow's message for a missing version", async () => {
    const name = await modelWithVersions(1);
    expectError(
      await getVersion(name, "99"),
      404,
      "RESOURCE_DOES_NOT_EXIST",
      `Model Version (name=${name}, version=99) not found`,
    );
  });

  it("answers RESOURCE_DOES_NOT_EXIST for a version of an unknown model", async () => {
    expectError(await getVersion(uniqueName("missing"), "1"), 404, "RESOURCE_DOES_NOT_EXIST");
  });

  it.each(["abc", "1.5", "-1", "0", ""])("rejects the version %j with INVALID_PARAMETER_VALUE", async (version) => {
    const name = await modelWithVersions(1);
    expectError(await getVersion(name, version), 400, "INVALID_PARAMETER_VALUE", /version/);
  });

  it("requires name and version", async () => {
    expectError(await call("GET", "/model-versions/get", { name: "x" }), 400, "INVALID_PARAMETER_VALUE", /'version'/);
    expectError(await call("GET", "/model-versions/get", { version: "1" }), 400, "INVALID_PARAMETER_VALUE", /'name'/);
  });
});

describe("model-versions/update", () => {
  it("sets the description and moves only last_updated_timestamp", async () => {
    testClock.freeze();
    const name = await createModel();
    const created = await createVersionWith(name);
    testClock.advance();
    const res = await call("PATCH", "/model-versions/update", {
      name,
      version: "1",
      description: "Linear regression v1; promoted back to Production after review.",
    });
    expect(res.status).toBe(200);
    const v = res.body.model_version;
    expect(v).toMatchObject({
      name,
      version: "1",
      current_stage: "None",
      description: "Linear regression v1; promoted back to Production after review.",
    });
    expect(v.creation_timestamp).toBe(created.creation_timestamp);
    expect(v.last_updated_timestamp).toBeGreaterThan(created.last_updated_timestamp);
    expect((await getVersion(name, "1")).body.model_version.description).toBe(
      "Linear regression v1; promoted back to Production after review.",
    );
  });

  it("keeps the stage, tags and aliases", async () => {
    const name = await createModel();
    await createVersionWith(name, { tags: [{ key: "k", value: "v" }] });
    await transitionTo(name, "1", "Staging");
    await call("POST", "/registered-models/alias", { name, alias: "champion", version: "1" });
    const v = (await call("PATCH", "/model-versions/update", { name, version: "1", description: "d" })).body
      .model_version;
    expect(v).toMatchObject({
      current_stage: "Staging",
      tags: [{ key: "k", value: "v" }],
      aliases: ["champion"],
      description: "d",
    });
  });

  it("answers RESOURCE_DOES_NOT_EXIST for a missing version", async () => {
    const name = await modelWithVersions(1);
    expectError(
      await call("PATCH", "/model-versions/update", { name, version: "5", description: "d" }),
      404,
      "RESOURCE_DOES_NOT_EXIST",
      `Model Version (name=${name}, version=5) not found`,
    );
  });

  it("rejects an over-long description and keeps the old one", async () => {
    const name = await createModel();
    await createVersionWith(name, { description: "kept" });
    expectError(
      await call("PATCH", "/model-versions/update", { name, version: "1", description: "d".repeat(5001) }),
      400,
      "INVALID_PARAMETER_VALUE",
    );
    expect((await getVersion(name, "1")).body.model_version.description).toBe("kept");
  });
});

describe("model-versions/delete", () => {
  it("deletes the version and answers {}", async () => {
    const name = await modelWithVersions(2);
    expect(await call("DELETE", "/model-versions/delete", { name, version: "2" })).toEqual({ status: 200, body: {} });
    expectError(
      await getVersion(name, "2"),
      404,
      "RESOURCE_DOES_NOT_EXIST",
      `Model Version (name=${name}, version=2) not found`,
    );
    expect((await getVersion(name, "1")).status).toBe(200);
    expect((await latest(name)).map((v: Json) => v.version)).toEqual(["1"]);
    const search = await call("GET", "/model-versions/search", { filter: `name = '${name}'` });
    expect(search.body.model_versions.map((v: Json) => v.version)).toEqual(["1"]);
  });

  it("never reuses the number: delete v2 of 1..2, the next version is 3", async () => {
    const name = await modelWithVersions(2);
    await call("DELETE", "/model-versions/delete", { name, version: "2" });
    expect((await createVersionWith(name)).version).toBe("3");
  });

  it("never reuses numbers even after every version is gone", async () => {
    const name = await modelWithVersions(2);
    await call("DELETE", "/model-versions/delete", { name, version: "1" });
    await call("DELETE", "/model-versions/delete", { name, version: "2" });
    expect((await call("GET", "/registered-models/get", { name })).body.registered_model).not.toHaveProperty(
      "latest_versions",
    );
    expect((await createVersionWith(name)).version).toBe("3");
  });

  it("removes the aliases that point at the deleted version", async () => {
    const name = await modelWithVersions(2);
    await call("POST", "/registered-models/alias", { name, alias: "champion", version: "2" });
    await call("DELETE", "/model-versions/delete", { name, version: "2" });
    expectError(
      await call("GET", "/registered-models/alias", { name, alias: "champion" }),
      400,
      "INVALID_PARAMETER_VALUE",
      "Registered model alias champion not found.",
    );
    expect((await call("GET", "/registered-models/get", { name })).body.registered_model).not.toHaveProperty("aliases");
  });

  it("lets the next version take Production once the Production version is deleted", async () => {
    const name = await modelWithVersions(2);
    await transitionTo(name, "1", "Production");
    await call("DELETE", "/model-versions/delete", { name, version: "1" });
    expect(await latest(name, ["Production"])).toEqual([]);
    await transitionTo(name, "2", "Production");
    expect((await latest(name, ["Production"])).map((v: Json) => v.version)).toEqual(["2"]);
  });

  it("answers RESOURCE_DOES_NOT_EXIST for a missing or already deleted version", async () => {
    const name = await modelWithVersions(1);
    expectError(
      await call("DELETE", "/model-versions/delete", { name, version: "7" }),
      404,
      "RESOURCE_DOES_NOT_EXIST",
      `Model Version (name=${name}, version=7) not found`,
    );
    await call("DELETE", "/model-versions/delete", { name, version: "1" });
    expectError(await call("DELETE", "/model-versions/delete", { name, version: "1" }), 404, "RESOURCE_DOES_NOT_EXIST");
  });

  it("rejects a non-numeric version and deletes nothing", async () => {
    const name = await modelWithVersions(1);
    expectError(
      await call("DELETE", "/model-versions/delete", { name, version: "abc" }),
      400,
      "INVALID_PARAMETER_VALUE",
    );
    expect((await getVersion(name, "1")).status).toBe(200);
  });
});

describe("model-versions/transition-stage", () => {
  it("moves a version to Staging and answers the version in its new stage", async () => {
    testClock.freeze();
    const name = await createModel();
    const created = await createVersionWith(name);
    testClock.advance();
    const res = await transition({ name, version: "1", stage: "Staging", archive_existing_versions: false });
    expect(res.status).toBe(200);
    expect(res.body.model_version).toMatchObject({ name, version: "1", current_stage: "Staging", status: "READY" });
    expect(res.body.model_version.last_updated_timestamp).toBeGreaterThan(created.last_updated_timestamp);
    expect((await getVersion(name, "1")).body.model_version.current_stage).toBe("Staging");
  });

  it.each([
    ["staging", "Staging"],
    ["PRODUCTION", "Production"],
    ["archived", "Archived"],
    ["nOnE", "None"],
  ])("matches the stage %j case-insensitively and answers %j", async (stage, canonical) => {
    const name = await modelWithVersions(1);
    const res = await transition({ name, version: "1", stage });
    expect(res.status).toBe(200);
    expect(res.body.model_version.current_stage).toBe(canonical);
    expect((await getVersion(name, "1")).body.model_version.current_stage).toBe(canonical);
  });

  it("rejects an unknown stage with MLflow's exact message and changes nothing", async () => {
    const name = await modelWithVersions(1);
    await transitionTo(name, "1", "Production");
    const res = await transition({ name, version: "1", stage: "NotAStage", archive_existing_versions: false });
    expectError(res, 400, "INVALID_PARAMETER_VALUE", STAGE_ERROR("NotAStage"));
    expect((await getVersion(name, "1")).body.model_version.current_stage).toBe("Production");
  });

  it("archives the previous Production version on promotion even with archive_existing_versions=false", async () => {
    const name = await modelWithVersions(2);
    await transitionTo(name, "1", "Production");
    const res = await transition({ name, version: "2", stage: "Production", archive_existing_versions: false });
    expect(res.status).toBe(200);
    expect(res.body.model_version.current_stage).toBe("Production");
    expect(await stagesOf(name, ["1", "2"])).toEqual({ "1": "Archived", "2": "Production" });
    expect((await latest(name, ["Production"])).map((v: Json) => v.version)).toEqual(["2"]);
  });

  it("archives the previous Production version on promotion when archive_existing_versions is omitted", async () => {
    const name = await modelWithVersions(2);
    await transitionTo(name, "2", "Production");
    expect((await transition({ name, version: "1", stage: "production" })).status).toBe(200);
    expect(await stagesOf(name, ["1", "2"])).toEqual({ "1": "Production", "2": "Archived" });
  });

  it("leaves exactly one Production version after a run of promotions", async () => {
    const name = await modelWithVersions(4);
    for (const v of ["1", "3", "2", "4"]) await transitionTo(name, v, "Production");
    expect(await stagesOf(name, ["1", "2", "3", "4"])).toEqual({
      "1": "Archived",
      "2": "Archived",
      "3": "Archived",
      "4": "Production",
    });
    const search = await call("GET", "/model-versions/search", { filter: `name = '${name}'` });
    expect(
      search.body.model_versions.filter((v: Json) => v.current_stage === "Production").map((v: Json) => v.version),
    ).toEqual(["4"]);
  });

  it("moves the archived version's last_updated_timestamp too", async () => {
    testClock.freeze();
    const name = await modelWithVersions(2);
    const before = (await transitionTo(name, "1", "Production")).last_updated_timestamp;
    testClock.advance();
    const promoted = await transitionTo(name, "2", "Production");
    const archived = (await getVersion(name, "1")).body.model_version;
    expect(archived.last_updated_timestamp).toBeGreaterThan(before);
    expect(archived.last_updated_timestamp).toBe(promoted.last_updated_timestamp);
  });

  it("does not archive Staging versions when promoting to Production", async () => {
    const name = await modelWithVersions(3);
    await transitionTo(name, "1", "Staging");
    await transitionTo(name, "2", "Staging");
    await transitionTo(name, "3", "Production", true);
    expect(await stagesOf(name, ["1", "2", "3"])).toEqual({ "1": "Staging", "2": "Staging", "3": "Production" });
  });

  it("re-promoting the Production version keeps it in Production", async () => {
    const name = await modelWithVersions(1);
    await transitionTo(name, "1", "Production");
    const res = await transition({ name, version: "1", stage: "Production", archive_existing_versions: true });
    expect(res.body.model_version.current_stage).toBe("Production");
  });

  it("archives the other Staging versions with archive_existing_versions=true on Staging", async () => {
    const name = await modelWithVersions(5);
    await transitionTo(name, "1", "Staging");
    await transitionTo(name, "2", "Staging");
    await transitionTo(name, "3", "Production");
    const res = await transition({ name, version: "4", stage: "Staging", archive_existing_versions: true });
    expect(res.status).toBe(200);
    expect(await stagesOf(name, ["1", "2", "3", "4", "5"])).toEqual({
      "1": "Archived",
      "2": "Archived",
      "3": "Production",
      "4": "Staging",
      "5": "None",
    });
  });

  it("keeps the other Staging versions with archive_existing_versions=false on Staging", async () => {
    const name = await modelWithVersions(2);
    await transitionTo(name, "1", "Staging");
    await transitionTo(name, "2", "Staging", false);
    expect(await stagesOf(name, ["1", "2"])).toEqual({ "1": "Staging", "2": "Staging" });
  });

  it('reads archive_existing_versions sent as the text "true"', async () => {
    const name = await modelWithVersions(2);
    await transitionTo(name, "1", "Staging");
    expect((await transition({ name, version: "2", stage: "Staging", archive_existing_versions: "true" })).status).toBe(
      200,
    );
    expect(await stagesOf(name, ["1", "2"])).toEqual({ "1": "Archived", "2": "Staging" });
  });

  it.each(["Archived", "None", "archived"])(
    "rejects archive_existing_versions=true with the inactive stage %j and changes nothing",
    async (stage) => {
      const name = await modelWithVersions(2);
      await transitionTo(name, "1", "Staging");
      await transitionTo(name, "2", "Production");
      const res = await transition({ name, version: "1", stage, archive_existing_versions: true });
      expectError(res, 400, "INVALID_PARAMETER_VALUE", /is not an Active stage/);
      expect(await stagesOf(name, ["1", "2"])).toEqual({ "1": "Staging", "2": "Production" });
    },
  );

  it("answers RESOURCE_DOES_NOT_EXIST for a missing version or model", async () => {
    const name = await modelWithVersions(1);
    expectError(
      await transition({ name, version: "9", stage: "Staging" }),
      404,
      "RESOURCE_DOES_NOT_EXIST",
      `Model Version (name=${name}, version=9) not found`,
    );
    const missing = uniqueName("missing");
    expectError(
      await transition({ name: missing, version: "1", stage: "Staging" }),
      404,
      "RESOURCE_DOES_NOT_EXIST",
      `Registered Model with name=${missing} not found`,
    );
  });

  it.each<[string, Json]>([
    ["a non-numeric version", { version: "abc", stage: "Staging" }],
    ["a missing stage", { version: "1" }],
    ["a numeric stage", { version: "1", stage: 3 }],
    ["a non-boolean archive_existing_versions", { version: "1", stage: "Staging", archive_existing_versions: "maybe" }],
    ["an over-long comment", { version: "1", stage: "Staging", comment: "c".repeat(1001) }],
  ])("rejects %s with INVALID_PARAMETER_VALUE and changes nothing", async (_what, params) => {
    const name = await modelWithVersions(1);
    expectError(await transition({ name, ...params }), 400, "INVALID_PARAMETER_VALUE");
    expect((await getVersion(name, "1")).body.model_version.current_stage).toBe("None");
    expect((await history(name)).body.transitions ?? []).toEqual([]);
  });
});

describe("model-versions/get-download-uri", () => {
  it("answers the version's source as artifact_uri", async () => {
    const name = await createModel();
    await createVersionWith(name, {
      source: "s3://modelgate-test-bucket/1/6866409e/artifacts/linear_regression_model_v2",
    });
    const res = await call("GET", "/model-versions/get-download-uri", { name, version: "1" });
    expect(res).toEqual({
      status: 200,
      body: { artifact_uri: "s3://modelgate-test-bucket/1/6866409e/artifacts/linear_regression_model_v2" },
    });
  });

  it("answers RESOURCE_DOES_NOT_EXIST for a missing version and INVALID_PARAMETER_VALUE for a bad one", async () => {
    const name = await modelWithVersions(1);
    expectError(
      await call("GET", "/model-versions/get-download-uri", { name, version: "2" }),
      404,
      "RESOURCE_DOES_NOT_EXIST",
      `Model Version (name=${name}, version=2) not found`,
    );
    expectError(
      await call("GET", "/model-versions/get-download-uri", { name, version: "abc" }),
      400,
      "INVALID_PARAMETER_VALUE",
    );
    expectError(
      await call("GET", "/model-versions/get-download-uri", { name: uniqueName("missing"), version: "1" }),
      404,
      "RESOURCE_DOES_NOT_EXIST",
    );
  });
});

describe("model-versions/set-tag and delete-tag", () => {
  it("sets a tag and answers {}", async () => {
    const name = await modelWithVersions(1);
    const res = await call("POST", "/model-versions/set-tag", {
      name,
      version: "1",
      key: "validation_status",
      value: "approved",
    });
    expect(res).toEqual({ status: 200, body: {} });
    expect((await getVersion(name, "1")).body.model_version.tags).toEqual([
      { key: "validation_status", value: "approved" },
    ]);
  });

  it("overwrites an existing tag (upsert) and leaves other versions alone", async () => {
    const name = await modelWithVersions(2);
    await call("POST", "/model-versions/set-tag", { name, version: "1", key: "k", value: "old" });
    await call("POST", "/model-versions/set-tag", { name, version: "2", key: "k", value: "other" });
    await call("POST", "/model-versions/set-tag", { name, version: "1", key: "k", value: "new" });
    expect((await getVersion(name, "1")).body.model_version.tags).toEqual([{ key: "k", value: "new" }]);
    expect((await getVersion(name, "2")).body.model_version.tags).toEqual([{ key: "k", value: "other" }]);
  });

  it("accepts a 250-character key and a 5000-character value", async () => {
    const name = await modelWithVersions(1);
    const key = "k".repeat(250);
    const value = "v".repeat(5000);
    expect((await call("POST", "/model-versions/set-tag", { name, version: "1", key, value })).status).toBe(200);
    expect((await getVersion(name, "1")).body.model_version.tags).toEqual([{ key, value }]);
  });

  it.each<[string, Json]>([
    ["an over-long key", { key: "k".repeat(251), value: "v" }],
    ["an over-long value", { key: "k", value: "v".repeat(100_001) }],
    ["an empty key", { key: "", value: "v" }],
    ["a numeric value", { key: "k", value: 1 }],
  ])("rejects %s and sets nothing", async (_what, params) => {
    const name = await modelWithVersions(1);
    expectError(
      await call("POST", "/model-versions/set-tag", { name, version: "1", ...params }),
      400,
      "INVALID_PARAMETER_VALUE",
    );
    expect((await getVersion(name, "1")).body.model_version).not.toHaveProperty("tags");
  });

  it("deletes a tag and answers {}; the tags key goes with the last tag", async () => {
    const name = await modelWithVersions(1);
    await call("POST", "/model-versions/set-tag", { name, version: "1", key: "a", value: "1" });
    await call("POST", "/model-versions/set-tag", { name, version: "1", key: "b", value: "2" });
    expect(await call("DELETE", "/model-versions/delete-tag", { name, version: "1", key: "a" })).toEqual({
      status: 200,
      body: {},
    });
    expect((await getVersion(name, "1")).body.model_version.tags).toEqual([{ key: "b", value: "2" }]);
    await call("DELETE", "/model-versions/delete-tag", { name, version: "1", key: "b" });
    expect((await getVersion(name, "1")).body.model_version).not.toHaveProperty("tags");
  });

  it("treats deleting an absent tag as a no-op", async () => {
    const name = await modelWithVersions(1);
    expect(await call("DELETE", "/model-versions/delete-tag", { name, version: "1", key: "never-set" })).toEqual({
      status: 200,
      body: {},
    });
  });

  it("answers RESOURCE_DOES_NOT_EXIST for a missing version", async () => {
    const name = await modelWithVersions(1);
    expectError(
      await call("POST", "/model-versions/set-tag", { name, version: "3", key: "k", value: "v" }),
      404,
      "RESOURCE_DOES_NOT_EXIST",
      `Model Version (name=${name}, version=3) not found`,
    );
    expectError(
      await call("DELETE", "/model-versions/delete-tag", { name, version: "3", key: "k" }),
      404,
      "RESOURCE_DOES_NOT_EXIST",
    );
  });
});

describe("transition history (GET /api/2.0/modelgate/model-versions/transitions)", () => {
  const triple = (t: Json) => [t.version, t.from_stage, t.to_stage];

  it("records every transition newest first, with actor, timestamp and comment", async () => {
    const start = Date.now();
    testClock.freeze(start);
    const name = await modelWithVersions(2);
    await transitionTo(name, "1", "Staging", false, "passed offline evaluation");
    testClock.advance();
    await transitionTo(name, "1", "Production");
    testClock.advance();
    await transitionTo(name, "2", "Production", false, "better RMSE");
    const res = await history(name);
    expect(res.status).toBe(200);
    expect(res.body).not.toHaveProperty("next_page_token");
    const rows: Json[] = res.body.transitions;
    expect(rows).toHaveLength(4);
    // The promotion of v2 and the archiving it caused happen at the same instant, in either order.
    expect(rows.slice(0, 2).map(triple).sort()).toEqual([
      ["1", "Production", "Archived"],
      ["2", "None", "Production"],
    ]);
    expect(rows.slice(2).map(triple)).toEqual([
      ["1", "Staging", "Production"],
      ["1", "None", "Staging"],
    ]);
    for (const row of rows) {
      expect(typeof row.actor).toBe("string");
      expect(row.actor.length).toBeGreaterThan(0);
    }
    // Newest first; the promotion of v2 and the archiving it caused share one instant.
    expect(rows.map((r) => r.timestamp)).toEqual([start + 2, start + 2, start + 1, start]);
    expect(rows.find((r) => r.version === "2")!.comment).toBe("better RMSE");
    expect(rows[3]!.comment).toBe("passed offline evaluation");
  });

  it("answers only the given version's rows with version=", async () => {
    const name = await modelWithVersions(2);
    await transitionTo(name, "1", "Staging");
    await transitionTo(name, "2", "Staging");
    await transitionTo(name, "1", "Production");
    await transitionTo(name, "2", "Production");
    const rows: Json[] = (await history(name, { version: "1" })).body.transitions;
    expect(rows.map(triple)).toEqual([
      ["1", "Production", "Archived"],
      ["1", "Staging", "Production"],
      ["1", "None", "Staging"],
    ]);
  });

  it("records a row for every Staging version archived by archive_existing_versions", async () => {
    const name = await modelWithVersions(3);
    await transitionTo(name, "1", "Staging");
    await transitionTo(name, "2", "Staging");
    await transitionTo(name, "3", "Staging", true);
    const rows: Json[] = (await history(name)).body.transitions;
    expect(rows.slice(0, 3).map(triple).sort()).toEqual([
      ["1", "Staging", "Archived"],
      ["2", "Staging", "Archived"],
      ["3", "None", "Staging"],
    ]);
    expect(rows).toHaveLength(5);
  });

  it("pages with max_results and page_token, visiting every row once", async () => {
    const name = await modelWithVersions(1);
    for (const stage of ["Staging", "Production", "Archived", "None", "Staging"]) await transitionTo(name, "1", stage);
    const all: Json[] = (await history(name)).body.transitions;
    expect(all).toHaveLength(5);

    const pages: Json[][] = [];
    let token: string | undefined;
    do {
      const res = await history(name, { max_results: 2, ...(token ? { page_token: token } : {}) });
      expect(res.status).toBe(200);
      pages.push(res.body.transitions);
      token = res.body.next_page_token;
    } while (token);
    expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
    expect(pages.flat()).toEqual(all);
    expect(all.map((t) => t.to_stage)).toEqual(["Staging", "None", "Archived", "Production", "Staging"]);
  });

  it("answers no next_page_token when the last page is exactly full", async () => {
    const name = await modelWithVersions(1);
    await transitionTo(name, "1", "Staging");
    await transitionTo(name, "1", "Production");
    const res = await history(name, { max_results: 2 });
    expect(res.body.transitions).toHaveLength(2);
    expect(res.body).not.toHaveProperty("next_page_token");
  });

  it("answers an empty history for a model with no transitions", async () => {
    const name = await modelWithVersions(1);
    const res = await history(name);
    expect(res.status).toBe(200);
    expect(res.body.transitions ?? []).toEqual([]);
  });

  it("forgets a deleted model's history: a new model under the name starts empty", async () => {
    const name = await modelWithVersions(1);
    await transitionTo(name, "1", "Production");
    await call("DELETE", "/registered-models/delete", { name });
    expectError(await history(name), 404, "RESOURCE_DOES_NOT_EXIST");
    await createModel(name);
    expect((await history(name)).body.transitions ?? []).toEqual([]);
  });

  it("follows the model through a rename", async () => {
    const name = await modelWithVersions(1);
    await transitionTo(name, "1", "Staging");
    const newName = uniqueName("renamed");
    await call("POST", "/registered-models/rename", { name, new_name: newName });
    expect((await history(newName)).body.transitions.map(triple)).toEqual([["1", "None", "Staging"]]);
  });

  it("answers RESOURCE_DOES_NOT_EXIST for an unknown model", async () => {
    const name = uniqueName("missing");
    expectError(await history(name), 404, "RESOURCE_DOES_NOT_EXIST", `Registered Model with name=${name} not found`);
  });

  it.each<[string, Json]>([
    ["a non-numeric version", { version: "abc" }],
    ["max_results 0", { max_results: 0 }],
    ["max_results over 1000", { max_results: 1001 }],
    ["a malformed page_token", { page_token: "not-a-token!" }],
  ])("rejects %s with INVALID_PARAMETER_VALUE", async (_what, params) => {
    const name = await modelWithVersions(1);
    expectError(await history(name, params), 400, "INVALID_PARAMETER_VALUE");
  });

  it("requires the name", async () => {
    expectError(
      await call("GET", "/model-versions/transitions", {}, MODELGATE_API),
      400,
      "INVALID_PARAMETER_VALUE",
      /'name'/,
    );
  });
});

describe("model-version routes under /ajax-api/2.0/mlflow", () => {
  it("serves create, get, update, tags, download URI, transitions and delete as /api does", async () => {
    const name = await createModel();
    const ajax = (method: string, path: string, params: Json) => call(method, path, params, AJAX_API);
    expect(
      (await ajax("POST", "/model-versions/create", { name, source: EXTERNAL_SOURCE })).body.model_version.version,
    ).toBe("1");
    expect((await ajax("GET", "/model-versions/get", { name, version: "1" })).body.model_version.current_stage).toBe(
      "None",
    );
    expect(
      (await ajax("PATCH", "/model-versions/update", { name, version: "1", description: "ui" })).body.model_version
        .description,
    ).toBe("ui");
    expect(await ajax("POST", "/model-versions/set-tag", { name, version: "1", key: "k", value: "v" })).toEqual({
      status: 200,
      body: {},
    });
    expect((await getVersion(name, "1")).body.model_version.tags).toEqual([{ key: "k", value: "v" }]);
    expect(await ajax("DELETE", "/model-versions/delete-tag", { name, version: "1", key: "k" })).toEqual({
      status: 200,
      body: {},
    });
    expect((await ajax("GET", "/model-versions/get-download-uri", { name, version: "1" })).body).toEqual({
      artifact_uri: EXTERNAL_SOURCE,
    });
    expect(
      (await ajax("POST", "/model-versions/transition-stage", { name, version: "1", stage: "production" })).body
        .model_version.current_stage,
    ).toBe("Production");
    expect(
      (await ajax("GET", "/model-versions/search", { filter: `name = '${name}'` })).body.model_versions.map(
        (v: Json) => v.version,
      ),
    ).toEqual(["1"]);
    expectError(
      await ajax("GET", "/model-versions/get", { name, version: "2" }),
      404,
      "RESOURCE_DOES_NOT_EXIST",
      `Model Version (name=${name}, version=2) not found`,
    );
    expect(await ajax("DELETE", "/model-versions/delete", { name, version: "1" })).toEqual({ status: 200, body: {} });
    expectError(await getVersion(name, "1"), 404, "RESOURCE_DOES_NOT_EXIST");
  });
});
