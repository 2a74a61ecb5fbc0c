import { describe, expect, it, vi } from "vitest";
import {
  call,
  createModel,
  createModelWith,
  createVersionWith,
  expectError,
  testClock,
  uniqueName,
  type Json,
} from "../helpers";

// Each test drives the Worker through many real D1 and Durable Object round trips.
vi.setConfig({ testTimeout: 30_000 });

/**
 * Stops the clock the Worker stamps records with (once per test), so a test orders its records'
 * timestamps with testClock.advance() instead of waiting for the real clock to move. Before the
 * test creates its first model: a model's coordinator takes its clock when it is built.
 */
function freezeClock(): void {
  if (!vi.isFakeTimers()) testClock.freeze();
}

const searchModels = (params: Json) => call("GET", "/registered-models/search", params);
const searchVersions = (params: Json) => call("GET", "/model-versions/search", params);
const modelNames = (res: { body: Json }) => (res.body.registered_models ?? []).map((m: Json) => m.name);
const versionKeys = (res: { body: Json }) => (res.body.model_versions ?? []).map((v: Json) => `${v.name}#${v.version}`);
const versionNumbers = (res: { body: Json }) => (res.body.model_versions ?? []).map((v: Json) => v.version);

/**
 * Creates models named `${prefix}-${suffix}` for each suffix, in the order given, and returns their
 * names; with `pause`, each a millisecond after the one before (on a frozen clock).
 */
async function modelsUnder(prefix: string, suffixes: string[], pause = false): Promise<string[]> {
  if (pause) freezeClock();
  const names: string[] = [];
  for (const suffix of suffixes) {
    if (pause) testClock.advance();
    names.push(await createModel(`${prefix}-${suffix}`));
  }
  return names;
}

/** Follows next_page_token until the end and returns every page's items. */
async function allPages(path: string, key: string, params: Json): Promise<Json[][]> {
  const pages: Json[][] = [];
  let token: string | undefined;
  for (let i = 0; i < 50; i++) {
    const res = await call("GET", path, { ...params, ...(token ? { page_token: token } : {}) });
    expect(res.status).toBe(200);
    pages.push(res.body[key] ?? []);
    token = res.body.next_page_token;
    if (!token) return pages;
  }
  throw new Error("paging did not end");
}

describe("registered-models/search filters", () => {
  it("finds a model by name = '...' and by name = \"...\"", async () => {
    const prefix = uniqueName("srch-eq");
    const [a] = await modelsUnder(prefix, ["a", "b"]);
    expect(modelNames(await searchModels({ filter: `name = '${a}'` }))).toEqual([a]);
    expect(modelNames(await searchModels({ filter: `name = "${a}"` }))).toEqual([a]);
    expect(modelNames(await searchModels({ filter: `name='${a}'` }))).toEqual([a]);
  });

  it("answers {} when nothing matches", async () => {
    const res = await searchModels({ filter: `name = '${uniqueName("srch-none")}'` });
    expect(res).toEqual({ status: 200, body: {} });
  });

  it("matches LIKE patterns with % and _ wildcards", async () => {
    const prefix = uniqueName("srch-like");
    const [alpha, beta, gamma] = await modelsUnder(prefix, ["alpha", "beta", "gamma"]);
    expect(modelNames(await searchModels({ filter: `name LIKE '${prefix}-%'` }))).toEqual([alpha, beta, gamma]);
    expect(modelNames(await searchModels({ filter: `name LIKE '${prefix}-_eta'` }))).toEqual([beta]);
    expect(modelNames(await searchModels({ filter: `name LIKE '%${prefix}-%mm%'` }))).toEqual([gamma]);
    expect(modelNames(await searchModels({ filter: `name like '${prefix}-a%'` }))).toEqual([alpha]);
  });

  it("treats LIKE as case-sensitive and ILIKE as case-insensitive", async () => {
    const prefix = uniqueName("srch-case");
    const [upper, lower] = await modelsUnder(prefix, ["Alpha", "alpha"]);
    expect(modelNames(await searchModels({ filter: `name LIKE '${prefix}-A%'` }))).toEqual([upper]);
    expect(modelNames(await searchModels({ filter: `name LIKE '${prefix}-a%'` }))).toEqual([lower]);
    expect(modelNames(await searchModels({ filter: `name LIKE '${prefix.toUpperCase()}-%'` }))).toEqual([]);
    expect(modelNames(await searchModels({ filter: `name ILIKE '${prefix.toUpperCase()}-ALPHA'` }))).toEqual([
      upper,
      lower,
    ]);
    expect(modelNames(await searchModels({ filter: `name ILIKE '${prefix}-a%'` }))).toEqual([upper, lower]);
  });

  it("treats = as exact and case-sensitive", async () => {
    const prefix = uniqueName("srch-exact");
    const [upper] = await modelsUnder(prefix, ["Model", "model"]);
    expect(modelNames(await searchModels({ filter: `name = '${upper}'` }))).toEqual([upper]);
    expect(modelNames(await searchModels({ filter: `name = '${prefix}-MODEL'` }))).toEqual([]);
  });

  it("excludes a name with != combined with AND", async () => {
    const prefix = uniqueName("srch-ne");
    const [a, b, c] = await modelsUnder(prefix, ["a", "b", "c"]);
    expect(modelNames(await searchModels({ filter: `name LIKE '${prefix}-%' AND name != '${b}'` }))).toEqual([a, c]);
    expect(
      modelNames(await searchModels({ filter: `name LIKE '${prefix}-%' and name != '${a}' AND name != '${c}'` })),
    ).toEqual([b]);
  });

  it("filters on tags: = with a backticked key containing spaces, !=, LIKE and ILIKE", async () => {
    const prefix = uniqueName("srch-tags");
    const pricing = (
      await createModelWith({
        name: `${prefix}-pricing`,
        tags: [
          { key: "team", value: "pricing" },
          { key: "key with space", value: "v1" },
        ],
      })
    ).name;
    const search = (
      await createModelWith({
        name: `${prefix}-search`,
        tags: [
          { key: "team", value: "Search" },
          { key: "key with space", value: "v2" },
        ],
      })
    ).name;
    const untagged = await createModel(`${prefix}-untagged`);
    const within = (filter: string) => searchModels({ filter: `name LIKE '${prefix}-%' AND ${filter}` });

    expect(modelNames(await within("tags.`key with space` = 'v1'"))).toEqual([pricing]);
    expect(modelNames(await within("tags.team = 'pricing'"))).toEqual([pricing]);
    expect(modelNames(await within("tags.`team` = 'pricing'"))).toEqual([pricing]);
    expect(modelNames(await within("tags.team != 'pricing'"))).toEqual([search]);
    expect(modelNames(await within("tags.team LIKE 'pri%'"))).toEqual([pricing]);
    expect(modelNames(await within("tags.team LIKE 'search'"))).toEqual([]);
    expect(modelNames(await within("tags.team ILIKE 'SEARCH'"))).toEqual([search]);
    expect(modelNames(await within("tags.team ILIKE '%'"))).toEqual([pricing, search]);
    expect(modelNames(await searchModels({ filter: `name LIKE '${prefix}-%'` }))).toEqual([pricing, search, untagged]);
  });

  it("combines several conditions with AND", async () => {
    const prefix = uniqueName("srch-and");
    const a = (
      await createModelWith({
        name: `${prefix}-a`,
        tags: [
          { key: "team", value: "x" },
          { key: "tier", value: "gold" },
        ],
      })
    ).name;
    await createModelWith({
      name: `${prefix}-b`,
      tags: [
        { key: "team", value: "x" },
        { key: "tier", value: "silver" },
      ],
    });
    await createModelWith({
      name: `${prefix}-c`,
      tags: [
        { key: "team", value: "y" },
        { key: "tier", value: "gold" },
      ],
    });
    const res = await searchModels({
      filter: `name ILIKE '${prefix}-%' AND tags.team = 'x' AND tags.tier = 'gold' AND name != 'other'`,
    });
    expect(modelNames(res)).toEqual([a]);
  });

  it("answers each model as registered-models/get does, with tags, aliases and latest versions", async () => {
    const name = await createModelWith({
      name: uniqueName("srch-shape"),
      description: "d",
      tags: [{ key: "team", value: "pricing" }],
    }).then((m) => m.name);
    await createVersionWith(name, { run_id: "shaperun" });
    await createVersionWith(name, { tags: [{ key: "k", value: "v" }] });
    await createVersionWith(name);
    await call("POST", "/model-versions/transition-stage", { name, version: "1", stage: "Production" });
    await call("POST", "/model-versions/transition-stage", { name, version: "2", stage: "Staging" });
    await call("POST", "/registered-models/alias", { name, alias: "champion", version: "2" });
    const found = (await searchModels({ filter: `name = '${name}'` })).body.registered_models;
    const got = (await call("GET", "/registered-models/get", { name })).body.registered_model;
    expect(found).toEqual([got]);
    expect(Object.fromEntries(got.latest_versions.map((v: Json) => [v.current_stage, v.version]))).toEqual({
      None: "3",
      Staging: "2",
      Production: "1",
    });
  });
});

describe("registered-models/search order_by", () => {
  it("orders by name ascending by default", async () => {
    const prefix = uniqueName("srch-defaultorder");
    await modelsUnder(prefix, ["c", "a", "b"]);
    expect(modelNames(await searchModels({ filter: `name LIKE '${prefix}-%'` }))).toEqual([
      `${prefix}-a`,
      `${prefix}-b`,
      `${prefix}-c`,
    ]);
  });

  it("orders by name DESC and ASC", async () => {
    const prefix = uniqueName("srch-nameorder");
    await modelsUnder(prefix, ["b", "c", "a"]);
    const filter = `name LIKE '${prefix}-%'`;
    expect(modelNames(await searchModels({ filter, order_by: "name DESC" }))).toEqual([
      `${prefix}-c`,
      `${prefix}-b`,
      `${prefix}-a`,
    ]);
    expect(modelNames(await searchModels({ filter, order_by: "name ASC" }))).toEqual([
      `${prefix}-a`,
      `${prefix}-b`,
      `${prefix}-c`,
    ]);
  });

  it("orders by last_updated_timestamp (and its alias timestamp) in both directions", async () => {
    const prefix = uniqueName("srch-timeorder");
    const [first, second, third] = await modelsUnder(prefix, ["c", "b", "a"], true);
    testClock.advance();
    await call("PATCH", "/registered-models/update", { name: first, description: "touched last" });
    const filter = `name LIKE '${prefix}-%'`;
    expect(modelNames(await searchModels({ filter, order_by: "last_updated_timestamp DESC" }))).toEqual([
      first,
      third,
      second,
    ]);
    expect(modelNames(await searchModels({ filter, order_by: "last_updated_timestamp ASC" }))).toEqual([
      second,
      third,
      first,
    ]);
    expect(modelNames(await searchModels({ filter, order_by: "timestamp DESC" }))).toEqual([first, third, second]);
    expect(modelNames(await searchModels({ filter, order_by: "timestamp" }))).toEqual([second, third, first]);
  });

  it("applies repeated order_by keys in order", async () => {
    const prefix = uniqueName("srch-multiorder");
    await modelsUnder(prefix, ["a", "b"]);
    const res = await searchModels({
      filter: `name LIKE '${prefix}-%'`,
      order_by: ["name DESC", "last_updated_timestamp ASC"],
    });
    expect(modelNames(res)).toEqual([`${prefix}-b`, `${prefix}-a`]);
  });

  it.each(["version_number", "name SIDEWAYS", "tags.team", "name ASC extra"])(
    "rejects order_by %j with INVALID_PARAMETER_VALUE",
    async (orderBy) => {
      expectError(await searchModels({ order_by: orderBy }), 400, "INVALID_PARAMETER_VALUE", /order_by/);
    },
  );
});

describe("registered-models/search limits and paging", () => {
  it("pages through every match exactly once with max_results and page_token", async () => {
    const prefix = uniqueName("srch-page");
    const names = await modelsUnder(prefix, ["a", "b", "c", "d", "e", "f", "g"]);
    const pages = await allPages("/registered-models/search", "registered_models", {
      filter: `name LIKE '${prefix}-%'`,
      max_results: 3,
    });
    expect(pages.map((p) => p.length)).toEqual([3, 3, 1]);
    expect(pages.flat().map((m) => m.name)).toEqual(names);
  });

  it("pages in the requested order", async () => {
    const prefix = uniqueName("srch-pagedesc");
    const names = await modelsUnder(prefix, ["a", "b", "c", "d", "e"]);
    const pages = await allPages("/registered-models/search", "registered_models", {
      filter: `name LIKE '${prefix}-%'`,
      max_results: 2,
      order_by: "name DESC",
    });
    expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
    expect(pages.flat().map((m) => m.name)).toEqual([...names].reverse());
  });

  it("answers no next_page_token when the results fit", async () => {
    const prefix = uniqueName("srch-fit");
    await modelsUnder(prefix, ["a", "b"]);
    const res = await searchModels({ filter: `name LIKE '${prefix}-%'`, max_results: 2 });
    expect(modelNames(res)).toHaveLength(2);
    expect(res.body).not.toHaveProperty("next_page_token");
  });

  it("answers at most 100 models per page by default, as MLflow", async () => {
    const prefix = uniqueName("srch-default");
    const names: string[] = [];
    for (let i = 0; i < 101; i++) names.push(await createModel(`${prefix}-${String(i).padStart(3, "0")}`));
    const first = await searchModels({ filter: `name LIKE '${prefix}-%'` });
    expect(modelNames(first)).toEqual(names.slice(0, 100));
    expect(typeof first.body.next_page_token).toBe("string");
    const second = await searchModels({ filter: `name LIKE '${prefix}-%'`, page_token: first.body.next_page_token });
    expect(modelNames(second)).toEqual([names[100]]);
    expect(second.body).not.toHaveProperty("next_page_token");
  });

  it("accepts max_results 1000, MLflow's maximum", async () => {
    const prefix = uniqueName("srch-max");
    await modelsUnder(prefix, ["a"]);
    const res = await searchModels({ filter: `name LIKE '${prefix}-%'`, max_results: 1000 });
    expect(res.status).toBe(200);
    expect(modelNames(res)).toEqual([`${prefix}-a`]);
  });

  it.each([0, -1, 1001, "ten", "1.5"])("rejects max_results %j with INVALID_PARAMETER_VALUE", async (maxResults) => {
    expectError(await searchModels({ max_results: maxResults }), 400, "INVALID_PARAMETER_VALUE", /max_results/);
  });

  it.each(["garbage!", btoa("not json"), btoa(JSON.stringify({ offset: -5 }))])(
    "rejects the page_token %j with INVALID_PARAMETER_VALUE",
    async (token) => {
      expectError(await searchModels({ page_token: token }), 400, "INVALID_PARAMETER_VALUE", /page token/i);
    },
  );
});

describe("registered-models/search unsupported filters", () => {
  it.each<[string, string[]]>([
    ["name = 'a' OR name = 'b'", ["OR"]],
    ["version_number > 1", ["version_number"]],
    ["foo = 'x'", ["foo"]],
    ["run_id = 'abc'", ["run_id"]],
    ["name > 'a'", [">", "name"]],
    ["name IN ('a', 'b')", ["IN", "name"]],
    ["name = ", ["end of filter"]],
    ["name 'x'", ["'x'"]],
    ["name = 'unterminated", ["unterminated"]],
    ["tags.team > 'a'", [">", "tags"]],
    ["name = 'a' name = 'b'", ["AND"]],
    ["%%%", ["%"]],
  ])("rejects %j with INVALID_PARAMETER_VALUE naming the unsupported part", async (filter, parts) => {
    const res = await searchModels({ filter });
    expectError(res, 400, "INVALID_PARAMETER_VALUE");
    for (const part of parts) expect(res.body.message).toContain(part);
  });
});

describe("registered-models/search and MLflow 3 prompts", () => {
  async function promptAndModels(prefix: string) {
    const prompt = (
      await createModelWith({ name: `${prefix}-prompt`, tags: [{ key: "mlflow.prompt.is_prompt", value: "true" }] })
    ).name;
    const notPrompt = (
      await createModelWith({ name: `${prefix}-notprompt`, tags: [{ key: "mlflow.prompt.is_prompt", value: "false" }] })
    ).name;
    const plain = await createModel(`${prefix}-plain`);
    return { prompt, notPrompt, plain };
  }

  it("leaves models tagged mlflow.prompt.is_prompt=true out of search", async () => {
    const prefix = uniqueName("srch-prompt");
    const { notPrompt, plain } = await promptAndModels(prefix);
    expect(modelNames(await searchModels({ filter: `name LIKE '${prefix}-%'` }))).toEqual([notPrompt, plain]);
  });

  it("leaves prompts out of an unfiltered search too", async () => {
    const prefix = uniqueName("srch-promptall");
    const { prompt, plain } = await promptAndModels(prefix);
    const everything = (await allPages("/registered-models/search", "registered_models", { max_results: 1000 }))
      .flat()
      .map((m) => m.name);
    expect(everything).toContain(plain);
    expect(everything).not.toContain(prompt);
  });

  it("finds prompts when the filter asks for the prompt tag", async () => {
    const prefix = uniqueName("srch-promptask");
    const { prompt, notPrompt, plain } = await promptAndModels(prefix);
    expect(
      modelNames(
        await searchModels({ filter: `name LIKE '${prefix}-%' AND tags.\`mlflow.prompt.is_prompt\` = 'true'` }),
      ),
    ).toEqual([prompt]);
    // MLflow 3.5.1: any other condition on the prompt tag means "models only", not a filter on the tag.
    expect(
      modelNames(await searchModels({ filter: `name LIKE '${prefix}-%' AND tags.mlflow.prompt.is_prompt = 'false'` })),
    ).toEqual([notPrompt, plain]);
  });

  it("still answers a prompt by name through registered-models/get", async () => {
    const prefix = uniqueName("srch-promptget");
    const { prompt } = await promptAndModels(prefix);
    expect((await call("GET", "/registered-models/get", { name: prompt })).status).toBe(200);
  });
});

describe("model-versions/search filters", () => {
  /** A model with versions 1..count, each a millisecond after the one before (on a frozen clock). */
  async function modelWithVersions(count: number, prefix = "srchv"): Promise<string> {
    freezeClock();
    const name = await createModel(uniqueName(prefix));
    for (let i = 0; i < count; i++) {
      testClock.advance();
      await createVersionWith(name);
    }
    return name;
  }

  it("finds a model's versions by name = '...' (the client's own search)", async () => {
    const name = await modelWithVersions(2);
    await modelWithVersions(1);
    const res = await searchVersions({ filter: `name='${name}'`, max_results: 10000 });
    expect(res.status).toBe(200);
    expect(versionKeys(res)).toEqual([`${name}#2`, `${name}#1`]);
    expect(res.body).not.toHaveProperty("next_page_token");
  });

  it("answers each version as model-versions/get does", async () => {
    const name = await createModel(uniqueName("srchv-shape"));
    await createVersionWith(name, { run_id: "shaperun", description: "d", tags: [{ key: "k", value: "v" }] });
    await call("POST", "/registered-models/alias", { name, alias: "champion", version: "1" });
    const found = (await searchVersions({ filter: `name = '${name}'` })).body.model_versions;
    expect(found).toEqual([(await call("GET", "/model-versions/get", { name, version: "1" })).body.model_version]);
  });

  it.each<[string, string[]]>([
    ["version_number > 3", ["4", "5"]],
    ["version_number >= 3", ["3", "4", "5"]],
    ["version_number < 2", ["1"]],
    ["version_number <= 2", ["1", "2"]],
    ["version_number = 3", ["3"]],
    ["version_number != 3", ["1", "2", "4", "5"]],
    ["version_number > 1 AND version_number < 5", ["2", "3", "4"]],
    ["version_number > 5", []],
  ])("compares version_number numerically: %s", async (condition, expected) => {
    const name = await modelWithVersions(5);
    const res = await searchVersions({ filter: `name = '${name}' AND ${condition}`, order_by: "version_number ASC" });
    expect(res.status).toBe(200);
    expect(versionNumbers(res)).toEqual(expected);
  });

  it("compares version_number as a number, not as text (10 > 9)", async () => {
    const name = await modelWithVersions(10);
    const res = await searchVersions({
      filter: `name = '${name}' AND version_number > 8`,
      order_by: "version_number ASC",
    });
    expect(versionNumbers(res)).toEqual(["9", "10"]);
  });

  it("filters on run_id with =, != and IN ('a','b')", async () => {
    const run = uniqueName("run");
    const name = await createModel(uniqueName("srchv-run"));
    await createVersionWith(name, { run_id: `${run}a` });
    await createVersionWith(name, { run_id: `${run}b` });
    await createVersionWith(name, { run_id: `${run}c` });
    const ordered = { order_by: "version_number ASC" };
    expect(versionKeys(await searchVersions({ filter: `run_id = '${run}b'`, ...ordered }))).toEqual([`${name}#2`]);
    expect(versionKeys(await searchVersions({ filter: `run_id IN ('${run}a','${run}c')`, ...ordered }))).toEqual([
      `${name}#1`,
      `${name}#3`,
    ]);
    expect(versionKeys(await searchVersions({ filter: `run_id IN ("${run}b")`, ...ordered }))).toEqual([`${name}#2`]);
    expect(
      versionKeys(await searchVersions({ filter: `name = '${name}' AND run_id != '${run}b'`, ...ordered })),
    ).toEqual([`${name}#1`, `${name}#3`]);
  });

  it("filters on source_path with = and LIKE", async () => {
    const bucket = uniqueName("bucket");
    const name = await createModel(uniqueName("srchv-source"));
    await createVersionWith(name, { source: `s3://${bucket}/one/model` });
    await createVersionWith(name, { source: `s3://${bucket}/two/model` });
    expect(versionKeys(await searchVersions({ filter: `source_path = 's3://${bucket}/two/model'` }))).toEqual([
      `${name}#2`,
    ]);
    expect(
      versionKeys(
        await searchVersions({ filter: `source_path LIKE 's3://${bucket}/%'`, order_by: "version_number ASC" }),
      ),
    ).toEqual([`${name}#1`, `${name}#2`]);
  });

  it("filters on version tags, with backticked keys containing spaces", async () => {
    const name = await createModel(uniqueName("srchv-tags"));
    await createVersionWith(name, {
      tags: [
        { key: "key with space", value: "v" },
        { key: "validation_status", value: "approved" },
      ],
    });
    await createVersionWith(name, {
      tags: [
        { key: "key with space", value: "w" },
        { key: "validation_status", value: "Rejected" },
      ],
    });
    await createVersionWith(name);
    const within = (condition: string) =>
      searchVersions({ filter: `name = '${name}' AND ${condition}`, order_by: "version_number ASC" });
    expect(versionNumbers(await within("tags.`key with space` = 'v'"))).toEqual(["1"]);
    expect(versionNumbers(await within("tags.validation_status != 'approved'"))).toEqual(["2"]);
    expect(versionNumbers(await within("tags.validation_status LIKE 'rej%'"))).toEqual([]);
    expect(versionNumbers(await within("tags.validation_status ILIKE 'rej%'"))).toEqual(["2"]);
    expect(versionNumbers(await within("tags.validation_status LIKE '%ed'"))).toEqual(["1", "2"]);
  });

  it("matches names across models with LIKE (case-sensitive) and ILIKE", async () => {
    const prefix = uniqueName("srchv-like");
    const upper = await createModel(`${prefix}-Upper`);
    const lower = await createModel(`${prefix}-lower`);
    await createVersionWith(upper);
    await createVersionWith(lower);
    await createVersionWith(lower);
    const ordered = { order_by: ["name ASC", "version_number ASC"] };
    expect(versionKeys(await searchVersions({ filter: `name LIKE '${prefix}-%'`, ...ordered }))).toEqual([
      `${upper}#1`,
      `${lower}#1`,
      `${lower}#2`,
    ]);
    expect(versionKeys(await searchVersions({ filter: `name LIKE '${prefix}-u%'`, ...ordered }))).toEqual([]);
    expect(versionKeys(await searchVersions({ filter: `name ILIKE '${prefix}-u%'`, ...ordered }))).toEqual([
      `${upper}#1`,
    ]);
    expect(
      versionKeys(await searchVersions({ filter: `name LIKE '${prefix}-%' AND name != '${upper}'`, ...ordered })),
    ).toEqual([`${lower}#1`, `${lower}#2`]);
  });

  it("combines name, version_number, run_id and tag conditions with AND", async () => {
    const run = uniqueName("run");
    const name = await createModel(uniqueName("srchv-and"));
    await createVersionWith(name, { run_id: `${run}a`, tags: [{ key: "ok", value: "yes" }] });
    await createVersionWith(name, { run_id: `${run}b`, tags: [{ key: "ok", value: "yes" }] });
    await createVersionWith(name, { run_id: `${run}a`, tags: [{ key: "ok", value: "no" }] });
    await createVersionWith(name, { run_id: `${run}a`, tags: [{ key: "ok", value: "yes" }] });
    const res = await searchVersions({
      filter: `name = '${name}' AND version_number > 1 AND run_id IN ('${run}a', '${run}b') AND tags.\`ok\` = 'yes'`,
      order_by: "version_number ASC",
    });
    expect(versionNumbers(res)).toEqual(["2", "4"]);
  });
});

describe("model-versions/search order_by", () => {
  async function threeVersions(): Promise<string> {
    freezeClock();
    const name = await createModel(uniqueName("srchv-order"));
    for (let i = 0; i < 3; i++) {
      testClock.advance();
      await createVersionWith(name);
    }
    return name;
  }

  it("orders by last_updated_timestamp DESC by default", async () => {
    const name = await threeVersions();
    testClock.advance();
    await call("PATCH", "/model-versions/update", { name, version: "1", description: "touched" });
    expect(versionNumbers(await searchVersions({ filter: `name = '${name}'` }))).toEqual(["1", "3", "2"]);
  });

  it.each<[string | string[], string[]]>([
    ["version_number", ["1", "2", "3"]],
    ["version_number ASC", ["1", "2", "3"]],
    ["version_number DESC", ["3", "2", "1"]],
    ["creation_timestamp ASC", ["1", "2", "3"]],
    ["creation_timestamp DESC", ["3", "2", "1"]],
    ["last_updated_timestamp ASC", ["2", "3", "1"]],
    ["last_updated_timestamp DESC", ["1", "3", "2"]],
  ])("orders by %j", async (orderBy, expected) => {
    const name = await threeVersions();
    testClock.advance();
    await call("PATCH", "/model-versions/update", { name, version: "1", description: "touched" });
    expect(versionNumbers(await searchVersions({ filter: `name = '${name}'`, order_by: orderBy }))).toEqual(expected);
  });

  it("orders by name, then by repeated order_by keys", async () => {
    const prefix = uniqueName("srchv-nameorder");
    const a = await createModel(`${prefix}-a`);
    const b = await createModel(`${prefix}-b`);
    for (const name of [b, a, b, a]) await createVersionWith(name);
    const filter = `name LIKE '${prefix}-%'`;
    expect(versionKeys(await searchVersions({ filter, order_by: ["name ASC", "version_number ASC"] }))).toEqual([
      `${a}#1`,
      `${a}#2`,
      `${b}#1`,
      `${b}#2`,
    ]);
    expect(versionKeys(await searchVersions({ filter, order_by: ["name DESC", "version_number DESC"] }))).toEqual([
      `${b}#2`,
      `${b}#1`,
      `${a}#2`,
      `${a}#1`,
    ]);
    // MLflow's tie-breaker after name is the version, highest first.
    expect(versionKeys(await searchVersions({ filter, order_by: "name ASC" }))).toEqual([
      `${a}#2`,
      `${a}#1`,
      `${b}#2`,
      `${b}#1`,
    ]);
  });

  it.each(["source_path", "current_stage DESC", "version_number SIDEWAYS"])(
    "rejects order_by %j with INVALID_PARAMETER_VALUE",
    async (orderBy) => {
      expectError(await searchVersions({ order_by: orderBy }), 400, "INVALID_PARAMETER_VALUE", /order_by/);
    },
  );
});

describe("model-versions/search limits and paging", () => {
  it("pages through every match exactly once with max_results and page_token", async () => {
    const name = await createModel(uniqueName("srchv-page"));
    for (let i = 0; i < 7; i++) await createVersionWith(name);
    const pages = await allPages("/model-versions/search", "model_versions", {
      filter: `name = '${name}'`,
      max_results: 2,
      order_by: "version_number ASC",
    });
    expect(pages.map((p) => p.length)).toEqual([2, 2, 2, 1]);
    expect(pages.flat().map((v) => v.version)).toEqual(["1", "2", "3", "4", "5", "6", "7"]);
  });

  it("pages with the default order too, without repeats or gaps", async () => {
    const name = await createModel(uniqueName("srchv-pagedefault"));
    for (let i = 0; i < 5; i++) await createVersionWith(name);
    const pages = await allPages("/model-versions/search", "model_versions", {
      filter: `name = '${name}'`,
      max_results: 2,
    });
    const seen = pages.flat().map((v) => v.version);
    expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
    expect([...seen].sort()).toEqual(["1", "2", "3", "4", "5"]);
  });

  it("accepts max_results 200000, MLflow's maximum", async () => {
    const name = await createModel(uniqueName("srchv-max"));
    await createVersionWith(name);
    const res = await searchVersions({ filter: `name = '${name}'`, max_results: 200000 });
    expect(res.status).toBe(200);
    expect(versionNumbers(res)).toEqual(["1"]);
  });

  it.each([0, -3, 200001, "many"])("rejects max_results %j with INVALID_PARAMETER_VALUE", async (maxResults) => {
    expectError(await searchVersions({ max_results: maxResults }), 400, "INVALID_PARAMETER_VALUE", /max_results/);
  });

  it.each(["garbage!", btoa("[]"), btoa(JSON.stringify({ offset: 1.5 }))])(
    "rejects the page_token %j with INVALID_PARAMETER_VALUE",
    async (token) => {
      expectError(await searchVersions({ page_token: token }), 400, "INVALID_PARAMETER_VALUE", /page token/i);
    },
  );
});

describe("model-versions/search unsupported filters", () => {
  it.each<[string, string[]]>([
    ["name = 'a' OR name = 'b'", ["OR"]],
    ["current_stage = 'Production'", ["current_stage"]],
    ["foo = 'x'", ["foo"]],
    ["version_number = 'abc'", ["version_number", "abc"]],
    ["version_number LIKE '1%'", ["LIKE", "version_number"]],
    ["name IN ('a')", ["IN", "name"]],
    ["run_id IN 'a'", ["IN"]],
    ["run_id IN ('a', 3)", ["IN"]],
    ["tags.k > 'a'", [">", "tags"]],
    ["tags.k = 5", ["k"]],
    ["version_number > ", ["end of filter"]],
    ["(name = 'a')", ["expected an attribute or tag name"]],
    ["name = 'a' AND", ["expected an attribute or tag name"]],
  ])("rejects %j with INVALID_PARAMETER_VALUE naming the unsupported part", async (filter, parts) => {
    const res = await searchVersions({ filter });
    expectError(res, 400, "INVALID_PARAMETER_VALUE");
    for (const part of parts) expect(res.body.message).toContain(part);
  });
});
