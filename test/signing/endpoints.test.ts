import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { parsePublicKeys, publicKeyFromPem } from "../../src/signing/keys";
import { ModelSigner, parseModelSigningKeys } from "../../src/signing/model-signer";
import { bundleHint, openBundle } from "../../src/signing/model-signing";
import { RegistryError } from "../../src/errors";
import type { ModelVersion } from "../../src/domain/model";
import { SignatureService } from "../../src/signing/signature-service";
import { R2SignatureStore, type SignatureStore } from "../../src/signing/signature-store";
import { bodyText, call, uniqueName } from "../helpers";
import { publish } from "./publish";

const ORIGIN = "http://modelgate.test";
const fetchWorker = (path: string, init?: RequestInit) => exports.default.fetch(new Request(`${ORIGIN}${path}`, init));
const sha256 = async (text: string) =>
  [...new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)))]
    .map((b) => b.toString(16).padStart(2, "0"))
    .join("");

async function signatureOf(path: string): Promise<{ status: number; text: string; etag: string | null }> {
  const res = await fetchWorker(path);
  return { status: res.status, text: await bodyText(res), etag: res.headers.get("etag") };
}

async function jwks() {
  const res = await fetchWorker("/.well-known/modelgate-keys");
  expect(res.status).toBe(200);
  return bodyText(res);
}

const FILES = {
  MLmodel: "flavors: {}\n",
  "model.pkl": "weights\u0001",
  "sub/config.json": "{}",
  // Never signed: model_signing ignores a root .gitattributes, and a root model.sig is ours.
  ".gitattributes": "*.pkl filter=lfs\n",
  "model.sig": "someone's own signature file",
};

describe("GET /v1/models/{name}/.../model.sig", () => {
  it("signs the version's manifest with the first key, verifiable with the published JWKS", async () => {
    const name = await publish(FILES);
    const sig = await signatureOf(`/v1/models/${name}/versions/1/model.sig`);
    expect(sig.status).toBe(200);
    const keys = await parsePublicKeys(await jwks());
    const key = keys.find((k) => k.hint === bundleHint(sig.text))!;
    expect(key.kid).toBe("test");
    const statement = await openBundle(sig.text, key);
    // The subject binds the registry, the model and the version (review M5).
    expect(statement.subject[0]!.name).toBe(`modelgate/models/${encodeURIComponent(name)}/versions/1`);
    const manifest = (await call("GET", "/model-versions/get", { name, version: "1" })).body;
    expect(manifest.model_version.status).toBe("READY");
    expect(statement.predicate.resources).toEqual(
      await Promise.all(
        ["MLmodel", "model.pkl", "sub/config.json"].map(async (path) => ({
          name: path,
          algorithm: "sha256",
          digest: await sha256(FILES[path as keyof typeof FILES]),
        })),
      ),
    );
  });

  it("serves the same bytes every time, by version, stage and alias, and answers 304 to its ETag", async () => {
    const name = await publish({ "model.pkl": "stable" });
    const first = await signatureOf(`/v1/models/${name}/versions/1/model.sig`);
    await call("POST", "/model-versions/transition-stage", { name, version: "1", stage: "Staging" });
    await call("POST", "/registered-models/alias", { name, alias: "champion", version: "1" });
    for (const path of [
      `/v1/models/${name}/versions/1/model.sig`,
      `/v1/models/${name}/Staging/model.sig`,
      `/v1/models/${name}/@champion/model.sig`,
      `/v1/models/${name}/1/model.sig`,
    ]) {
      expect(await signatureOf(path)).toEqual(first);
    }
    const again = await fetchWorker(`/v1/models/${name}/versions/1/model.sig`, {
      headers: { "if-none-match": first.etag! },
    });
    expect(again.status).toBe(304);
    await again.body?.cancel();
  });

  it("keeps one signature when first requests race: the write to R2 is conditional", async () => {
    // Every caller reads "nothing stored" before any of them writes (a barrier on the first read,
    // over the real R2 store), so each signs; the conditional write lets exactly one bundle land.
    const callers = 6;
    const r2 = new R2SignatureStore(env.ARTIFACTS);
    let waiting = 0;
    let release!: () => void;
    const allRead = new Promise<void>((resolve) => (release = resolve));
    const firstReads = new Set<number>();
    const racing = (id: number): SignatureStore => ({
      async get(key) {
        const stored = await r2.get(key);
        if (firstReads.has(id)) return stored;
        firstReads.add(id);
        if (++waiting === callers) release();
        await allRead;
        return stored;
      },
      put: (...args) => r2.put(...args),
    });
    const signer = () => ModelSigner.load(parseModelSigningKeys(env.MODELGATE_MODEL_SIGNING_KEYS));
    const version = { modelId: `race-${uniqueName()}`, name: "raced", version: 1, status: "READY" } as ModelVersion;
    const files = [{ path: "model.pkl", sha256: await sha256("raced") }];
    const bundles = await Promise.all(
      Array.from({ length: callers }, (_, id) => new SignatureService(signer, racing(id)).forVersion(version, files)),
    );
    expect(new Set(bundles).size).toBe(1);
    expect(await new SignatureService(signer, r2).forVersion(version, files)).toBe(bundles[0]);
  });

  it("re-signs, once, a stored signature whose key left the rotation", async () => {
    const name = await publish({ "model.pkl": "rotated" });
    const first = (await signatureOf(`/v1/models/${name}/versions/1/model.sig`)).text;
    const listed = await env.ARTIFACTS.list({ prefix: "signatures/", include: ["customMetadata"] });
    let stored: string | undefined;
    for (const o of listed.objects) if ((await (await env.ARTIFACTS.get(o.key))!.text()) === first) stored = o.key;
    expect(stored).toMatch(/^signatures\/[^/]+\/1\/[0-9a-f]{64}\.sig$/);
    await env.ARTIFACTS.put(stored!, "made with a retired key", { customMetadata: { kid: "retired" } });

    const resigned = (await signatureOf(`/v1/models/${name}/versions/1/model.sig`)).text;
    expect(resigned).not.toBe("made with a retired key");
    const [key] = await parsePublicKeys(await jwks());
    await openBundle(resigned, key!);
    expect((await env.ARTIFACTS.head(stored!))?.customMetadata).toEqual({ kid: "test" });
    expect((await signatureOf(`/v1/models/${name}/versions/1/model.sig`)).text).toBe(resigned);
  });

  it("answers 404 with MLflow's error JSON for an unknown version or model", async () => {
    const name = await publish({ "model.pkl": "x" });
    for (const path of [`/v1/models/${name}/versions/9/model.sig`, `/v1/models/${uniqueName("none")}/1/model.sig`]) {
      const res = await signatureOf(path);
      expect(res.status).toBe(404);
      expect(JSON.parse(res.text)).toMatchObject({ error_code: "RESOURCE_DOES_NOT_EXIST" });
    }
  });
});

describe("archive.tar", () => {
  it("carries model.sig first, the same bytes as the route, in place of the version's own root model.sig", async () => {
    // An empty file and one of exactly one block end without padding: the archive goes on after them.
    const name = await publish({ ...FILES, "empty.txt": "", "sub/block.bin": "b".repeat(512) });
    const sig = (await signatureOf(`/v1/models/${name}/versions/1/model.sig`)).text;
    const res = await fetchWorker(`/v1/models/${name}/versions/1/archive.tar`);
    expect(res.status).toBe(200);
    const tar = new Uint8Array(await res.arrayBuffer());
    expect(Number(res.headers.get("content-length"))).toBe(tar.byteLength);
    const entries: [string, string][] = [];
    for (let offset = 0; offset + 512 <= tar.length; ) {
      const header = tar.subarray(offset, offset + 512);
      if (header.every((b) => b === 0)) break;
      const text = (a: number, b: number) => new TextDecoder().decode(header.subarray(a, b)).replace(/\0.*$/s, "");
      const size = parseInt(text(124, 136), 8);
      entries.push([text(0, 100), new TextDecoder().decode(tar.subarray(offset + 512, offset + 512 + size))]);
      offset += 512 + Math.ceil(size / 512) * 512;
    }
    expect(entries.map(([path]) => path)).toEqual([
      "model.sig",
      ".gitattributes",
      "MLmodel",
      "empty.txt",
      "model.pkl",
      "sub/block.bin",
      "sub/config.json",
    ]);
    expect(entries[0]![1]).toBe(sig);
  });
});

describe("/.well-known/modelgate-keys", () => {
  it("lists every key in rotation as a JWKS, signing key first, each with its kid and model-signing hint", async () => {
    const body = JSON.parse(await jwks());
    expect(body.keys.map((k: { kid: string }) => k.kid)).toEqual(["test", "test-old"]);
    for (const jwk of body.keys) {
      expect(jwk).toMatchObject({ kty: "EC", crv: "P-256", use: "sig", alg: "ES256", key_ops: ["verify"] });
      expect(jwk.d).toBeUndefined();
      const [parsed] = await parsePublicKeys(JSON.stringify(jwk));
      expect(jwk["x-model-signing-hint"]).toBe(parsed!.hint);
    }
  });

  it("still verifies a signature made before the rotation with the retired key it lists", async () => {
    // test-old's private half, as the signing key it was before "test" took over (test-only key).
    const before = await ModelSigner.load([
      {
        kid: "test-old",
        pkcs8:
          "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgj8EAOSJ/YToHZjmr3q4AcVjyANP0f+XbAHtqYEh01SOhRANCAAS7k4N7GJWOtFl0SUrJo71VKYVoAJVovHOve6797mP089JLMwlE772/B8D0vP8+N4RH1CA3+HUVrw6M/iMkMDp+",
      },
    ]);
    const { bundle } = await before.sign("older", [{ path: "model.pkl", sha256: await sha256("old") }]);
    const keys = await parsePublicKeys(await jwks());
    const key = keys.find((k) => k.hint === bundleHint(bundle))!;
    expect(key.kid).toBe("test-old");
    expect((await openBundle(bundle, key)).subject[0]!.name).toBe("older");
  });

  it("serves each key as SPKI PEM, whose SHA-256 is the bundle's hint", async () => {
    const body = JSON.parse(await jwks());
    for (const path of ["/.well-known/modelgate-keys/test.pem", "/.well-known/modelgate-keys?format=pem"]) {
      const res = await fetchWorker(path);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("application/x-pem-file");
      const pem = await bodyText(res);
      expect(pem).toMatch(
        /^-----BEGIN PUBLIC KEY-----\n[A-Za-z0-9+/]{64}\n[A-Za-z0-9+/]{58}==\n-----END PUBLIC KEY-----\n$/,
      );
      expect(await sha256(pem)).toBe(body.keys[0]["x-model-signing-hint"]);
      expect((await publicKeyFromPem(pem)).hint).toBe(body.keys[0]["x-model-signing-hint"]);
    }
    const old = await fetchWorker("/.well-known/modelgate-keys?format=pem&kid=test-old");
    expect(await sha256(await bodyText(old))).toBe(body.keys[1]["x-model-signing-hint"]);
  });

  it("answers 404 with MLflow's error JSON for a kid not in rotation", async () => {
    for (const path of [
      "/.well-known/modelgate-keys/retired.pem",
      "/.well-known/modelgate-keys?format=pem&kid=retired",
    ]) {
      const res = await fetchWorker(path);
      expect(res.status).toBe(404);
      expect(JSON.parse(await bodyText(res))).toMatchObject({ error_code: "RESOURCE_DOES_NOT_EXIST" });
    }
  });
});

describe("MODELGATE_MODEL_SIGNING_KEYS", () => {
  const refusal = async (value: string | undefined) => {
    try {
      await ModelSigner.load(parseModelSigningKeys(value));
      return null;
    } catch (error) {
      expect(error).toBeInstanceOf(RegistryError);
      expect((error as RegistryError).code).toBe("TEMPORARILY_UNAVAILABLE");
      return (error as Error).message;
    }
  };

  it("refuses a missing, malformed or non-P-256 secret without echoing key material", async () => {
    expect(await refusal(undefined)).toMatch(/secret is missing/);
    expect(await refusal("kid:secret")).toMatch(/not JSON/);
    expect(await refusal("[]")).toMatch(/lists no key/);
    expect(await refusal(JSON.stringify([{ kid: "a", pkcs8: "c2VjcmV0LW1hdGVyaWFs" }]))).toBe(
      "Modelgate is not configured for model signing: MODELGATE_MODEL_SIGNING_KEYS entry 1 is not an ECDSA P-256 key. The version's files and archive.tar are served without model.sig.",
    );
    const publicOnly = JSON.parse(env.MODELGATE_MODEL_SIGNING_KEYS!)[1];
    expect(await refusal(JSON.stringify([publicOnly]))).toMatch(/first .* entry signs, so it needs its private key/);
    const [signing] = JSON.parse(env.MODELGATE_MODEL_SIGNING_KEYS!);
    expect(await refusal(JSON.stringify([signing, signing]))).toMatch(/lists kid 'test' twice/);
  });

  it("names a key without a kid by its RFC 7638 thumbprint", async () => {
    const [signing] = JSON.parse(env.MODELGATE_MODEL_SIGNING_KEYS!);
    const signer = await ModelSigner.load(parseModelSigningKeys(JSON.stringify([{ pkcs8: signing.pkcs8 }])));
    expect(signer.signingKid).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});
