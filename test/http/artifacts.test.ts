import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, createModel, uniqueName, bodyText } from "../helpers";
import { createExperiment, createLoggedModel, createRun } from "../tracking-helpers";

const ARTIFACTS = "http://modelgate.test/api/2.0/mlflow-artifacts";

async function sha256(bytes: Uint8Array): Promise<string> {
  return [...new Uint8Array(await crypto.subtle.digest("SHA-256", bytes))]
    .map((b) => b.toString(16).padStart(2, "0"))
    .join("");
}

function bytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

function put(path: string, body: BodyInit, headers: Record<string, string> = {}) {
  return exports.default.fetch(new Request(`${ARTIFACTS}/artifacts/${path}`, { method: "PUT", body, headers }));
}

function get(path: string) {
  return exports.default.fetch(new Request(`${ARTIFACTS}/artifacts/${path}`));
}

async function list(path: string) {
  const res = await exports.default.fetch(new Request(`${ARTIFACTS}/artifacts?path=${encodeURIComponent(path)}`));
  return (await res.json()) as { files?: { path: string; is_dir: boolean; file_size?: number }[] };
}

function del(path: string) {
  return exports.default.fetch(new Request(`${ARTIFACTS}/artifacts/${path}`, { method: "DELETE", body: "{}" }));
}

/** A new run's artifact root (`<experiment>/<run>/artifacts`): writes land only inside one. */
async function runRoot(experimentId = "0"): Promise<string> {
  const run = await createRun(experimentId);
  return String(run.info.artifact_uri).replace(/^mlflow-artifacts:\//, "");
}

/** What a refused request must leave as it was: the artifact index, uploads in flight, and R2. */
async function storageState() {
  const objects = await env.DB.prepare("SELECT count(*) AS n FROM artifact_objects").first<{ n: number }>();
  const uploads = await env.DB.prepare("SELECT count(*) AS n FROM artifact_uploads").first<{ n: number }>();
  let blobs = 0;
  let cursor: string | undefined;
  do {
    const page = await env.ARTIFACTS.list({ cursor });
    blobs += page.objects.length;
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return { objects: objects?.n, uploads: uploads?.n, blobs };
}

async function post(route: string, body: unknown) {
  const res = await exports.default.fetch(
    new Request(`${ARTIFACTS}/${route}`, {
      method: "POST",
      body: JSON.stringify(body),
      headers: { "content-type": "application/json" },
    }),
  );
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

describe("proxied artifact store", () => {
  it("stores, lists and streams back a file with its sha256 recorded", async () => {
    const root = await runRoot();
    const data = bytes(100_000);
    expect((await put(`${root}/model/model.pkl`, data)).status).toBe(200);
    expect((await put(`${root}/model/MLmodel`, "flavors: {}")).status).toBe(200);
    const res = await get(`${root}/model/model.pkl`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-length")).toBe("100000");
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(data);
    const row = await env.DB.prepare("SELECT size, sha256 FROM artifact_objects WHERE path = ?")
      .bind(`${root}/model/model.pkl`)
      .first();
    expect(row).toEqual({ size: 100_000, sha256: await sha256(data) });

    expect(await list(root)).toEqual({ files: [{ path: "model", is_dir: true }] });
    expect(await list(`${root}/model`)).toEqual({
      files: [
        { path: "MLmodel", is_dir: false, file_size: 11 },
        { path: "model.pkl", is_dir: false, file_size: 100_000 },
      ],
    });
    // The client tells files from folders by listing a file's own path: it must be empty.
    expect(await list(`${root}/model/model.pkl`)).toEqual({});
  });

  it("accepts a chunked body of unknown length, as the MLflow client sends empty files", async () => {
    const path = `${await runRoot()}/empty.txt`;
    const body = new ReadableStream({ start: (c) => c.close() });
    expect((await put(path, body)).status).toBe(200);
    const res = await get(path);
    expect(res.headers.get("content-length")).toBe("0");
    expect((await res.arrayBuffer()).byteLength).toBe(0);
    const big = bytes(9 * 1024 * 1024, 7);
    const chunks = [big.subarray(0, 3_000_000), big.subarray(3_000_000)];
    const stream = new ReadableStream({ pull: (c) => (chunks.length ? c.enqueue(chunks.shift()!) : c.close()) });
    expect((await put(`${path}.big`, stream)).status).toBe(200);
    const back = new Uint8Array(await (await get(`${path}.big`)).arrayBuffer());
    expect(await sha256(back)).toBe(await sha256(big));
  });

  it("decodes percent-encoded UTF-8 paths", async () => {
    const dir = await runRoot();
    expect((await put(`${dir}/${encodeURIComponent("données d'été.csv")}`, "a,b")).status).toBe(200);
    expect(await list(dir)).toEqual({ files: [{ path: "données d'été.csv", is_dir: false, file_size: 3 }] });
  });

  it("replaces a file that no version references, and deletes folders", async () => {
    const dir = await runRoot();
    await put(`${dir}/a.txt`, "one");
    await put(`${dir}/a.txt`, "two!");
    expect(await bodyText(await get(`${dir}/a.txt`))).toBe("two!");
    await put(`${dir}/sub/b.txt`, "b");
    const del = await exports.default.fetch(
      new Request(`${ARTIFACTS}/artifacts/${dir}`, { method: "DELETE", body: "{}" }),
    );
    expect(del.status).toBe(200);
    expect(await list(dir)).toEqual({});
    expect((await get(`${dir}/a.txt`)).status).toBe(404);
  });

  // URL parsing already resolves literal `..` and turns `\` into `/`, so the tricks that reach the
  // Worker arrive percent-encoded.
  it.each([
    ["an empty segment", "badpath/x//y"],
    ["a backslash", "badpath/x%5Cy"],
    ["a NUL byte", "badpath/x%00y"],
    ["an over-long path", `badpath/${"a".repeat(1100)}`],
    ["a slash at the start", "%2Fbadpath/etc/passwd"],
  ])("refuses a path with %s and writes nothing", async (_, path) => {
    const res = await put(path, "x");
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error_code: string }).error_code).toBe("INVALID_PARAMETER_VALUE");
    const count = await env.DB.prepare("SELECT count(*) AS n FROM artifact_objects WHERE path LIKE '%badpath%'").first<{
      n: number;
    }>();
    expect(count?.n).toBe(0);
  });

  it("answers 404 for a file that is not there", async () => {
    const res = await get(`1/${uniqueName("none")}/artifacts/x`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error_code: "RESOURCE_DOES_NOT_EXIST" });
  });
});

// Issue 13, finding 5: artifacts belong to something. MLflow's clients write only under a run's or
// a logged model's artifact root; anything else is a store anyone could fill.
describe("artifact ownership", () => {
  it("refuses a write outside the artifact root of an existing, active run or logged model, and writes nothing", async () => {
    const exp = await createExperiment();
    const run = await createRun(exp);
    const root = String(run.info.artifact_uri).replace(/^mlflow-artifacts:\//, "");
    await call("POST", "/runs/delete", { run_id: run.info.run_id });
    const before = await storageState();
    const targets = [
      "secret",
      `${exp}/notes.txt`,
      `${exp}/${"e".repeat(32)}/artifacts/model/MLmodel`, // no such run
      `${exp}/models/m-${"e".repeat(32)}/artifacts/MLmodel`, // no such logged model
      `${root}/model/MLmodel`, // a deleted run
      root, // the root itself is a folder, not a file
    ];
    for (const path of targets) {
      const res = await put(path, "x");
      expect(res.status, path).toBe(404);
      expect(await res.json()).toMatchObject({ error_code: "RESOURCE_DOES_NOT_EXIST" });
    }
    const mpu = await post(`mpu/create/${exp}`, { path: "/tmp/big.bin", num_parts: 1 });
    expect(mpu).toMatchObject({ status: 404, body: { error_code: "RESOURCE_DOES_NOT_EXIST" } });
    expect(await storageState()).toEqual(before);
  });

  it("accepts writes under a run's root and under an MLflow 3 logged model's root", async () => {
    const exp = await createExperiment();
    const model = await createLoggedModel(exp);
    const modelRoot = String(model.info.artifact_uri).replace(/^mlflow-artifacts:\//, "");
    expect(modelRoot).toBe(`${exp}/models/${model.info.model_id}/artifacts`);
    expect((await put(`${modelRoot}/MLmodel`, "flavors: {}")).status).toBe(200);
    const run = await runRoot(exp);
    expect((await put(`${run}/model/MLmodel`, "flavors: {}")).status).toBe(200);
    expect(await list(modelRoot)).toEqual({ files: [{ path: "MLmodel", is_dir: false, file_size: 11 }] });
  });
});

describe("version manifests and immutability", () => {
  it("records every file under the source with size and sha256, then refuses to change them", async () => {
    const name = await createModel();
    const root = `${await runRoot()}/model`;
    const weights = bytes(4096, 3);
    await put(`${root}/model.pkl`, weights);
    await put(`${root}/meta/MLmodel`, "flavors: {}");
    const created = await call("POST", "/model-versions/create", { name, source: `mlflow-artifacts:/${root}` });
    expect(created.body.model_version.status).toBe("READY");
    const manifest = await env.DB.prepare(
      "SELECT path, size, sha256 FROM model_version_files f JOIN registered_models m ON m.id = f.model_id WHERE m.name = ? ORDER BY path",
    )
      .bind(name)
      .all();
    expect(manifest.results).toEqual([
      { path: "meta/MLmodel", size: 11, sha256: await sha256(new TextEncoder().encode("flavors: {}")) },
      { path: "model.pkl", size: 4096, sha256: await sha256(weights) },
    ]);

    const overwrite = await put(`${root}/model.pkl`, "tampered");
    expect(overwrite.status).toBe(409);
    expect(await overwrite.json()).toMatchObject({ error_code: "RESOURCE_CONFLICT" });
    const del = await exports.default.fetch(
      new Request(`${ARTIFACTS}/artifacts/${root}`, { method: "DELETE", body: "{}" }),
    );
    expect(del.status).toBe(409);
    expect(new Uint8Array(await (await get(`${root}/model.pkl`)).arrayBuffer())).toEqual(weights);

    const download = await call("GET", "/model-versions/get-download-uri", { name, version: "1" });
    expect(download.body.artifact_uri).toBe(`mlflow-artifacts:/${root}`);

    // Deleting the version releases its files and its folder.
    await call("DELETE", "/model-versions/delete", { name, version: "1" });
    expect((await put(`${root}/model.pkl`, "replaced")).status).toBe(200);
    expect((await put(`${root}/notes.txt`, "later")).status).toBe(200);
  });

  // Issue 13, finding 5: MLflow clients loading models:/B/1 download the whole folder (a `code/`
  // folder goes on sys.path), so a file added beside the manifest's files changes the version.
  it("seals every path under a registered version's source folder: no new file, no overwrite, no delete (409), and writes nothing", async () => {
    const name = await createModel();
    const run = await runRoot();
    const root = `${run}/model`;
    await put(`${root}/MLmodel`, "flavors: {}");
    await put(`${root}/code/model_code.py`, "print('v1')");
    const created = await call("POST", "/model-versions/create", { name, source: `mlflow-artifacts:/${root}` });
    expect(created.body.model_version.status).toBe("READY");
    const before = await storageState();

    const refusals = [
      await put(`${root}/code/extra.py`, "import os"),
      await put(`${root}/MLmodel`, "flavors: {evil: 1}"),
      await put(`${root}/deeper/new/file.txt`, "x"),
      await del(`${root}/code/extra.py`),
      await del(`${root}/code`),
    ];
    const mpu = await post(`mpu/create/${root}/code`, { path: "/home/ana/extra.py", num_parts: 1 });
    for (const res of refusals) {
      expect(res.status).toBe(409);
      expect(await res.json()).toMatchObject({ error_code: "RESOURCE_CONFLICT" });
    }
    expect(mpu).toMatchObject({ status: 409, body: { error_code: "RESOURCE_CONFLICT" } });
    expect(await storageState()).toEqual(before);
    expect(await list(`${root}/code`)).toEqual({ files: [{ path: "model_code.py", is_dir: false, file_size: 11 }] });

    // The run's own root stays writable beside the sealed folder, and so does a sibling whose
    // name merely starts like the folder's.
    expect((await put(`${run}/notes.txt`, "later")).status).toBe(200);
    expect((await put(`${run}/model-2/MLmodel`, "flavors: {}")).status).toBe(200);
  });

  it("marks a version from a source with no files FAILED_REGISTRATION and says why", async () => {
    const name = await createModel();
    const source = `mlflow-artifacts:/1/${uniqueName("run")}/artifacts/missing`;
    const created = await call("POST", "/model-versions/create", { name, source });
    expect(created.status).toBe(200);
    expect(created.body.model_version.status).toBe("FAILED_REGISTRATION");
    expect(created.body.model_version.status_message).toContain("has no files");
  });

  it("lets copy_model_version's models:/name/v source share the original's files", async () => {
    const source = await createModel();
    const root = `${await runRoot()}/model`;
    await put(`${root}/model.pkl`, "w");
    await call("POST", "/model-versions/create", { name: source, source: `mlflow-artifacts:/${root}` });
    const target = await createModel();
    const copy = await call("POST", "/model-versions/create", { name: target, source: `models:/${source}/1` });
    expect(copy.body.model_version.status).toBe("READY");
    const uri = await call("GET", "/model-versions/get-download-uri", { name: target, version: "1" });
    expect(uri.body.artifact_uri).toBe(`mlflow-artifacts:/${root}`);
  });
});

describe("multipart uploads", () => {
  it("are advertised to clients that ask what the server supports", async () => {
    const res = await exports.default.fetch(new Request("http://modelgate.test/api/3.0/mlflow/server-info"));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ store_type: "SqlStore", artifacts: { multipart_upload: true } });
  });

  it("assembles parts sent to signed part URLs without credentials", async () => {
    const dir = await runRoot();
    const path = `${dir}/big.bin`;
    const data = bytes(5 * 1024 * 1024 + 1234, 9);
    const created = await post(`mpu/create/${dir}`, { path: "big.bin", num_parts: 2 });
    expect(created.status).toBe(200);
    expect(created.body.credentials).toHaveLength(2);
    const slices = [data.subarray(0, 5 * 1024 * 1024), data.subarray(5 * 1024 * 1024)];
    const parts = [];
    for (const cred of created.body.credentials) {
      const res = await exports.default.fetch(
        new Request(cred.url, { method: "PUT", body: slices[cred.part_number - 1] }),
      );
      expect(res.status).toBe(200);
      parts.push({ part_number: cred.part_number, etag: res.headers.get("etag") });
    }
    const done = await post(`mpu/complete/${dir}`, { path: "big.bin", upload_id: created.body.upload_id, parts });
    expect(done.status).toBe(200);
    const back = new Uint8Array(await (await get(path)).arrayBuffer());
    expect(back.byteLength).toBe(data.byteLength);
    expect(await sha256(back)).toBe(await sha256(data));
    const row = await env.DB.prepare("SELECT sha256 FROM artifact_objects WHERE path = ?")
      .bind(path)
      .first<{ sha256: string }>();
    expect(row?.sha256).toBe(await sha256(data));
  });

  it("refuses a tampered or re-targeted part URL with 403", async () => {
    const path = await runRoot();
    const created = await post(`mpu/create/${path}`, { path: "big.bin", num_parts: 2 });
    const url = new URL(created.body.credentials[0].url);
    const tampered = new URL(url);
    tampered.searchParams.set("sig", "0".repeat(64));
    const retargeted = new URL(url.href.replace("/1?", "/2?"));
    for (const target of [tampered, retargeted]) {
      const res = await exports.default.fetch(new Request(target, { method: "PUT", body: "x" }));
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({ error_code: "PERMISSION_DENIED" });
    }
    const aborted = await post(`mpu/abort/${path}`, { path: "big.bin", upload_id: created.body.upload_id });
    expect(aborted.status).toBe(200);
    expect((await post(`mpu/abort/${path}`, { path: "big.bin", upload_id: created.body.upload_id })).status).toBe(404);
  });

  it("lands a multipart upload at <dir>/<basename of the client's local path>, as MLflow's server does", async () => {
    // mlflow.log_artifact("/home/ana/out/big.bin", artifact_path="mp") with proxy multipart on:
    // the URL names the directory, the body's `path` is the client's local file path.
    const run = await runRoot();
    const data = bytes(5 * 1024 * 1024 + 77, 4);
    const created = await post(`mpu/create/${run}/mp`, { path: "/home/ana/out/big.bin", num_parts: 2 });
    expect(created.status).toBe(200);
    const parts = [];
    for (const cred of created.body.credentials) {
      const slice = cred.part_number === 1 ? data.subarray(0, 5 * 1024 * 1024) : data.subarray(5 * 1024 * 1024);
      const res = await exports.default.fetch(new Request(cred.url, { method: "PUT", body: slice }));
      parts.push({ part_number: cred.part_number, etag: res.headers.get("etag") });
    }
    const done = await post(`mpu/complete/${run}/mp`, {
      path: "/home/ana/out/big.bin",
      upload_id: created.body.upload_id,
      parts,
    });
    expect(done.status).toBe(200);
    expect(await list(`${run}/mp`)).toEqual({
      files: [{ path: "big.bin", is_dir: false, file_size: data.byteLength }],
    });
    expect(await list(run)).toEqual({ files: [{ path: "mp", is_dir: true }] });
    expect(await sha256(new Uint8Array(await (await get(`${run}/mp/big.bin`)).arrayBuffer()))).toBe(await sha256(data));
  });

  it("lands a multipart upload at the run's root when the URL names it, and takes a Windows path's file name", async () => {
    const run = await runRoot();
    const created = await post(`mpu/create/${run}`, { path: "C:\\Users\\ana\\weights.bin", num_parts: 1 });
    expect(created.status).toBe(200);
    const res = await exports.default.fetch(new Request(created.body.credentials[0].url, { method: "PUT", body: "w" }));
    const parts = [{ part_number: 1, etag: res.headers.get("etag") }];
    expect(
      (
        await post(`mpu/complete/${run}`, {
          path: "C:\\Users\\ana\\weights.bin",
          upload_id: created.body.upload_id,
          parts,
        })
      ).status,
    ).toBe(200);
    expect(await list(run)).toEqual({ files: [{ path: "weights.bin", is_dir: false, file_size: 1 }] });
  });

  it("refuses a multipart upload without the local file's path, and creates nothing", async () => {
    const run = await runRoot();
    for (const path of [undefined, "", "/tmp/", ".."]) {
      const created = await post(`mpu/create/${run}`, { path, num_parts: 1 });
      expect(created.status).toBe(400);
      expect(created.body.error_code).toBe("INVALID_PARAMETER_VALUE");
    }
    const uploads = await env.DB.prepare("SELECT count(*) AS n FROM artifact_uploads WHERE path LIKE ?")
      .bind(`${run}%`)
      .first<{ n: number }>();
    expect(uploads?.n).toBe(0);
  });
});

// Issue 19, item 2: files under a registered version's source never change, so the artifact API
// answers them as /v1 answers its files (edge cache keyed by the model's id, version and path;
// ETag, Range, HEAD, 304; no D1 on a hit), and lists sealed folders from the version's manifest.
describe("sealed folders through the artifact API", () => {
  /** A registered version's folder with three files; returns the folder and the file bytes. */
  async function sealedFolder() {
    const name = await createModel();
    const folder = `${await runRoot()}/model`;
    const weights = bytes(3000, 5);
    await put(`${folder}/MLmodel`, "flavors: {}");
    await put(`${folder}/model.pkl`, weights);
    await put(`${folder}/code/model_code.py`, "print(1)");
    const created = await call("POST", "/model-versions/create", { name, source: `mlflow-artifacts:/${folder}` });
    expect(created.body.model_version.status).toBe("READY");
    return { name, folder, weights };
  }

  /** Removes a folder's rows from D1 (manifest and index) and its bytes from R2: a hit must not need them. */
  async function eraseUnderneath(folder: string) {
    const rows = await env.DB.prepare("SELECT path, blob_key FROM artifact_objects WHERE path > ? AND path < ?")
      .bind(`${folder}/`, `${folder}0`)
      .all<{ path: string; blob_key: string }>();
    await env.DB.prepare("DELETE FROM model_version_files WHERE artifact_path > ? AND artifact_path < ?")
      .bind(`${folder}/`, `${folder}0`)
      .run();
    await env.DB.prepare("DELETE FROM artifact_objects WHERE path > ? AND path < ?")
      .bind(`${folder}/`, `${folder}0`)
      .run();
    for (const row of rows.results) await env.ARTIFACTS.delete(row.blob_key);
  }

  it("lists a sealed folder from the version's manifest, without a D1 query per listing", async () => {
    const { folder } = await sealedFolder();
    const expected = {
      files: [
        { path: "MLmodel", is_dir: false, file_size: 11 },
        { path: "code", is_dir: true },
        { path: "model.pkl", is_dir: false, file_size: 3000 },
      ],
    };
    expect(await list(folder)).toEqual(expected);
    await eraseUnderneath(folder);
    expect(await list(folder)).toEqual(expected);
    expect(await list(`${folder}/`)).toEqual(expected);
    expect(await list(`${folder}/code`)).toEqual({ files: [{ path: "model_code.py", is_dir: false, file_size: 8 }] });
    // A file's own path lists as empty, as MLflow's client expects, and so does a missing folder.
    expect(await list(`${folder}/model.pkl`)).toEqual({});
    expect(await list(`${folder}/nothing`)).toEqual({});
  });

  it("serves a sealed file from the edge cache: the repeat needs neither D1 nor R2", async () => {
    const { folder, weights } = await sealedFolder();
    const first = await get(`${folder}/model.pkl`);
    expect(first.status).toBe(200);
    expect(first.headers.get("x-modelgate-cache")).toBe("miss");
    expect(first.headers.get("etag")).toBe(`"${await sha256(weights)}"`);
    expect(first.headers.get("accept-ranges")).toBe("bytes");
    expect(new Uint8Array(await first.arrayBuffer())).toEqual(weights);
    await eraseUnderneath(folder);
    const second = await get(`${folder}/model.pkl`);
    expect(second.status).toBe(200);
    expect(second.headers.get("x-modelgate-cache")).toBe("hit");
    expect(new Uint8Array(await second.arrayBuffer())).toEqual(weights);
  });

  it("shares the edge cache with /v1: a file fetched through /v1 is a hit through the artifact API", async () => {
    const { name, folder, weights } = await sealedFolder();
    const v1 = await exports.default.fetch(
      new Request(`http://modelgate.test/v1/models/${name}/versions/1/files/model.pkl`),
    );
    expect(v1.headers.get("x-modelgate-cache")).toBe("miss");
    await v1.arrayBuffer();
    const viaArtifacts = await get(`${folder}/model.pkl`);
    expect(viaArtifacts.headers.get("x-modelgate-cache")).toBe("hit");
    expect(new Uint8Array(await viaArtifacts.arrayBuffer())).toEqual(weights);
  });

  it("answers Range with 206, If-None-Match with 304 and HEAD with headers only, on a miss and on a hit", async () => {
    const { folder, weights } = await sealedFolder();
    const url = `${ARTIFACTS}/artifacts/${folder}/model.pkl`;
    for (const state of ["miss", "hit"]) {
      const part = await exports.default.fetch(new Request(url, { headers: { range: "bytes=100-199" } }));
      expect(part.status).toBe(206);
      expect(part.headers.get("x-modelgate-cache")).toBe(state);
      expect(part.headers.get("content-range")).toBe("bytes 100-199/3000");
      expect(new Uint8Array(await part.arrayBuffer())).toEqual(weights.subarray(100, 200));
    }
    const etag = `"${await sha256(weights)}"`;
    const notModified = await exports.default.fetch(new Request(url, { headers: { "if-none-match": etag } }));
    expect(notModified.status).toBe(304);
    expect(notModified.headers.get("etag")).toBe(etag);
    const head = await exports.default.fetch(new Request(url, { method: "HEAD" }));
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe("3000");
    expect((await head.arrayBuffer()).byteLength).toBe(0);
    const unsatisfiable = await exports.default.fetch(new Request(url, { headers: { range: "bytes=5000-" } }));
    expect(unsatisfiable.status).toBe(416);
    await unsatisfiable.arrayBuffer();
  });

  it("keeps unsealed run artifacts as they were: a replaced file is served at once, and so is a released folder", async () => {
    const run = await runRoot();
    await put(`${run}/notes.txt`, "one");
    expect(await (await get(`${run}/notes.txt`)).text()).toBe("one");
    await put(`${run}/notes.txt`, "two");
    const replaced = await get(`${run}/notes.txt`);
    expect(replaced.headers.get("x-modelgate-cache")).toBeNull();
    expect(await replaced.text()).toBe("two");

    const { name, folder } = await sealedFolder();
    expect((await list(folder)).files).toHaveLength(3);
    expect(await (await get(`${folder}/MLmodel`)).text()).toBe("flavors: {}");
    await call("DELETE", "/model-versions/delete", { name, version: "1" });
    await put(`${folder}/MLmodel`, "flavors: {changed: 1}");
    await put(`${folder}/extra.txt`, "x");
    expect(await (await get(`${folder}/MLmodel`)).text()).toBe("flavors: {changed: 1}");
    expect((await list(folder)).files).toContainEqual({ path: "extra.txt", is_dir: false, file_size: 1 });
  });
});
