// Supply-chain checks for `pull` and `verify` (docs/supply-chain.md), portable (fetch and Web
// Crypto only): a version's model.sig checked against the registry's key, its statement against the
// manifest, and the version's pickle-scan status. The Node-only directory check is ./local-verify.
import { parsePublicKeys, type PublicKeyInfo } from "../signing/keys";
import {
  bundleHint,
  compareWithStatement,
  ignoredBy,
  isIgnored,
  openBundle,
  parseSubjectName,
  SignatureCheckError,
  type Statement,
  type SubjectIdentity,
} from "../signing/model-signing";
import { ModelgateError, VerificationError } from "./errors";
import type { ModelgateClient } from "./modelgate-client";

/** Where the registry publishes its model-signing keys (a JWKS). */
export const KEYS_PATH = "/.well-known/modelgate-keys";

/**
 * The signature, or what it vouches for, does not check out. A VerificationError, so the CLI exits
 * 3 as for a file whose sha256 is wrong; `problems` names each failure (a file, the key).
 */
export class SignatureVerificationError extends VerificationError {
  override name = "SignatureVerificationError";
  constructor(
    readonly problems: string[],
    what: string,
  ) {
    super(what, "", "");
    this.message = `signature verification failed for ${what}: ${problems.join("; ")}`;
  }
}

/** The version's pickle scan found code that runs on load, and the caller did not accept that. */
export class UnsafeVersionError extends ModelgateError {
  override name = "UnsafeVersionError";
}

export interface VersionScan {
  scan: string;
  files: { path: string; scan: string; imports?: { name: string; verdict: string }[] }[];
}

/** The version's scan status from GET /api/2.0/modelgate/model-versions/scan. */
export function fetchScan(client: ModelgateClient, name: string, version: string): Promise<VersionScan> {
  return client.api<VersionScan>("GET", "/api/2.0/modelgate/model-versions/scan", { name, version });
}

/** Refuses an `unsafe` version unless allowed, naming each unsafe file and the globals that make it so. */
export function checkScan(scan: VersionScan, label: string, allowUnsafe: boolean): void {
  if (scan.scan !== "unsafe" || allowUnsafe) return;
  const files = scan.files
    .filter((f) => f.scan === "unsafe")
    .map((f) => {
      const globals = (f.imports ?? []).filter((i) => i.verdict === "unsafe").map((i) => i.name);
      return globals.length > 0 ? `${f.path} (${globals.join(", ")})` : f.path;
    });
  throw new UnsafeVersionError(
    `refusing ${label}: its pickle scan is 'unsafe'${files.length > 0 ? `: ${files.join("; ")}` : ""}. ` +
      "Loading it could run that code; pass --allow-unsafe to download it anyway.",
  );
}

/** The version's model.sig, exactly as served. */
export async function fetchSignature(client: ModelgateClient, name: string, version: string): Promise<string> {
  const url = `${client.baseUrl}/v1/models/${encodeURIComponent(name)}/versions/${encodeURIComponent(version)}/model.sig`;
  return (await client.fetchFile(url)).text();
}

/** Every key the registry has in rotation, from its JWKS. */
export async function fetchRegistryKeys(client: ModelgateClient): Promise<PublicKeyInfo[]> {
  const jwks = await client.api<unknown>("GET", KEYS_PATH);
  return parsePublicKeys(JSON.stringify(jwks));
}

/**
 * Verifies `bundle` with the key its hint names among `keys`. With no key of that hint, the first
 * key is tried, so the failure says whose key it was made with ("key mismatch": a swapped key).
 */
export async function verifyWith(
  bundle: string,
  keys: PublicKeyInfo[],
  what: string,
): Promise<{ statement: Statement; key: PublicKeyInfo }> {
  const [first] = keys;
  if (first === undefined) throw new SignatureVerificationError(["no public key to verify with"], what);
  const hint = bundleHint(bundle);
  const candidates = hint ? [keys.find((k) => k.hint === hint) ?? first] : keys;
  let failure: SignatureCheckError | undefined;
  for (const key of candidates) {
    try {
      return { statement: await openBundle(bundle, key), key };
    } catch (error) {
      if (!(error instanceof SignatureCheckError)) throw error;
      failure ??= error;
    }
  }
  throw new SignatureVerificationError(failure!.problems, what);
}

/** What a signature says it was issued for: the registry, model and version, or null (a bare name). */
export function signedFor(statement: Statement): SubjectIdentity | null {
  return parseSubjectName(statement.subject[0]?.name);
}

/** How a subject is named in messages: `model 'A' version 1`, or the raw name when it names none. */
export function describeSubject(statement: Statement): string {
  const id = signedFor(statement);
  const raw = JSON.stringify(statement.subject[0]?.name ?? null);
  return id ? `model '${id.model}' version ${id.version} (${raw})` : `${raw}, no registry model and version`;
}

/**
 * The signature must name the model (and version, when known) the caller expects. One registry key
 * signs every model, so a valid signature alone only proves the registry stored these bytes for
 * some model: this check makes model A's signed bytes fail as model B. Names are compared exactly.
 */
export function checkSubject(
  statement: Statement,
  expected: { model: string; version?: number },
  what: string,
): SubjectIdentity {
  const id = signedFor(statement);
  const wanted = `model '${expected.model}'${expected.version === undefined ? "" : ` version ${expected.version}`}`;
  if (id && id.model === expected.model && (expected.version === undefined || id.version === expected.version))
    return id;
  throw new SignatureVerificationError(
    [
      id
        ? `the signature was issued for ${describeSubject(statement)}, not for ${wanted}`
        : `the signature names ${describeSubject(statement)} (an older or foreign signature), so it cannot vouch for ${wanted}`,
    ],
    what,
  );
}

/** The manifest's files against the signed statement: the same files, the same sha256, nothing more. */
export function checkManifest(statement: Statement, files: { path: string; sha256: string }[], what: string): void {
  const ignores = ignoredBy(statement);
  const actual = new Map(files.filter((f) => !isIgnored(f.path, ignores)).map((f) => [f.path, f.sha256]));
  const problems = compareWithStatement(statement, actual);
  if (problems.length > 0)
    throw new SignatureVerificationError(
      problems.map((p) => `the manifest's ${p}`),
      what,
    );
}

/**
 * The keys a user pinned: `--key` / MODELGATE_PUBLIC_KEY as a PEM, a JWK or a JWKS, given inline or
 * as a file (`readFile` reads one; the CLI passes Node's).
 */
export async function pinnedKeys(spec: string, readFile: (path: string) => Promise<string>): Promise<PublicKeyInfo[]> {
  const inline = spec.trim().startsWith("{") || spec.includes("-----BEGIN");
  let text = spec;
  if (!inline) {
    try {
      text = await readFile(spec);
    } catch (error) {
      throw new ModelgateError(`cannot read the key file '${spec}': ${(error as Error).message}`);
    }
  }
  try {
    return await parsePublicKeys(text);
  } catch (error) {
    throw new ModelgateError(`the key ${inline ? "given" : `in '${spec}'`} is not usable: ${(error as Error).message}`);
  }
}
