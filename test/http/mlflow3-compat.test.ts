import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import {
  call,
  createModel,
  createModelWith,
  createVersionWith,
  expectError,
  MODELGATE_API,
  uniqueName,
  type Json,
} from "../helpers";
import { createExperiment, createLoggedModel, createRun, ok } from "../tracking-helpers";
import { eventually, receiver, uniqueKey } from "../webhooks/helpers";

// What the MLflow 3.5.1 client sends that 2.x never did, answered as MLflow 3.5.1's own server
// answers it (issue 18). Each describe is one gap the real-client suite found.

vi.setConfig({ testTimeout: 30_000 });

const PROMPT_TAG = "mlflow.prompt.is_prompt";
const PROMPT_TEXT_TAG = "mlflow.prompt.text";
/** The condition the 3.x client appends to every registered-model and version search it sends. */
const NOT_A_PROMPT = `tag.\`${PROMPT_TAG}\` != 'true'`;

const modelNames = (res: { body: Json }) => (res.body.registered_models ?? []).map((m: Json) => m.name);
const versionKeys = (res: { body: Json }) => (res.body.model_versions ?? []).map((v: Json) => `${v.name}#${v.version}`);
const searchModels = (filter: string) => call("GET", "/registered-models/search", { filter, max_results: 1000 });
const searchVersions = (filter: string) => call("GET", "/model-versions/search", { filter, max_results: 1000 });

/** A prompt as the 3.x client registers one: a tagged model, then versions tagged as prompt versions. */
async function registerPrompt(name: string, template: string): Promise<Json> {
  await call("POST", "/registered-models/create", { name, tags: [{ key: PROMPT_TAG, value: "true" }] }).then((r) => {
    if (r.status !== 200 && r.body.error_code !== "RESOURCE_ALREADY_EXISTS") throw new Error(JSON.stringify(r.body));
  });
  return createVersionWith(name, {
    source: "prompt-template",
    tags: [
      { key: PROMPT_TAG, value: "true" },
      { key: PROMPT_TEXT_TAG, value: template },
      { key: "_mlflow_prompt_type", value: "text" },
    ],
  });
}

describe("registered-model search with the 3.x client's prompt condition", () => {
  async function seeded() {
    const prefix = uniqueName("m3-rm");
    const plain = await createModel(`${prefix}-plain`);
    const tagged = (await createModelWith({ name: `${prefix}-tagged`, tags: [{ key: "team", value: "a" }] })).name;
    const notPrompt = (await createModelWith({ name: `${prefix}-false`, tags: [{ key: PROMPT_TAG, value: "false" }] }))
      .name;
    const prompt = `${prefix}-prompt`;
    await registerPrompt(prompt, "Hi {{x}}");
    return { prefix, plain, tagged, notPrompt, prompt };
  }

  it("finds models that lack the prompt tag, as MLflow's server does", async () => {
    const { prefix, plain, tagged, notPrompt } = await seeded();
    const res = await searchModels(`name LIKE '${prefix}-%' AND ${NOT_A_PROMPT}`);
    expect(res.status).toBe(200);
    expect(modelNames(res)).toEqual([notPrompt, plain, tagged]);
  });

  it("reads the prompt condition wherever it stands in the filter", async () => {
    const { prefix, plain, tagged, notPrompt } = await seeded();
    expect(modelNames(await searchModels(`${NOT_A_PROMPT} AND name LIKE '${prefix}-%'`))).toEqual([
      notPrompt,
      plain,
      tagged,
    ]);
    expect(modelNames(await searchModels(`name LIKE '${prefix}-%' AND tags.team = 'a' AND ${NOT_A_PROMPT}`))).toEqual([
      tagged,
    ]);
  });

  it("answers prompts only when the filter asks for them (= 'true' or != 'false'), as search_prompts does", async () => {
    const { prefix, prompt } = await seeded();
    expect(modelNames(await searchModels(`tags.\`${PROMPT_TAG}\` = 'true' AND name LIKE '${prefix}-%'`))).toEqual([
      prompt,
    ]);
    expect(modelNames(await searchModels(`name LIKE '${prefix}-%' AND tags.\`${PROMPT_TAG}\` != 'false'`))).toEqual([
      prompt,
    ]);
  });

  it("treats any other condition on the prompt tag as 'no prompts', never as a filter on the tag", async () => {
    const { prefix, plain, tagged, notPrompt } = await seeded();
    for (const condition of [`tags.\`${PROMPT_TAG}\` = 'false'`, `tags.\`${PROMPT_TAG}\` LIKE 't%'`]) {
      expect(modelNames(await searchModels(`name LIKE '${prefix}-%' AND ${condition}`))).toEqual([
        notPrompt,
        plain,
        tagged,
      ]);
    }
  });

  it("keeps MLflow's meaning of != on other tags: a model without the tag does not match", async () => {
    const { prefix, tagged } = await seeded();
    await createModelWith({ name: `${prefix}-team-b`, tags: [{ key: "team", value: "b" }] });
    expect(modelNames(await searchModels(`name LIKE '${prefix}-%' AND tags.team != 'b' AND ${NOT_A_PROMPT}`))).toEqual([
      tagged,
    ]);
  });
});

describe("model-version search hides prompt versions", () => {
  it("leaves a prompt's versions out unless the filter asks for the prompt tag", async () => {
    const prompt = uniqueName("m3-mv-prompt");
    await registerPrompt(prompt, "v1 {{x}}");
    await registerPrompt(prompt, "v2 {{x}}");
    const plain = await createModel(uniqueName("m3-mv-plain"));
    await createVersionWith(plain);

    expect(versionKeys(await searchVersions(`name = '${prompt}'`))).toEqual([]);
    expect(versionKeys(await searchVersions(`name = '${prompt}' AND ${NOT_A_PROMPT}`))).toEqual([]);
    expect(versionKeys(await searchVersions(`name = '${plain}' AND ${NOT_A_PROMPT}`))).toEqual([`${plain}#1`]);
    expect(versionKeys(await searchVersions(`name = '${plain}'`))).toEqual([`${plain}#1`]);
    const asked = await searchVersions(`name = '${prompt}' AND tags.\`${PROMPT_TAG}\` = 'true'`);
    expect(versionKeys(asked)).toEqual([`${prompt}#2`, `${prompt}#1`]);
    expect(asked.body.model_versions[0].tags).toContainEqual({ key: PROMPT_TEXT_TAG, value: "v2 {{x}}" });
  });

  it("still answers a prompt version by name and number (load_prompt reads it so)", async () => {
    const prompt = uniqueName("m3-mv-get");
    await registerPrompt(prompt, "Hello {{name}}");
    const got = await call("GET", "/model-versions/get", { name: prompt, version: "1" });
    expect(got.status).toBe(200);
    expect(got.body.model_version.tags).toContainEqual({ key: PROMPT_TEXT_TAG, value: "Hello {{name}}" });
  });
});

describe("MLflow 3 length limits of registry tags", () => {
  it("registers a prompt longer than 5,000 characters and reads it back whole", async () => {
    const template = `${"You are a careful assistant. ".repeat(200)}Answer about {{topic}}.`;
    expect(template.length).toBeGreaterThan(5000);
    const prompt = uniqueName("m3-long");
    const version = await registerPrompt(prompt, template);
    expect(version.tags).toContainEqual({ key: PROMPT_TEXT_TAG, value: template });
    const got = await call("GET", "/model-versions/get", { name: prompt, version: "1" });
    expect(got.body.model_version.tags).toContainEqual({ key: PROMPT_TEXT_TAG, value: template });
  });

  it("accepts a 100,000-character version tag and refuses 100,001 with INVALID_PARAMETER_VALUE, changing nothing", async () => {
    const name = await createModel(uniqueName("m3-limit"));
    await createVersionWith(name);
    const max = "v".repeat(100_000);
    expect(
      (await call("POST", "/model-versions/set-tag", { name, version: "1", key: "long", value: max })).status,
    ).toBe(200);
    const refused = await call("POST", "/model-versions/set-tag", {
      name,
      version: "1",
      key: "longer",
      value: `${max}v`,
    });
    expectError(refused, 400, "INVALID_PARAMETER_VALUE", /100000/);
    const tags = (await call("GET", "/model-versions/get", { name, version: "1" })).body.model_version.tags;
    expect(tags.map((t: Json) => [t.key, t.value.length])).toEqual([["long", 100_000]]);
  });

  it("refuses a prompt text over 100,000 characters with MLflow's message, registering no version", async () => {
    const prompt = uniqueName("m3-too-long");
    await createModelWith({ name: prompt, tags: [{ key: PROMPT_TAG, value: "true" }] });
    const res = await call("POST", "/model-versions/create", {
      name: prompt,
      source: "prompt-template",
      tags: [
        { key: PROMPT_TAG, value: "true" },
        { key: PROMPT_TEXT_TAG, value: "x".repeat(100_001) },
      ],
    });
    expectError(res, 400, "INVALID_PARAMETER_VALUE", "Prompt text exceeds max length of 100000 characters.");
    const versions = await env.DB.prepare(
      "SELECT count(*) AS n FROM model_versions v JOIN registered_models m ON m.id = v.model_id WHERE m.name = ?",
    )
      .bind(prompt)
      .first<{ n: number }>();
    expect(versions?.n).toBe(0);
  });

  it("takes registered-model tags up to 100,000 characters too (MLflow 3.5.1's validation)", async () => {
    const name = await createModel(uniqueName("m3-rm-limit"));
    expect(
      (await call("POST", "/registered-models/set-tag", { name, key: "long", value: "r".repeat(100_000) })).status,
    ).toBe(200);
    expectError(
      await call("POST", "/registered-models/set-tag", { name, key: "longer", value: "r".repeat(100_001) }),
      400,
      "INVALID_PARAMETER_VALUE",
    );
    const tags = (await call("GET", "/registered-models/get", { name })).body.registered_model.tags;
    expect(tags.map((t: Json) => [t.key, t.value.length])).toEqual([["long", 100_000]]);
  });
});

describe("run search by dataset (dataset.name, dataset.digest, dataset.context)", () => {
  async function seeded() {
    const exp = await createExperiment();
    const dataset = (name: string, digest: string) => ({
      name,
      digest,
      source_type: "local",
      source: `{"uri": "/data/${name}"}`,
    });
    const train = await createRun(exp, { run_name: "train" });
    const evaluate = await createRun(exp, { run_name: "eval" });
    const none = await createRun(exp, { run_name: "none" });
    await ok("POST", "/runs/log-inputs", {
      run_id: train.info.run_id,
      datasets: [
        { tags: [{ key: "mlflow.data.context", value: "training" }], dataset: dataset("houses-train", "d1a2") },
      ],
    });
    await ok("POST", "/runs/log-inputs", {
      run_id: evaluate.info.run_id,
      datasets: [
        { tags: [{ key: "mlflow.data.context", value: "eval" }], dataset: dataset("houses-eval", "e3b4") },
        { tags: [], dataset: dataset("houses-extra", "f5c6") },
      ],
    });
    const search = async (filter: string) =>
      (
        (await ok("POST", "/runs/search", { experiment_ids: [exp], filter, order_by: ["attributes.run_name ASC"] }))
          .runs ?? []
      ).map((r: Json) => r.info.run_name);
    return { exp, search, none };
  }

  it("filters on a run's dataset inputs by name, digest and context", async () => {
    const { search } = await seeded();
    expect(await search("dataset.name = 'houses-train'")).toEqual(["train"]);
    expect(await search("dataset.digest = 'e3b4'")).toEqual(["eval"]);
    expect(await search("dataset.context = 'training'")).toEqual(["train"]);
    expect(await search("datasets.name LIKE 'houses-%'")).toEqual(["eval", "train"]);
    expect(await search("dataset.name ILIKE 'HOUSES-EXTRA'")).toEqual(["eval"]);
    expect(await search("dataset.name IN ('houses-train', 'houses-extra')")).toEqual(["eval", "train"]);
    expect(await search("dataset.context IN ('eval')")).toEqual(["eval"]);
    // Any input of the run may match, as in MLflow: the eval run also has houses-extra.
    expect(await search("dataset.name != 'houses-eval'")).toEqual(["eval", "train"]);
    expect(await search("dataset.name NOT IN ('houses-train')")).toEqual(["eval"]);
    expect(await search("dataset.name = 'houses-train' AND dataset.context = 'eval'")).toEqual([]);
    expect(
      await search("dataset.name = 'houses-eval' AND dataset.context = 'eval' AND attributes.run_name = 'eval'"),
    ).toEqual(["eval"]);
  });

  it("refuses unknown dataset fields and non-string values with INVALID_PARAMETER_VALUE", async () => {
    const { exp } = await seeded();
    for (const [filter, part] of [
      ["dataset.colour = 'red'", "colour"],
      ["dataset.name = 3", "dataset.name"],
      ["dataset.name > 'a'", ">"],
    ]) {
      const res = await call("POST", "/runs/search", { experiment_ids: [exp], filter });
      expectError(res, 400, "INVALID_PARAMETER_VALUE");
      expect(res.body.message).toContain(part);
    }
  });
});

describe("logged-model search with IN and NOT IN on params and tags", () => {
  async function seeded() {
    const exp = await createExperiment();
    const run = await createRun(exp);
    for (const [name, alpha, stage] of [
      ["lm-a", "0.1", "dev"],
      ["lm-b", "0.5", "prod"],
      ["lm-c", "0.5", "dev"],
    ]) {
      await createLoggedModel(exp, {
        name,
        source_run_id: run.info.run_id,
        params: [{ key: "alpha", value: alpha }],
        tags: [{ key: "stage", value: stage }],
      });
    }
    await createLoggedModel(exp, { name: "lm-bare", source_run_id: run.info.run_id });
    return async (filter: string) =>
      (
        (
          await ok("POST", "/logged-models/search", {
            experiment_ids: [exp],
            filter,
            order_by: [{ field_name: "name", ascending: true }],
          })
        ).models ?? []
      ).map((m: Json) => m.info.name);
  }

  it("filters params and tags with IN and NOT IN, as MLflow 3's logged-model grammar allows", async () => {
    const search = await seeded();
    expect(await search("params.alpha IN ('0.1', '0.9')")).toEqual(["lm-a"]);
    expect(await search("params.alpha NOT IN ('0.1')")).toEqual(["lm-b", "lm-c"]);
    expect(await search("tags.stage IN ('dev', 'qa')")).toEqual(["lm-a", "lm-c"]);
    expect(await search("tags.stage NOT IN ('dev')")).toEqual(["lm-b"]);
    expect(await search("params.alpha IN ('0.5') AND tags.stage NOT IN ('prod')")).toEqual(["lm-c"]);
  });

  it("still refuses IN on metrics", async () => {
    const exp = await createExperiment();
    const res = await call("POST", "/logged-models/search", { experiment_ids: [exp], filter: "metrics.acc IN ('1')" });
    expectError(res, 400, "INVALID_PARAMETER_VALUE");
  });
});

describe("webhooks for prompt changes (MLflow 3.5.1 sends prompt events instead of model events)", () => {
  const PROMPT_EVENTS = [
    ["prompt", "created"],
    ["prompt_version", "created"],
    ["prompt_tag", "set"],
    ["prompt_tag", "deleted"],
    ["prompt_version_tag", "set"],
    ["prompt_version_tag", "deleted"],
    ["prompt_alias", "created"],
    ["prompt_alias", "deleted"],
  ].map(([entity, action]) => ({ entity, action }));
  const MODEL_EVENTS = [
    ["registered_model", "created"],
    ["model_version", "created"],
    ["model_version_tag", "set"],
    ["model_version_tag", "deleted"],
    ["model_version_alias", "created"],
    ["model_version_alias", "deleted"],
    ["registered_model_tag", "set"],
  ].map(([entity, action]) => ({ entity, action }));

  async function webhook(params: Json): Promise<Json> {
    const res = await call("POST", "/webhooks", { name: uniqueName("m3-hook"), ...params });
    if (res.status !== 200) throw new Error(JSON.stringify(res.body));
    return res.body.webhook;
  }
  /** The webhook's deliveries in sequence order, once there are at least `count` of the model's. */
  async function deliveries(webhookId: string, count: number, of?: string): Promise<Json[]> {
    return eventually(
      async () => {
        const res = await call("GET", `/webhooks/${webhookId}/deliveries`, { max_results: 100 }, MODELGATE_API);
        const list = ((res.body.deliveries ?? []) as Json[]).filter((d) => of === undefined || d.model_name === of);
        return list.length >= count ? list.sort((a, b) => a.sequence - b.sequence) : null;
      },
      20_000,
      `${count} deliveries of ${webhookId}`,
    );
  }
  /** The bodies the receiver got at `key` for `name`'s changes, in sequence order, once there are `count`. */
  async function bodies(key: string, count: number, name: string): Promise<Json[]> {
    return eventually(
      async () => {
        const log = (await receiver.log(key)).filter((r) => JSON.parse(r.body).data?.name === name);
        if (log.length < count) return null;
        return log
          .sort((a, b) => Number(a.headers["x-modelgate-sequence"]) - Number(b.headers["x-modelgate-sequence"]))
          .map((r) => JSON.parse(r.body));
      },
      20_000,
      `${count} receipts for ${name}`,
    );
  }

  it("delivers a prompt's creation as prompt.created, and a model's as registered_model.created", async () => {
    // Unfiltered (a filter needs the model to exist first): other suites' models reach it too, so look by name.
    const key = uniqueKey();
    const hook = await webhook({ url: receiver.hook(key), events: [PROMPT_EVENTS[0], MODEL_EVENTS[0]] });
    const prompt = uniqueName("m3-hook-prompt");
    await createModelWith({
      name: prompt,
      tags: [
        { key: PROMPT_TAG, value: "true" },
        { key: "team", value: "nlp" },
      ],
      description: "greets",
    });
    const model = await createModel(uniqueName("m3-hook-model"));
    // MLflow's PromptCreatedPayload: the prompt's own tags, without the one that makes it a prompt.
    expect(await bodies(key, 1, prompt)).toMatchObject([
      { entity: "prompt", action: "created", data: { name: prompt, tags: { team: "nlp" }, description: "greets" } },
    ]);
    expect(await bodies(key, 1, model)).toMatchObject([
      { entity: "registered_model", action: "created", data: { name: model, tags: {} } },
    ]);
    // One event, one delivery per webhook: the prompt's creation never went out as registered_model.created.
    expect((await deliveries(hook.webhook_id, 1, prompt)).map((d) => `${d.entity}.${d.action}`)).toEqual([
      "prompt.created",
    ]);
  });

  it("delivers each change on a prompt as its prompt event, with MLflow's payloads, and none as a model event", async () => {
    const prompt = uniqueName("m3-hook-p");
    await createModelWith({ name: prompt, tags: [{ key: PROMPT_TAG, value: "true" }] });
    const key = uniqueKey();
    const hook = await webhook({
      url: receiver.hook(key),
      events: [...PROMPT_EVENTS, ...MODEL_EVENTS],
      model_name: prompt,
    });

    await registerPrompt(prompt, "Hello {{name}}");
    await ok("POST", "/model-versions/set-tag", { name: prompt, version: "1", key: "reviewed", value: "yes" });
    await ok("DELETE", "/model-versions/delete-tag", { name: prompt, version: "1", key: "reviewed" });
    await ok("POST", "/registered-models/alias", { name: prompt, alias: "production", version: "1" });
    await ok("DELETE", "/registered-models/alias", { name: prompt, alias: "production" });
    await ok("POST", "/registered-models/set-tag", { name: prompt, key: "owner", value: "ana" });
    await ok("DELETE", "/registered-models/delete-tag", { name: prompt, key: "owner" });

    const got = await bodies(key, 7, prompt);
    expect(got.map((b) => [`${b.entity}.${b.action}`, b.data])).toEqual([
      [
        "prompt_version.created",
        { name: prompt, version: "1", template: "Hello {{name}}", tags: {}, description: null },
      ],
      ["prompt_version_tag.set", { name: prompt, version: "1", key: "reviewed", value: "yes" }],
      ["prompt_version_tag.deleted", { name: prompt, version: "1", key: "reviewed" }],
      ["prompt_alias.created", { name: prompt, alias: "production", version: "1" }],
      ["prompt_alias.deleted", { name: prompt, alias: "production" }],
      ["prompt_tag.set", { name: prompt, key: "owner", value: "ana" }],
      ["prompt_tag.deleted", { name: prompt, key: "owner" }],
    ]);
    // Every delivery the webhook made for the prompt is one of these seven: none as a model event.
    expect((await deliveries(hook.webhook_id, 7)).map((d) => d.entity)).toEqual(got.map((b) => b.entity));
  });
});
