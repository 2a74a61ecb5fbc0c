// Secrets are not in wrangler.toml, so `wrangler types` cannot see them. Set them with
// `wrangler secret put NAME` for a deploy; `npm start` and the tests provide local values.
declare namespace Cloudflare {
  interface Env {
    /** `kid:secret[,kid:secret...]`: keys for signed URLs; the first signs, all verify (rotation). */
    MODELGATE_SIGNING_KEYS?: string;
    /**
     * JSON list of ECDSA P-256 keys that sign model versions (OpenSSF model signing, model.sig):
     * `[{"kid": "...", "pkcs8": "-----BEGIN PRIVATE KEY-----..."}, {"kid": "...", "jwk": {...}}]`.
     * The first signs; every listed key is published at /.well-known/modelgate-keys (rotation). A
     * JWK without `d` is published and verifies, but never signs (docs/supply-chain.md).
     */
    MODELGATE_MODEL_SIGNING_KEYS?: string;
    /**
     * `kid:hex[,kid:hex...]` (64 hex digits each): AES-256-GCM keys sealing webhook secrets at rest;
     * the first seals, all open (rotation, docs/webhooks.md).
     */
    MODELGATE_WEBHOOK_KEYS?: string;
    /** The bootstrap admin token: the first credential of a deployment, used to create the others. */
    MODELGATE_ADMIN_TOKEN?: string;
    /** R2's S3-API credentials, only for `?via=r2` presigned URLs (optional). */
    R2_ACCOUNT_ID?: string;
    R2_ACCESS_KEY_ID?: string;
    R2_SECRET_ACCESS_KEY?: string;
  }
}
