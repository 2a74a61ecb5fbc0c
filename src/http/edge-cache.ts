import type { Context } from "hono";
import type { BlobBody } from "../domain/artifacts";
import { EDGE_FILE_SECONDS, knownEtag, rememberEtag } from "../delivery/edge-memory";
import { fileMemory, type HeldFile } from "../delivery/file-memory";
import { contentRange, parseRange } from "../delivery/ranges";
import type { ManifestFile } from "../domain/artifacts";

// The Workers Cache API (`caches.default`): per location, objects up to 512 MB, never stores a
// 206. Locally Miniflare provides the same API, so `npm start` runs this exact code path. What is
// cached under which key, and its purge after a mutation, live in src/delivery/edge-memory.ts;
// this file serves HTTP from it.

/** The Cache API refuses larger objects. */
export const MAX_CACHEABLE_BYTES = 512 * 1000 * 1000;

// ---- Serving an immutable file ---------------------------------------------------------------
// /v1's file URLs and the artifact API's sealed files share this path and these cache entries.

/** What /v1's file URLs tell clients: the URL's bytes never change. */
export const IMMUTABLE = "public, max-age=31536000, immutable";

export function ifNoneMatch(c: Context, etag: string): boolean {
  const header = c.req.header("if-none-match");
  return header?.split(",").some((t) => t.trim().replace(/^W\//, "") === etag || t.trim() === "*") ?? false;
}

export interface CachedFileSource {
  /** On a cache miss: the file, and the key its bytes belong under (D1's answer may correct the guess). */
  miss(): Promise<{ key: Request; file: ManifestFile }>;
  open(file: ManifestFile, range?: { offset: number; length: number }): Promise<BlobBody>;
  /** What clients are told to do with the answer. */
  cacheControl: string;
}

/**
 * Serves an immutable file from this location's cache under `key`, filling it on a miss: ETag
 * (the sha256), Range (206/416), If-None-Match (304) and HEAD; `x-modelgate-cache` says hit, miss
 * or bypass. A hit reads nothing but the cache, or this isolate's memory for a small file.
 */
export async function serveCachedFile(c: Context, key: Request, source: CachedFileSource): Promise<Response> {
  const cache = caches.default;
  // A revalidation needs no bytes: this isolate may already know the file's (immutable) ETag.
  const known = knownEtag(key);
  if (known && ifNoneMatch(c, known)) return notModified(known, "hit", source.cacheControl);
  // With a Range header the Cache API answers 206 (or 416) from the stored whole object itself.
  const range = c.req.header("range");
  // A small file this isolate holds needs no subrequest; a range still comes from the Cache API.
  const held = range ? undefined : fileMemory.get(key.url);
  if (held) return heldAnswer(c, held, "hit", source.cacheControl);
  const lookup = (k: Request) => cache.match(range ? new Request(k, { headers: { range } }) : k);
  let hit = await lookup(key);
  let state = "hit";
  if (!hit) {
    state = "miss";
    const found = await source.miss();
    key = found.key;
    const file = found.file;
    const etag = `"${file.sha256}"`;
    if (ifNoneMatch(c, etag)) return notModified(etag, state, source.cacheControl);
    if (file.size > MAX_CACHEABLE_BYTES) return serveUncached(c, file, source);
    // Store the whole object, then answer from the stored copy: one code path for full and
    // range requests, and no tee buffering a slow client's backlog in the Worker.
    const blob = await source.open(file);
    await cache.put(
      key,
      new Response(blob.body, {
        headers: { ...fileHeaders(file, IMMUTABLE), "cache-control": `public, max-age=${EDGE_FILE_SECONDS}` },
      }),
    );
    hit = await lookup(key);
    if (!hit) return serveUncached(c, file, source);
  }
  const etag = hit.headers.get("etag") ?? "";
  if (etag) rememberEtag(key, etag);
  if (ifNoneMatch(c, etag)) {
    await hit.body?.cancel();
    return notModified(etag, state, source.cacheControl);
  }
  if (!range && hit.status === 200) {
    const kept = await hold(key, hit);
    if (kept) return heldAnswer(c, kept, state, source.cacheControl);
  }
  const headers = new Headers(hit.headers);
  headers.set("cache-control", source.cacheControl);
  headers.set("x-modelgate-cache", state);
  if (c.req.method === "HEAD") {
    await hit.body?.cancel();
    return new Response(null, { status: hit.status, headers });
  }
  return new Response(hit.body, { status: hit.status, headers });
}

/** Reads a whole cached answer into this isolate's memory if it is small enough to hold. */
async function hold(key: Request, hit: Response): Promise<HeldFile | undefined> {
  const size = Number(hit.headers.get("content-length") ?? Number.NaN);
  if (!Number.isSafeInteger(size) || size > fileMemory.maxFileBytes) return undefined;
  const headers: [string, string][] = [];
  hit.headers.forEach((value, name) => {
    if (name !== "cache-control" && name !== "x-modelgate-cache") headers.push([name, value]);
  });
  const file = { bytes: new Uint8Array(await hit.arrayBuffer()), headers };
  fileMemory.keep(key.url, file);
  return file;
}

/** A held file's answer: the cached answer's headers and bytes (HEAD and 304 as from the cache). */
function heldAnswer(c: Context, held: HeldFile, state: string, cacheControl: string): Response {
  const headers = new Headers(held.headers);
  const etag = headers.get("etag") ?? "";
  if (etag && ifNoneMatch(c, etag)) return notModified(etag, state, cacheControl);
  headers.set("cache-control", cacheControl);
  headers.set("x-modelgate-cache", state);
  // A Response copies the bytes it is given: the held copy stays whole.
  return new Response(c.req.method === "HEAD" ? null : held.bytes, { headers });
}

function notModified(etag: string, state: string, cacheControl: string): Response {
  return new Response(null, {
    status: 304,
    headers: { etag, "cache-control": cacheControl, "x-modelgate-cache": state },
  });
}

function fileHeaders(file: ManifestFile, cacheControl: string): Record<string, string> {
  return {
    etag: `"${file.sha256}"`,
    "content-length": String(file.size),
    "content-type": "application/octet-stream",
    "cache-control": cacheControl,
    "accept-ranges": "bytes",
  };
}

/** Objects over the Cache API's limit stream from R2 directly, ranges included. */
async function serveUncached(c: Context, file: ManifestFile, source: CachedFileSource): Promise<Response> {
  const headers = new Headers({ ...fileHeaders(file, source.cacheControl), "x-modelgate-cache": "bypass" });
  const range = parseRange(c.req.header("range"), file.size);
  if (range === "unsatisfiable") {
    return new Response(null, { status: 416, headers: { "content-range": `bytes */${file.size}` } });
  }
  if (c.req.method === "HEAD") return new Response(null, { headers });
  if (!range) return new Response((await source.open(file)).body, { headers });
  const blob = await source.open(file, range);
  headers.set("content-length", String(range.length));
  headers.set("content-range", contentRange(range, file.size));
  return new Response(blob.body, { status: 206, headers });
}
