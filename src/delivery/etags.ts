import { toHex } from "../domain/hex";

/** A strong ETag for an answer built from text: its SHA-256, hex, quoted. */
export async function contentEtag(text: string): Promise<string> {
  return `"${toHex(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)))}"`;
}
