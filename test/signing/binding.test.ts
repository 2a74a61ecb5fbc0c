// Review M5: a registry signature names the registry, model and version it was issued for (so
// model A's signed bytes do not verify as model B), and bundles stored in the older format (or
// before a rename) are signed again.
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { checkSubject, SignatureVerificationError } from "../../src/client/signatures";
import { createServices } from "../../src/services";
import { parsePublicKeys } from "../../src/signing/keys";
import { ModelSigner, parseModelSigningKeys } from "../../src/signing/model-signer";
import {
  bundleHint,
  openBundle,
  parseSubjectName,
  resourcesOf,
  subjectName,
  type Statement,
} from "../../src/signing/model-signing";
import { R2SignatureStore, signatureKey } from "../../src/signing/signature-store";
import { toHex, utf8, sha256 } from "../../src/signing/encoding";
import { bodyText, call } from "../helpers";
import { publish } from "./publish";

const ORIGIN = "http://modelgate.test";
const fetchWorker = (path: string, init?: RequestInit) => exports.default.fetch(new Request(`${ORIGIN}${path}`, init));

async function statementOf(bundle: string): Promise<Statement> {
  const keys = await parsePublicKeys(await bodyText(await fetchWorker("/.well-known/modelgate-keys")));
  return openBundle(bundle, keys.find((k) => k.hint === bundleHint(bundle))!);
}

async function served(name: string, version = "1"): Promise<Response> {
  return fetchWorker(`/v1/models/${encodeURIComponent(name)}/versions/${version}/model.sig`);
}

/** The problems checkSubject names, or [] when the subject is the expected one. */
function subjectProblems(statement: Statement, expected: { model: string; version?: number }): string[] {
  try {
    checkSubject(statement, expected, "the pulled directory");
    return [];
  } catch (error) {
    if (error instanceof SignatureVerificationError) return error.problems;
    throw error;
  }
}

describe("subject names", () => {
  it("round-trip a name holding '/', '%' and spaces; a bare name states no identity", () => {
    const id = { registry: "modelgate", model: "team/fraud 100%", version: 12 };
    expect(subjectName(id)).toBe("modelgate/models/team%2Ffraud%20100%25/versions/12");
    expect(parseSubjectName(subjectName(id))).toEqual(id);
    for (const bare of ["my-model", "modelgate/models/a/versions/0", "modelgate/models/a/b/versions/1", 7, null])
      expect(parseSubjectName(bare)).toBeNull();
  });
});

describe("a registry signature is bound to its model and version", () => {
  it("model A's signature presented for model B (identical bytes) fails, naming both; for A it passes", async () => {
    const files = { "model.pkl": "the same weights" };
    const a = await publish(files, "bound-a");
    const b = await publish(files, "bound-b");
    const sigA = await bodyText(await served(a));
    const sigB = await bodyText(await served(b));
    const statementA = await statementOf(sigA);
    // Same bytes, same key: only the subject tells them apart.
    expect(statementA.subject[0]!.digest).toEqual((await statementOf(sigB)).subject[0]!.digest);
    expect(subjectProblems(statementA, { model: a, version: 1 })).toEqual([]);
    expect(subjectProblems(statementA, { model: a })).toEqual([]);
    expect(subjectProblems(statementA, { model: b, version: 1 })).toEqual([
      `the signature was issued for model '${a}' version 1 ("modelgate/models/${a}/versions/1"), not for model '${b}' version 1`,
    ]);
    expect(subjectProblems(statementA, { model: a, version: 2 })[0]).toMatch(
      /issued for model '.*' version 1 .*, not for model '.*' version 2$/,
    );
    // A bundle whose subject is a bare model name (format 1) vouches for no model and version.
    const old = { ...statementA, subject: [{ ...statementA.subject[0]!, name: a }] };
    expect(subjectProblems(old, { model: a, version: 1 })).toEqual([
      `the signature names "${a}", no registry model and version (an older or foreign signature), so it cannot vouch for model '${a}' version 1`,
    ]);
  });

  it("does not serve a bundle stored in the old format (bare model name): the version is signed again", async () => {
    const name = await publish({ "model.pkl": "stored before the fix" });
    const version = (await call("GET", "/model-versions/get", { name, version: "1" })).body.model_version;
    const services = createServices(env);
    const resolved = await services.delivery.resolve(name, "1");
    // Exactly what format 1 stored: the bare name in the subject, under a content id of the resources alone.
    const signer = await ModelSigner.load(parseModelSigningKeys(env.MODELGATE_MODEL_SIGNING_KEYS));
    const old = await signer.sign(name, resolved.files);
    const oldId = toHex(await sha256(utf8.encode(JSON.stringify(resourcesOf(resolved.files)))));
    const store = new R2SignatureStore(env.ARTIFACTS);
    expect(await store.put(signatureKey(resolved.version.modelId, 1, oldId), old.bundle, old.kid)).toBe(true);
    expect(version.version).toBe("1");

    const res = await served(name);
    expect(res.status).toBe(200);
    const bundle = await bodyText(res);
    expect(bundle).not.toBe(old.bundle);
    expect((await statementOf(bundle)).subject[0]!.name).toBe(`modelgate/models/${name}/versions/1`);
  });

  it("after a rename the version is signed under its new name", async () => {
    const name = await publish({ "model.pkl": "renamed" });
    expect((await statementOf(await bodyText(await served(name)))).subject[0]!.name).toContain(`/models/${name}/`);
    const renamed = `${name}-renamed`;
    const res = await call("POST", "/registered-models/rename", { name, new_name: renamed });
    expect(res.status).toBe(200);
    const statement = await statementOf(await bodyText(await served(renamed)));
    expect(statement.subject[0]!.name).toBe(`modelgate/models/${renamed}/versions/1`);
  });
});
