import type { Changed } from "../coordinator/model-coordinator";

// The Workers Cache API (`caches.default`): per location, objects up to 512 MB, never stores a
// 206. Locally Miniflare provides the same API, so `npm start` runs this exact code path.

/** The Cache API refuses larger objects. */
export const MAX_CACHEABLE_BYTES = 512 * 1000 * 1000;

const INTERNAL_ORIGIN = "https://modelgate.cache";

/** Cache key of a ref's resolution; keys live under an internal origin so no client URL collides. */
export function resolutionKey(name: string, ref: string): Request {
  return new Request(`${INTERNAL_ORIGIN}/resolve/${encodeURIComponent(name)}/${encodeURIComponent(ref)}`);
}

/** Cache key of an immutable file: its URL path, without query (signatures) or headers. */
export function fileKey(path: string): Request {
  return new Request(`${INTERNAL_ORIGIN}${path}`);
}

/** Drops the resolutions a mutation changed from this location's cache (other locations expire within the TTL). */
export async function purgeResolutions(changed: Changed): Promise<void> {
  await Promise.all(changed.refs.map((ref) => caches.default.delete(resolutionKey(changed.name, ref))));
}
