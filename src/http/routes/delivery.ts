import { Hono, type Context } from "hono";
import { InvalidParameterError } from "../../errors";
import { parseVersion } from "../../domain/limits";
import { canonicalRef, parseModelRef } from "../../domain/model-ref";
import { tarLength, tarStream } from "../../artifacts/tar-stream";
import { toHex } from "../../artifacts/hashing-stream";
import { filePath, signedForAnotherModel, type ResolvedVersion } from "../../services/delivery-service";
import { type VersionScanStatus, versionKey } from "../../domain/scans";
import { requires, modelFromParam } from "../auth";
import type { AppEnv } from "../context";
import { fileKey, memoizedResolution, memoizeResolution, resolutionKey } from "../../delivery/edge-memory";
import { IMMUTABLE, ifNoneMatch, serveCachedFile } from "../edge-cache";
import { readInput } from "../input";
import { CreateSignedUrls } from "../schemas/delivery";

/** Inference's read path under /v1: resolve refs, download immutable files from the edge cache, sign URLs. */
export const deliveryRoutes = new Hono<AppEnv>();
const r = deliveryRoutes;

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

function resolutionJson(resolved: ResolvedVersion, origin: string, scan: VersionScanStatus | undefined) {
  const v = resolved.version;
  return {
    name: v.name,
    version: String(v.version),
    stage: v.currentStage,
    aliases: v.aliases,
    status: v.status,
    ...(scan ? { scan } : {}),
    ...(v.runId ? { run_id: v.runId } : {}),
    source: v.source,
    files: resolved.files.map((f) => ({
      path: f.path,
      size: f.size,
      sha256: f.sha256,
      url: `${origin}${filePath(v.name, v.version, f.path)}`,
    })),
  };
}

/**
 * Serves one file of one version from this location's cache, filling it on a miss. Keyed by the
 * model's immutable id (from the resolution, or the isolate's name → id memory on a plain URL),
 * so a name later taken by another model never serves the old model's bytes. `signed`: the id is
 * the one the URL was signed for, and D1's answer on a miss must agree.
 */
async function serveFile(
  c: Context<AppEnv>,
  name: string,
  version: number,
  path: string,
  modelId?: string,
  signed = false,
): Promise<Response> {
  const delivery = c.var.services.delivery;
  const key = fileKey({ modelId: modelId ?? (await delivery.modelId(name)), version, path });
  return serveCachedFile(c, key, {
    cacheControl: IMMUTABLE,
    miss: async () => {
      const file = await delivery.file(name, String(version), path);
      // A signed URL serves only the model it was signed for, whatever the name stands for now.
      if (signed && file.modelId !== modelId) throw signedForAnotherModel();
      // D1's answer is the truth; the id the key was built from may have been a stale memory.
      return { key: fileKey({ modelId: file.modelId, version, path }), file };
    },
    open: (file, range) => delivery.open(file, range),
  });
}

r.on(
  ["GET", "HEAD"],
  "/models/:name/versions/:version/files/*",
  requires("read", modelFromParam, { signedUrlAllowed: true }),
  async (c) => {
    const name = c.req.param("name");
    const version = parseVersion(c.req.param("version"));
    const path = filePathParam(c, VERSION_FILE_SEGMENTS);
    const url = new URL(c.req.url);
    // Immutable: no resolution, so a cache hit touches neither the coordinator, D1 nor R2.
    if (!url.searchParams.has("sig") && !url.searchParams.has("expires")) return serveFile(c, name, version, path);
    // A signed URL is its own credential: it names the exact path and binds the model's id.
    const modelId = await c.var.services.delivery.verifySignedFile(c.req.method, url.pathname, url.searchParams, name);
    return serveFile(c, name, version, path, modelId, true);
  },
);

// The archive carries the version's model.sig first (DeliveryService.archive): unpacked, the
// directory verifies with `model_signing verify key` as it is. Without a model-signing key the
// archive is served without it, and x-modelgate-signature says so ("included" / "unavailable").
r.get("/models/:name/versions/:version/archive.tar", requires("read", modelFromParam), async (c) => {
  const { version, entries, signature } = await c.var.services.delivery.archive(
    c.req.param("name"),
    c.req.param("version"),
  );
  return new Response(tarStream(entries), {
    headers: {
      "content-type": "application/x-tar",
      "content-length": String(tarLength(entries)),
      "content-disposition": `attachment; filename="${encodeURIComponent(version.name)}-v${version.version}.tar"`,
      "cache-control": IMMUTABLE,
      "x-modelgate-signature": signature,
    },
  });
});

/**
 * The version's OpenSSF model-signing bundle (docs/supply-chain.md), with the files' authorization.
 * Stable once issued, but not immutable like a file (a key leaving the rotation gets it re-signed),
 * so it is revalidated by ETag rather than cached for a year.
 */
async function serveSignature(c: Context<AppEnv>, name: string, ref: string): Promise<Response> {
  const { version, signature } = await c.var.services.delivery.signed(name, ref);
  const etag = `"${toHex(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(signature)))}"`;
  const headers = {
    etag,
    "cache-control": "no-cache",
    "x-modelgate-version": String(version.version),
  };
  if (ifNoneMatch(c, etag)) return new Response(null, { status: 304, headers });
  return new Response(signature, { headers: { ...headers, "content-type": "application/json" } });
}

r.get("/models/:name/versions/:version/model.sig", requires("read", modelFromParam), (c) =>
  serveSignature(c, c.req.param("name"), String(parseVersion(c.req.param("version")))),
);

r.get("/models/:name/:ref/model.sig", requires("read", modelFromParam), (c) =>
  serveSignature(c, c.req.param("name"), c.req.param("ref")),
);

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
    // Cached with the answer: a pending scan's verdict shows once the resolution's TTL has passed.
    const scan = (await c.var.services.scans.statusOf([resolved.version])).get(versionKey(resolved.version));
    // File URLs are kept relative in the shared answer; each request gets its own origin below, so
    // the first client's Host never reaches the next one through the cache.
    body = JSON.stringify(resolutionJson(resolved, "", scan));
    etag = `"${toHex(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(body)))}"`;
    await caches.default.put(
      key,
      new Response(body, { headers: { etag, "content-type": "application/json", "cache-control": `max-age=${ttl}` } }),
    );
    memoizeResolution(key, body, etag, ttl);
  }
  const headers = { etag, "cache-control": "no-cache", "x-modelgate-cache": memo || cached ? "hit" : "miss" };
  if (ifNoneMatch(c, etag)) return new Response(null, { status: 304, headers });
  return new Response(withOrigin(body, new URL(c.req.url).origin), {
    headers: { ...headers, "content-type": "application/json" },
  });
});

/**
 * A cached resolution with its file URLs made absolute for this request's origin. Only a `url`
 * member can hold `"url":"/v1/` unescaped: inside any JSON string its quotes would be escaped.
 */
function withOrigin(body: string, origin: string): string {
  const absolute = `"url":${JSON.stringify(`${origin}/v1/`).slice(0, -1)}`;
  return body.replaceAll('"url":"/v1/', () => absolute);
}
