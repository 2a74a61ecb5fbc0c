import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ADMIN, ORIGIN, bearer, createToken, send } from "./helpers";
import { bodyText } from "../helpers";

// Issue 13, finding 5, with auth on: a token narrowed to model A reads and writes the artifacts of
// the runs and logged models it created and the files of A's versions, and nothing else; an
// unrestricted token keeps its reach. Refusals change nothing.

const MLFLOW = "/api/2.0/mlflow";
const ARTIFACTS = "/api/2.0/mlflow-artifacts/artifacts";
let n = 0;
const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${++n}`;

async function put(path: string, body: string, auth: string) {
  const res = await exports.default.fetch(
    new Request(`${ORIGIN}${ARTIFACTS}/${path}`, { method: "PUT", body, headers: { authorization: auth } }),
  );
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

async function download(path: string, auth: string) {
  const res = await exports.default.fetch(
    new Request(`${ORIGIN}${ARTIFACTS}/${path}`, { headers: { authorization: auth } }),
  );
  return { status: res.status, text: await bodyText(res) };
}

const list = (path: string, auth: string) => send("GET", ARTIFACTS, { path }, auth);
const rootOf = (uri: string) => uri.replace(/^mlflow-artifacts:\//, "");

async function ok(method: string, path: string, params: Record<string, unknown>, auth: string) {
  const res = await send(method, path, params, auth);
  if (res.status !== 200) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** A run created with `auth`, with a model folder uploaded, registered as version 1 of a new model `name`. */
async function registeredModel(name: string, auth: string) {
  const run = (await ok("POST", `${MLFLOW}/runs/create`, { experiment_id: "0" }, auth)).run;
  const root = rootOf(run.info.artifact_uri);
  expect((await put(`${root}/model/MLmodel`, `flavors: ${name}`, auth)).status).toBe(200);
  expect((await put(`${root}/model/code/model_code.py`, `print('${name}')`, auth)).status).toBe(200);
  expect((await put(`${root}/scratch.txt`, "not registered", auth)).status).toBe(200);
  await ok("POST", `${MLFLOW}/registered-models/create`, { name }, bearer(ADMIN));
  const version = (
    await ok(
      "POST",
      `${MLFLOW}/model-versions/create`,
      { name, source: `runs:/${run.info.run_id}/model` },
      bearer(ADMIN),
    )
  ).model_version;
  expect(version.status).toBe("READY");
  return { runId: run.info.run_id as string, root, folder: `${root}/model` };
}

async function artifactState() {
  const objects = await env.DB.prepare("SELECT path, blob_key FROM artifact_objects ORDER BY path").all();
  const uploads = await env.DB.prepare("SELECT count(*) AS n FROM artifact_uploads").first<{ n: number }>();
  return { objects: objects.results, uploads: uploads?.n, blobs: (await env.ARTIFACTS.list()).objects.length };
}

async function setting() {
  const a = unique("team-a");
  const b = unique("team-b");
  const aWrite = await createToken({ name: unique("a-write"), scopes: ["write"], models: [a] });
  const aRead = await createToken({ name: unique("a-read"), scopes: ["read"], models: [a] });
  const bWrite = await createToken({ name: unique("b-write"), scopes: ["write"], models: [b] });
  const reader = await createToken({ name: unique("reader"), scopes: ["read"] });
  const modelA = await registeredModel(a, bearer(aWrite));
  const modelB = await registeredModel(b, bearer(bWrite));
  return {
    a,
    b,
    aWrite: bearer(aWrite),
    aRead: bearer(aRead),
    bWrite: bearer(bWrite),
    reader: bearer(reader),
    modelA,
    modelB,
  };
}

describe("per-model tokens and artifacts", () => {
  it("records the token that created a run or a logged model", async () => {
    const created = await ok(
      "POST",
      "/api/2.0/modelgate/tokens",
      { name: unique("trainer"), scopes: ["write"], models: [unique("m")] },
      bearer(ADMIN),
    );
    const secret = created.secret as string;
    const id = created.token.id as string;
    const run = (await ok("POST", `${MLFLOW}/runs/create`, { experiment_id: "0" }, bearer(secret))).run;
    const model = (await ok("POST", `${MLFLOW}/logged-models`, { experiment_id: "0" }, bearer(secret))).model;
    const runRow = await env.DB.prepare("SELECT created_by_token AS t FROM runs WHERE run_id = ?")
      .bind(run.info.run_id)
      .first<{ t: string }>();
    const modelRow = await env.DB.prepare("SELECT created_by_token AS t FROM logged_models WHERE model_id = ?")
      .bind(model.info.model_id)
      .first<{ t: string }>();
    expect(runRow?.t).toBe(id);
    expect(modelRow?.t).toBe(id);
    // The bootstrap admin is no token: its runs record none.
    const adminRun = (await ok("POST", `${MLFLOW}/runs/create`, { experiment_id: "0" }, bearer(ADMIN))).run;
    const adminRow = await env.DB.prepare("SELECT created_by_token AS t FROM runs WHERE run_id = ?")
      .bind(adminRun.info.run_id)
      .first<{ t: string | null }>();
    expect(adminRow?.t).toBeNull();
  });

  it("keeps A's write token out of B's version folder and B's run, and writes nothing", async () => {
    const { aWrite, modelB } = await setting();
    const before = await artifactState();
    const attempts = [
      await put(`${modelB.folder}/code/extra.py`, "import os", aWrite),
      await put(`${modelB.folder}/MLmodel`, "flavors: {}", aWrite),
      await put(`${modelB.root}/scratch.txt`, "overwritten", aWrite),
      await put(`${modelB.root}/new.txt`, "planted", aWrite),
      await send(
        "POST",
        `/api/2.0/mlflow-artifacts/mpu/create/${modelB.root}`,
        { path: "/tmp/big.bin", num_parts: 1 },
        aWrite,
      ),
    ];
    for (const res of attempts) {
      expect([403, 409]).toContain(res.status);
      expect(["PERMISSION_DENIED", "RESOURCE_CONFLICT"]).toContain(res.body.error_code);
    }
    expect(await artifactState()).toEqual(before);
  });

  it("lets a token narrowed to A read A's version folders the way the MLflow client loads models:/A/1", async () => {
    const { a, aRead } = await setting();
    const uri = (await ok("GET", `${MLFLOW}/model-versions/get-download-uri`, { name: a, version: "1" }, aRead))
      .artifact_uri as string;
    const folder = rootOf(uri);
    expect((await list(folder, aRead)).body).toEqual({
      files: [
        { path: "MLmodel", is_dir: false, file_size: `flavors: ${a}`.length },
        { path: "code", is_dir: true },
      ],
    });
    expect((await list(`${folder}/code`, aRead)).body.files).toEqual([
      { path: "model_code.py", is_dir: false, file_size: `print('${a}')`.length },
    ]);
    expect(await download(`${folder}/MLmodel`, aRead)).toEqual({ status: 200, text: `flavors: ${a}` });
    expect(await download(`${folder}/code/model_code.py`, aRead)).toEqual({ status: 200, text: `print('${a}')` });
  });

  it("refuses A's read token B's registered files and runs, through every artifact door", async () => {
    const { aRead, modelB, modelA } = await setting();
    for (const res of [
      await download(`${modelB.folder}/MLmodel`, aRead),
      await download(`${modelB.root}/scratch.txt`, aRead),
      // A's read token did not create A's training run: its scratch files are not A's version.
      await download(`${modelA.root}/scratch.txt`, aRead),
    ]) {
      expect(res.status).toBe(403);
      expect(JSON.parse(res.text)).toMatchObject({ error_code: "PERMISSION_DENIED" });
    }
    for (const res of [
      await list(modelB.folder, aRead),
      await list(modelB.root, aRead),
      await list("", aRead),
      await send("GET", `${MLFLOW}/artifacts/list`, { run_id: modelB.runId }, aRead),
      await send("GET", `${MLFLOW}/artifacts/list`, { run_id: modelB.runId, path: "model" }, aRead),
    ]) {
      expect(res.status).toBe(403);
      expect(res.body.error_code).toBe("PERMISSION_DENIED");
      expect(JSON.stringify(res.body)).not.toContain("model_code.py");
    }
  });

  it("lets a narrowed token work in the runs and logged models it created, and only those", async () => {
    const { aWrite, bWrite, modelA } = await setting();
    expect(await download(`${modelA.root}/scratch.txt`, aWrite)).toEqual({ status: 200, text: "not registered" });
    expect((await send("GET", `${MLFLOW}/artifacts/list`, { run_id: modelA.runId }, aWrite)).body.files).toContainEqual(
      { path: "scratch.txt", is_dir: false, file_size: 14 },
    );
    const logged = (await ok("POST", `${MLFLOW}/logged-models`, { experiment_id: "0" }, aWrite)).model;
    const root = rootOf(logged.info.artifact_uri);
    expect((await put(`${root}/MLmodel`, "flavors: {}", aWrite)).status).toBe(200);
    expect((await put(`${root}/MLmodel`, "flavors: {b}", bWrite)).status).toBe(403);
    expect((await download(`${root}/MLmodel`, bWrite)).status).toBe(403);
    expect(await download(`${root}/MLmodel`, aWrite)).toEqual({ status: 200, text: "flavors: {}" });
  });

  it("keeps an unrestricted token's reach: it reads every model's files", async () => {
    const { reader, modelA, modelB } = await setting();
    expect((await download(`${modelB.folder}/MLmodel`, reader)).status).toBe(200);
    expect((await download(`${modelA.root}/scratch.txt`, reader)).status).toBe(200);
    expect((await list(modelB.folder, reader)).status).toBe(200);
  });

  // Issue 19: sealed files come from the edge cache, but the per-model check holds on a hit.
  it("checks a narrowed token on a cache hit, which needs no D1", async () => {
    const { a, aRead, bWrite, reader, modelA } = await setting();
    const bRead = bWrite; // B's token holds read too
    const file = `${modelA.folder}/MLmodel`;
    const warm = await exports.default.fetch(
      new Request(`${ORIGIN}${ARTIFACTS}/${file}`, { headers: { authorization: aRead } }),
    );
    expect(warm.status).toBe(200);
    expect(warm.headers.get("x-modelgate-cache")).toBe("miss");
    await warm.arrayBuffer();
    const hit = await exports.default.fetch(
      new Request(`${ORIGIN}${ARTIFACTS}/${file}`, { headers: { authorization: reader } }),
    );
    expect(hit.headers.get("x-modelgate-cache")).toBe("hit");
    await hit.arrayBuffer();
    const refused = await exports.default.fetch(
      new Request(`${ORIGIN}${ARTIFACTS}/${file}`, { headers: { authorization: bRead } }),
    );
    expect(refused.status).toBe(403);
    expect(await refused.text()).not.toContain(`flavors: ${a}`);
    for (const range of ["bytes=0-3", "bytes=-3"]) {
      const ranged = await exports.default.fetch(
        new Request(`${ORIGIN}${ARTIFACTS}/${file}`, { headers: { authorization: bRead, range } }),
      );
      expect(ranged.status).toBe(403);
    }
    const etag = warm.headers.get("etag")!;
    const revalidate = await exports.default.fetch(
      new Request(`${ORIGIN}${ARTIFACTS}/${file}`, { headers: { authorization: bRead, "if-none-match": etag } }),
    );
    expect(revalidate.status).toBe(403);
    expect((await list(modelA.folder, bRead)).status).toBe(403);

    // With the rows underneath gone, A's token is still answered from the cache and the manifest.
    await env.DB.prepare("DELETE FROM model_version_files WHERE artifact_path > ? AND artifact_path < ?")
      .bind(`${modelA.folder}/`, `${modelA.folder}0`)
      .run();
    await env.DB.prepare("DELETE FROM artifact_objects WHERE path > ? AND path < ?")
      .bind(`${modelA.folder}/`, `${modelA.folder}0`)
      .run();
    expect(await download(file, aRead)).toEqual({ status: 200, text: `flavors: ${a}` });
    expect((await list(modelA.folder, aRead)).body.files).toHaveLength(2);
  });
});
