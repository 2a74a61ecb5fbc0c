import { InvalidParameterError } from "../errors";
import type { OrderTerm, SortValue } from "./order-by";

// Page tokens are opaque to clients. Lists that are short or append-only carry the offset of the
// next page; registry search carries the sort key of the page's last row instead (keyset paging),
// so the 1,000th page costs what the first does: the database seeks to the key through the index
// that orders the answer rather than reading and dropping every row before it.
/** A token echoed only in part: an error message is no place for whatever a client sent (a 1 MB string). */
const invalidToken = (token: string) =>
  new InvalidParameterError(`Invalid page token: '${token.length > 64 ? `${token.slice(0, 64)}…` : token}'.`);

export function encodePageToken(offset: number): string {
  return btoa(JSON.stringify({ offset }));
}

export function decodePageToken(token: string | undefined): number {
  if (!token) return 0;
  try {
    const { offset } = JSON.parse(atob(token)) as { offset: unknown };
    if (typeof offset === "number" && Number.isSafeInteger(offset) && offset >= 0) return offset;
  } catch {
    // fall through to the error below
  }
  throw invalidToken(token);
}

export function validateMaxResults(maxResults: number | undefined, fallback: number, max: number): number {
  if (maxResults === undefined) return fallback;
  if (!Number.isInteger(maxResults) || maxResults < 1 || maxResults > max) {
    throw new InvalidParameterError(
      `Invalid value ${maxResults} for parameter 'max_results' supplied. It must be a positive integer at most ${max}.`,
    );
  }
  return maxResults;
}

/** The order a token was made for, written into it: a token is only good for the same order. */
const signature = (order: OrderTerm[]) => order.map((t) => `${t.key} ${t.ascending ? "ASC" : "DESC"}`).join(",");

/** Longer than any model name (limits.ts), shorter than anything worth parsing. */
const MAX_TOKEN_LENGTH = 4096;

/** A seek token: the order and the last row's key, as base64url of UTF-8 JSON (names may be any Unicode). */
export function encodeSeekToken(order: OrderTerm[], key: SortValue[]): string {
  const bytes = new TextEncoder().encode(JSON.stringify({ o: signature(order), k: key }));
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/**
 * The key a page starts after, or null for the first page. Anything but a token this server made
 * for the same order (an offset token included) is INVALID_PARAMETER_VALUE: every value is
 * checked for its field's type, so nothing unexpected reaches a query.
 */
export function decodeSeekToken(token: string | undefined, order: OrderTerm[]): SortValue[] | null {
  if (!token) return null;
  if (token.length > MAX_TOKEN_LENGTH || !/^[A-Za-z0-9_-]+$/.test(token)) throw invalidToken(token);
  let payload: unknown;
  try {
    const binary = atob(token.replace(/-/g, "+").replace(/_/g, "/"));
    const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
    payload = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes));
  } catch {
    throw invalidToken(token);
  }
  const { o, k } = (payload ?? {}) as { o?: unknown; k?: unknown };
  if (o !== signature(order) || !Array.isArray(k) || k.length !== order.length) throw invalidToken(token);
  const fits = (t: OrderTerm, v: unknown) =>
    t.key === "name" ? typeof v === "string" : typeof v === "number" && Number.isSafeInteger(v);
  if (!order.every((t, i) => fits(t, k[i]))) throw invalidToken(token);
  return k as SortValue[];
}
