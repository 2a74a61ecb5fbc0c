import { Hono, type Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { RegistryError } from "../errors";
import { STATUS_BY_CODE } from "../http/error-codes";
import { authenticateRequest, requires, sessionCookieName } from "../http/auth";
import type { AppEnv } from "../http/context";
import { csrfToken, verifyCsrf } from "./csrf";
import { isHttps, setFlash } from "./flash";
import { renderPage } from "./layout";
import { SignInPage } from "./pages/sign-in-page";

// Signing in to the web UI: the sign-in page takes an API token, checks it with the same auth
// service as the API, and keeps it in an HttpOnly, SameSite=Lax cookie (`__Host-` and Secure on
// HTTPS). Only the UI's guards read that cookie (requires(..., { sessionCookie: true })); the JSON
// API never does. Both forms carry CSRF protection like every other form.

export const SIGN_IN_PATH = "/ui/sign-in";
/** How long a browser keeps the sign-in; the token's own expiry and revocation still apply. */
const SESSION_SECONDS = 12 * 60 * 60;
/** A token is printable ASCII without spaces (ours are `mg_` + 64 hex digits). */
const TOKEN_SHAPE = /^[\x21-\x7e]{1,512}$/;

const BASE = "http://modelgate.invalid";

/**
 * Where to go after signing in: only a path on this site (starting with one "/"); anything else
 * (absolute URLs, `//host`, backslashes, control characters) becomes "/".
 */
export function safeNext(raw: unknown): string {
  if (typeof raw !== "string" || raw.length === 0 || raw.length > 2000) return "/";
  if (!raw.startsWith("/") || raw.startsWith("//") || raw.includes("\\") || /[\x00-\x1f\x7f]/.test(raw)) return "/";
  let url: URL;
  try {
    url = new URL(raw, BASE);
  } catch {
    return "/";
  }
  if (url.origin !== BASE) return "/";
  const path = `${url.pathname}${url.search}`;
  return path.startsWith("/ui/sign-") ? "/" : path;
}

/** The sign-in page's address, coming back to `next` afterwards. */
export function signInHref(next: string): string {
  const target = safeNext(next);
  return target === "/" ? SIGN_IN_PATH : `${SIGN_IN_PATH}?next=${encodeURIComponent(target)}`;
}

/** Forgets the sign-in (used on sign-out and when the cookie's token is no longer accepted). */
export function clearSession(c: Context): void {
  deleteCookie(c, sessionCookieName(c), { path: "/", secure: isHttps(c) });
}

/** Whether the browser sent a session cookie. */
export const hasSession = (c: Context): boolean => getCookie(c, sessionCookieName(c)) !== undefined;

async function showSignIn(
  c: Context<AppEnv>,
  next: string,
  problem?: string,
  status: 200 | 400 | 401 | 429 = 200,
): Promise<Response> {
  const csrf = await csrfToken(c);
  return renderPage(c, { title: "Sign in" }, <SignInPage csrf={csrf} next={next} problem={problem} />, status);
}

export const sessionRoutes = new Hono<AppEnv>();

sessionRoutes.get(SIGN_IN_PATH, requires("public"), async (c) => {
  const next = safeNext(c.req.query("next"));
  if (!c.var.services.config.authEnabled) return c.redirect(next, 302);
  return showSignIn(c, next);
});

sessionRoutes.post(SIGN_IN_PATH, requires("public"), verifyCsrf, async (c) => {
  const body = await c.req.parseBody();
  const next = safeNext(body.next);
  if (!c.var.services.config.authEnabled) return c.redirect(next, 303);
  const token = typeof body.token === "string" ? body.token.trim() : "";
  if (token === "") return showSignIn(c, next, "Enter an API token.", 400);
  if (!TOKEN_SHAPE.test(token))
    return showSignIn(
      c,
      next,
      "That is not an API token: tokens are at most 512 printable characters without spaces.",
      401,
    );
  try {
    await authenticateRequest(c, `Bearer ${token}`);
  } catch (error) {
    if (!(error instanceof RegistryError)) throw error;
    const status = STATUS_BY_CODE[error.code];
    if (status === 401) return showSignIn(c, next, `Sign-in failed: ${error.message}`, 401);
    if (status === 429) return showSignIn(c, next, error.message, 429);
    throw error;
  }
  setCookie(c, sessionCookieName(c), token, {
    path: "/",
    httpOnly: true,
    sameSite: "Lax",
    secure: isHttps(c),
    maxAge: SESSION_SECONDS,
  });
  return c.redirect(next, 303);
});

sessionRoutes.post("/ui/sign-out", requires("read", undefined, { sessionCookie: true }), verifyCsrf, async (c) => {
  clearSession(c);
  setFlash(c, { kind: "ok", text: "Signed out." });
  return c.redirect(SIGN_IN_PATH, 303);
});
