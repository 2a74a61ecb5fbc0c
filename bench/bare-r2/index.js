// The baseline for the streaming and delivery benchmarks: a bare Worker that streams a request body
// into R2 and an object back out, or answers an object from the Cache API (`/__cache/<key>`,
// filled from R2 on the first request), with nothing of Modelgate's in between.
const CACHE_PREFIX = "/__cache/";
// As the registry labels files: without a type, workerd gzips the body for clients that accept it.
const OCTETS = "application/octet-stream";

export default {
  async fetch(request, env) {
    const pathname = new URL(request.url).pathname;
    if (pathname.startsWith(CACHE_PREFIX)) return fromCache(pathname.slice(CACHE_PREFIX.length), env);
    const key = pathname.slice(1) || "object";
    if (request.method === "PUT") {
      await env.BUCKET.put(key, request.body);
      return new Response("{}");
    }
    const object = await env.BUCKET.get(key);
    if (!object) return new Response("not found", { status: 404 });
    return new Response(object.body, { headers: { "content-length": String(object.size), "content-type": OCTETS } });
  },
};

async function fromCache(key, env) {
  const cacheKey = new Request(`https://bare.cache/${key}`);
  const hit = await caches.default.match(cacheKey);
  if (hit) return hit;
  const object = await env.BUCKET.get(key);
  if (!object) return new Response("not found", { status: 404 });
  await caches.default.put(
    cacheKey,
    new Response(object.body, {
      headers: { "content-length": String(object.size), "content-type": OCTETS, "cache-control": "max-age=86400" },
    }),
  );
  return (await caches.default.match(cacheKey)) ?? new Response("not cached", { status: 500 });
}
