import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ADMIN, ORIGIN, bearer, send } from "./helpers";
import { bodyText } from "../helpers";

// Issue 13, finding 6: a signed URL stands in for credentials, so it must reach exactly the one
// model (by its immutable id), version and file it was signed for, in every spelling of its URL.

const MLFLOW = "/api/2.0/mlflow";
const admin = bearer(ADMIN);
let n = 0;
const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${++n}`;

async function ok(method: string, path: string, params: Record<string, unknown> = {}) {
  const res = await send(method, path, params, admin);
  if (res.status !== 200) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Registers the next version of `name` (created when missing) with `files` uploaded under a new run. */
async function publish(name: string, files: Record<string, string>) {
  const run = (await ok("POST", `${MLFLOW}/runs/create`, { experiment_id: "0" })).run;
  const root = String(run.info.artifact_uri).replace(/^mlflow-artifacts:\//, "");
  for (const [path, body] of Object.entries(files)) {
    const encoded = path.split("/").map(encodeURIComponent).join("/");
    const res = await exports.default.fetch(
      new Request(`${ORIGIN}/api/2.0/mlflow-artifacts/artifacts/${root}/model/${encoded}`, {
        method: "PUT",
        body,
        headers: { authorization: admin },
      }),
    );
    expect(res.status).toBe(200);
  }
  if ((await send("GET", `${MLFLOW}/registered-models/get`, { name }, admin)).status !== 200)
    await ok("POST", `${MLFLOW}/registered-models/create`, { name });
  const version = (
    await ok("POST", `${MLFLOW}/model-versions/create`, { name, source: `runs:/${run.info.run_id}/model` })
  ).model_version;
  expect(version.status).toBe("READY");
  return version.version as string;
}

async function signedUrl(name: string, version: string, path: string): Promise<URL> {
  const body = await ok("POST", `/v1/models/${encodeURIComponent(name)}/versions/${version}/signed-urls`, {
    paths: [path],
    expires_in: 600,
  });
  return new URL(body.signed_urls[0].url);
}

/** Fetches without any credential: the signature is the only one. */
async function fetchUnauthenticated(url: URL | string, method = "GET") {
  const res = await exports.default.fetch(new Request(url, { method }));
  return { status: res.status, text: await bodyText(res) };
}

describe("signed URLs", () => {
  it("stop working when their model is deleted and its name re-created with a new version 1", async () => {
    const name = unique("reused");
    await publish(name, { "model.pkl": "the original weights" });
    const url = await signedUrl(name, "1", "model.pkl");
    expect(await fetchUnauthenticated(url)).toEqual({ status: 200, text: "the original weights" });
    expect(await fetchUnauthenticated(url)).toEqual({ status: 200, text: "the original weights" }); // now from the edge cache

    await ok("DELETE", `${MLFLOW}/registered-models/delete`, { name });
    await publish(name, { "model.pkl": "someone else's weights" });
    const reused = await fetchUnauthenticated(url);
    expect(reused.status).toBe(403);
    expect(JSON.parse(reused.text)).toMatchObject({ error_code: "PERMISSION_DENIED" });
    expect(reused.text).not.toContain("someone else");
    // A URL signed for the new model works.
    expect(await fetchUnauthenticated(await signedUrl(name, "1", "model.pkl"))).toEqual({
      status: 200,
      text: "someone else's weights",
    });
  });

  it("stop working when their model is renamed away and another model takes the name", async () => {
    const name = unique("renamed");
    await publish(name, { "model.pkl": "first model" });
    const url = await signedUrl(name, "1", "model.pkl");
    expect((await fetchUnauthenticated(url)).status).toBe(200);
    await ok("POST", `${MLFLOW}/registered-models/rename`, { name, new_name: `${name}-moved` });
    await publish(name, { "model.pkl": "second model" });
    const reused = await fetchUnauthenticated(url);
    expect(reused.status).toBe(403);
    expect(reused.text).not.toContain("second model");
  });

  it("reach only the version and file they were signed for, in every spelling of the URL", async () => {
    const name = unique("spelled");
    await publish(name, { "conf/MLmodel": "v1 conf", "model.pkl": "v1 weights" });
    await publish(name, { "conf/MLmodel": "v2 conf", "model.pkl": "v2 weights" });
    const url = await signedUrl(name, "1", "conf/MLmodel");
    expect(await fetchUnauthenticated(url)).toEqual({ status: 200, text: "v1 conf" });
    const query = url.search;
    const base = `${ORIGIN}/v1/models/${name}`;
    const variants = [
      `${base}/versions/2/files/conf/MLmodel${query}`,
      `${base}/versions/01/files/conf/MLmodel${query}`,
      `${base}/versions/1/files/model.pkl${query}`,
      `${base}/versions/1/files/conf%2FMLmodel${query}`,
      `${base}/versions/1/files/%63onf/MLmodel${query}`,
      `${base}/versions/1/files/conf/MLmodel/${query}`,
      `${base}/versions/1/files/conf//MLmodel${query}`,
      `${base}/versions/1/files//conf/MLmodel${query}`,
      `${base}//versions/1/files/conf/MLmodel${query}`,
      `${ORIGIN}/ajax-api/v1/models/${name}/versions/1/files/conf/MLmodel${query}`,
      `${base}/Production/files/conf/MLmodel${query}`,
      `${base}/1/files/conf/MLmodel${query}`,
    ];
    for (const variant of variants) {
      const res = await fetchUnauthenticated(variant);
      expect(res.status, variant).toBeGreaterThanOrEqual(400);
      expect(res.status, variant).toBeLessThan(500);
      expect(res.text, variant).not.toMatch(/v[12] (conf|weights)/);
    }
  });

  it("serve the file they name when the model's name is a path word ('files', 'versions')", async () => {
    // The file path starts after the route's own /files/, not after the first '/files/' in the URL.
    for (const name of ["files", "versions"]) {
      await publish(name, { x: `plain x of ${name}`, "versions/1/files/x": `nested x of ${name}` });
      const url = await signedUrl(name, "1", "x");
      expect(await fetchUnauthenticated(url)).toEqual({ status: 200, text: `plain x of ${name}` });
      const nested = await signedUrl(name, "1", "versions/1/files/x");
      expect(await fetchUnauthenticated(nested)).toEqual({ status: 200, text: `nested x of ${name}` });
    }
  });
});
