import { toHex } from "../domain/hex";
import type { SigningKey } from "../domain/signing-keys";

export type SignatureProblem = "missing" | "malformed" | "expired" | "unknown_key" | "invalid";

/**
 * HMAC-SHA256 signatures over method, path and expiry, with a key id so keys can rotate: the first
 * key signs, every listed key verifies. Verification is constant-time (crypto.subtle.verify) and
 * needs no database.
 *
 * `binding` ties a signature to something the URL does not spell out but the verifier knows, such
 * as the immutable id of the model a name stood for when the URL was signed: a URL signed for
 * model `R` stops verifying once `R` names another model.
 */
export class UrlSigner {
  private readonly keys: Map<string, Promise<CryptoKey>>;

  constructor(private readonly signingKeys: SigningKey[]) {
    if (signingKeys.length === 0) throw new Error("UrlSigner needs at least one key");
    this.keys = new Map(
      signingKeys.map((k) => [
        k.id,
        crypto.subtle.importKey("raw", new TextEncoder().encode(k.secret), { name: "HMAC", hash: "SHA-256" }, false, [
          "sign",
          "verify",
        ]),
      ]),
    );
  }

  /** Returns the query parameters that authorize `method path` until `expiresAt` (epoch seconds). */
  async sign(method: string, path: string, expiresAt: number, binding?: string): Promise<Record<string, string>> {
    const kid = this.signingKeys[0]!.id; // the constructor refuses an empty list
    const key = await this.keys.get(kid)!;
    const mac = await crypto.subtle.sign("HMAC", key, payload(method, path, expiresAt, kid, binding));
    return { expires: String(expiresAt), kid, sig: toHex(mac) };
  }

  async verify(
    method: string,
    path: string,
    params: URLSearchParams,
    nowSeconds: number,
    binding?: string,
  ): Promise<SignatureProblem | null> {
    const expires = params.get("expires");
    const kid = params.get("kid");
    const sig = params.get("sig");
    if (!expires || !kid || !sig) return "missing";
    if (!/^\d{1,12}$/.test(expires) || !/^[0-9a-f]{64}$/.test(sig)) return "malformed";
    const key = this.keys.get(kid);
    if (!key) return "unknown_key";
    const bytes = new Uint8Array(sig.match(/../g)!.map((h) => parseInt(h, 16)));
    const valid = await crypto.subtle.verify(
      "HMAC",
      await key,
      bytes,
      payload(method, path, Number(expires), kid, binding),
    );
    if (!valid) return "invalid";
    if (Number(expires) < nowSeconds) return "expired";
    return null;
  }
}

function payload(method: string, path: string, expiresAt: number, kid: string, binding?: string): Uint8Array {
  const bound = binding === undefined ? "" : `\n${binding}`;
  return new TextEncoder().encode(`${method.toUpperCase()}\n${path}\n${expiresAt}\n${kid}${bound}`);
}
