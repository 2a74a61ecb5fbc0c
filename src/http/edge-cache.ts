import type { Context } from "hono";
import type { BlobBody } from "../artifacts/artifact-store";
import { sealedFolders } from "../artifacts/sealed-folders";
import type { Changed } from "../coordinator/model-coordinator";
import type { FileRef } from "../domain/model";
import type { ManifestFile } from "../repositories/artifact-repository";
import { fileMemory, type HeldFile } from "./file-memory";

// The Workers Cache API (`caches.default`): per location, objects up to 512 MB, never stores a
// 206. Locally Miniflare provides the same API, so `npm start` runs this exact code path.

/** The Cache API refuses larger objects. */
export const MAX_CACHEABLE_BYTES = 512 * 1000 * 1000;

const INTERNAL_ORIGIN = "https://modelgate.cache";

/** Cache key of a ref's resolution; keys live under an internal origin so no client URL collides. */
export function resolutionKey(name: string, ref: string): Request {
  return new Request(`${INTERNAL_ORIGIN}/resolve/${encodeURIComponent(name)}/${encodeURIComponent(ref)}`);
}

/**
 * Cache key of an immutable file, by the model's immutable id, never its name: a name can be
 * taken by another model after a delete or rename, an id and its version numbers never return.
 */
export function fileKey(file: FileRef): Request {
  const path = file.path.split("/").map(encodeURIComponent).join("/");
  return new Request(`${INTERNAL_ORIGIN}/files/${file.modelId}/${file.version}/${path}`);
}

/**
 * How long a location keeps a file. Shorter than the year clients are told (the URL's bytes never
 * change), because a deleted version's files are dropped at once only where it was deleted.
 */
export const EDGE_FILE_SECONDS = 24 * 60 * 60;

/**
 * Each cached file's ETag, per isolate, so a revalidation (If-None-Match) is answered without
 * reading the cached bytes. A key's ETag never changes; entries live as long as a cached copy may.
 */
const MAX_ETAGS = 10_000;
const etags = new Map<string, { etag: string; until: number }>();

export function knownEtag(key: Request): string | undefined {
  const entry = etags.get(key.url);
  if (entry && entry.until > Date.now()) return entry.etag;
  etags.delete(key.url);
  return undefined;
}

export function rememberEtag(key: Request, etag: string): void {
  if (etags.has(key.url)) return;
  if (etags.size >= MAX_ETAGS) etags.delete(etags.keys().next().value!);
  etags.set(key.url, { etag, until: Date.now() + EDGE_FILE_SECONDS * 1000 });
}

/**
 * The resolutions this isolate served in the last second. Reading one back from the Cache API costs
 * more than the Durable Object read that produced it, and a Production ref under inference traffic
 * is asked for many times a second. A mutation made through this isolate drops its entries at once
 * (purgeChanged); another isolate of the same location sees the change within MEMO_MS, every other
 * location within the resolve TTL.
 */
export const RESOLUTION_MEMO_MS = 1000;
const MAX_RESOLUTIONS = 1000;
const resolutions = new Map<string, { body: string; etag: string; until: number }>();

export function memoizedResolution(key: Request): { body: string; etag: string } | undefined {
  const entry = resolutions.get(key.url);
  if (entry && entry.until > Date.now()) return entry;
  if (entry) resolutions.delete(key.url);
  return undefined;
}

export function memoizeResolution(key: Request, body: string, etag: string, ttlSeconds: number): void {
  if (resolutions.size >= MAX_RESOLUTIONS) resolutions.delete(resolutions.keys().next().value!);
  resolutions.set(key.url, { body, etag, until: Date.now() + Math.min(RESOLUTION_MEMO_MS, ttlSeconds * 1000) });
}

/**
 * Drops what a mutation changed from this location's cache: its resolutions (other locations expire
 * them within the resolve TTL), the files of deleted versions (within EDGE_FILE_SECONDS) and this
 * isolate's memory of their sealed folders and small files (other isolates within the resolve TTL).
 */
export async function purgeChanged(changed: Changed): Promise<void> {
  for (const file of changed.files) {
    etags.delete(fileKey(file).url);
    fileMemory.forget(fileKey(file).url);
  }
  sealedFolders.forgetVersions(changed.files);
  for (const ref of changed.refs) resolutions.delete(resolutionKey(changed.name, ref).url);
  await Promise.all([
    ...changed.refs.map((ref) => caches.default.delete(resolutionKey(changed.name, ref))),
    ...changed.files.map((file) => caches.default.delete(fileKey(file))),
  ]);
}

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
  headers.set("content-range", `bytes ${range.offset}-${range.offset + range.length - 1}/${file.size}`);
  return new Response(blob.body, { status: 206, headers });
}

/** A single `bytes=` range; null means none (or one we ignore, as HTTP allows). */
function parseRange(
  header: string | undefined,
  size: number,
): { offset: number; length: number } | "unsatisfiable" | null {
  const match = header && /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === "" && match[2] === "")) return null;
  if (match[1] === "") {
    const suffix = Math.min(Number(match[2]), size);
    return suffix === 0 ? "unsatisfiable" : { offset: size - suffix, length: suffix };
  }
  const start = Number(match[1]);
  const end = match[2] === "" ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (start >= size || end < start) return "unsatisfiable";
  return { offset: start, length: end - start + 1 };
}
