import { createExecutionContext, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import { PolicyGate } from "../../src/coordinator/policy-gate";
import { ModelState } from "../../src/coordinator/model-state";
import { defaultScanPolicy, evaluatePolicy } from "../../src/domain/promotion-policy";
import { openDatabase } from "../../src/repositories/database";
import { ModelRepository } from "../../src/repositories/model-repository";
import { ScanGate } from "../../src/scanning/scan-gate";
import { call, createVersionWith, expectError, MODELGATE_API, type Json } from "../helpers";
import { fixtureBytes } from "../scanning/fixture-bytes";
import { eventsOf, registeredVersion } from "../scanning/registered-version";

const SCAN_RULE = { type: "scan", status: "clean" };
const MLMODEL = "flavors:\n  sklearn: {}\n";

async function setPolicy(name: string, policy: Json): Promise<Json> {
  const res = await call("PUT", "/registered-models/policy", { name, policy }, MODELGATE_API);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

const promote = (name: string, version: string, stage = "Production") =>
  call("POST", "/model-versions/transition-stage", { name, version, stage, archive_existing_versions: false });

const override = (name: string, version: string, reason: string) =>
  call("POST", "/model-versions/scan/override", { name, version, reason }, MODELGATE_API);

async function stageOf(name: string, version: string): Promise<string> {
  return (await call("GET", "/model-versions/get", { name, version })).body.model_version.current_stage;
}

describe("the scan policy rule", () => {
  it("is written and read back as {type: scan, status: clean}, described in words; other statuses are refused", async () => {
    const { name } = await registeredVersion({ MLmodel: MLMODEL });
    const body = await setPolicy(name, { Production: [{ type: "scan" }] });
    expect(body.policy).toEqual({ Production: [SCAN_RULE] });
    expect(body.description).toEqual({ Production: ["its pickle scan must be clean"] });
    const bad = await call(
      "PUT",
      "/registered-models/policy",
      { name, policy: { Production: [{ type: "scan", status: "unknown" }] } },
      MODELGATE_API,
    );
    expect(bad.status).toBe(400);
    expect(bad.body.error_code).toBe("INVALID_PARAMETER_VALUE");
  });

  it("refuses Production for an unsafe version, naming the file and the global, and moves nothing", async () => {
    const { name, version, modelId } = await registeredVersion({
      MLmodel: MLMODEL,
      "model.pkl": fixtureBytes("evil-os-system-protocol4.pkl"),
    });
    await setPolicy(name, { Production: [SCAN_RULE] });
    expectError(
      await promote(name, version),
      400,
      "INVALID_PARAMETER_VALUE",
      `Promotion policy of '${name}' refused version 1 → Production: its pickle scan must be clean (scan unsafe: model.pkl imports posix.system; an admin may record an override with a reason).`,
    );
    expect(await stageOf(name, version)).toBe("None");
    // The rule scanned the small version itself and recorded its verdict, with the event.
    expect(await eventsOf(modelId, "model_version.scanned")).toEqual([
      {
        version: 1,
        from: "pending",
        to: "unsafe",
        data: { verdict: "unsafe", scanner: "pickle-scan/1", finding: "model.pkl imports posix.system" },
      },
    ]);
    expect(await eventsOf(modelId, "model_version.stage_transitioned")).toEqual([]);
  });

  it("refuses Staging for a version whose scan is unknown", async () => {
    const { name, version } = await registeredVersion({ "model.pkl": fixtureBytes("deep-nesting.pkl") });
    await setPolicy(name, { Staging: [SCAN_RULE] });
    const res = await promote(name, version, "Staging");
    expect(res.status).toBe(400);
    expect(res.body.message).toContain(
      "refused version 1 → Staging: its pickle scan must be clean (scan unknown: model.pkl",
    );
    expect(await stageOf(name, version)).toBe("None");
  });

  it("allows a clean version (a real scikit-learn pickle) and a version without files", async () => {
    const { name, version } = await registeredVersion({
      MLmodel: MLMODEL,
      "model.pkl": fixtureBytes("sklearn-tree-protocol4.pkl"),
    });
    await setPolicy(name, { Staging: [SCAN_RULE], Production: [SCAN_RULE] });
    expect((await promote(name, version, "Staging")).status).toBe(200);
    expect((await promote(name, version)).status).toBe(200);
    expect(await stageOf(name, version)).toBe("Production");

    const external = await createVersionWith(name);
    expect((await promote(name, external.version)).status).toBe(200);
  });

  it("lets an unsafe version through once an admin records an override with a reason, which the scan shows", async () => {
    const { name, version, modelId } = await registeredVersion({ "model.pkl": fixtureBytes("evil-eval.pkl") });
    await setPolicy(name, { Production: [SCAN_RULE] });
    expect((await promote(name, version)).status).toBe(400);

    const res = await override(name, version, "reviewed by security: eval of a constant, ticket SEC-12");
    expect(res.status).toBe(200);
    expect(res.body.override).toMatchObject({
      status: "unsafe",
      reason: "reviewed by security: eval of a constant, ticket SEC-12",
    });
    expect((await promote(name, version)).status).toBe(200);
    expect(await stageOf(name, version)).toBe("Production");
    const scan = await call("GET", "/model-versions/scan", { name, version }, MODELGATE_API);
    expect(scan.body).toMatchObject({
      scan: "unsafe",
      override: { status: "unsafe", reason: "reviewed by security: eval of a constant, ticket SEC-12" },
    });
    const rows = await env.DB.prepare("SELECT reason, status FROM scan_overrides WHERE model_id = ?")
      .bind(modelId)
      .all();
    expect(rows.results).toEqual([
      { reason: "reviewed by security: eval of a constant, ticket SEC-12", status: "unsafe" },
    ]);
  });

  it("refuses an override without a reason, and one for a clean version; neither is recorded", async () => {
    const unsafe = await registeredVersion({ "model.pkl": fixtureBytes("evil-eval.pkl") });
    expectError(
      await override(unsafe.name, unsafe.version, "   "),
      400,
      "INVALID_PARAMETER_VALUE",
      /an override needs a reason/,
    );
    const clean = await registeredVersion({ MLmodel: MLMODEL });
    await setPolicy(clean.name, { Production: [SCAN_RULE] });
    expect((await promote(clean.name, clean.version)).status).toBe(200); // scans it: clean
    expectError(
      await override(clean.name, clean.version, "just because"),
      400,
      "INVALID_PARAMETER_VALUE",
      `Version 1 of '${clean.name}' scanned clean: there is nothing to override.`,
    );
    for (const v of [unsafe, clean]) {
      const n = await env.DB.prepare("SELECT count(*) AS n FROM scan_overrides WHERE model_id = ?")
        .bind(v.modelId)
        .first<{ n: number }>();
      expect(n!.n).toBe(0);
    }
  });
});

describe("an override and the verdict it overrode", () => {
  const overrideRow = (modelId: string, status: string, reason: string) =>
    env.DB.prepare(
      "INSERT INTO scan_overrides (id, model_id, version, status, reason, actor, created_at) VALUES (?, ?, 1, ?, ?, 'admin', ?)",
    )
      .bind(crypto.randomUUID(), modelId, status, reason, Date.now())
      .run();

  it("is refused while the scan is pending (409, MLflow's error JSON) and records nothing; allowed once it is final", async () => {
    const { name, version, modelId } = await registeredVersion({ "model.pkl": fixtureBytes("evil-eval.pkl") });
    expectError(
      await override(name, version, "looks fine to me"),
      409,
      "RESOURCE_CONFLICT",
      `The scan of version 1 of '${name}' has not finished: an override may be recorded only for a final verdict that is not clean (unknown or unsafe). Retry once the scan completes.`,
    );
    const count = await env.DB.prepare("SELECT count(*) AS n FROM scan_overrides WHERE model_id = ?")
      .bind(modelId)
      .first<{ n: number }>();
    expect(count!.n).toBe(0);
    await setPolicy(name, { Production: [SCAN_RULE] });
    expect((await promote(name, version)).status).toBe(400); // scans it inline: unsafe
    const res = await override(name, version, "eval of a constant, SEC-12");
    expect(res.status).toBe(200);
    expect(res.body.override.status).toBe("unsafe");
    expect((await promote(name, version)).status).toBe(200);
  });

  it("lets a version through only while its verdict is the status the override recorded", async () => {
    const { name, version, modelId } = await registeredVersion({
      "model.pkl": fixtureBytes("evil-os-system-protocol4.pkl"),
    });
    await setPolicy(name, { Production: [SCAN_RULE] });
    expect((await promote(name, version)).status).toBe(400); // unsafe, recorded
    // An override recorded while pending (before this check existed), and one of an `unknown`
    // verdict the version no longer has: neither covers `unsafe`.
    await overrideRow(modelId, "pending", "recorded before the findings");
    expect((await promote(name, version)).body.message).toContain("scan unsafe: model.pkl imports posix.system");
    await overrideRow(modelId, "unknown", "accepted an unreadable stream");
    const refused = await promote(name, version);
    expect(refused.status).toBe(400);
    expect(refused.body.message).toContain("an admin may record an override with a reason");
    expect(await stageOf(name, version)).toBe("None");
    const scan = await call("GET", "/model-versions/scan", { name, version }, MODELGATE_API);
    expect(scan.body.scan).toBe("unsafe");
    expect(scan.body.override).toBeUndefined();
    // An override of what the scan found holds.
    await overrideRow(modelId, "unsafe", "reviewed: SEC-13");
    expect((await promote(name, version)).status).toBe(200);
  });
});

/** A PolicyGate over a fresh coordinator's storage (no policy stored), as the coordinator builds it. */
async function withGate<T>(
  options: { inlineBudget?: number; defaultPolicy: ReturnType<typeof defaultScanPolicy> },
  task: (gate: PolicyGate, db: ReturnType<typeof openDatabase>) => Promise<T>,
): Promise<T> {
  const stub = env.MODEL_COORDINATOR.get(env.MODEL_COORDINATOR.idFromName(`gate-${crypto.randomUUID()}`));
  return runInDurableObject(stub, async (_instance, state) => {
    const db = openDatabase(env.DB);
    const gate = new PolicyGate(state.storage, db, Date.now, {
      scans: new ScanGate(db, env.ARTIFACTS, options.inlineBudget),
      defaultPolicy: options.defaultPolicy,
    });
    return task(gate, db);
  });
}

async function stateOf(db: ReturnType<typeof openDatabase>, modelId: string): Promise<ModelState> {
  return ModelState.fromSnapshot((await new ModelRepository(db).loadSnapshot(modelId))!);
}

describe("the deployment's default scan policy (MODELGATE_DEFAULT_SCAN_POLICY)", () => {
  it("reads unset as off, Production and Staging,Production as written, and a typo as the strictest", () => {
    expect(defaultScanPolicy(undefined)).toBeNull();
    expect(defaultScanPolicy("")).toBeNull();
    expect(defaultScanPolicy("off")).toBeNull();
    expect(defaultScanPolicy("Production")).toEqual({ Production: [SCAN_RULE] });
    expect(defaultScanPolicy("Staging, Production")).toEqual({ Staging: [SCAN_RULE], Production: [SCAN_RULE] });
    expect(defaultScanPolicy("Prodution")).toEqual({ Staging: [SCAN_RULE], Production: [SCAN_RULE] });
  });

  it("holds a model without a policy to the default: unsafe refused, clean allowed, Staging free", async () => {
    const unsafe = await registeredVersion({ "model.pkl": fixtureBytes("evil-stack-global.pkl") });
    const clean = await registeredVersion({ "model.pkl": fixtureBytes("sklearn-forest.joblib") });
    await withGate({ defaultPolicy: defaultScanPolicy("Production") }, async (gate, db) => {
      const s = await stateOf(db, unsafe.modelId);
      await expect(gate.check(s, 1, "Production", null)).rejects.toThrow(/scan unsafe: model\.pkl imports/);
      await expect(gate.check(s, 1, "Staging", null)).resolves.toBeUndefined();
      await expect(gate.check(await stateOf(db, clean.modelId), 1, "Production", null)).resolves.toBeUndefined();
    });
  });

  it("stays under a model's policy without a scan rule: an unsafe version is still refused, the other rules too", async () => {
    const unsafe = await registeredVersion({ "model.pkl": fixtureBytes("evil-stack-global.pkl") });
    await withGate({ defaultPolicy: defaultScanPolicy("Production") }, async (gate, db) => {
      gate.set({ policy: { Production: [{ type: "tag", key: "x" }] }, updatedBy: "admin", updatedTime: 1 });
      const s = await stateOf(db, unsafe.modelId);
      await expect(gate.check(s, 1, "Production", null)).rejects.toThrow(/tag x must be set/);
      s.versions.get(1)!.tags = [{ key: "x", value: "1" }];
      await expect(gate.check(s, 1, "Production", null)).rejects.toThrow(/scan unsafe: model\.pkl imports/);
    });
  });

  it("gives way to the model's own scan rule for a stage, and guards the stages that rule leaves", async () => {
    const unsafe = await registeredVersion({ "model.pkl": fixtureBytes("evil-stack-global.pkl") });
    await withGate({ defaultPolicy: defaultScanPolicy("Staging,Production") }, async (gate, db) => {
      gate.set({ policy: { Production: [SCAN_RULE as never] }, updatedBy: "admin", updatedTime: 1 });
      const s = await stateOf(db, unsafe.modelId);
      await expect(gate.check(s, 1, "Staging", null)).rejects.toThrow(/Staging: its pickle scan must be clean/);
      await expect(gate.check(s, 1, "Production", null)).rejects.toThrow(/Production: its pickle scan must be clean/);
    });
  });
});

describe("a version whose scan is pending", () => {
  it("is refused with 'scan pending' when its files exceed what the rule scans inline; the queue's scan then lets it pass", async () => {
    const { modelId } = await registeredVersion({ "model.pkl": fixtureBytes("sklearn-tree-protocol2.pkl") });
    const size = fixtureBytes("sklearn-tree-protocol2.pkl").length;
    await withGate({ inlineBudget: 0, defaultPolicy: defaultScanPolicy("Production") }, async (gate, db) => {
      const s = await stateOf(db, modelId);
      await expect(gate.check(s, 1, "Production", null)).rejects.toThrow(
        `its pickle scan must be clean (scan pending: ${(size / 1024).toFixed(1)} KiB not scanned yet, retry when the scan completes)`,
      );
      // The queue's consumer scans it and the coordinator records it.
      await new ScanGate(db, env.ARTIFACTS).fact({ modelId, version: 1 }, s.name);
      await expect(gate.check(s, 1, "Production", null)).resolves.toBeUndefined();
    });
  });

  it("is scanned inline when small, so a job that registers and promotes at once is not refused by a race", async () => {
    const { name, version, modelId } = await registeredVersion({
      MLmodel: MLMODEL,
      "model.pkl": fixtureBytes("sklearn-pipeline-cloudpickle.pkl"),
    });
    await setPolicy(name, { Production: [SCAN_RULE] });
    expect((await promote(name, version)).status).toBe(200);
    expect((await eventsOf(modelId, "model_version.scanned")).map((e) => e.to)).toEqual(["clean"]);
  });

  it("fails the rule in the pure evaluation when no scan fact was gathered", () => {
    const verdict = evaluatePolicy(
      { Production: [{ type: "scan", status: "clean" }] },
      {
        model: "m",
        version: 1,
        target: "Production",
        kind: "transition",
        currentStage: "None",
        stagingSince: null,
        now: 0,
        tags: [],
        runId: null,
        metrics: new Map(),
        caller: null,
      },
    );
    expect(verdict).toMatchObject({ ok: false, message: expect.stringContaining("its scan could not be read") });
  });
});

describe("who may override", () => {
  const ADMIN = "mg_scan_policy_admin_secret";
  const authEnv = { ...env, MODELGATE_AUTH: "on", MODELGATE_ADMIN_TOKEN: ADMIN } as Env;
  const app = createApp();

  async function send(method: string, path: string, params: Json, secret: string) {
    let url = `http://modelgate.test/api/2.0/modelgate${path}`;
    const init: RequestInit = {
      method,
      headers: { "content-type": "application/json", authorization: `Bearer ${secret}` },
    };
    if (method === "GET") url += `?${new URLSearchParams(params)}`;
    else init.body = JSON.stringify(params);
    const ctx = createExecutionContext();
    const res = await app.fetch(new Request(url, init), authEnv, ctx);
    await waitOnExecutionContext(ctx); // the audit row is written after the answer
    return { status: res.status, body: (await res.json()) as Json };
  }

  async function token(scopes: string[], models?: string[]): Promise<string> {
    const res = await send(
      "POST",
      "/tokens",
      { name: `t-${crypto.randomUUID()}`, scopes, ...(models ? { models } : {}) },
      ADMIN,
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body.secret;
  }

  const overrides = async (modelId: string) =>
    (await env.DB.prepare("SELECT count(*) AS n FROM scan_overrides WHERE model_id = ?")
      .bind(modelId)
      .first<{ n: number }>())!.n;

  it("keeps the default scan rule when a narrowed admin sets a policy of only a scope and a metric rule", async () => {
    const a = await registeredVersion({ "model.pkl": fixtureBytes("evil-os-system-protocol4.pkl") });
    const narrowed = await token(["admin"], [a.name]);
    const put = await send(
      "PUT",
      "/registered-models/policy",
      {
        name: a.name,
        policy: {
          Staging: [{ type: "scope", scope: "promote" }],
          Production: [{ type: "metric", key: "r2", operator: ">=", value: 0 }],
        },
      },
      narrowed,
    );
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    // The model's own coordinator, holding the policy the admin set, with the deployment default on.
    const stub = env.MODEL_COORDINATOR.get(env.MODEL_COORDINATOR.idFromName(a.modelId));
    await runInDurableObject(stub, async (_instance, state) => {
      const db = openDatabase(env.DB);
      const gate = new PolicyGate(state.storage, db, Date.now, {
        scans: new ScanGate(db, env.ARTIFACTS),
        defaultPolicy: defaultScanPolicy("Production"),
      });
      expect(gate.get()?.policy.Production).toEqual([{ type: "metric", key: "r2", operator: ">=", value: 0 }]);
      const s = await stateOf(db, a.modelId);
      const caller = { actor: "promoter", scope: "promote" as const };
      // Every rule of the admin's own holds: the caller may promote, and the run's r2 is logged.
      await expect(gate.check(s, 1, "Staging", caller)).resolves.toBeUndefined();
      const logged = await call("POST", "/runs/log-metric", {
        run_id: s.versions.get(1)!.runId,
        key: "r2",
        value: 0.9,
        timestamp: Date.now(),
        step: 0,
      });
      expect(logged.status).toBe(200);
      await expect(gate.check(s, 1, "Production", caller)).rejects.toThrow(
        /refused version 1 → Production: its pickle scan must be clean \(scan unsafe: model\.pkl imports posix\.system/,
      );
    });
  });

  it("refuses holders of promote (the rule binds them) and records nothing", async () => {
    const v = await registeredVersion({ "model.pkl": fixtureBytes("evil-eval.pkl") });
    const promoter = await token(["promote"]);
    const res = await send(
      "POST",
      "/model-versions/scan/override",
      { name: v.name, version: v.version, reason: "ship it" },
      promoter,
    );
    expect(res.status).toBe(403);
    expect(res.body.error_code).toBe("PERMISSION_DENIED");
    expect(await overrides(v.modelId)).toBe(0);
  });

  it("lets an admin narrowed to model A override A's versions only; the audit keeps who did it", async () => {
    const a = await registeredVersion({ "model.pkl": fixtureBytes("evil-eval.pkl") });
    const b = await registeredVersion({ "model.pkl": fixtureBytes("evil-eval.pkl") });
    const narrowed = await token(["admin"], [a.name]);
    // Scanned and its verdict recorded: only a final verdict can be overridden.
    for (const v of [a, b])
      await new ScanGate(openDatabase(env.DB), env.ARTIFACTS).fact({ modelId: v.modelId, version: 1 }, v.name);

    const onB = await send(
      "POST",
      "/model-versions/scan/override",
      { name: b.name, version: "1", reason: "mine now" },
      narrowed,
    );
    expect(onB.status).toBeGreaterThanOrEqual(400);
    expect(onB.status).toBeLessThan(500);
    expect(await overrides(b.modelId)).toBe(0);

    const onA = await send(
      "POST",
      "/model-versions/scan/override",
      { name: a.name, version: "1", reason: "accepted risk, INC-7" },
      narrowed,
    );
    expect(onA.status).toBe(200);
    expect(await overrides(a.modelId)).toBe(1);

    const audit = await send("GET", "/audit", { model: a.name }, ADMIN);
    expect(audit.status).toBe(200);
    const row = audit.body.events.find(
      (e: Json) => e.action === "POST /api/2.0/modelgate/model-versions/scan/override",
    );
    expect(row).toMatchObject({
      model: a.name,
      version: "1",
      status: 200,
      detail: "scan override (unsafe): accepted risk, INC-7",
    });
    expect(row.actor).toMatch(/^t-/);
  });
});
