import { beforeAll, describe, expect, it, vi } from "vitest";
import {
  AJAX_API,
  API,
  call,
  createModel,
  createModelWith,
  createVersionWith,
  expectError,
  MODELGATE_API,
  rawCall,
  transitionTo,
  uniqueName,
  type Json,
} from "../helpers";

// Each test drives the Worker through many real D1 and Durable Object round trips.
vi.setConfig({ testTimeout: 30_000 });

const ROOT = "http://modelgate.test";

/** Everything a client can read about a model: the model, every version, and its transition history. */
async function snapshot(name: string): Promise<Json> {
  const model = await call("GET", "/registered-models/get", { name });
  const versions = await call("GET", "/model-versions/search", {
    filter: `name = '${name}'`,
    order_by: "version_number ASC",
  });
  const history = await call("GET", "/model-versions/transitions", { name }, MODELGATE_API);
  const alias = await call("GET", "/registered-models/alias", { name, alias: "champion" });
  return { model, versions, history, alias };
}

/** A model with tags, two versions (v1 Production, v2 Staging), a version tag and an alias. */
async function populatedModel(): Promise<string> {
  const name = (
    await createModelWith({ name: uniqueName("err"), description: "kept", tags: [{ key: "team", value: "pricing" }] })
  ).name;
  await createVersionWith(name, { run_id: "errrun", tags: [{ key: "validation_status", value: "approved" }] });
  await createVersionWith(name);
  await transitionTo(name, "1", "Production");
  await transitionTo(name, "2", "Staging");
  await call("POST", "/registered-models/alias", { name, alias: "champion", version: "1" });
  return name;
}

/** Parses an error answer's body, asserting it is JSON of exactly {error_code, message}. */
function errorBody(res: { status: number; text: string; contentType: string | null }): Json {
  expect(res.contentType).toMatch(/^application\/json/);
  const body = JSON.parse(res.text);
  expect(Object.keys(body).sort()).toEqual(["error_code", "message"]);
  expect(typeof body.error_code).toBe("string");
  expect(typeof body.message).toBe("string");
  expect(body.message.length).toBeGreaterThan(0);
  return body;
}

describe("malformed and mistyped request bodies", () => {
  let name: string;
  let before: Json;
  beforeAll(async () => {
    name = await populatedModel();
    before = await snapshot(name);
  });

  // [description, method, path, exact body text (NAME stands for the populated model's name)]
  const cases: [string, string, string, string][] = [
    ["malformed JSON on rename", "POST", "/registered-models/rename", '{"name": "NAME", "new_name": '],
    ["malformed JSON on delete", "DELETE", "/registered-models/delete", '{"name": "NAME"'],
    [
      "malformed JSON on transition-stage",
      "POST",
      "/model-versions/transition-stage",
      "{name: NAME, version: 1, stage: Archived}",
    ],
    ["a JSON array on update", "PATCH", "/registered-models/update", '[{"name": "NAME", "description": "changed"}]'],
    ["a JSON array on delete", "DELETE", "/registered-models/delete", '["NAME"]'],
    ["a JSON number on set-tag", "POST", "/registered-models/set-tag", "42"],
    ["JSON null on version delete", "DELETE", "/model-versions/delete", "null"],
    ["JSON true on alias", "POST", "/registered-models/alias", "true"],
    ["a numeric name on update", "PATCH", "/registered-models/update", '{"name": 123, "description": "changed"}'],
    ["a numeric name on get-latest-versions", "POST", "/registered-models/get-latest-versions", '{"name": 123}'],
    [
      "a numeric stages on get-latest-versions",
      "POST",
      "/registered-models/get-latest-versions",
      '{"name": "NAME", "stages": 5}',
    ],
    [
      "numeric stage names on get-latest-versions",
      "POST",
      "/registered-models/get-latest-versions",
      '{"name": "NAME", "stages": [5]}',
    ],
    ["a numeric source on version create", "POST", "/model-versions/create", '{"name": "NAME", "source": 123}'],
    [
      "tags as an object on version create",
      "POST",
      "/model-versions/create",
      '{"name": "NAME", "source": "s3://b/m", "tags": {"k": "v"}}',
    ],
    [
      "a boolean version on transition-stage",
      "POST",
      "/model-versions/transition-stage",
      '{"name": "NAME", "version": true, "stage": "Archived"}',
    ],
    [
      "a fractional version on transition-stage",
      "POST",
      "/model-versions/transition-stage",
      '{"name": "NAME", "version": 1.5, "stage": "Archived"}',
    ],
    [
      "a non-boolean archive flag",
      "POST",
      "/model-versions/transition-stage",
      '{"name": "NAME", "version": "2", "stage": "Production", "archive_existing_versions": "maybe"}',
    ],
    [
      "an unknown stage",
      "POST",
      "/model-versions/transition-stage",
      '{"name": "NAME", "version": "2", "stage": "Prod"}',
    ],
    [
      "archiving for an inactive stage",
      "POST",
      "/model-versions/transition-stage",
      '{"name": "NAME", "version": "2", "stage": "Archived", "archive_existing_versions": true}',
    ],
    ["a numeric alias", "POST", "/registered-models/alias", '{"name": "NAME", "alias": 5, "version": "2"}'],
    ["a reserved alias", "POST", "/registered-models/alias", '{"name": "NAME", "alias": "latest", "version": "2"}'],
    ["an alias list on alias delete", "DELETE", "/registered-models/alias", '{"name": "NAME", "alias": ["champion"]}'],
    ["a null tag value", "POST", "/registered-models/set-tag", '{"name": "NAME", "key": "team", "value": null}'],
    ["a numeric tag key on delete-tag", "DELETE", "/registered-models/delete-tag", '{"name": "NAME", "key": 7}'],
    ["a fractional version on version delete", "DELETE", "/model-versions/delete", '{"name": "NAME", "version": 1.5}'],
    [
      "a null key on version delete-tag",
      "DELETE",
      "/model-versions/delete-tag",
      '{"name": "NAME", "version": "1", "key": null}',
    ],
    [
      "a numeric description on version update",
      "PATCH",
      "/model-versions/update",
      '{"name": "NAME", "version": "1", "description": 42}',
    ],
    [
      "an over-long description on model update",
      "PATCH",
      "/registered-models/update",
      `{"name": "NAME", "description": "${"d".repeat(5001)}"}`,
    ],
    [
      "an over-long tag value on version set-tag",
      "POST",
      "/model-versions/set-tag",
      `{"name": "NAME", "version": "1", "key": "k", "value": "${"v".repeat(100_001)}"}`,
    ],
    ["an empty body on rename", "POST", "/registered-models/rename", ""],
  ];

  it.each(cases)(
    "answers %s with 400 INVALID_PARAMETER_VALUE and changes nothing",
    async (_what, method, path, text) => {
      const res = await rawCall(method, `${API}${path}`, text.replaceAll("NAME", name));
      expect(res.status).toBe(400);
      expect(errorBody(res).error_code).toBe("INVALID_PARAMETER_VALUE");
      expect(await snapshot(name)).toEqual(before);
    },
  );

  it("creates nothing from malformed JSON", async () => {
    const fresh = uniqueName("err-fresh");
    const res = await rawCall("POST", `${API}/registered-models/create`, `{"name": "${fresh}"`);
    expect(res.status).toBe(400);
    expect(errorBody(res).error_code).toBe("INVALID_PARAMETER_VALUE");
    expectError(await call("GET", "/registered-models/get", { name: fresh }), 404, "RESOURCE_DOES_NOT_EXIST");
  });

  it("creates nothing from a JSON array body", async () => {
    const fresh = uniqueName("err-array");
    const res = await rawCall("POST", `${API}/registered-models/create`, JSON.stringify([{ name: fresh }]));
    expect(res.status).toBe(400);
    expect(errorBody(res).error_code).toBe("INVALID_PARAMETER_VALUE");
    expectError(await call("GET", "/registered-models/get", { name: fresh }), 404, "RESOURCE_DOES_NOT_EXIST");
  });

  it("creates nothing when one of the tags is invalid", async () => {
    const fresh = uniqueName("err-tag");
    const res = await call("POST", "/registered-models/create", {
      name: fresh,
      tags: [
        { key: "ok", value: "v" },
        { key: "bad!key", value: "v" },
      ],
    });
    expectError(res, 400, "INVALID_PARAMETER_VALUE", /bad!key/);
    expectError(await call("GET", "/registered-models/get", { name: fresh }), 404, "RESOURCE_DOES_NOT_EXIST");
  });

  it("answers a 100,000-character name with 400, not 500", async () => {
    const res = await call("POST", "/registered-models/create", { name: "n".repeat(100_000) });
    expectError(res, 400, "INVALID_PARAMETER_VALUE", /maximum length of 256/);
  });

  it("answers a name with control characters with 400, not 500", async () => {
    expectError(await call("GET", "/registered-models/get", { name: "bad\u0000name" }), 400, "INVALID_PARAMETER_VALUE");
    expectError(await call("POST", "/registered-models/create", { name: "tab\tname" }), 400, "INVALID_PARAMETER_VALUE");
  });

  it("reads a non-numeric max_results on GET as a bad parameter", async () => {
    expectError(
      await call("GET", "/registered-models/search", { max_results: "ten" }),
      400,
      "INVALID_PARAMETER_VALUE",
      /'max_results'/,
    );
  });

  it("tolerates unknown request fields (newer clients send more)", async () => {
    const fresh = uniqueName("err-extra");
    const res = await call("POST", "/registered-models/create", {
      name: fresh,
      deployment_job_id: "job-1",
      unknown: { deeply: ["nested"] },
    });
    expect(res.status).toBe(200);
    expect(res.body.registered_model.name).toBe(fresh);
  });

  // MLflow's server decodes a JSON body that arrives double-encoded as a string (handlers.py:
  // "Older clients may post their JSON double-encoded as strings").
  it("accepts a JSON body double-encoded as a string, as MLflow's server does", async () => {
    const fresh = uniqueName("err-double");
    const res = await rawCall(
      "POST",
      `${API}/registered-models/create`,
      JSON.stringify(JSON.stringify({ name: fresh })),
    );
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text).registered_model.name).toBe(fresh);
  });
});

describe("missing required parameters", () => {
  const endpoints: [string, string, string][] = [
    ["POST", "/registered-models/create", "name"],
    ["GET", "/registered-models/get", "name"],
    ["POST", "/registered-models/rename", "name"],
    ["PATCH", "/registered-models/update", "name"],
    ["DELETE", "/registered-models/delete", "name"],
    ["GET", "/registered-models/get-latest-versions", "name"],
    ["POST", "/registered-models/get-latest-versions", "name"],
    ["POST", "/registered-models/set-tag", "name"],
    ["DELETE", "/registered-models/delete-tag", "name"],
    ["POST", "/registered-models/alias", "name"],
    ["DELETE", "/registered-models/alias", "name"],
    ["GET", "/registered-models/alias", "name"],
    ["POST", "/model-versions/create", "name"],
    ["GET", "/model-versions/get", "name"],
    ["PATCH", "/model-versions/update", "name"],
    ["DELETE", "/model-versions/delete", "name"],
    ["POST", "/model-versions/transition-stage", "name"],
    ["GET", "/model-versions/get-download-uri", "name"],
    ["POST", "/model-versions/set-tag", "name"],
    ["DELETE", "/model-versions/delete-tag", "name"],
  ];

  it.each(endpoints)("%s %s without parameters answers 400 naming '%s'", async (method, path, param) => {
    const res = await call(method, path, {});
    expectError(
      res,
      400,
      "INVALID_PARAMETER_VALUE",
      `Missing value for required parameter '${param}'. See the API docs for more information about request parameters.`,
    );
  });

  it("DELETE without any body answers 400 naming 'name'", async () => {
    const res = await rawCall("DELETE", `${API}/registered-models/delete`);
    expect(res.status).toBe(400);
    expect(errorBody(res)).toEqual({
      error_code: "INVALID_PARAMETER_VALUE",
      message:
        "Missing value for required parameter 'name'. See the API docs for more information about request parameters.",
    });
  });
});

describe("unknown routes", () => {
  it.each<[string, string]>([
    ["GET", `${API}/registered-models/nope`],
    ["POST", `${API}/nope`],
    ["GET", `${API}`],
    ["GET", "http://modelgate.test/api/2.1/mlflow/registered-models/get?name=x"],
    ["GET", `${ROOT}/nope`],
    ["GET", `${MODELGATE_API}/nope`],
    ["DELETE", `${AJAX_API}/unknown`],
    ["POST", `${API}/registered-models/create/extra`],
  ])("%s %s answers 404 ENDPOINT_NOT_FOUND as MLflow error JSON", async (method, url) => {
    const res = await rawCall(method, url, method === "GET" ? undefined : "{}");
    expect(res.status).toBe(404);
    const body = errorBody(res);
    expect(body.error_code).toBe("ENDPOINT_NOT_FOUND");
    expect(body.message).toContain(method);
    expect(body.message).toContain(new URL(url).pathname);
  });
});

describe("wrong methods on known routes", () => {
  let name: string;
  let before: Json;
  beforeAll(async () => {
    name = await populatedModel();
    before = await snapshot(name);
  });

  it.each<[string, string, "query" | "body"]>([
    ["GET", "/registered-models/delete", "query"],
    ["POST", "/registered-models/get", "body"],
    ["PUT", "/registered-models/update", "body"],
    ["POST", "/registered-models/update", "body"],
    ["GET", "/registered-models/rename", "query"],
    ["GET", "/model-versions/delete", "query"],
    ["DELETE", "/model-versions/transition-stage", "body"],
    ["PATCH", "/registered-models/alias", "body"],
    ["GET", "/registered-models/set-tag", "query"],
    ["POST", "/model-versions/delete-tag", "body"],
    ["DELETE", "/model-versions/get", "body"],
  ])("%s %s answers 404 or 405 with MLflow error JSON and changes nothing", async (method, path, carrier) => {
    const params = {
      name,
      new_name: uniqueName("err-moved"),
      version: "1",
      description: "changed",
      alias: "champion",
      key: "team",
      value: "x",
      stage: "Archived",
    };
    const query = new URLSearchParams(params).toString();
    const res =
      carrier === "query"
        ? await rawCall(method, `${API}${path}?${query}`)
        : await rawCall(method, `${API}${path}`, JSON.stringify(params));
    expect([404, 405]).toContain(res.status);
    errorBody(res);
    expect(await snapshot(name)).toEqual(before);
  });

  it("GET registered-models/create creates nothing", async () => {
    const fresh = uniqueName("err-getcreate");
    const res = await rawCall("GET", `${API}/registered-models/create?name=${fresh}`);
    expect([404, 405]).toContain(res.status);
    errorBody(res);
    expectError(await call("GET", "/registered-models/get", { name: fresh }), 404, "RESOURCE_DOES_NOT_EXIST");
  });
});

describe("the shape of every error", () => {
  it("answers exactly error_code and message, as JSON, across error kinds", async () => {
    const name = await createModel();
    const answers = [
      await rawCall("GET", `${API}/registered-models/get?name=${uniqueName("missing")}`),
      await rawCall("POST", `${API}/registered-models/create`, JSON.stringify({ name })),
      await rawCall("POST", `${API}/registered-models/create`, "{"),
      await rawCall("GET", `${API}/registered-models/alias?name=${name}&alias=nope`),
      await rawCall("GET", `${API}/nowhere`),
      await rawCall("GET", `${API}/model-versions/search?filter=${encodeURIComponent("a = 'b' OR c = 'd'")}`),
    ];
    expect(answers.map((a) => a.status)).toEqual([404, 400, 400, 400, 404, 400]);
    expect(answers.map((a) => errorBody(a).error_code)).toEqual([
      "RESOURCE_DOES_NOT_EXIST",
      "RESOURCE_ALREADY_EXISTS",
      "INVALID_PARAMETER_VALUE",
      "INVALID_PARAMETER_VALUE",
      "ENDPOINT_NOT_FOUND",
      "INVALID_PARAMETER_VALUE",
    ]);
  });

  it("answers success as HTTP 200 with a JSON object, {} when empty", async () => {
    const name = await createModel();
    const res = await rawCall(
      "POST",
      `${API}/registered-models/set-tag`,
      JSON.stringify({ name, key: "k", value: "v" }),
    );
    expect(res.status).toBe(200);
    expect(res.contentType).toMatch(/^application\/json/);
    expect(JSON.parse(res.text)).toEqual({});
  });
});
