// The OpenSSF model-signing format (sigstore/model-transparency, `model_signing` v1.x), key
// method: a Sigstore bundle v0.3 holding a DSSE envelope over an in-toto statement whose resources
// are the model's files and their sha256. Field by field as `sign_ec_key.py`, `signing.py` and
// `sign_sigstore_pb.py` write and read it (docs/supply-chain.md cites the files). Portable: the
// Worker signs with it and the CLI verifies with it.
import { concat, fromBase64, fromHex, toBase64, toHex, utf8, sha256 } from "./encoding";
import { derToP1363, ecdsa, p1363ToDer, type PublicKeyInfo } from "./keys";

export const BUNDLE_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json";
export const PAYLOAD_TYPE = "application/vnd.in-toto+json";
export const STATEMENT_TYPE = "https://in-toto.io/Statement/v1";
export const PREDICATE_TYPE = "https://model_signing/signature/v1.0";
/** Where the bundle lives: at the model directory's root, as `model_signing sign` writes it. */
export const SIGNATURE_FILE = "model.sig";
/**
 * Top-level paths left out of `resources` and named in `ignore_paths`: the git paths model_signing
 * ignores by default on both sides, and the signature itself. A v1.1+ verifier adds these to its
 * own ignore list, so a checkout with a `.gitattributes` (every Hugging Face repo) still verifies.
 */
export const IGNORED_PATHS = [".git", ".gitattributes", ".github", ".gitignore", SIGNATURE_FILE];

const EMPTY_ROOT = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

export interface SignedFile {
  path: string;
  sha256: string;
}

export interface Resource {
  name: string;
  algorithm: "sha256";
  digest: string;
}

export interface Statement {
  _type: string;
  subject: { name: string; digest: { sha256: string } }[];
  predicateType: string;
  predicate: {
    serialization: { method: "files"; hash_type: "sha256"; allow_symlinks: boolean; ignore_paths?: string[] };
    resources: Resource[];
  };
}

export interface Bundle {
  mediaType: string;
  verificationMaterial: { publicKey: { hint?: string | null }; tlogEntries: unknown[] };
  dsseEnvelope: { payload: string; payloadType: string; signatures: { sig: string; keyid?: string | null }[] };
}

/** A verification failure; `problems` names each thing that failed (a file, the key, the bundle). */
export class SignatureCheckError extends Error {
  override name = "SignatureCheckError";
  constructor(readonly problems: string[]) {
    super(problems.join("; "));
  }
}

/** `path` is `p` or below it, for an ignore entry `p` (a path-component prefix, as model_signing matches). */
export function isIgnored(path: string, ignorePaths: readonly string[]): boolean {
  return ignorePaths.some((p) => path === p || path.startsWith(`${p}/`));
}

function compareCodePoints(a: string, b: string): number {
  const A = [...a];
  const B = [...b];
  for (let i = 0; i < Math.min(A.length, B.length); i++) {
    const d = A[i]!.codePointAt(0)! - B[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return A.length - B.length;
}

/**
 * Python's `PurePosixPath` order, which the reference signer emits: component by component, each
 * by code point, so `sub/a-b.txt` < `sub/deeper/x.txt` < `sub-file` (a plain string sort puts
 * `sub-file` first). The verifier accepts any order; this one makes our bundles byte-comparable.
 */
export function comparePaths(a: string, b: string): number {
  const A = a.split("/");
  const B = b.split("/");
  for (let i = 0; i < Math.min(A.length, B.length); i++) {
    const d = compareCodePoints(A[i]!, B[i]!);
    if (d !== 0) return d;
  }
  return A.length - B.length;
}

/** The statement's resources for a version's files: ignored paths dropped, sorted, digests checked. */
export function resourcesOf(files: readonly SignedFile[]): Resource[] {
  return files
    .filter((f) => !isIgnored(f.path, IGNORED_PATHS))
    .map((f) => {
      if (!/^[0-9a-f]{64}$/.test(f.sha256)) throw new Error(`'${f.path}' has no sha256 digest to sign`);
      return { name: f.path, algorithm: "sha256" as const, digest: f.sha256 };
    })
    .sort((a, b) => comparePaths(a.name, b.name));
}

/** The subject's digest: SHA-256 over the resources' raw 32-byte digests, in the listed order. */
export async function rootDigest(resources: readonly Resource[]): Promise<string> {
  if (resources.length === 0) return EMPTY_ROOT;
  return toHex(await sha256(concat(...resources.map((r) => fromHex(r.digest)))));
}

/**
 * Who a registry signature is for. One registry key signs every model, so the statement must say
 * which model and version its bytes are: without that, registry-signed bytes of model A verify as
 * model B. model_signing does not compare the subject's name (its manifests are equal by files
 * alone), so binding the identity there keeps the bundle valid for `model_signing verify key`.
 */
export interface SubjectIdentity {
  /** Which registry signed: a fixed label (the signing key identifies the registry cryptographically). */
  registry: string;
  model: string;
  version: number;
}

/** The registry label in subjects: not the request's Host, which a client chooses (review L3). */
export const REGISTRY_LABEL = "modelgate";

/**
 * `<registry>/models/<name>/versions/<n>`, the name percent-encoded so that a name holding `/`
 * (MLflow allows it) cannot be read as another name and version.
 */
export function subjectName(id: SubjectIdentity): string {
  return `${id.registry}/models/${encodeURIComponent(id.model)}/versions/${id.version}`;
}

/** The identity a subject name states, or null when it names none (a bare model name: an older bundle). */
export function parseSubjectName(name: unknown): SubjectIdentity | null {
  if (typeof name !== "string") return null;
  const match = /^(.+)\/models\/([^/]+)\/versions\/([1-9][0-9]{0,15})$/.exec(name);
  if (!match) return null;
  try {
    return { registry: match[1]!, model: decodeURIComponent(match[2]!), version: Number(match[3]) };
  } catch {
    return null;
  }
}

/** The statement for `files`, its subject named `subject` (subjectName for a registry version). */
export async function buildStatement(subject: string, files: readonly SignedFile[]): Promise<Statement> {
  const resources = resourcesOf(files);
  return {
    _type: STATEMENT_TYPE,
    subject: [{ name: subject, digest: { sha256: await rootDigest(resources) } }],
    predicateType: PREDICATE_TYPE,
    predicate: {
      serialization: { method: "files", hash_type: "sha256", allow_symlinks: false, ignore_paths: IGNORED_PATHS },
      resources,
    },
  };
}

/** DSSE v1's pre-authentication encoding: what the signature covers. */
export function pae(payload: Uint8Array): Uint8Array {
  const header = `DSSEv1 ${utf8.encode(PAYLOAD_TYPE).length} ${PAYLOAD_TYPE} ${payload.length} `;
  return concat(utf8.encode(header), payload);
}

/** Signs `statement` with a P-256 key: the bundle, exactly the shape `sign_ec_key.Signer` writes. */
export async function signStatement(
  statement: Statement,
  privateKey: CryptoKey,
  publicKey: PublicKeyInfo,
): Promise<Bundle> {
  // 2-space JSON as the reference writes it; the verifier only json.loads these exact bytes.
  const payload = utf8.encode(JSON.stringify(statement, null, 2));
  const p1363 = new Uint8Array(await crypto.subtle.sign(ecdsa(publicKey.curve), privateKey, pae(payload)));
  return {
    mediaType: BUNDLE_MEDIA_TYPE,
    verificationMaterial: { publicKey: { hint: publicKey.hint }, tlogEntries: [] },
    dsseEnvelope: {
      payload: toBase64(payload),
      payloadType: PAYLOAD_TYPE,
      signatures: [{ sig: toBase64(p1363ToDer(p1363)), keyid: "" }],
    },
  };
}

/** The bundle's key hint, or null when it names none (older bundles). */
export function bundleHint(text: string): string | null {
  try {
    const hint = (JSON.parse(text) as Bundle).verificationMaterial?.publicKey?.hint;
    return typeof hint === "string" && hint !== "" ? hint : null;
  } catch {
    return null;
  }
}

/**
 * Checks a bundle as model_signing's key verifier does, in its order: media type, the key hint,
 * the ECDSA signature over PAE(payload), payload type, statement type, predicate type, one subject,
 * and the root digest over the listed resources. Returns the statement it vouches for.
 */
export async function openBundle(text: string, key: PublicKeyInfo): Promise<Statement> {
  const fail = (problem: string): never => {
    throw new SignatureCheckError([problem]);
  };
  let bundle: Bundle;
  try {
    bundle = JSON.parse(text) as Bundle;
  } catch {
    return fail(`${SIGNATURE_FILE} is not JSON`);
  }
  if (bundle?.mediaType !== BUNDLE_MEDIA_TYPE)
    fail(`${SIGNATURE_FILE} is not a Sigstore bundle v0.3 (media type ${JSON.stringify(bundle?.mediaType)})`);
  const hint = bundle.verificationMaterial?.publicKey?.hint;
  if (hint && hint !== key.hint)
    fail(
      `key mismatch: the signature was made with another key (its key hint ${hint}) than the one given (kid ${key.kid}, hint ${key.hint})`,
    );
  const envelope = bundle.dsseEnvelope;
  const first = envelope?.signatures?.[0];
  if (typeof envelope?.payload !== "string" || typeof first?.sig !== "string")
    fail(`${SIGNATURE_FILE} has no DSSE envelope with a signature`);
  let payload: Uint8Array;
  let der: Uint8Array;
  try {
    payload = fromBase64(envelope.payload);
    der = fromBase64(first!.sig);
  } catch {
    return fail(`${SIGNATURE_FILE}: the payload or signature is not standard base64`);
  }
  const signature = derToP1363(der, key.curve);
  const valid = signature !== null && (await crypto.subtle.verify(ecdsa(key.curve), key.key, signature, pae(payload)));
  if (!valid)
    fail(
      `the signature does not verify with key ${key.kid} (hint ${key.hint}): the statement or the signature was altered, or another key signed it`,
    );
  if (envelope.payloadType !== PAYLOAD_TYPE) fail(`unexpected DSSE payload type ${envelope.payloadType}`);
  let statement: Statement;
  try {
    statement = JSON.parse(new TextDecoder().decode(payload)) as Statement;
  } catch {
    return fail("the signed payload is not JSON");
  }
  if (statement._type !== STATEMENT_TYPE) fail(`the signed payload is not an in-toto ${STATEMENT_TYPE} statement`);
  if (statement.predicateType !== PREDICATE_TYPE) fail(`unexpected predicate type ${statement.predicateType}`);
  if (statement.subject?.length !== 1) fail(`expected one subject, got ${statement.subject?.length ?? 0}`);
  const resources = statement.predicate?.resources;
  if (!Array.isArray(resources) || resources.some((r) => r.algorithm !== "sha256" || !/^[0-9a-f]{64}$/.test(r.digest)))
    fail("the statement's resources are not a list of sha256 digests");
  const root = await rootDigest(resources);
  const stated = statement.subject[0]!.digest?.sha256; // exactly one subject, checked above
  if (root !== stated) fail(`the statement is inconsistent: root digest ${stated}, its resources hash to ${root}`);
  return statement;
}

/** What the statement's ignore list is: its own `ignore_paths` plus the defaults, as a v1.1+ verifier reads it. */
export function ignoredBy(statement: Statement): string[] {
  return [...new Set([...IGNORED_PATHS, ...(statement.predicate.serialization?.ignore_paths ?? [])])];
}

/**
 * Compares the files a directory (or a manifest) holds with what the statement signed. Every
 * problem is named: each changed file, each signed file that is missing, each file nobody signed.
 * `actual` maps paths (already filtered by `ignoredBy`) to their sha256.
 */
export function compareWithStatement(statement: Statement, actual: ReadonlyMap<string, string>): string[] {
  const signed = new Map(statement.predicate.resources.map((r) => [normalise(r.name), r.digest]));
  const problems: string[] = [];
  for (const [path, digest] of [...signed].sort(([a], [b]) => comparePaths(a, b))) {
    const has = actual.get(path);
    if (has === undefined) problems.push(`missing file '${path}': signed, but not present`);
    else if (has !== digest) problems.push(`changed file '${path}': signed sha256 ${digest}, found ${has}`);
  }
  const extra = [...actual.keys()].filter((p) => !signed.has(p)).sort(comparePaths);
  for (const path of extra) problems.push(`extra file '${path}': present, but not signed`);
  return problems;
}

/** `./a` and `a` name the same resource (model_signing passes both through PurePosixPath). */
function normalise(name: string): string {
  return name.replace(/^(?:\.\/)+/, "");
}
