import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, createModel, uniqueName, bodyText, testClock } from "../helpers";
import { createRun } from "../tracking-helpers";

const ORIGIN = "http://modelgate.test";

function fetchWorker(path: string, init?: RequestInit) {
  return exports.default.fetch(new Request(`${ORIGIN}${path}`, init));
}

async function sha256(bytes: Uint8Array): Promise<string> {
  return [...new Uint8Array(await crypto.subtle.digest("SHA-256", bytes))]
    .map((b) => b.toString(16).padStart(2, "0"))
    .join("");
}

const WEIGHTS = new Uint8Array(Array.from({ length: 3000 }, (_, i) => (i * 7) & 0xff));

/** A new run's model folder (`<experiment>/<run>/artifacts/model`): writes land only under a run's root. */
async function modelFolder(): Promise<string> {
  const run = await createRun("0");
  return `${String(run.info.artifact_uri).replace(/^mlflow-artifacts:\//, "")}/model`;
}

/** A model with two versions whose files were uploaded through the artifact API. */
async function publishedModel() {
  const name = await createModel(uniqueName("deliver"));
  for (const v of [1, 2]) {
    const root = await modelFolder();
    await fetchWorker(`/api/2.0/mlflow-artifacts/artifacts/${root}/model.pkl`, {
      method: "PUT",
      body: v === 1 ? WEIGHTS : `v${v}`,
    });
    await fetchWorker(`/api/2.0/mlflow-artifacts/artifacts/${root}/conf/MLmodel`, {
      method: "PUT",
      body: `flavors: v${v}`,
    });
    const created = await call("POST", "/model-versions/create", { name, source: `mlflow-artifacts:/${root}` });
    expect(created.body.model_version.status).toBe("READY");
  }
  return name;
}

describe("resolve", () => {
  it("resolves a stage, an alias, a version number and latest to a version with its manifest", async () => {
    const name = await publishedModel();
    await call("POST", "/model-versions/transition-stage", { name, version: "1", stage: "Production" });
    await call("POST", "/registered-models/alias", { name, alias: "champion", version: "1" });
    for (const ref of ["Production", "production", "@champion", "1"]) {
      const res = await fetchWorker(`/v1/models/${name}/${ref}`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as Record<string, any>;
      expect(body).toMatchObject({ name, version: "1", stage: "Production", aliases: ["champion"], status: "READY" });
      expect(body.files).toEqual([
        {
          path: "conf/MLmodel",
          size: 11,
          sha256: await sha256(new TextEncoder().encode("flavors: v1")),
          url: `${ORIGIN}/v1/models/${name}/versions/1/files/conf/MLmodel`,
        },
        {
          path: "model.pkl",
          size: 3000,
          sha256: await sha256(WEIGHTS),
          url: `${ORIGIN}/v1/models/${name}/versions/1/files/model.pkl`,
        },
      ]);
    }
    const latest = (await (await fetchWorker(`/v1/models/${name}/latest`)).json()) as { version: string };
    expect(latest.version).toBe("2");
  });

  it("gives each host its own file URLs, also from the cache another host filled", async () => {
    const name = await publishedModel();
    const first = await exports.default.fetch(new Request(`http://evil.example/v1/models/${name}/2`));
    expect(((await first.json()) as { files: { url: string }[] }).files[0]!.url).toMatch(
      /^http:\/\/evil\.example\/v1\//,
    );
    const second = await fetchWorker(`/v1/models/${name}/2`);
    expect(second.headers.get("x-modelgate-cache")).toBe("hit");
    const urls = ((await second.json()) as { files: { url: string }[] }).files.map((f) => f.url);
    expect(urls).toEqual([
      `${ORIGIN}/v1/models/${name}/versions/2/files/conf/MLmodel`,
      `${ORIGIN}/v1/models/${name}/versions/2/files/model.pkl`,
    ]);
  });

  it("carries the version's scan status, as the scan API reports it once recorded", async () => {
    const name = await publishedModel();
    const { servicesFor } = await import("../../src/services");
    const services = servicesFor(env);
    const version = await services.registry.getVersion(name, "1");
    await services.scans.scanVersion(version.modelId, 1);
    await services.policies.recordScan(version.modelId, 1);
    const expected = (await services.scans.versionScan(name, "1")).scan;
    expect(["clean", "unknown", "unsafe"]).toContain(expected);
    const body = (await (await fetchWorker(`/v1/models/${name}/1`)).json()) as Record<string, unknown>;
    expect(body.scan).toBe(expected);
  });

  it("answers 304 to If-None-Match and 404 to an unknown ref or model", async () => {
    const name = await publishedModel();
    const first = await fetchWorker(`/v1/models/${name}/2`);
    const etag = first.headers.get("etag")!;
    expect(etag).toMatch(/^"[0-9a-f]{64}"$/);
    const again = await fetchWorker(`/v1/models/${name}/2`, { headers: { "if-none-match": etag } });
    expect(again.status).toBe(304);
    expect((await fetchWorker(`/v1/models/${name}/Staging`)).status).toBe(404);
    expect((await fetchWorker(`/v1/models/${name}/@nobody`)).status).toBe(404);
    expect((await fetchWorker(`/v1/models/${uniqueName("absent")}/Production`)).status).toBe(404);
    const bad = await fetchWorker(`/v1/models/${name}/Nonsense`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error_code: "INVALID_PARAMETER_VALUE" });
  });

  it("serves a changed resolution right after a promotion or alias move (the local cache is purged)", async () => {
    const name = await publishedModel();
    await call("POST", "/model-versions/transition-stage", { name, version: "1", stage: "Production" });
    const before = await fetchWorker(`/v1/models/${name}/Production`);
    expect(((await before.json()) as { version: string }).version).toBe("1");
    const cached = await fetchWorker(`/v1/models/${name}/Production`);
    expect(cached.headers.get("x-modelgate-cache")).toBe("hit");
    await cached.arrayBuffer();

    await call("POST", "/model-versions/transition-stage", { name, version: "2", stage: "Production" });
    const after = await fetchWorker(`/v1/models/${name}/Production`);
    expect(after.headers.get("x-modelgate-cache")).toBe("miss");
    expect(((await after.json()) as { version: string }).version).toBe("2");
    // Version 1 was archived by that promotion; its own resolution shows it at once too.
    const one = (await (await fetchWorker(`/v1/models/${name}/1`)).json()) as { stage: string };
    expect(one.stage).toBe("Archived");

    await call("POST", "/registered-models/alias", { name, alias: "best", version: "1" });
    expect(((await (await fetchWorker(`/v1/models/${name}/@best`)).json()) as { version: string }).version).toBe("1");
    await call("POST", "/registered-models/alias", { name, alias: "best", version: "2" });
    expect(((await (await fetchWorker(`/v1/models/${name}/@best`)).json()) as { version: string }).version).toBe("2");
  });
});

describe("download", () => {
  it("streams a file, then serves the repeat from the edge cache without D1 or R2", async () => {
    const name = await publishedModel();
    const path = `/v1/models/${name}/versions/1/files/model.pkl`;
    const first = await fetchWorker(path);
    expect(first.status).toBe(200);
    expect(first.headers.get("x-modelgate-cache")).toBe("miss");
    expect(first.headers.get("content-length")).toBe("3000");
    expect(first.headers.get("etag")).toBe(`"${await sha256(WEIGHTS)}"`);
    expect(first.headers.get("accept-ranges")).toBe("bytes");
    expect(new Uint8Array(await first.arrayBuffer())).toEqual(WEIGHTS);

    // Remove the bytes and the index rows underneath: a hit must not need them.
    const blob = await env.DB.prepare(
      "SELECT f.blob_key FROM model_version_files f JOIN registered_models m ON m.id = f.model_id WHERE m.name = ? AND f.version = 1 AND f.path = 'model.pkl'",
    )
      .bind(name)
      .first<{ blob_key: string }>();
    await env.ARTIFACTS.delete(blob!.blob_key);
    await env.DB.prepare("DELETE FROM model_version_files WHERE blob_key = ?").bind(blob!.blob_key).run();
    const second = await fetchWorker(path);
    expect(second.headers.get("x-modelgate-cache")).toBe("hit");
    expect(new Uint8Array(await second.arrayBuffer())).toEqual(WEIGHTS);
  });

  it("answers Range with 206, If-None-Match with 304, and HEAD with headers only", async () => {
    const name = await publishedModel();
    const path = `/v1/models/${name}/versions/1/files/model.pkl`;
    for (let attempt = 0; attempt < 2; attempt++) {
      // First a miss, then a hit: both paths answer ranges the same way.
      const part = await fetchWorker(path, { headers: { range: "bytes=100-199" } });
      expect(part.status).toBe(206);
      expect(part.headers.get("content-range")).toBe("bytes 100-199/3000");
      expect(new Uint8Array(await part.arrayBuffer())).toEqual(WEIGHTS.subarray(100, 200));
    }
    const tail = await fetchWorker(path, { headers: { range: "bytes=2990-" } });
    expect(new Uint8Array(await tail.arrayBuffer())).toEqual(WEIGHTS.subarray(2990));
    const etag = `"${await sha256(WEIGHTS)}"`;
    const notModified = await fetchWorker(path, { headers: { "if-none-match": etag } });
    expect(notModified.status).toBe(304);
    expect(notModified.headers.get("etag")).toBe(etag);
    const otherTag = await fetchWorker(path, { headers: { "if-none-match": `"${"0".repeat(64)}"` } });
    expect(otherTag.status).toBe(200);
    expect(new Uint8Array(await otherTag.arrayBuffer())).toEqual(WEIGHTS);
    const unsatisfiable = await fetchWorker(path, { headers: { range: "bytes=5000-6000" } });
    expect(unsatisfiable.status).toBe(416);
    await unsatisfiable.arrayBuffer();
    const head = await fetchWorker(path, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe("3000");
    expect((await head.arrayBuffer()).byteLength).toBe(0);
  });

  it("serves the same bytes through a ref, and 404 for a file the version does not have", async () => {
    const name = await publishedModel();
    await call("POST", "/model-versions/transition-stage", { name, version: "2", stage: "Staging" });
    const viaRef = await fetchWorker(`/v1/models/${name}/Staging/files/model.pkl`);
    expect(await bodyText(viaRef)).toBe("v2");
    expect((await fetchWorker(`/v1/models/${name}/versions/1/files/nope.bin`)).status).toBe(404);
  });

  it("never serves a previous model's cached bytes when a new model takes its name", async () => {
    for (const how of ["delete", "rename"] as const) {
      const name = await publishedModel();
      const path = `/v1/models/${name}/versions/1/files/model.pkl`;
      expect(new Uint8Array(await (await fetchWorker(path)).arrayBuffer())).toEqual(WEIGHTS);
      expect((await fetchWorker(path)).headers.get("x-modelgate-cache")).toBe("hit");
      if (how === "delete") await call("DELETE", "/registered-models/delete", { name });
      else await call("POST", "/registered-models/rename", { name, new_name: `${name}-moved` });

      await createModel(name);
      const root = await modelFolder();
      await fetchWorker(`/api/2.0/mlflow-artifacts/artifacts/${root}/model.pkl`, { method: "PUT", body: `new ${how}` });
      await call("POST", "/model-versions/create", { name, source: `mlflow-artifacts:/${root}` });
      const reused = await fetchWorker(path);
      expect(reused.headers.get("x-modelgate-cache")).toBe("miss");
      expect(await bodyText(reused)).toBe(`new ${how}`);
      if (how === "rename") {
        // The renamed model keeps its own bytes under its new name.
        expect(
          new Uint8Array(
            await (await fetchWorker(`/v1/models/${name}-moved/versions/1/files/model.pkl`)).arrayBuffer(),
          ),
        ).toEqual(WEIGHTS);
      }
    }
  });

  it("stops serving a deleted version's files at once where it was deleted", async () => {
    const name = await publishedModel();
    const path = `/v1/models/${name}/versions/1/files/model.pkl`;
    await (await fetchWorker(path)).arrayBuffer();
    expect((await fetchWorker(path)).headers.get("x-modelgate-cache")).toBe("hit");
    const etag = `"${await sha256(WEIGHTS)}"`;
    expect((await fetchWorker(path, { headers: { "if-none-match": etag } })).status).toBe(304);
    await call("DELETE", "/model-versions/delete", { name, version: "1" });
    const revalidated = await fetchWorker(path, { headers: { "if-none-match": etag } });
    expect(revalidated.status).toBe(404);
    await revalidated.arrayBuffer();
    const gone = await fetchWorker(path);
    expect(gone.status).toBe(404);
    expect(await gone.json()).toMatchObject({ error_code: "RESOURCE_DOES_NOT_EXIST" });
  });

  it("streams a whole version as a tar archive matching the manifest", async () => {
    const name = await publishedModel();
    const res = await fetchWorker(`/v1/models/${name}/versions/1/archive.tar`);
    expect(res.status).toBe(200);
    const tar = new Uint8Array(await res.arrayBuffer());
    expect(Number(res.headers.get("content-length"))).toBe(tar.byteLength);
    const entries: { name: string; data: Uint8Array }[] = [];
    for (let offset = 0; offset + 512 <= tar.length; ) {
      const header = tar.subarray(offset, offset + 512);
      if (header.every((b) => b === 0)) break;
      const name = new TextDecoder().decode(header.subarray(0, 100)).replace(/\0.*$/s, "");
      const size = parseInt(new TextDecoder().decode(header.subarray(124, 136)).replace(/\0.*$/s, ""), 8);
      entries.push({ name, data: tar.subarray(offset + 512, offset + 512 + size) });
      offset += 512 + Math.ceil(size / 512) * 512;
    }
    // The version's signature (OpenSSF model signing) comes first, then the manifest's files.
    expect(entries.map((e) => e.name)).toEqual(["model.sig", "conf/MLmodel", "model.pkl"]);
    expect(entries[2]!.data).toEqual(WEIGHTS);
  });
});

describe("signed URLs", () => {
  async function signed(name: string, body: Record<string, unknown> = {}) {
    const res = await fetchWorker(`/v1/models/${name}/versions/1/signed-urls`, {
      method: "POST",
      body: JSON.stringify(body),
      headers: { "content-type": "application/json" },
    });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  }

  it("hands out URLs for every file that download until they expire", async () => {
    const name = await publishedModel();
    const { status, body } = await signed(name, { expires_in: 600 });
    expect(status).toBe(200);
    expect(body.signed_urls.map((u: { path: string }) => u.path)).toEqual(["conf/MLmodel", "model.pkl"]);
    const url = body.signed_urls[1].url as string;
    expect(body.signed_urls[1].expires_at).toBeGreaterThan(Date.now() / 1000 + 590);
    const res = await exports.default.fetch(new Request(url));
    expect(res.status).toBe(200);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(WEIGHTS);
  });

  it("refuses tampered, expired, re-pathed and wrong-method URLs with a 403 that says which", async () => {
    const name = await publishedModel();
    const { body } = await signed(name, { paths: ["model.pkl"], expires_in: 60 });
    const url = new URL(body.signed_urls[0].url);
    const tampered = new URL(url);
    tampered.searchParams.set("expires", String(Number(url.searchParams.get("expires")) + 3600));
    const otherPath = new URL(url.href.replace("model.pkl", "conf/MLmodel"));
    const cases: [URL, string, RegExp][] = [
      [tampered, "GET", /does not match/],
      [otherPath, "GET", /does not match/],
      [url, "HEAD", /does not match/],
    ];
    for (const [target, method, message] of cases) {
      const res = await exports.default.fetch(new Request(target, { method }));
      expect(res.status).toBe(403);
      if (method !== "HEAD")
        expect((await res.json()) as object).toMatchObject({
          error_code: "PERMISSION_DENIED",
          message: expect.stringMatching(message),
        });
    }
    testClock.freeze();
    const expired = await signed(name, { paths: ["model.pkl"], expires_in: 1 });
    const brief = expired.body.signed_urls[0].url;
    testClock.advance(1000);
    const inTime = await exports.default.fetch(new Request(brief));
    expect(inTime.status).toBe(200);
    await bodyText(inTime);
    testClock.advance(1000);
    const late = await exports.default.fetch(new Request(brief));
    expect(late.status).toBe(403);
    expect(await late.json()).toMatchObject({ message: expect.stringContaining("expired") });
  });

  it("caps expires_in and refuses unknown paths and via=r2 without credentials", async () => {
    const name = await publishedModel();
    expect((await signed(name, { expires_in: 10 * 365 * 24 * 3600 })).status).toBe(400);
    expect((await signed(name, { paths: ["nope"] })).status).toBe(404);
    const r2 = await fetchWorker(`/v1/models/${name}/versions/1/signed-urls?via=r2`, { method: "POST", body: "{}" });
    expect(r2.status).toBe(400);
    expect(await r2.json()).toMatchObject({ message: expect.stringContaining("R2 S3 credentials") });
  });
});
