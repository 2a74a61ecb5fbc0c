// Opens a stopped `npm start`'s STATE_DIR directly: the same D1 database and R2 bucket, bound the way
// scripts/start.ts binds them (wrangler.toml through wrangler's Miniflare options), behind a tiny
// reader Worker. Node only; the registry must not be running on this state at the same time.
//
// Reads go through the reader Worker with `dispatchFetch` (plain async HTTP), not through
// Miniflare's getD1Database/getR2Bucket proxies: those make some calls synchronously (the Node
// thread blocks until workerd answers) and were seen to deadlock here, with signals and timers dead.
import path from "node:path";
import { Log, LogLevel, Miniflare } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import type { D1Like, R2Like } from "./invariants";
import { root } from "./server";

const READER = `
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/sql") {
      const { results } = await env.DB.prepare(await request.text()).all();
      return Response.json(results);
    }
    if (url.pathname === "/blob") {
      const object = await env.ARTIFACTS.get(url.searchParams.get("key"));
      return object ? new Response(object.body) : new Response(null, { status: 404 });
    }
    if (url.pathname === "/list") {
      const cursor = url.searchParams.get("cursor") || undefined;
      const listed = await env.ARTIFACTS.list({ cursor, limit: Number(url.searchParams.get("limit") || 1000) });
      return Response.json({ objects: listed.objects.map((o) => ({ key: o.key })), truncated: listed.truncated, cursor: listed.truncated ? listed.cursor : undefined });
    }
    return new Response("not found", { status: 404 });
  },
};`;

export async function openStorage(stateDir: string) {
  const { workerOptions } = unstable_getMiniflareWorkerOptions(path.join(root, "wrangler.toml"));
  const mf = new Miniflare({
    name: "reliability-reader",
    modules: true,
    script: READER,
    compatibilityDate: workerOptions.compatibilityDate,
    d1Databases: workerOptions.d1Databases,
    r2Buckets: workerOptions.r2Buckets,
    defaultPersistRoot: path.join(stateDir, "v3"),
    host: "127.0.0.1",
    port: 0,
    cf: false,
    log: new Log(LogLevel.WARN),
  });
  await mf.ready;
  const call = async (pathAndQuery: string, init?: { method: string; body: string }) => {
    const res = await mf.dispatchFetch(`http://reader${pathAndQuery}`, {
      ...init,
      signal: AbortSignal.timeout(60_000),
    });
    if (res.status === 404 && pathAndQuery.startsWith("/blob")) {
      await res.arrayBuffer();
      return null;
    }
    if (!res.ok) throw new Error(`storage reader ${pathAndQuery}: ${res.status} ${await res.text()}`);
    return res;
  };
  // The D1Database / R2Bucket subset that snapshotFromStorage uses.
  const db: D1Like = {
    prepare: (sql: string) => ({
      all: async () => ({ results: (await (await call("/sql", { method: "POST", body: sql }))!.json()) as any[] }),
    }),
  };
  const bucket: R2Like = {
    get: async (key: string) => {
      const res = await call(`/blob?key=${encodeURIComponent(key)}`);
      if (!res) return null;
      const bytes = await res.arrayBuffer();
      return { arrayBuffer: async () => bytes };
    },
    list: async ({ cursor, limit }: { cursor?: string; limit?: number } = {}) =>
      (await (await call(
        `/list?${new URLSearchParams({ ...(cursor ? { cursor } : {}), limit: String(limit ?? 1000) })}`,
      ))!.json()) as Awaited<ReturnType<R2Like["list"]>>,
  };
  return { db, bucket, close: () => mf.dispose() };
}
