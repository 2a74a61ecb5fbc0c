// The baseline for the streaming benchmark: a bare Worker that streams a request body into R2 and
// an object back out, with nothing of Modelgate's in between.
export default {
  async fetch(request, env) {
    const key = new URL(request.url).pathname.slice(1) || "object";
    if (request.method === "PUT") {
      await env.BUCKET.put(key, request.body);
      return new Response("{}");
    }
    const object = await env.BUCKET.get(key);
    if (!object) return new Response("not found", { status: 404 });
    return new Response(object.body, { headers: { "content-length": String(object.size) } });
  },
};
