import { sealedFolders } from "../artifacts/sealed-folders";
import type { Changed } from "../coordinator/contract";
import type { FileRef } from "../domain/model";
import { fileMemory } from "./file-memory";

// The Workers Cache API (`caches.default`): per location, objects up to 512 MB, never stores a
// 206. Locally Miniflare provides the same API, so `npm start` runs this exact code path.

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
