// Secrets are not in wrangler.toml, so `wrangler types` cannot see them. Set them with
// `wrangler secret put NAME` for a deploy; `npm start` and the tests provide local values.
declare namespace Cloudflare {
  interface Env {
    /** `kid:secret[,kid:secret...]`: keys for signed URLs; the first signs, all verify (rotation). */
    MODELGATE_SIGNING_KEYS?: string;
  }
}
