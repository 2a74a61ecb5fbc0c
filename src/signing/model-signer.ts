// The registry's model-signing keys (MODELGATE_MODEL_SIGNING_KEYS), rotated like the URL-signing
// keys: a list with a `kid` per key, the first signs, every listed key is published in the JWKS so
// signatures made before a rotation keep verifying until their key is dropped from the list.
import { RegistryError } from "../errors";
import { fromBase64 } from "./encoding";
import { pemBody, publicKeyFromJwk, type PublicKeyInfo } from "./keys";
import { buildStatement, signStatement, type SignedFile } from "./model-signing";

/** One entry of the secret: a P-256 private key as PKCS#8 (PEM or bare base64 DER) or JWK; a JWK without `d` only verifies. */
export interface ModelSigningKeyEntry {
  /** Default: the key's RFC 7638 thumbprint. */
  kid?: string;
  pkcs8?: string;
  jwk?: JsonWebKey;
}

interface LoadedKey {
  public: PublicKeyInfo;
  /** Absent for a retired key kept only so older signatures still verify. */
  private?: CryptoKey;
}

/**
 * The deployment cannot sign (the secret is missing or unusable): model.sig answers 503 with this,
 * while files and archive.tar are still served (the archive without model.sig).
 */
export class SigningNotConfiguredError extends RegistryError {
  constructor(readonly why: string) {
    super(
      "TEMPORARILY_UNAVAILABLE",
      `Modelgate is not configured for model signing: ${why}. The version's files and archive.tar are served without model.sig.`,
    );
  }
}

const notConfigured = (why: string) => new SigningNotConfiguredError(why);

/** Parses the secret's JSON: a list of entries (or one entry). Never echoes key material in errors. */
export function parseModelSigningKeys(value: string | undefined): ModelSigningKeyEntry[] {
  if (!value?.trim()) throw notConfigured("the MODELGATE_MODEL_SIGNING_KEYS secret is missing");
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw notConfigured("MODELGATE_MODEL_SIGNING_KEYS is not JSON (a list of {kid, pkcs8} or {kid, jwk})");
  }
  const entries = (Array.isArray(parsed) ? parsed : [parsed]) as ModelSigningKeyEntry[];
  const [first] = entries;
  if (first === undefined) throw notConfigured("MODELGATE_MODEL_SIGNING_KEYS lists no key");
  entries.forEach((e, i) => {
    if (typeof e !== "object" || e === null || (typeof e.pkcs8 !== "string" && typeof e.jwk !== "object"))
      throw notConfigured(`MODELGATE_MODEL_SIGNING_KEYS entry ${i + 1} has neither 'pkcs8' nor 'jwk'`);
    if (e.kid !== undefined && (typeof e.kid !== "string" || !/^[\w.-]{1,64}$/.test(e.kid)))
      throw notConfigured(`MODELGATE_MODEL_SIGNING_KEYS entry ${i + 1}: kid must be 1-64 of [A-Za-z0-9_.-]`);
  });
  if (!first.pkcs8 && !first.jwk?.d)
    throw notConfigured("the first MODELGATE_MODEL_SIGNING_KEYS entry signs, so it needs its private key");
  return entries;
}

const P256 = { name: "ECDSA", namedCurve: "P-256" } as const;

async function loadKey(entry: ModelSigningKeyEntry, index: number): Promise<LoadedKey> {
  try {
    let jwk: JsonWebKey;
    let privateKey: CryptoKey | undefined;
    if (entry.pkcs8) {
      const der = pemBody(entry.pkcs8, "PRIVATE KEY") ?? fromBase64(entry.pkcs8.replace(/\s+/g, ""));
      // Imported twice: once extractable only to read the public point, once for signing, not extractable.
      const readable = await crypto.subtle.importKey("pkcs8", der, P256, true, ["sign"]);
      jwk = (await crypto.subtle.exportKey("jwk", readable)) as JsonWebKey;
      privateKey = await crypto.subtle.importKey("pkcs8", der, P256, false, ["sign"]);
    } else {
      jwk = entry.jwk!;
      if (jwk.crv !== "P-256") throw new Error("not P-256");
      if (jwk.d)
        privateKey = await crypto.subtle.importKey("jwk", { ...jwk, key_ops: ["sign"] }, P256, false, ["sign"]);
    }
    if (jwk.crv !== "P-256") throw new Error("not P-256");
    return { public: await publicKeyFromJwk(jwk, entry.kid), private: privateKey };
  } catch {
    throw notConfigured(`MODELGATE_MODEL_SIGNING_KEYS entry ${index + 1} is not an ECDSA P-256 key`);
  }
}

/** Signs versions with the first key; knows every key still in rotation. */
export class ModelSigner {
  private constructor(private readonly keys: LoadedKey[]) {}

  static async load(entries: ModelSigningKeyEntry[]): Promise<ModelSigner> {
    const keys = await Promise.all(entries.map(loadKey));
    const kids = keys.map((k) => k.public.kid);
    const duplicate = kids.find((kid, i) => kids.indexOf(kid) !== i);
    if (duplicate) throw notConfigured(`MODELGATE_MODEL_SIGNING_KEYS lists kid '${duplicate}' twice`);
    return new ModelSigner(keys);
  }

  /** The key new signatures are made with. */
  get signingKid(): string {
    return this.keys[0]!.public.kid; // from() refuses a list with no key
  }

  /** Every key still in rotation, the signing key first. */
  publicKeys(): PublicKeyInfo[] {
    return this.keys.map((k) => k.public);
  }

  inRotation(kid: string): boolean {
    return this.keys.some((k) => k.public.kid === kid);
  }

  /** A model.sig for `files` (a version's manifest), its statement's subject named `subject` (see subjectName). */
  async sign(subject: string, files: readonly SignedFile[]): Promise<{ kid: string; bundle: string }> {
    const signing = this.keys[0]!;
    const bundle = await signStatement(await buildStatement(subject, files), signing.private!, signing.public);
    return { kid: signing.public.kid, bundle: JSON.stringify(bundle) };
  }
}
