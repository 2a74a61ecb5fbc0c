import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";

// One message carried across a POST-redirect-GET: set with the redirect, shown and cleared by the
// next page. A cookie rather than a query parameter keeps shared URLs clean.

export interface Flash {
  kind: "ok" | "error";
  text: string;
}

const COOKIE = "mg_flash";
const MAX_TEXT = 600;

export function setFlash(c: Context, flash: Flash): void {
  const text = flash.text.length > MAX_TEXT ? `${flash.text.slice(0, MAX_TEXT)}…` : flash.text;
  setCookie(c, COOKIE, JSON.stringify({ kind: flash.kind, text }), {
    path: "/",
    httpOnly: true,
    sameSite: "Lax",
    secure: isHttps(c),
    maxAge: 60,
  });
}

/** Reads the pending message, if any, and clears it. */
export function takeFlash(c: Context): Flash | null {
  const raw = getCookie(c, COOKIE);
  if (raw === undefined) return null;
  deleteCookie(c, COOKIE, { path: "/", secure: isHttps(c) });
  try {
    const value: unknown = JSON.parse(raw);
    if (value && typeof value === "object") {
      const { kind, text } = value as Record<string, unknown>;
      if ((kind === "ok" || kind === "error") && typeof text === "string")
        return { kind, text: text.slice(0, MAX_TEXT + 1) };
    }
  } catch {
    // a mangled cookie is no message
  }
  return null;
}

export function isHttps(c: Context): boolean {
  return new URL(c.req.url).protocol === "https:";
}
