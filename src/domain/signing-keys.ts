// The HMAC keys behind signed URLs and the UI's CSRF tokens, as the deployment gives them.

export interface SigningKey {
  id: string;
  secret: string;
}

/** `MODELGATE_SIGNING_KEYS` is `kid:secret[,kid:secret...]`; the first signs. */
export function parseSigningKeys(value: string | undefined): SigningKey[] {
  return (value ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const at = entry.indexOf(":");
      return at > 0 ? { id: entry.slice(0, at), secret: entry.slice(at + 1) } : { id: "k1", secret: entry };
    });
}
