import { Hono, type Context } from "hono";
import { InvalidParameterError } from "../../errors";
import { parseVersion } from "../../domain/limits";
import { canonicalRef, parseModelRef } from "../../domain/model-ref";
import { tarLength, tarStream } from "../../artifacts/tar-stream";
import { toHex } from "../../artifacts/hashing-stream";
import { filePath, signedForAnotherModel, type ResolvedVersion } from "../../services/delivery-service";
import type { ManifestFile } from "../../repositories/artifact-repository";
import { requires, modelFromParam } from "../auth";
import type { AppEnv } from "../context";
import {
  EDGE_FILE_SECONDS,
  fileKey,
  knownEtag,
  MAX_CACHEABLE_BYTES,
  memoizedResolution,
  memoizeResolution,
  rememberEtag,
  resolutionKey,
} from "../edge-cache";
import { readInput } from "../input";
import { CreateSignedUrls } from "../schemas/delivery";

/** Inference's read path under /v1: resolve refs, download immutable files from the edge cache, sign URLs. */
export const deliveryRoutes = new Hono<AppEnv>();
const r = deliveryRoutes;

const IMMUTABLE = "public, max-age=31536000, immutable";

function ifNoneMatch(c: Context, etag: string): boolean {
  const header = c.req.header("if-none-match");
  return header !== undefined && header.split(",").some((t) => t.trim().replace(/^W\//, "") === etag || t.trim() === "*");
}

// Segments of a file URL before the file's path: `/v1/models/{name}/versions/{v}/files/` and
// `/v1/models/{name}/{ref}/files/`. The path is what follows the route's own `/files/`, never the
// first `/files/` in the URL (a model may be named `files`).
const VERSION_FILE_SEGMENTS = 7;
const REF_FILE_SEGMENTS = 6;

/** The file's path in the request, segment by segment percent-decoded. */
function filePathParam(c: Context, skipSegments: number): string {
  const rest = new URL(c.req.url).pathname.split("/").slice(skipSegments);
  try {
    return rest.map(decodeURIComponent).join("/");
  } catch {
    throw new InvalidParameterError("The file path is not valid percent-encoded UTF-8.");
  }
}

function resolutionJson(resolved: ResolvedVersion, origin: string) {
  const v = resolved.version;
  return {
    name: v.name,
    version: String(v.version),
    stage: v.currentStage,
    aliases: v.aliases,
    status: v.status,
    ...(v.runId ? { run_id: v.runId } : {}),
    source: v.source,
    files: resolved.files.map((f) => ({ path: f.path, size: f.size, sha256: f.sha256, url: `${origin}${filePath(v.name, v.version, f.path)}` })),
  };
}

/**
 * Serves one file of one version from this location's cache, filling it on a miss. Keyed by the
 * model's immutable id (from the resolution, or the isolate's name → id memory on a plain URL),
 * so a name later taken by another model never serves the old model's bytes.
 */
async function serveFile(c: Context<AppEnv>, name: string, version: number, path: string, modelId?: string, signed = false): Promise<Response> {
  const delivery = c.var.services.delivery;
  const cache = caches.default;
  let key = fileKey({ modelId: modelId ?? (await delivery.modelId(name)), version, path });
  // A revalidation needs no bytes: this isolate may already know the file's (immutable) ETag.
  const known = knownEtag(key);
  if (known && ifNoneMatch(c, known)) return notModified(known, "hit");
  // With a Range header the Cache API answers 206 (or 416) from the stored whole object itself.
  const range = c.req.header("range");
  const lookup = (k: Request) => cache.match(range ? new Request(k, { headers: { range } }) : k);
  let hit = await lookup(key);
  let state = "hit";
  if (!hit) {
    state = "miss";
    const file = await delivery.file(name, String(version), path);
    // A signed URL serves only the model it was signed for, whatever the name stands for now.
    if (signed && file.modelId !== modelId) throw signedForAnotherModel();
    // D1's answer is the truth; the id the key was built from may have been a stale memory.
    key = fileKey({ modelId: file.modelId, version, path });
    const etag = `"${file.sha256}"`;
    if (ifNoneMatch(c, etag)) return notModified(etag, state);
    if (file.size > MAX_CACHEABLE_BYTES) return serveUncached(c, file);
    // Store the whole object, then answer from the stored copy: one code path for full and
    // range requests, and no tee buffering a slow client's backlog in the Worker.
    const blob = await delivery.open(file);
    await cache.put(key, new Response(blob.body, { headers: { ...fileHeaders(file), "cache-control": `public, max-age=${EDGE_FILE_SECONDS}` } }));
    hit = await lookup(key);
    if (!hit) return serveUncached(c, file);
  }
  const etag = hit.headers.get("etag") ?? "";
  if (etag) rememberEtag(key, etag);
  if (ifNoneMatch(c, etag)) {
    await hit.body?.cancel();
    return notModified(etag, state);
  }
  const headers = new Headers(hit.headers);
  headers.set("cache-control", IMMUTABLE);
  headers.set("x-modelgate-cache", state);
  if (c.req.method === "HEAD") {
    await hit.body?.cancel();
    return new Response(null, { status: hit.status, headers });
  }
  return new Response(hit.body, { status: hit.status, headers });
}

function notModified(etag: string, state: string): Response {
  return new Response(null, { status: 304, headers: { etag, "cache-control": IMMUTABLE, "x-modelgate-cache": state } });
}

function fileHeaders(file: ManifestFile): Record<string, string> {
  return {
    etag: `"${file.sha256}"`,
    "content-length": String(file.size),
    "content-type": "application/octet-stream",
    "cache-control": IMMUTABLE,
    "accept-ranges": "bytes",
  };
}

/** Objects over the Cache API's limit stream from R2 directly, ranges included. */
async function serveUncached(c: Context<AppEnv>, file: ManifestFile): Promise<Response> {
  const headers = new Headers({ ...fileHeaders(file), "x-modelgate-cache": "bypass" });
  const range = parseRange(c.req.header("range"), file.size);
  if (range === "unsatisfiable") {
    return new Response(null, { status: 416, headers: { "content-range": `bytes */${file.size}` } });
  }
  if (c.req.method === "HEAD") return new Response(null, { headers });
  if (!range) return new Response((await c.var.services.delivery.open(file)).body, { headers });
  const blob = await c.var.services.delivery.open(file, range);
  headers.set("content-length", String(range.length));
  headers.set("content-range", `bytes ${range.offset}-${range.offset + range.length - 1}/${file.size}`);
  return new Response(blob.body, { status: 206, headers });
}

/** A single `bytes=` range; null means none (or one we ignore, as HTTP allows). */
function parseRange(header: string | undefined, size: number): { offset: number; length: number } | "unsatisfiable" | null {
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

r.on(["GET", "HEAD"], "/models/:name/versions/:version/files/*", requires("read", modelFromParam, { signedUrlAllowed: true }), async (c) => {
  const name = c.req.param("name");
  const version = parseVersion(c.req.param("version"));
  const path = filePathParam(c, VERSION_FILE_SEGMENTS);
  const url = new URL(c.req.url);
  // Immutable: no resolution, so a cache hit touches neither the coordinator, D1 nor R2.
  if (!url.searchParams.has("sig") && !url.searchParams.has("expires")) return serveFile(c, name, version, path);
  // A signed URL is its own credential: it names the exact path and binds the model's id.
  const modelId = await c.var.services.delivery.verifySignedFile(c.req.method, url.pathname, url.searchParams, name);
  return serveFile(c, name, version, path, modelId, true);
});

r.get("/models/:name/versions/:version/archive.tar", requires("read", modelFromParam), async (c) => {
  const delivery = c.var.services.delivery;
  const { version, files } = await delivery.resolve(c.req.param("name"), c.req.param("version"));
  const entries = files.map((f) => ({ path: f.path, size: f.size, open: async () => (await delivery.open(f)).body }));
  return new Response(tarStream(entries), {
    headers: {
      "content-type": "application/x-tar",
      "content-length": String(tarLength(entries)),
      "content-disposition": `attachment; filename="${encodeURIComponent(version.name)}-v${version.version}.tar"`,
      "cache-control": IMMUTABLE,
    },
  });
});

r.post("/models/:name/versions/:version/signed-urls", requires("read", modelFromParam), async (c) => {
  const input = await readInput(c, CreateSignedUrls);
  const urls = await c.var.services.delivery.signedUrls({
    name: c.req.param("name"),
    version: c.req.param("version"),
    paths: input.paths,
    expiresIn: input.expires_in,
    origin: new URL(c.req.url).origin,
    viaR2: c.req.query("via") === "r2",
  });
  return c.json({ signed_urls: urls.map((u) => ({ path: u.path, url: u.url, expires_at: u.expiresAt })) });
});

r.on(["GET", "HEAD"], "/models/:name/:ref/files/*", requires("read", modelFromParam), async (c) => {
  const version = await c.var.services.delivery.resolveVersion(c.req.param("name"), c.req.param("ref"));
  return serveFile(c, version.name, version.version, filePathParam(c, REF_FILE_SEGMENTS), version.modelId);
});

r.get("/models/:name/:ref", requires("read", modelFromParam), async (c) => {
  const name = c.req.param("name");
  const ref = canonicalRef(parseModelRef(c.req.param("ref")));
  const key = resolutionKey(name, ref);
  const ttl = c.var.services.config.resolveTtlSeconds;
  const memo = memoizedResolution(key);
  const cached = memo ? undefined : await caches.default.match(key);
  let body: string;
  let etag: string;
  if (memo) {
    ({ body, etag } = memo);
  } else if (cached) {
    body = await cached.text();
    etag = cached.headers.get("etag") ?? "";
    memoizeResolution(key, body, etag, ttl);
  } else {
    const resolved = await c.var.services.delivery.resolve(name, ref);
    body = JSON.stringify(resolutionJson(resolved, new URL(c.req.url).origin));
    etag = `"${toHex(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(body)))}"`;
    await caches.default.put(key, new Response(body, { headers: { etag, "content-type": "application/json", "cache-control": `max-age=${ttl}` } }));
    memoizeResolution(key, body, etag, ttl);
  }
  const headers = { etag, "cache-control": "no-cache", "x-modelgate-cache": memo || cached ? "hit" : "miss" };
  if (ifNoneMatch(c, etag)) return new Response(null, { status: 304, headers });
  return new Response(body, { headers: { ...headers, "content-type": "application/json" } });
});
