import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ADMIN, ORIGIN, bearer, createToken, send } from "./helpers";
import { bodyText } from "../helpers";

// A version's model.sig is guarded like its files: read scope on that model. The public keys that
// verify it need no credentials.

const MLFLOW = "/api/2.0/mlflow";
const admin = bearer(ADMIN);
let n = 0;
const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${++n}`;

async function ok(method: string, path: string, params: Record<string, unknown> = {}) {
  const res = await send(method, path, params, admin);
  if (res.status !== 200) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** A new model whose version 1 holds `model.pkl`, in Production. */
async function publish(name: string, weights: string) {
  const run = (await ok("POST", `${MLFLOW}/runs/create`, { experiment_id: "0" })).run;
  const root = String(run.info.artifact_uri).replace(/^mlflow-artifacts:\//, "");
  const put = await exports.default.fetch(
    new Request(`${ORIGIN}/api/2.0/mlflow-artifacts/artifacts/${root}/model/model.pkl`, {
      method: "PUT",
      body: weights,
      headers: { authorization: admin },
    }),
  );
  expect(put.status).toBe(200);
  await ok("POST", `${MLFLOW}/registered-models/create`, { name });
  const version = (
    await ok("POST", `${MLFLOW}/model-versions/create`, { name, source: `runs:/${run.info.run_id}/model` })
  ).model_version;
  expect(version.status).toBe("READY");
  await ok("POST", `${MLFLOW}/model-versions/transition-stage`, { name, version: "1", stage: "Production" });
}

async function get(path: string, authorization?: string) {
  const res = await exports.default.fetch(
    new Request(`${ORIGIN}${path}`, { headers: authorization ? { authorization } : {} }),
  );
  return { status: res.status, text: await bodyText(res) };
}

describe("model.sig authorization", () => {
  it("lets a token narrowed to one model read that model's signature and no other's", async () => {
    const mine = unique("sig-mine");
    const theirs = unique("sig-theirs");
    await publish(mine, "my weights");
    await publish(theirs, "their weights");
    const narrowed = bearer(await createToken({ name: unique("narrow"), scopes: ["read"], models: [mine] }));

    for (const path of [`/v1/models/${mine}/versions/1/model.sig`, `/v1/models/${mine}/Production/model.sig`]) {
      const res = await get(path, narrowed);
      expect(res.status).toBe(200);
      expect(JSON.parse(res.text).mediaType).toBe("application/vnd.dev.sigstore.bundle.v0.3+json");
    }
    for (const path of [
      `/v1/models/${theirs}/versions/1/model.sig`,
      `/v1/models/${theirs}/Production/model.sig`,
      `/v1/models/${theirs}/versions/1/archive.tar`,
    ]) {
      const res = await get(path, narrowed);
      expect(res.status).toBe(403);
      expect(JSON.parse(res.text)).toMatchObject({ error_code: "PERMISSION_DENIED" });
      expect(res.text).not.toContain("dsseEnvelope");
    }
    // The admin reads it: the refusal above was the token's narrowing, not a missing signature.
    expect((await get(`/v1/models/${theirs}/versions/1/model.sig`, admin)).status).toBe(200);
  });

  it("refuses a request without credentials, and a signed file URL's query does not open it", async () => {
    const name = unique("sig-anon");
    await publish(name, "weights");
    const anonymous = await get(`/v1/models/${name}/versions/1/model.sig`);
    expect(anonymous.status).toBe(401);
    expect(JSON.parse(anonymous.text)).toMatchObject({ error_code: "UNAUTHENTICATED" });
    const forged = await get(
      `/v1/models/${name}/versions/1/model.sig?expires=9999999999&kid=test&sig=${"0".repeat(64)}`,
    );
    expect(forged.status).toBe(401);
  });

  it("publishes the public keys to anyone", async () => {
    const jwks = await get("/.well-known/modelgate-keys");
    expect(jwks.status).toBe(200);
    expect(JSON.parse(jwks.text).keys.length).toBeGreaterThan(0);
    expect((await get("/.well-known/modelgate-keys?format=pem")).text).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
  });
});
