import { describe, expect, it } from "vitest";
import { fromBase64, toHex, utf8 } from "../../src/signing/encoding";
import { derToP1363, p1363ToDer, parsePublicKeys, pemOf, publicKeyFromPem, thumbprint } from "../../src/signing/keys";
import {
  buildStatement,
  compareWithStatement,
  comparePaths,
  ignoredBy,
  isIgnored,
  openBundle,
  resourcesOf,
  rootDigest,
  SignatureCheckError,
  signStatement,
  type Statement,
} from "../../src/signing/model-signing";
import privatePem from "../fixtures/signing/p256-key.pkcs8.pem?raw";
import publicPem from "../fixtures/signing/p256-key.pub.pem?raw";
import webCryptoSig from "../fixtures/signing/my-model.webcrypto.sig?raw";
import libSig from "../fixtures/signing/my-model.model-signing.sig?raw";
import upstreamSig from "../fixtures/signing/upstream-v1.1.0-elliptic-key.sig?raw";
import upstreamPem from "../fixtures/signing/upstream-p384-key.pub.pem?raw";

// The golden vectors of test/fixtures/signing/README.md: the directory `my-model/` byte by byte.
const MY_MODEL: Record<string, Uint8Array> = {
  ".git/HEAD": utf8.encode("ref: refs/heads/main\n"),
  ".gitattributes": utf8.encode("*.bin filter=lfs\n"),
  "config.json": utf8.encode("hello world\n"),
  "empty.bin": new Uint8Array(0),
  "model.safetensors": new Uint8Array([...utf8.encode("weights"), 0, 1, 2]),
  "sub/.gitattributes": utf8.encode("nested gitattributes\n"),
  "sub/a-b.txt": utf8.encode("a"),
  "sub/deeper/x.txt": utf8.encode("nested\n"),
  "sub-file": utf8.encode("b"),
};
const GOLDEN_ROOT = "a6167321bc030fe2c1e34b2cec92c952e22af811ebc97b9c43061ffd1ad1d885";
const GOLDEN_ORDER = [
  "config.json",
  "empty.bin",
  "model.safetensors",
  "sub/.gitattributes",
  "sub/a-b.txt",
  "sub/deeper/x.txt",
  "sub-file",
];

async function filesOf(tree: Record<string, Uint8Array>) {
  return Promise.all(
    Object.entries(tree).map(async ([path, bytes]) => ({
      path,
      sha256: toHex(await crypto.subtle.digest("SHA-256", bytes)),
    })),
  );
}

const pemDer = (pem: string) => fromBase64(pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, ""));
const importPrivate = () =>
  crypto.subtle.importKey("pkcs8", pemDer(privatePem), { name: "ECDSA", namedCurve: "P-256" }, false, ["sign"]);

/** The problems a check reports, or [] when it passed. */
async function problemsOf(check: Promise<unknown>): Promise<string[]> {
  try {
    await check;
    return [];
  } catch (error) {
    if (error instanceof SignatureCheckError) return error.problems;
    throw error;
  }
}

describe("the statement (golden P-256 vector)", () => {
  it("lists the files in PurePosixPath order with the root digest of the reference signer", async () => {
    const statement = await buildStatement("my-model", await filesOf(MY_MODEL));
    expect(statement.predicate.resources.map((r) => r.name)).toEqual(GOLDEN_ORDER);
    expect(statement.subject).toEqual([{ name: "my-model", digest: { sha256: GOLDEN_ROOT } }]);
    expect(statement.predicate.serialization).toEqual({
      method: "files",
      hash_type: "sha256",
      allow_symlinks: false,
      ignore_paths: [".git", ".gitattributes", ".github", ".gitignore", "model.sig"],
    });
  });

  it("produces byte for byte the payload the reference Web Crypto signer signed", async () => {
    const statement = await buildStatement("my-model", await filesOf(MY_MODEL));
    const golden = JSON.parse(webCryptoSig).dsseEnvelope.payload as string;
    expect(new TextDecoder().decode(fromBase64(golden))).toBe(JSON.stringify(statement, null, 2));
  });

  it("sorts by path components by code point, not as plain strings", () => {
    expect(["sub-file", "sub/deeper/x.txt", "sub/a-b.txt"].sort(comparePaths)).toEqual([
      "sub/a-b.txt",
      "sub/deeper/x.txt",
      "sub-file",
    ]);
    expect(["b", "a/z", "a"].sort(comparePaths)).toEqual(["a", "a/z", "b"]);
  });

  it("ignores only top-level git paths and model.sig, by whole path component", () => {
    const ignores = [".git", ".gitattributes", ".github", ".gitignore", "model.sig"];
    expect(isIgnored(".git/HEAD", ignores)).toBe(true);
    expect(isIgnored(".gitattributes", ignores)).toBe(true);
    expect(isIgnored("model.sig", ignores)).toBe(true);
    expect(isIgnored("sub/.gitattributes", ignores)).toBe(false);
    expect(isIgnored(".gitx", ignores)).toBe(false);
    expect(isIgnored("sub/model.sig", ignores)).toBe(false);
  });

  it("matches the upstream hashing vector (sample_model_folder) and the empty model", async () => {
    const files: [string, string][] = [
      ["d0/f00", "fdd8925354242a7fd1515e79534317b800015607a609cd306e0b4dcfe6c92249"],
      ["d0/f01", "e16940b5e44ce981150bda37c4ba95881a749a521b4a297c5cdf97bdcfe965e6"],
      ["d0/f02", "407822246ea8f9e26380842c3f4cd10d7b23e78f1fe7c74c293608682886a426"],
      ["d1/f10", "6a3b08b5df77c4d418ceee1ac136a9ad49fc7c41358b5e82c1176daccb21ff3f"],
      ["d1/f11", "a484b3d8ea5e99b75f9f123f9a42c882388693edc7d85d82ccba54834712cadf"],
      ["d1/f12", "8f577930f5f40c2c2133cb299d36f9527fde98c1608569017cae6b5bcd01abb3"],
      ["f0", "997b37cc51f1ca1c7a270466607e26847429cd7264c30148c1b9352e224083fc"],
      ["f1", "c88a04d48353133fb065ba2c8ab369abab21395b9526aa20373ad828915fa7ae"],
      ["f2", "700e3ba5065d8dd47e41fd928ea086670d628f891ba363be0ca3c31d20d7d719"],
      ["f3", "912bcf5ebdf44dc7b4085b07940e0a81d157fba24b276e73fd911121d4544c4a"],
    ];
    // Handed over shuffled: the order is the signer's, not the caller's.
    const shuffled = [...files].reverse().map(([path, sha256]) => ({ path, sha256 }));
    const resources = resourcesOf(shuffled);
    expect(resources.map((r) => r.name)).toEqual(files.map(([p]) => p));
    expect(await rootDigest(resources)).toBe("143cc682e555951649f18e2761c3d526d2502996f5e32dc187ef7f8a614f8df7");
    expect(await rootDigest([])).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  });
});

describe("keys", () => {
  it("derives the PEM, hint, JWK and thumbprint of the golden key", async () => {
    const key = await publicKeyFromPem(publicPem);
    expect(key.pem).toBe(publicPem);
    expect(key.hint).toBe("16dbe5143f61dfff141e9024426c558b8f40c29e21b02b33e4d718e484693f1b");
    expect(key.jwk).toEqual({
      kty: "EC",
      crv: "P-256",
      x: "LtrDvsZaaOh-DLw-8JnUq0mh2MUeeRACDS-1gEWY7yE",
      y: "rA_yOyXOU8YHe3SBB8yXq8sFKEHVE1oD7LVT5Z-j9QE",
    });
    expect(await thumbprint(key.jwk)).toBe("CACCWBYM53EyHS037X7mg5Ku0llwbES25JlisU_4ymI");
    // A JWK and a JWKS parse to the same key.
    const [fromJwk] = await parsePublicKeys(JSON.stringify(key.jwk));
    const [fromJwks] = await parsePublicKeys(JSON.stringify({ keys: [{ ...key.jwk, kid: "k" }] }));
    expect([fromJwk!.hint, fromJwks!.hint, fromJwks!.kid]).toEqual([key.hint, key.hint, "k"]);
  });

  it("converts P1363 to DER and back for every leading-zero and high-bit case", () => {
    const cases = [
      new Uint8Array(64).fill(0x7f),
      new Uint8Array(64).fill(0x80),
      new Uint8Array([...new Uint8Array(31), 1, ...new Uint8Array(32).fill(0xff)]),
      new Uint8Array([0, 0x80, ...new Uint8Array(30).fill(3), 0, 0, 0x7f, ...new Uint8Array(29).fill(9)]),
    ];
    for (const sig of cases) expect(derToP1363(p1363ToDer(sig), "P-256")).toEqual(sig);
    expect(derToP1363(new Uint8Array(64), "P-256")).toBeNull(); // raw r‖s is not DER
  });
});

describe("verifying bundles", () => {
  it("accepts the golden bundles of the Web Crypto reference signer and of the real model_signing signer", async () => {
    const key = await publicKeyFromPem(publicPem);
    for (const sig of [webCryptoSig, libSig]) {
      const statement = await openBundle(sig, key);
      expect(statement.subject[0]!.digest.sha256).toBe(GOLDEN_ROOT);
      expect(statement.predicate.resources.map((r) => r.name)).toEqual(GOLDEN_ORDER);
    }
  });

  it("accepts the upstream v1.1.0 P-384 golden and its directory", async () => {
    const statement = await openBundle(upstreamSig, await publicKeyFromPem(upstreamPem));
    const dir = await filesOf({
      "signme-1": utf8.encode("signme-1\n"),
      "signme-2": utf8.encode("signme-2"),
      "ignore-me": new Uint8Array(0),
    });
    const ignores = ignoredBy(statement);
    const actual = new Map(dir.filter((f) => !isIgnored(f.path, ignores)).map((f) => [f.path, f.sha256]));
    expect(compareWithStatement(statement, actual)).toEqual([]);
  });

  it("round-trips: what we sign verifies, and the directory matches", async () => {
    const key = await publicKeyFromPem(publicPem);
    const files = await filesOf(MY_MODEL);
    const bundle = JSON.stringify(
      await signStatement(await buildStatement("my-model", files), await importPrivate(), key),
    );
    const parsed = JSON.parse(bundle);
    expect(Object.keys(parsed)).toEqual(["mediaType", "verificationMaterial", "dsseEnvelope"]);
    expect(parsed.verificationMaterial).toEqual({ publicKey: { hint: key.hint }, tlogEntries: [] });
    expect(parsed.dsseEnvelope.signatures).toEqual([{ sig: expect.stringMatching(/^MEU|^MEQ|^MEY|^MEI/), keyid: "" }]);
    const statement = await openBundle(bundle, key);
    const ignores = ignoredBy(statement);
    const actual = new Map(files.filter((f) => !isIgnored(f.path, ignores)).map((f) => [f.path, f.sha256]));
    expect(compareWithStatement(statement, actual)).toEqual([]);
  });

  it("names a changed byte, a removed file and an added file", async () => {
    const statement = await openBundle(webCryptoSig, await publicKeyFromPem(publicPem));
    const tree = { ...MY_MODEL };
    tree["sub/deeper/x.txt"] = utf8.encode("nestee\n"); // one byte changed
    delete tree["empty.bin"];
    tree["sub/new.bin"] = utf8.encode("not signed");
    tree[".git/objects/ab"] = utf8.encode("ignored, as model_signing ignores it");
    const files = await filesOf(tree);
    const ignores = ignoredBy(statement);
    const actual = new Map(files.filter((f) => !isIgnored(f.path, ignores)).map((f) => [f.path, f.sha256]));
    expect(compareWithStatement(statement, actual)).toEqual([
      "missing file 'empty.bin': signed, but not present",
      `changed file 'sub/deeper/x.txt': signed sha256 370a8c04b8a65bb4494275eec227f1b694db04c76da6b0b8ae88ed1ab19790a3, found ${files.find((f) => f.path === "sub/deeper/x.txt")!.sha256}`,
      "extra file 'sub/new.bin': present, but not signed",
    ]);
  });

  it("refuses a swapped key, naming both keys' hints", async () => {
    const other = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
      "sign",
      "verify",
    ])) as CryptoKeyPair;
    const otherPem = await publicKeyFromPem(
      pemOf("PUBLIC KEY", new Uint8Array((await crypto.subtle.exportKey("spki", other.publicKey)) as ArrayBuffer)),
    );
    const problems = await problemsOf(openBundle(webCryptoSig, otherPem));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(
      /^key mismatch: the signature was made with another key \(its key hint 16dbe514[0-9a-f]+\) than the one given \(kid [\w-]+, hint [0-9a-f]{64}\)$/,
    );
    // Without the hint to tell them apart, the ECDSA check itself refuses it.
    const hintless = JSON.parse(webCryptoSig);
    hintless.verificationMaterial.publicKey = {};
    expect((await problemsOf(openBundle(JSON.stringify(hintless), otherPem)))[0]).toMatch(
      /^the signature does not verify with key /,
    );
  });

  it("refuses an altered statement, a raw P1363 signature and a wrong media type", async () => {
    const key = await publicKeyFromPem(publicPem);
    const bundle = JSON.parse(webCryptoSig);
    const statement = JSON.parse(new TextDecoder().decode(fromBase64(bundle.dsseEnvelope.payload))) as Statement;
    statement.predicate.resources[0]!.digest = "0".repeat(64);
    const altered = {
      ...bundle,
      dsseEnvelope: { ...bundle.dsseEnvelope, payload: btoa(JSON.stringify(statement, null, 2)) },
    };
    expect((await problemsOf(openBundle(JSON.stringify(altered), key)))[0]).toMatch(/^the signature does not verify/);
    const der = fromBase64(bundle.dsseEnvelope.signatures[0].sig);
    const raw = derToP1363(der, "P-256")!;
    const rawSig = {
      ...bundle,
      dsseEnvelope: { ...bundle.dsseEnvelope, signatures: [{ sig: btoa(String.fromCharCode(...raw)), keyid: "" }] },
    };
    expect((await problemsOf(openBundle(JSON.stringify(rawSig), key)))[0]).toMatch(/^the signature does not verify/);
    const otherType = { ...bundle, mediaType: "application/vnd.dev.sigstore.bundle+json;version=0.3" };
    expect((await problemsOf(openBundle(JSON.stringify(otherType), key)))[0]).toMatch(/not a Sigstore bundle v0\.3/);
  });
});
