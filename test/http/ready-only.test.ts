import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { RegistryError } from "../../src/errors";
import { servicesFor } from "../../src/services";
import {
  API,
  call,
  createModel,
  createVersionWith,
  expectError,
  MODELGATE_API,
  transitionTo,
  uniqueName,
  type Json,
} from "../helpers";
import { eventRows, modelIdOf } from "../events/helpers";
import { Browser, csrfOf, hiddenFields, textOf } from "../ui/browser";

// Only a READY version enters Staging or Production or takes an alias (Modelgate's rule: MLflow's
// store does not look at the status). A version whose source had no files is FAILED_REGISTRATION:
// before this rule it could be moved to Production, where search showed it while
// get-latest-versions, /v1 and rollback, which only count READY versions, saw no Production at all.

const ORIGIN = "http://modelgate.test";
const enc = encodeURIComponent;

/** A version whose source has no files: registered FAILED_REGISTRATION, with the reason. */
async function failedVersion(name: string): Promise<string> {
  const v = await createVersionWith(name, { source: `mlflow-artifacts:/1/${uniqueName("run")}/artifacts/missing` });
  expect(v.status).toBe("FAILED_REGISTRATION");
  return v.version;
}

/**
 * A model with a version that is PENDING_REGISTRATION. The API settles a version's status before
 * it is written, so such a row only comes from an older registry: it is written straight into D1,
 * before the model's coordinator first loads it. Version 1 is READY, version 2 pending.
 */
async function modelWithPendingVersion(): Promise<string> {
  const name = uniqueName("pending");
  const id = crypto.randomUUID();
  const now = Date.now();
  const version = (v: number, status: string) =>
    env.DB.prepare(
      "INSERT INTO model_versions (model_id, version, source, status, current_stage, creation_time, last_updated_time) VALUES (?, ?, ?, ?, 'None', ?, ?)",
    ).bind(id, v, "s3://modelgate-test-bucket/models/model", status, now, now);
  await env.DB.batch([
    env.DB.prepare(
      "INSERT INTO registered_models (id, name, creation_time, last_updated_time, next_version) VALUES (?, ?, ?, ?, 3)",
    ).bind(id, name, now, now),
    version(1, "READY"),
    version(2, "PENDING_REGISTRATION"),
  ]);
  return name;
}

/** Everything a stage or alias change writes, for "changes nothing" checks. */
async function written(name: string) {
  const id = await modelIdOf(name);
  const rows = async (sql: string) => (await env.DB.prepare(sql).bind(id).all()).results;
  return {
    versions: await rows(
      "SELECT version, current_stage, status, last_updated_time FROM model_versions WHERE model_id = ? ORDER BY version",
    ),
    model: await rows("SELECT last_updated_time FROM registered_models WHERE id = ?"),
    history: await rows("SELECT * FROM stage_transitions WHERE model_id = ? ORDER BY id"),
    aliases: await rows("SELECT alias, version FROM registered_model_aliases WHERE model_id = ? ORDER BY alias"),
    events: (await eventRows(id)).map((e) => [e.sequence, e.type, e.version]),
  };
}

/**
 * The model's audit actions. The audit is written after the answer, so the changes this file audits
 * (transitions, aliases and this marker) are sent settled: their rows are in when the call returns.
 * The marker, a later successful change, shows the trail is written: a refused call before it has none.
 */
async function auditedActions(name: string): Promise<string[]> {
  const marker = await call("POST", "/registered-models/set-tag", { name, key: "audit-marker", value: "1" }, API, {
    settle: true,
  });
  expect(marker.status).toBe(200);
  const { results } = await env.DB.prepare("SELECT action FROM audit_events WHERE model_name = ? ORDER BY id")
    .bind(name)
    .all<{ action: string }>();
  const actions = results.map((r) => r.action);
  expect(actions.at(-1)).toMatch(/\/registered-models\/set-tag$/);
  return actions;
}

// Settled: an audited change's row is in when the call returns (auditedActions reads them).
const transition = (name: string, version: string, stage: string, archiveExisting = false) =>
  call(
    "POST",
    "/model-versions/transition-stage",
    { name, version, stage, archive_existing_versions: archiveExisting },
    API,
    { settle: true },
  );
const setAlias = (name: string, alias: string, version: string) =>
  call("POST", "/registered-models/alias", { name, alias, version }, API, { settle: true });

const notReadyForStage = (name: string, version: string, status: string, stage: string) =>
  `Model Version (name=${name}, version=${version}) is ${status}: only a READY version can enter ${stage}.`;
const notReadyForAlias = (name: string, version: string, status: string, alias: string) =>
  `Model Version (name=${name}, version=${version}) is ${status}: only a READY version can take the alias '${alias}'.`;

/** The version each view says is in Production (null: none), read through every way there is. */
async function productionEverywhere(name: string): Promise<Record<string, string | null>> {
  const inProduction = (versions: Json[] | undefined) => {
    const found = (versions ?? []).filter((v) => v.current_stage === "Production").map((v) => v.version as string);
    expect(found.length).toBeLessThanOrEqual(1);
    return found[0] ?? null;
  };
  const model = await call("GET", "/registered-models/get", { name });
  const search = await call("GET", "/registered-models/search", { filter: `name = '${name}'` });
  expect(search.body.registered_models).toHaveLength(1);
  const latest = await call("POST", "/registered-models/get-latest-versions", { name, stages: ["Production"] });
  const versions = await call("GET", "/model-versions/search", { filter: `name = '${name}'` });
  const each: Json[] = [];
  for (const v of versions.body.model_versions ?? [])
    each.push((await call("GET", "/model-versions/get", { name, version: v.version })).body.model_version);

  const delivered = await exports.default.fetch(new Request(`${ORIGIN}/v1/models/${enc(name)}/Production`));
  const v1 = delivered.status === 200 ? ((await delivered.json()) as Json).version : (await delivered.text(), null);

  // The web UI: the model page's summary, and its rollback panel (RollbackService's preview).
  const page = textOf(
    await (
      await exports.default.fetch(new Request(`${ORIGIN}/models/${enc(name)}`, { headers: { accept: "text/html" } }))
    ).text(),
  );
  const ui = /Production: Production version (\d+)/.exec(page)?.[1] ?? null;
  const panel =
    /Version (\d+) is in Production; the previous|version (\d+) is the only one that has been in Production/.exec(page);
  const uiRollback = panel
    ? (panel[1] ?? panel[2])! // one side of the alternation matched
    : page.includes("has no version in Production")
      ? null
      : "(no rollback panel)";

  // The coordinator's own rollback decision, asked not to act: it names the Production version it sees.
  let coordinator: string | null = "(rolled back!)";
  try {
    await servicesFor(env).registry.rollback({ name, actor: "ready-only-test", expectedCurrent: 0 });
  } catch (error) {
    if (!(error instanceof RegistryError)) throw error;
    coordinator =
      /version (\d+) is in Production now/.exec(error.message)?.[1] ??
      (error.message.includes("has no version in Production") ? null : error.message);
  }

  return {
    "registered-models/get": inProduction(model.body.registered_model.latest_versions),
    "registered-models/search": inProduction(search.body.registered_models[0].latest_versions),
    "get-latest-versions": inProduction(latest.body.model_versions),
    "model-versions/search": inProduction(versions.body.model_versions),
    "model-versions/get": inProduction(each),
    "/v1 Production": v1,
    "ui model page": ui,
    "ui rollback panel": uiRollback,
    "coordinator rollback": coordinator,
  };
}

const everywhere = (version: string | null) => ({
  "registered-models/get": version,
  "registered-models/search": version,
  "get-latest-versions": version,
  "model-versions/search": version,
  "model-versions/get": version,
  "/v1 Production": version,
  "ui model page": version,
  "ui rollback panel": version,
  "coordinator rollback": version,
});

describe("only a READY version enters Staging or Production", () => {
  for (const stage of ["Staging", "Production"]) {
    for (const archiveExisting of [false, true]) {
      it(`refuses to move a FAILED_REGISTRATION version to ${stage}${archiveExisting ? " archiving the others" : ""}, naming its status, and changes nothing`, async () => {
        const name = await createModel();
        await createVersionWith(name);
        expect((await transition(name, "1", stage)).status).toBe(200);
        const failed = await failedVersion(name);
        const before = await written(name);

        const res = await transition(name, failed, stage, archiveExisting);
        expectError(res, 400, "INVALID_PARAMETER_VALUE", notReadyForStage(name, failed, "FAILED_REGISTRATION", stage));
        expect(await written(name)).toEqual(before);
        expect((await auditedActions(name)).filter((a) => a.endsWith("/transition-stage"))).toHaveLength(1); // version 1's
      });
    }
  }

  it("refuses a PENDING_REGISTRATION version, and matches the stage name case-insensitively", async () => {
    const name = await modelWithPendingVersion();
    const before = await written(name);
    expectError(
      await transition(name, "2", "production"),
      400,
      "INVALID_PARAMETER_VALUE",
      notReadyForStage(name, "2", "PENDING_REGISTRATION", "Production"),
    );
    expectError(
      await transition(name, "2", "Staging"),
      400,
      "INVALID_PARAMETER_VALUE",
      notReadyForStage(name, "2", "PENDING_REGISTRATION", "Staging"),
    );
    expect(await written(name)).toEqual(before);
    // The READY version beside it is promoted as always.
    expect((await transitionTo(name, "1", "Production")).current_stage).toBe("Production");
  });

  it("still lets a version that is not READY move to None or Archived", async () => {
    const name = await createModel();
    const failed = await failedVersion(name);
    expect((await transitionTo(name, failed, "Archived")).current_stage).toBe("Archived");
    expect((await transitionTo(name, failed, "None")).current_stage).toBe("None");
  });

  it("names the status before any promotion policy is consulted", async () => {
    const name = await createModel();
    const failed = await failedVersion(name);
    const policy = await call(
      "PUT",
      "/registered-models/policy",
      { name, policy: { Production: [{ type: "tag", key: "validation", value: "passed" }] } },
      MODELGATE_API,
    );
    expect(policy.status).toBe(200);
    // The version does not meet the policy either: the refusal still names its status.
    const before = await written(name);
    expectError(
      await transition(name, failed, "Production"),
      400,
      "INVALID_PARAMETER_VALUE",
      notReadyForStage(name, failed, "FAILED_REGISTRATION", "Production"),
    );
    expect(await written(name)).toEqual(before);
  });
});

describe("only a READY version takes an alias", () => {
  it("refuses an alias on a FAILED_REGISTRATION version and writes nothing", async () => {
    const name = await createModel();
    const failed = await failedVersion(name);
    const before = await written(name);
    expectError(
      await setAlias(name, "champion", failed),
      400,
      "INVALID_PARAMETER_VALUE",
      notReadyForAlias(name, failed, "FAILED_REGISTRATION", "champion"),
    );
    expect(await written(name)).toEqual(before);
    expectError(
      await call("GET", "/registered-models/alias", { name, alias: "champion" }),
      400,
      "INVALID_PARAMETER_VALUE",
      "Registered model alias champion not found.",
    );
    expect((await auditedActions(name)).filter((a) => a.endsWith("/registered-models/alias"))).toEqual([]);
  });

  it("refuses to move an alias to a version that is not READY, leaving it where it was", async () => {
    const name = await createModel();
    await createVersionWith(name);
    const failed = await failedVersion(name);
    expect((await setAlias(name, "champion", "1")).status).toBe(200);
    const before = await written(name);
    expectError(
      await setAlias(name, "champion", failed),
      400,
      "INVALID_PARAMETER_VALUE",
      notReadyForAlias(name, failed, "FAILED_REGISTRATION", "champion"),
    );
    expect(await written(name)).toEqual(before);
    expect(
      (await call("GET", "/registered-models/alias", { name, alias: "champion" })).body.model_version,
    ).toMatchObject({ version: "1", status: "READY" });
    const delivered = await exports.default.fetch(new Request(`${ORIGIN}/v1/models/${enc(name)}/@champion`));
    expect(((await delivered.json()) as Json).version).toBe("1");
  });

  it("refuses an alias on a PENDING_REGISTRATION version", async () => {
    const name = await modelWithPendingVersion();
    const before = await written(name);
    expectError(
      await setAlias(name, "candidate", "2"),
      400,
      "INVALID_PARAMETER_VALUE",
      notReadyForAlias(name, "2", "PENDING_REGISTRATION", "candidate"),
    );
    expect(await written(name)).toEqual(before);
  });
});

describe("every view agrees on which version is in Production", () => {
  it("after a refused promotion of a FAILED_REGISTRATION version, all of them still name the READY one", async () => {
    const name = await createModel();
    await createVersionWith(name);
    await transitionTo(name, "1", "Production");
    const failed = await failedVersion(name);
    expect(await productionEverywhere(name)).toEqual(everywhere("1"));

    expect((await transition(name, failed, "Production")).status).toBe(400);
    expect(await productionEverywhere(name)).toEqual(everywhere("1"));
  });

  it("with no Production version, a refused promotion leaves none anywhere", async () => {
    const name = await createModel();
    await createVersionWith(name);
    const failed = await failedVersion(name);
    expect((await transition(name, failed, "Production")).status).toBe(400);
    expect(await productionEverywhere(name)).toEqual(everywhere(null));
  });
});

describe("rollback restores only a READY version", () => {
  it("passes over a refused FAILED_REGISTRATION promotion: nothing of it is in the history to roll back to", async () => {
    const name = await createModel();
    await createVersionWith(name);
    const failed = await failedVersion(name);
    await createVersionWith(name);
    await transitionTo(name, "1", "Production");
    expect((await transition(name, failed, "Production")).status).toBe(400);
    await transitionTo(name, "3", "Production");
    expect(await productionEverywhere(name)).toEqual(everywhere("3"));

    const res = await call("POST", "/registered-models/rollback", { name }, MODELGATE_API);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      model_version: { version: "1", current_stage: "Production", status: "READY" },
      archived_version: "3",
    });
    const history = (await call("GET", "/model-versions/transitions", { name }, MODELGATE_API)).body
      .transitions as Json[];
    expect(history.filter((t) => t.version === failed)).toEqual([]);
    expect(await productionEverywhere(name)).toEqual(everywhere("1"));
  });

  it("skips a version that is not READY in an older registry's history, in the preview and in the rollback", async () => {
    // History written before the rule: version 2 (FAILED_REGISTRATION) was once in Production
    // between versions 1 and 3. Written straight into D1, before the coordinator loads the model.
    const name = uniqueName("legacy");
    const id = crypto.randomUUID();
    const now = Date.now();
    const version = (v: number, status: string, stage: string) =>
      env.DB.prepare(
        "INSERT INTO model_versions (model_id, version, source, status, current_stage, creation_time, last_updated_time) VALUES (?, ?, 's3://b/m', ?, ?, ?, ?)",
      ).bind(id, v, status, stage, now, now);
    const row = (v: number, from: string, to: string, at: number) =>
      env.DB.prepare(
        "INSERT INTO stage_transitions (model_id, version, from_stage, to_stage, actor, timestamp) VALUES (?, ?, ?, ?, 'old', ?)",
      ).bind(id, v, from, to, at);
    await env.DB.batch([
      env.DB.prepare(
        "INSERT INTO registered_models (id, name, creation_time, last_updated_time, next_version) VALUES (?, ?, ?, ?, 4)",
      ).bind(id, name, now, now),
      version(1, "READY", "Archived"),
      version(2, "FAILED_REGISTRATION", "Archived"),
      version(3, "READY", "Production"),
      row(1, "None", "Production", now - 5),
      row(2, "None", "Production", now - 4),
      row(1, "Production", "Archived", now - 4),
      row(3, "None", "Production", now - 3),
      row(2, "Production", "Archived", now - 3),
    ]);
    expect(await productionEverywhere(name)).toEqual(everywhere("3"));

    // The UI's preview offers version 1, and the rollback it confirms restores version 1.
    const browser = new Browser();
    const page = await browser.get(`/models/${enc(name)}`);
    expect(textOf(page.html)).toContain("Version 3 is in Production; the previous Production version is 1.");
    const asked = await browser.post(`/ui/actions/models/${enc(name)}/rollback`, {
      _csrf: csrfOf(page.html),
      expected: "3",
    });
    expect(asked.status).toBe(200);
    const done = await browser.post(`/ui/actions/models/${enc(name)}/rollback`, hiddenFields(asked.html));
    expect(done.status).toBe(303);
    expect(await productionEverywhere(name)).toEqual(everywhere("1"));
  });
});

describe("the web UI's forms go through the same rule", () => {
  it("shows the refusal of a FAILED_REGISTRATION version for Staging, Production and an alias, and changes nothing", async () => {
    const name = await createModel();
    await createVersionWith(name);
    const failed = await failedVersion(name);
    const before = await written(name);
    const modelPage = `/models/${enc(name)}`;
    const browser = new Browser();

    const staging = await browser.submit(
      modelPage,
      `/ui/actions/models/${enc(name)}/stage`,
      { version: failed, stage: "Staging" },
      false,
    );
    expect(staging.status).toBe(303);
    expect(textOf((await browser.get(modelPage)).html)).toContain(
      notReadyForStage(name, failed, "FAILED_REGISTRATION", "Staging"),
    );

    const production = await browser.submit(modelPage, `/ui/actions/models/${enc(name)}/stage`, {
      version: failed,
      stage: "Production",
    });
    expect(production.status).toBe(303);
    expect(textOf((await browser.get(modelPage)).html)).toContain(
      notReadyForStage(name, failed, "FAILED_REGISTRATION", "Production"),
    );

    const alias = await browser.submit(
      modelPage,
      `/ui/actions/models/${enc(name)}/aliases`,
      { alias: "champion", version: failed },
      false,
    );
    expect(alias.status).toBe(303);
    expect(textOf((await browser.get(modelPage)).html)).toContain(
      notReadyForAlias(name, failed, "FAILED_REGISTRATION", "champion"),
    );

    expect(await written(name)).toEqual(before);
  });
});
