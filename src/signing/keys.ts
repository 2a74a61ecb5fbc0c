// Public keys of the model-signing format, portable (Worker and Node): the forms a verifier meets
// (JWK from our JWKS, SPKI PEM as the `model_signing` tool takes it), the `publicKey.hint` a bundle
// names its key by, and the ECDSA signature encodings (Web Crypto speaks IEEE P1363 r‖s, the
// bundle carries ASN.1 DER because Python's `cryptography` verifies only DER).
import { concat, fromBase64, toBase64, toBase64Url, toHex, utf8, sha256 } from "./encoding";

export type Curve = "P-256" | "P-384" | "P-521";

/** ECDSA's hash per curve, as model_signing's `get_ec_key_hash` pairs them. */
const HASH_OF: Record<Curve, string> = { "P-256": "SHA-256", "P-384": "SHA-384", "P-521": "SHA-512" };
/** Bytes of r (and of s) in a P1363 signature. */
const SCALAR_BYTES: Record<Curve, number> = { "P-256": 32, "P-384": 48, "P-521": 66 };

export interface PublicKeyInfo {
  /** Our JWKS `kid` for a registry key; for a key the user brought, its RFC 7638 thumbprint. */
  kid: string;
  curve: Curve;
  key: CryptoKey;
  /** The public JWK (kty, crv, x, y). */
  jwk: JsonWebKey;
  /** SubjectPublicKeyInfo PEM, exactly as model_signing's hint hashes it. */
  pem: string;
  /** `verificationMaterial.publicKey.hint`: hex SHA-256 of `pem`'s bytes (not of the DER). */
  hint: string;
}

export const ecdsa = (curve: Curve) => ({ name: "ECDSA", hash: HASH_OF[curve] });

function curveOf(jwk: JsonWebKey): Curve {
  if (jwk.kty !== "EC" || !(jwk.crv === "P-256" || jwk.crv === "P-384" || jwk.crv === "P-521"))
    throw new Error(
      `only elliptic-curve keys on P-256, P-384 or P-521 are supported (got kty ${jwk.kty}, crv ${jwk.crv})`,
    );
  return jwk.crv;
}

/** PEM armour around DER: base64 wrapped at 64 characters, LF line ends, a final LF. */
export function pemOf(label: string, der: Uint8Array): string {
  const lines = toBase64(der).match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/** The DER inside the first PEM block labelled `label` (text around it is ignored, as openssl does). */
export function pemBody(text: string, label: string): Uint8Array | null {
  const match = new RegExp(`-----BEGIN ${label}-----([^-]*)-----END ${label}-----`).exec(text);
  if (!match) return null;
  return fromBase64(match[1]!.replace(/\s+/g, ""));
}

/** A public JWK's RFC 7638 thumbprint (members in lexicographic order, no whitespace). */
export async function thumbprint(jwk: JsonWebKey): Promise<string> {
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  return toBase64Url(await sha256(utf8.encode(canonical)));
}

/** Everything a verifier needs from a public JWK (`d`, if present, is dropped). */
export async function publicKeyFromJwk(jwk: JsonWebKey, kid?: string): Promise<PublicKeyInfo> {
  const curve = curveOf(jwk);
  const pub: JsonWebKey = { kty: "EC", crv: curve, x: jwk.x, y: jwk.y };
  const key = await crypto.subtle.importKey("jwk", pub, { name: "ECDSA", namedCurve: curve }, true, ["verify"]);
  const pem = pemOf("PUBLIC KEY", new Uint8Array((await crypto.subtle.exportKey("spki", key)) as ArrayBuffer));
  return {
    kid: kid ?? (await thumbprint(pub)),
    curve,
    key,
    jwk: pub,
    pem,
    hint: toHex(await sha256(utf8.encode(pem))),
  };
}

/** From a `BEGIN PUBLIC KEY` (SPKI) PEM, the form `model_signing` takes. */
export async function publicKeyFromPem(text: string, kid?: string): Promise<PublicKeyInfo> {
  const der = pemBody(text, "PUBLIC KEY");
  if (!der) throw new Error("no '-----BEGIN PUBLIC KEY-----' block found");
  // The curve is in the SPKI; Web Crypto wants it named, so try each (a mismatch fails to import).
  for (const curve of ["P-256", "P-384", "P-521"] as Curve[]) {
    let key: CryptoKey;
    try {
      key = await crypto.subtle.importKey("spki", der, { name: "ECDSA", namedCurve: curve }, true, ["verify"]);
    } catch {
      continue;
    }
    return publicKeyFromJwk((await crypto.subtle.exportKey("jwk", key)) as JsonWebKey, kid);
  }
  throw new Error("the PEM public key is not an elliptic-curve key on P-256, P-384 or P-521");
}

/**
 * A key as a user pins it (`--key`, MODELGATE_PUBLIC_KEY): SPKI PEM text, one JWK, or a JWKS
 * (`{"keys": [...]}`, every key in it). JWKS entries keep their `kid`.
 */
export async function parsePublicKeys(text: string): Promise<PublicKeyInfo[]> {
  const trimmed = text.trim();
  if (trimmed.includes("-----BEGIN PUBLIC KEY-----")) return [await publicKeyFromPem(trimmed)];
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch {
    throw new Error("a key must be an SPKI PEM ('-----BEGIN PUBLIC KEY-----'), a JWK or a JWKS");
  }
  const keys = (parsed as { keys?: unknown }).keys;
  const jwks = Array.isArray(keys) ? (keys as JsonWebKey[]) : [parsed as JsonWebKey];
  return Promise.all(jwks.map((jwk) => publicKeyFromJwk(jwk, (jwk as { kid?: string }).kid)));
}

// ---- ECDSA signature encodings ---------------------------------------------------------------

function derInteger(scalar: Uint8Array): Uint8Array {
  let i = 0;
  while (i < scalar.length - 1 && scalar[i] === 0) i++;
  let v = scalar.subarray(i);
  if ((v[0] ?? 0) & 0x80) v = concat(new Uint8Array([0]), v);
  return concat(new Uint8Array([0x02]), derLength(v.length), v);
}

function derLength(n: number): Uint8Array {
  if (n < 0x80) return new Uint8Array([n]);
  return n < 0x100 ? new Uint8Array([0x81, n]) : new Uint8Array([0x82, n >> 8, n & 0xff]);
}

/** Web Crypto's r‖s as DER `SEQUENCE { INTEGER r, INTEGER s }`. */
export function p1363ToDer(signature: Uint8Array): Uint8Array {
  const half = signature.length / 2;
  const body = concat(derInteger(signature.subarray(0, half)), derInteger(signature.subarray(half)));
  return concat(new Uint8Array([0x30]), derLength(body.length), body);
}

/** DER back to r‖s for Web Crypto's verify; null when it is not a well-formed ECDSA signature for `curve`. */
export function derToP1363(der: Uint8Array, curve: Curve): Uint8Array | null {
  const size = SCALAR_BYTES[curve];
  let at = 0;
  const readLength = (): number | null => {
    const first = der[at++];
    if (first === undefined) return null;
    if (first < 0x80) return first;
    const count = first & 0x7f;
    if (count < 1 || count > 2) return null;
    let n = 0;
    for (let i = 0; i < count; i++) {
      const b = der[at++];
      if (b === undefined) return null;
      n = (n << 8) | b;
    }
    return n;
  };
  if (der[at++] !== 0x30) return null;
  const total = readLength();
  if (total === null || at + total !== der.length) return null;
  const out = new Uint8Array(2 * size);
  for (let part = 0; part < 2; part++) {
    if (der[at++] !== 0x02) return null;
    const length = readLength();
    if (length === null || length < 1 || at + length > der.length) return null;
    let value = der.subarray(at, at + length);
    at += length;
    while (value.length > 1 && value[0] === 0) value = value.subarray(1);
    if (value.length > size) return null;
    out.set(value, part * size + size - value.length);
  }
  return at === der.length ? out : null;
}
