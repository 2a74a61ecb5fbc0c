import type { Context, MiddlewareHandler } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import { csrf as originCheck } from "hono/csrf";
import { parseSigningKeys } from "../domain/signing-keys";
import { toHex } from "../domain/hex";
import { RegistryError } from "../errors";
import type { AppEnv } from "../http/context";
import { isHttps } from "./flash";

// CSRF protection for every form that changes something, in two independent layers:
//  1. hono/csrf: a form POST must come from this origin (Origin or Sec-Fetch-Site header).
//  2. A signed double-submit token: the browser holds a random nonce in an HttpOnly cookie; each
//     form carries HMAC-SHA256(signing key, nonce + who is acting) in a hidden field. A forged
//     form can neither read the cookie nor compute the MAC, and a token minted for one person
//     (or one browser) is worthless for another. Keys come from MODELGATE_SIGNING_KEYS: the first
//     signs, every key verifies, so rotating keys does not break forms already on screen.

export const CSRF_FIELD = "_csrf";
const NONCE = /^[0-9a-f]{64}$/;
const TOKEN = /^[0-9a-f]{64}$/;
const PURPOSE = "modelgate-ui-csrf";

/** `__Host-` pins the cookie to this host and path `/`, where browsers allow it (HTTPS). */
const cookieName = (c: Context) => (isHttps(c) ? "__Host-mg_csrf" : "mg_csrf");

const keys = new Map<string, Promise<CryptoKey>>();
function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    if (keys.size > 16) keys.clear();
    key = crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
      "sign",
      "verify",
    ]);
    keys.set(secret, key);
  }
  return key;
}

function signingSecrets(c: Context<AppEnv>): string[] {
  const secrets = parseSigningKeys(c.env.MODELGATE_SIGNING_KEYS).map((k) => k.secret);
  if (secrets.length === 0)
    throw new RegistryError(
      "TEMPORARILY_UNAVAILABLE",
      "Modelgate is not configured: the MODELGATE_SIGNING_KEYS secret is missing.",
    );
  return secrets;
}

/** What the token is bound to besides the nonce: the acting principal. */
function binding(c: Context<AppEnv>): string {
  return `${c.var.principal?.tokenId ?? ""}\n${c.var.actor}`;
}

const message = (nonce: string, who: string) => new TextEncoder().encode(`${PURPOSE}\n${nonce}\n${who}`);

/** Nonces minted during a request, so every form on one page (and the layout's) shares one. */
const minted = new WeakMap<Request, string>();

/** The token for this page's forms; sets the nonce cookie when the browser has none yet. */
export async function csrfToken(c: Context<AppEnv>): Promise<string> {
  let nonce = getCookie(c, cookieName(c));
  if (!nonce || !NONCE.test(nonce)) nonce = minted.get(c.req.raw);
  if (!nonce) {
    nonce = toHex(crypto.getRandomValues(new Uint8Array(32)).buffer as ArrayBuffer);
    // Lax, not Strict: a Strict cookie is withheld when someone follows a link from elsewhere, and
    // the page would then mint a new nonce and invalidate forms open in other tabs. Cross-site
    // POSTs never carry a Lax cookie.
    setCookie(c, cookieName(c), nonce, { path: "/", httpOnly: true, sameSite: "Lax", secure: isHttps(c) });
    minted.set(c.req.raw, nonce);
  }
  const key = await hmacKey(signingSecrets(c)[0]!); // signingSecrets() refuses an empty list
  return toHex(await crypto.subtle.sign("HMAC", key, message(nonce, binding(c))));
}

const refused = (why: string) =>
  new RegistryError(
    "PERMISSION_DENIED",
    `The form was refused (CSRF protection): ${why}. Reload the page and try again.`,
  );

async function validToken(c: Context<AppEnv>, token: string): Promise<boolean> {
  const nonce = getCookie(c, cookieName(c));
  if (!nonce || !NONCE.test(nonce) || !TOKEN.test(token)) return false;
  const mac = new Uint8Array(token.match(/../g)!.map((h) => parseInt(h, 16)));
  for (const secret of signingSecrets(c)) {
    // crypto.subtle.verify compares in constant time.
    if (await crypto.subtle.verify("HMAC", await hmacKey(secret), mac, message(nonce, binding(c)))) return true;
  }
  return false;
}

const sameOrigin = originCheck();

/** The middleware every form target runs after its access guard. */
export const verifyCsrf: MiddlewareHandler<AppEnv> = async (c, next) => {
  try {
    await sameOrigin(c, async () => {});
  } catch {
    throw refused("it was not sent from this site");
  }
  const type = c.req.header("content-type") ?? "";
  if (!/^(application\/x-www-form-urlencoded|multipart\/form-data)\b/i.test(type))
    throw refused("it is not a form submission");
  const body = await c.req.parseBody();
  const token = body[CSRF_FIELD];
  if (typeof token !== "string" || token === "") throw refused("it carries no token");
  if (!(await validToken(c, token))) throw refused("its token does not match this browser's session");
  await next();
};
