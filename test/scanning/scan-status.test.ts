import { env } from "cloudflare:workers";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import type { ModelVersion } from "../../src/domain/model";
import { modelVersionJson, scannedVersionJson, versionAnswer, versionPageJson } from "../../src/http/serializers";
import { versionKey } from "../../src/domain/scans";
import { servicesFor } from "../../src/services";
import { AJAX_API, API, call, createVersionWith, MODELGATE_API } from "../helpers";
import { fixtureBytes } from "./fixture-bytes";
import { eventsOf, registeredVersion } from "./registered-version";

const services = () => servicesFor(env);

/** What the scans queue's consumer does for a version: scan its files, then have its coordinator record the verdict. */
async function scanAndRecord(modelId: string, version: number) {
  await services().scans.scanVersion(modelId, version);
  return services().policies.recordScan(modelId, version);
}

describe("a version's scan status", () => {
  it("is pending until its coordinator records the verdict, then the worst of its files", async () => {
    const { name, modelId } = await registeredVersion({
      MLmodel: "flavors: {}\n",
      "model.pkl": fixtureBytes("evil-os-system-protocol2.pkl"),
    });
    const key = { modelId, version: 1 };
    expect((await services().scans.statusOf([key])).get(versionKey(key))).toBe("pending");
    // Files scanned but the verdict not recorded yet: still pending (the coordinator records it).
    await services().scans.scanVersion(modelId, 1);
    expect((await services().scans.statusOf([key])).get(versionKey(key))).toBe("pending");
    expect(await services().policies.recordScan(modelId, 1)).toBe("unsafe");
    expect((await services().scans.statusOf([key])).get(versionKey(key))).toBe("unsafe");
    const row = await env.DB.prepare("SELECT status, finding FROM version_scans WHERE model_id = ? AND version = 1")
      .bind(modelId)
      .first();
    expect(row).toEqual({ status: "unsafe", finding: "model.pkl imports posix.system" });
    expect(name).toBeTruthy();
  });

  it("is clean for a version whose files are not pickles, and for one with no files", async () => {
    const { name, modelId } = await registeredVersion({
      MLmodel: "flavors: {}\n",
      "model.safetensors": fixtureBytes("model.safetensors"),
      "model.onnx": fixtureBytes("model.onnx"),
    });
    expect(await scanAndRecord(modelId, 1)).toBe("clean");
    await createVersionWith(name); // an external source: no manifest
    expect(await scanAndRecord(modelId, 2)).toBe("clean");
    expect((await eventsOf(modelId, "model_version.scanned")).map((e) => [e.version, e.to])).toEqual([
      [1, "clean"],
      [2, "clean"],
    ]);
  });

  it("answers a page of 150 versions from one lookup, pending for those never recorded", async () => {
    const { modelId } = await registeredVersion({ "model.pkl": fixtureBytes("deep-nesting.pkl") });
    await scanAndRecord(modelId, 1);
    const keys = [{ modelId, version: 1 }, ...Array.from({ length: 149 }, (_, i) => ({ modelId, version: i + 2 }))];
    const statuses = await services().scans.statusOf(keys);
    expect(statuses.size).toBe(150);
    expect(statuses.get(`${modelId}/1`)).toBe("unknown");
    expect(new Set([...statuses.values()].slice(1))).toEqual(new Set(["pending"]));
  });

  it("is remembered by the isolate once final: the hot reads stop asking D1", async () => {
    const { modelId } = await registeredVersion({ "model.pkl": fixtureBytes("sklearn-tree-protocol5.pkl") });
    await scanAndRecord(modelId, 1);
    const key = { modelId, version: 1 };
    expect((await services().scans.statusOf([key])).get(versionKey(key))).toBe("clean");
    // Gone from D1, still known: the answer came from memory, not from a query.
    await env.DB.prepare("DELETE FROM version_scans WHERE model_id = ?").bind(modelId).run();
    expect((await services().scans.statusOf([key])).get(versionKey(key))).toBe("clean");
  });

  it("is in the lineage answer's model_version", async () => {
    const { name, modelId } = await registeredVersion({ "model.pkl": fixtureBytes("evil-eval.pkl") });
    let lineage = await call("GET", "/model-versions/lineage", { name, version: "1" }, MODELGATE_API);
    expect(lineage.body.model_version.scan).toBe("pending");
    await scanAndRecord(modelId, 1);
    lineage = await call("GET", "/model-versions/lineage", { name, version: "1" }, MODELGATE_API);
    expect(lineage.body.model_version).toMatchObject({ name, version: "1", scan: "unsafe" });
  });
});

describe("the scan field on the wire", () => {
  const version = Object.freeze({
    name: "m",
    version: 3,
    modelId: "id-1",
    creationTime: 1,
    lastUpdatedTime: 2,
    userId: null,
    currentStage: "None",
    description: "",
    source: "s3://x",
    runId: null,
    status: "READY",
    statusMessage: null,
    tags: [],
    runLink: "",
    aliases: [],
    loggedModelId: null,
  }) as unknown as ModelVersion;

  it("is left out when not given (MLflow's own shape), present when given", () => {
    expect(modelVersionJson(version)).not.toHaveProperty("scan");
    expect(scannedVersionJson(version, "clean")).toMatchObject({ version: "3", scan: "clean" });
    // Passed to map as is, it takes no index for a status.
    expect([version, version].map(modelVersionJson).map((j) => j.scan)).toEqual([undefined, undefined]);
  });

  it("renders a frozen version's answer once per status, never mixing them", async () => {
    const app = new Hono();
    let status: "pending" | "clean" = "pending";
    app.get("/", (c) => versionAnswer(c, version, status));
    expect(((await (await app.request("/")).json()) as any).model_version.scan).toBe("pending");
    status = "clean";
    expect(((await (await app.request("/")).json()) as any).model_version.scan).toBe("clean");
  });

  it("is set per version on a page from statusOf's map", () => {
    const page = versionPageJson([version], "tok", new Map([[versionKey(version), "unsafe" as const]]));
    expect(page).toMatchObject({ model_versions: [{ version: "3", scan: "unsafe" }], next_page_token: "tok" });
  });
});

describe("the scan status on the MLflow API", () => {
  it("is in model-versions get and search, in both trees", async () => {
    const { name, modelId } = await registeredVersion({
      MLmodel: "flavors: {}\n",
      "model.pkl": fixtureBytes("evil-os-system-protocol2.pkl"),
    });
    expect(await scanAndRecord(modelId, 1)).toBe("unsafe");
    for (const base of [API, AJAX_API]) {
      const got = await call("GET", "/model-versions/get", { name, version: "1" }, base);
      expect(got.status).toBe(200);
      expect(got.body.model_version).toMatchObject({ name, version: "1", scan: "unsafe" });
      const found = await call("GET", "/model-versions/search", { filter: `name='${name}'` }, base);
      expect(found.status).toBe(200);
      expect(found.body.model_versions.map((v: { scan: string }) => v.scan)).toEqual(["unsafe"]);
    }
  });
});
