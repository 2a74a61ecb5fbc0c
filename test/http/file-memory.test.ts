import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { fileKey } from "../../src/delivery/edge-memory";
import { FileMemory, fileMemory, MAX_HELD_BYTES, MAX_HELD_FILE_BYTES } from "../../src/delivery/file-memory";
import { call, createModel } from "../helpers";
import { createRun } from "../tracking-helpers";

// Small sealed files answered from the isolate's memory (issue 19): the same answer as the Cache
// API's, the same Range/HEAD/304 behaviour, bounded, and gone with a deleted version.

const ORIGIN = "http://modelgate.test";
const ARTIFACTS = `${ORIGIN}/api/2.0/mlflow-artifacts/artifacts`;

function bytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

function get(url: string, headers: Record<string, string> = {}, method = "GET") {
  return exports.default.fetch(new Request(url, { headers, method }));
}

/** A registered version (v1) whose folder holds `files`; its artifact folder and the model's id. */
async function sealedVersion(files: Record<string, Uint8Array>) {
  const name = await createModel();
  const run = await createRun("0");
  const folder = `${String(run.info.artifact_uri).replace(/^mlflow-artifacts:\//, "")}/model`;
  for (const [path, body] of Object.entries(files)) {
    expect(
      (await exports.default.fetch(new Request(`${ARTIFACTS}/${folder}/${path}`, { method: "PUT", body }))).status,
    ).toBe(200);
  }
  const created = await call("POST", "/model-versions/create", { name, source: `mlflow-artifacts:/${folder}` });
  expect(created.body.model_version.status).toBe("READY");
  const row = await env.DB.prepare("SELECT id FROM registered_models WHERE name = ?")
    .bind(name)
    .first<{ id: string }>();
  const key = (path: string) => fileKey({ modelId: row!.id, version: 1, path });
  return { name, folder, key };
}

/** Removes a folder's rows from D1 and its bytes from R2: an answer after this needed neither. */
async function eraseUnderneath(folder: string) {
  const rows = await env.DB.prepare("SELECT blob_key FROM artifact_objects WHERE path > ? AND path < ?")
    .bind(`${folder}/`, `${folder}0`)
    .all<{ blob_key: string }>();
  await env.DB.prepare("DELETE FROM model_version_files WHERE artifact_path > ? AND artifact_path < ?")
    .bind(`${folder}/`, `${folder}0`)
    .run();
  await env.DB.prepare("DELETE FROM artifact_objects WHERE path > ? AND path < ?")
    .bind(`${folder}/`, `${folder}0`)
    .run();
  for (const row of rows.results) await env.ARTIFACTS.delete(row.blob_key);
}

async function answer(res: Response) {
  return { status: res.status, headers: [...res.headers], body: new Uint8Array(await res.arrayBuffer()) };
}

describe("small sealed files from isolate memory", () => {
  it("answers a held file byte for byte with the Cache API's answer, needing neither cache, D1 nor R2", async () => {
    const mlmodel = bytes(525, 3);
    const { folder, key } = await sealedVersion({ MLmodel: mlmodel });
    const url = `${ARTIFACTS}/${folder}/MLmodel`;
    const first = await answer(await get(url));
    expect(first.status).toBe(200);
    expect(first.body).toEqual(mlmodel);
    expect(fileMemory.has(key("MLmodel").url)).toBe(true);

    const fromMemory = await answer(await get(url));
    fileMemory.forget(key("MLmodel").url);
    const fromCache = await answer(await get(url));
    expect(fromCache.headers).toContainEqual(["x-modelgate-cache", "hit"]);
    expect(fromMemory).toEqual(fromCache);
    expect(fromMemory.body).toEqual(mlmodel);
    // Read back from the Cache API, the file is held again.
    expect(fileMemory.has(key("MLmodel").url)).toBe(true);

    await caches.default.delete(key("MLmodel"));
    await eraseUnderneath(folder);
    expect(await answer(await get(url))).toEqual(fromCache);
    const head = await get(url, {}, "HEAD");
    expect(head.status).toBe(200);
    expect([...head.headers]).toEqual(fromCache.headers);
    expect((await head.arrayBuffer()).byteLength).toBe(0);
  });

  it("answers Range, If-None-Match and HEAD as before while the file is held", async () => {
    const weights = bytes(3000, 5);
    const { name, folder, key } = await sealedVersion({ "model.pkl": weights });
    const url = `${ARTIFACTS}/${folder}/model.pkl`;
    const first = await get(url);
    const etag = first.headers.get("etag")!;
    await first.arrayBuffer();
    expect(fileMemory.has(key("model.pkl").url)).toBe(true);

    const part = await get(url, { range: "bytes=100-199" });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe("bytes 100-199/3000");
    expect(new Uint8Array(await part.arrayBuffer())).toEqual(weights.subarray(100, 200));
    const suffix = await get(url, { range: "bytes=-3" });
    expect(suffix.status).toBe(206);
    expect(new Uint8Array(await suffix.arrayBuffer())).toEqual(weights.subarray(2997));
    const beyond = await get(url, { range: "bytes=5000-" });
    expect(beyond.status).toBe(416);
    await beyond.arrayBuffer();

    for (const [path, cacheControl] of [
      [url, "no-cache"],
      [`${ORIGIN}/v1/models/${name}/versions/1/files/model.pkl`, "public, max-age=31536000, immutable"],
    ] as const) {
      const revalidated = await get(path, { "if-none-match": etag });
      expect(revalidated.status).toBe(304);
      expect(revalidated.headers.get("etag")).toBe(etag);
      expect(revalidated.headers.get("cache-control")).toBe(cacheControl);
      const changed = await get(path, { "if-none-match": '"0000"' });
      expect(changed.status).toBe(200);
      expect(changed.headers.get("cache-control")).toBe(cacheControl);
      expect(new Uint8Array(await changed.arrayBuffer())).toEqual(weights);
      const head = await get(path, {}, "HEAD");
      expect(head.status).toBe(200);
      expect(head.headers.get("content-length")).toBe("3000");
      expect(head.headers.get("etag")).toBe(etag);
    }
  });

  it("holds files up to the size limit and never one above it", async () => {
    const atLimit = bytes(MAX_HELD_FILE_BYTES, 7);
    const overLimit = bytes(MAX_HELD_FILE_BYTES + 1, 9);
    const { folder, key } = await sealedVersion({ "at-limit.bin": atLimit, "over-limit.bin": overLimit });
    for (const path of ["at-limit.bin", "over-limit.bin"]) {
      for (let i = 0; i < 2; i++) await (await get(`${ARTIFACTS}/${folder}/${path}`)).arrayBuffer();
    }
    expect(fileMemory.has(key("at-limit.bin").url)).toBe(true);
    expect(fileMemory.has(key("over-limit.bin").url)).toBe(false);
    expect(fileMemory.bytes).toBeLessThanOrEqual(MAX_HELD_BYTES);

    // With the Cache API's copies gone, only the held file is still answered without D1 and R2.
    await caches.default.delete(key("at-limit.bin"));
    await caches.default.delete(key("over-limit.bin"));
    await eraseUnderneath(folder);
    const held = await get(`${ARTIFACTS}/${folder}/at-limit.bin`);
    expect(held.status).toBe(200);
    expect(new Uint8Array(await held.arrayBuffer())).toEqual(atLimit);
    const notHeld = await get(`${ARTIFACTS}/${folder}/over-limit.bin`);
    expect(notHeld.status).not.toBe(200);
    await notHeld.arrayBuffer();
  });

  it("keeps its total under the cap by dropping the least recently served files", () => {
    const memory = new FileMemory(10, 25, 60_000);
    const file = (n: number) => ({ bytes: new Uint8Array(n), headers: [] });
    expect(memory.keep("a", file(10))).toBe(true);
    expect(memory.keep("b", file(10))).toBe(true);
    expect(memory.keep("too-big", file(11))).toBe(false);
    expect(memory.bytes).toBe(20);
    memory.get("a"); // a is now the most recently served
    expect(memory.keep("c", file(8))).toBe(true);
    expect([memory.has("a"), memory.has("b"), memory.has("c")]).toEqual([true, false, true]);
    expect(memory.bytes).toBe(18);
    expect(memory.keep("a", file(10))).toBe(true); // the same key again replaces, never counts twice
    expect(memory.bytes).toBe(18);
    for (const key of ["d", "e", "f", "g"]) {
      memory.keep(key, file(9));
      expect(memory.bytes).toBeLessThanOrEqual(25);
    }
    expect(memory.bytes).toBe(18);
    memory.forget("g");
    expect(memory.bytes).toBe(9);
  });

  it("forgets a held file once it outlives its time", () => {
    let now = 0;
    const memory = new FileMemory(10, 100, 1000, () => now);
    memory.keep("a", { bytes: new Uint8Array(5), headers: [] });
    now = 999;
    expect(memory.get("a")).toBeDefined();
    now = 1000;
    expect(memory.get("a")).toBeUndefined();
    expect(memory.bytes).toBe(0);
  });

  it("serves a deleted version's files no more from memory", async () => {
    const conf = bytes(300, 11);
    const { name, folder, key } = await sealedVersion({ "conf/MLmodel": conf });
    const v1 = `${ORIGIN}/v1/models/${name}/versions/1/files/conf/MLmodel`;
    await (await get(v1)).arrayBuffer();
    const held = await get(v1);
    expect(held.headers.get("x-modelgate-cache")).toBe("hit");
    expect(new Uint8Array(await held.arrayBuffer())).toEqual(conf);
    expect(fileMemory.has(key("conf/MLmodel").url)).toBe(true);

    expect((await call("DELETE", "/model-versions/delete", { name, version: "1" })).status).toBe(200);
    expect(fileMemory.has(key("conf/MLmodel").url)).toBe(false);
    const gone = await get(v1);
    expect(gone.status).toBe(404);
    expect(await gone.json()).toMatchObject({ error_code: "RESOURCE_DOES_NOT_EXIST" });
    // The folder is a run's artifacts again: answered from the index, never from the edge path.
    const unsealed = await get(`${ARTIFACTS}/${folder}/conf/MLmodel`);
    expect(unsealed.status).toBe(200);
    expect(unsealed.headers.get("x-modelgate-cache")).toBeNull();
    expect(new Uint8Array(await unsealed.arrayBuffer())).toEqual(conf);
  });
});
