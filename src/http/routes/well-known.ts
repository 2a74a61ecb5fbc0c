import { Hono } from "hono";
import { NotFoundError } from "../../errors";
import type { PublicKeyInfo } from "../../signing/keys";
import { requires } from "../auth";
import type { AppEnv } from "../context";

/**
 * The public keys model versions are signed with (docs/supply-chain.md), for anyone to verify a
 * model.sig: no credentials needed. Every key still in MODELGATE_MODEL_SIGNING_KEYS is listed, the
 * signing key first. Each JWK carries `x-model-signing-hint`: the `verificationMaterial.publicKey.hint`
 * a bundle made with it names (hex SHA-256 of the key's SPKI PEM), so a bundle maps to its key.
 */
export const wellKnownRoutes = new Hono<AppEnv>();

const KEYS_CACHE = "public, max-age=300";

function jwkOf(key: PublicKeyInfo) {
  return {
    ...key.jwk,
    kid: key.kid,
    use: "sig",
    alg: key.curve === "P-256" ? "ES256" : undefined,
    key_ops: ["verify"],
    "x-model-signing-hint": key.hint,
  };
}

function pemResponse(keys: PublicKeyInfo[], kid: string | undefined): Response {
  const key = kid === undefined ? keys[0] : keys.find((k) => k.kid === kid);
  if (!key) throw new NotFoundError(`No model-signing key '${kid}' is in rotation.`);
  return new Response(key.pem, {
    headers: { "content-type": "application/x-pem-file", "cache-control": KEYS_CACHE, "x-modelgate-kid": key.kid },
  });
}

// JWKS; `?format=pem` answers the signing key's SPKI PEM instead (`&kid=` for another key in rotation).
wellKnownRoutes.get("/modelgate-keys", requires("public"), async (c) => {
  const keys = await c.var.services.signatures.publicKeys();
  if (c.req.query("format") === "pem") return pemResponse(keys, c.req.query("kid"));
  c.header("cache-control", KEYS_CACHE);
  return c.json({ keys: keys.map(jwkOf) });
});

// One key as PEM, the form `model_signing verify key --public_key` reads.
wellKnownRoutes.get("/modelgate-keys/:file{.+\\.pem}", requires("public"), async (c) => {
  const keys = await c.var.services.signatures.publicKeys();
  return pemResponse(keys, c.req.param("file").slice(0, -".pem".length));
});
