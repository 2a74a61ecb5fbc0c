import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { scanRoutes } from "../../src/http/routes/scan";
import type { AppEnv } from "../../src/http/context";
import { onError } from "../../src/http/error-handler";
import { consumeScans, SCANS_QUEUE, scanRequestsFor } from "../../src/scanning/scan-queue";
import { servicesFor } from "../../src/services";
import { call, createModel, uniqueName } from "../helpers";
import { fixtureBytes } from "./fixture-bytes";

// The scan route as src/app.ts will mount it (one line there; see docs/supply-chain.md).
const app = new Hono<AppEnv>();
app.onError(onError);
app.use("*", async (c, next) => {
  c.set("services", servicesFor(c.env));
  c.set("actor", "anonymous");
  c.set("userId", undefined);
  c.set("principal", undefined);
  c.set("auditModel", undefined);
  await next();
});
app.route("/api/2.0/modelgate", scanRoutes);

async function scanOf(name: string, version: string) {
  const res = await app.request(
    `http://modelgate.test/api/2.0/modelgate/model-versions/scan?name=${encodeURIComponent(name)}&version=${version}`,
    {},
    env,
  );
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

/** A run whose model folder holds the given files, registered as version 1 of a new model. */
async function registered(files: Record<string, Uint8Array | string>) {
  const exp = await call("POST", "/experiments/create", { name: uniqueName("exp") });
  const run = await call("POST", "/runs/create", { experiment_id: exp.body.experiment_id, start_time: Date.now() });
  const runId = run.body.run.info.run_id as string;
  for (const [path, body] of Object.entries(files)) {
    const url = `http://modelgate.test/api/2.0/mlflow-artifacts/artifacts/${exp.body.experiment_id}/${runId}/artifacts/model/${path}`;
    const res = await exports.default.fetch(new Request(url, { method: "PUT", body }));
    expect(res.status).toBe(200);
  }
  const name = await createModel();
  const created = await call("POST", "/model-versions/create", { name, source: `runs:/${runId}/model` });
  expect(created.body.model_version.status).toBe("READY");
  const version = await servicesFor(env).registry.getVersion(name, "1");
  return { name, modelId: version.modelId };
}

describe("version scans", () => {
  it("is pending until the scan runs, then names the unsafe file and its global", async () => {
    const { name, modelId } = await registered({
      MLmodel: "flavors:\n  sklearn: {}\n",
      "model.pkl": fixtureBytes("evil-os-system-protocol4.pkl"),
      "weights.pt": fixtureBytes("pytorch-state-dict.pt"),
    });
    const before = await scanOf(name, "1");
    expect(before).toMatchObject({ status: 200, body: { scan: "pending" } });
    expect(before.body.files.map((f: { scan: string }) => f.scan)).toEqual(["pending", "pending", "pending"]);

    expect(await servicesFor(env).scans.scanVersion(modelId, 1)).toBe(3);
    const after = await scanOf(name, "1");
    expect(after.body).toMatchObject({
      name,
      version: "1",
      scan: "unsafe",
      files: [
        { path: "MLmodel", scan: "clean", format: "text", imports: [] },
        {
          path: "model.pkl",
          scan: "unsafe",
          format: "pickle",
          imports: [{ name: "posix.system", verdict: "unsafe", via: "import" }],
          calls: ["REDUCE posix.system"],
        },
        { path: "weights.pt", scan: "clean", format: "pytorch-zip" },
      ],
    });
  });

  it("scans a blob once: a second version of the same files is judged without reading R2 again", async () => {
    const files = { "model.pkl": fixtureBytes("sklearn-linear-cloudpickle.pkl") };
    const first = await registered(files);
    const service = servicesFor(env).scans;
    await service.scanVersion(first.modelId, 1);
    const second = await registered(files);
    expect(await service.scanVersion(second.modelId, 1)).toBe(0);
    expect((await scanOf(second.name, "1")).body).toMatchObject({
      scan: "clean",
      files: [{ path: "model.pkl", scan: "clean", format: "pickle" }],
    });
  });

  it("answers RESOURCE_DOES_NOT_EXIST for a version that is not there", async () => {
    const name = await createModel();
    expect(await scanOf(name, "7")).toMatchObject({ status: 404, body: { error_code: "RESOURCE_DOES_NOT_EXIST" } });
  });
});

describe("the scans queue", () => {
  it("asks for one scan per version that became READY", () => {
    const event = {
      id: "e",
      modelId: "m1",
      modelName: "M",
      from: null,
      to: null,
      actor: null,
      timestamp: 0,
      sequence: 1,
      data: {},
    };
    expect(
      scanRequestsFor([
        { ...event, type: "model_version.created", version: 1 },
        { ...event, type: "model_version.ready", version: 1 },
        { ...event, type: "registered_model.created", version: null },
      ]),
    ).toEqual([{ modelId: "m1", version: 1 }]);
  });

  it("scans the version a message names and acknowledges it; a malformed message is acknowledged unscanned", async () => {
    const { name, modelId } = await registered({ "model.pkl": fixtureBytes("evil-importlib-getattr.pkl") });
    const batch = createMessageBatch(SCANS_QUEUE, [
      { id: "m1", timestamp: new Date(), attempts: 1, body: { modelId, version: 1 } },
      { id: "m2", timestamp: new Date(), attempts: 1, body: { nonsense: true } },
    ]);
    const ctx = createExecutionContext();
    await consumeScans(batch, servicesFor(env).scans, (id, v) => servicesFor(env).policies.recordScan(id, v));
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks.sort()).toEqual(["m1", "m2"]);
    expect(result.retryMessages).toEqual([]);
    const scan = await scanOf(name, "1");
    expect(scan.body).toMatchObject({ scan: "unsafe" });
    expect(scan.body.files[0].imports.map((i: { name: string }) => i.name)).toEqual([
      "inspect.getattr_static",
      "importlib.import_module",
      "os",
      "os.system",
    ]);
  });
});
