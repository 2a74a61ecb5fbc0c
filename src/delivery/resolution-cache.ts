import { canonicalRef, type ModelRef } from "../domain/model-ref";
import { memoizedResolution, memoizeResolution, resolutionKey } from "./edge-memory";
import { contentEtag } from "./etags";

// Where a ref's resolution is kept between requests: this isolate's memory (RESOLUTION_MEMO_MS),
// then the location's Cache API (the resolve TTL), then the registry itself. A mutation through this
// isolate purges both (edge-memory.ts purgeChanged); elsewhere they expire.

/** A resolution's JSON as the caches share it: file URLs relative, so no client's Host is in it. */
export interface CachedResolution {
  body: string;
  etag: string;
  /** "hit": from this isolate's memory or the location's cache; "miss": resolved for this request. */
  cache: "hit" | "miss";
}

/**
 * The resolution of `ref`, from the nearest place that holds it; on a miss `resolve()` builds the
 * JSON (its file URLs relative, `/v1/...`) and both caches keep it for `ttlSeconds` at most.
 */
export async function cachedResolution(
  name: string,
  ref: ModelRef,
  ttlSeconds: number,
  resolve: () => Promise<string>,
): Promise<CachedResolution> {
  const key = resolutionKey(name, canonicalRef(ref));
  const memo = memoizedResolution(key);
  if (memo) return { ...memo, cache: "hit" };
  const cached = await caches.default.match(key);
  if (cached) {
    const body = await cached.text();
    const etag = cached.headers.get("etag") ?? "";
    memoizeResolution(key, body, etag, ttlSeconds);
    return { body, etag, cache: "hit" };
  }
  const body = await resolve();
  const etag = await contentEtag(body);
  await caches.default.put(
    key,
    new Response(body, {
      headers: { etag, "content-type": "application/json", "cache-control": `max-age=${ttlSeconds}` },
    }),
  );
  memoizeResolution(key, body, etag, ttlSeconds);
  return { body, etag, cache: "miss" };
}

/**
 * A shared resolution with its file URLs made absolute for one request's origin. Only a `url`
 * member can hold `"url":"/v1/` unescaped: inside any JSON string its quotes would be escaped.
 */
export function withOrigin(body: string, origin: string): string {
  const absolute = `"url":${JSON.stringify(`${origin}/v1/`).slice(0, -1)}`;
  return body.replaceAll('"url":"/v1/', () => absolute);
}
