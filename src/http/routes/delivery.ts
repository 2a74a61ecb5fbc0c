import { Hono, type Context } from "hono";
import { InvalidParameterError } from "../../errors";
import { parseVersion } from "../../domain/limits";
import { canonicalRef, parseModelRef } from "../../domain/model-ref";
import { versionKey } from "../../domain/scans";
import { versionArchive } from "../../delivery/archive";
import { contentEtag } from "../../delivery/etags";
import { cachedResolution, withOrigin } from "../../delivery/resolution-cache";
import { versionFile, type WantedFile } from "../../delivery/version-files";
import { signedForAnotherModel } from "../../services/delivery-service";
import { requires, modelFromParam } from "../auth";
import type { AppEnv } from "../context";
import { resolutionJson, signedUrlsJson } from "../delivery-serializers";
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

/** One file of one version from this location's cache (delivery/version-files.ts says where). */
async function serveFile(c: Context<AppEnv>, wanted: WantedFile): Promise<Response> {
  const { key, miss, open } = await versionFile(c.var.services.delivery, wanted);
  return serveCachedFile(c, key, { cacheControl: IMMUTABLE, miss, open });
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
    if (!url.searchParams.has("sig") && !url.searchParams.has("expires")) return serveFile(c, { name, version, path });
    // A signed URL is its own credential: it names the exact path and binds the model's id.
    const modelId = await c.var.services.delivery.verifySignedFile(c.req.method, url.pathname, url.searchParams, name);
    return serveFile(c, { name, version, path, modelId, refuseOtherModel: signedForAnotherModel });
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
  const archive = versionArchive(version.name, version.version, entries);
  return new Response(archive.body, {
    headers: {
      "content-type": "application/x-tar",
      "content-length": String(archive.length),
      "content-disposition": `attachment; filename="${archive.fileName}"`,
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
  const etag = await contentEtag(signature);
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
  return c.json(signedUrlsJson(urls));
});

r.on(["GET", "HEAD"], "/models/:name/:ref/files/*", requires("read", modelFromParam), async (c) => {
  const version = await c.var.services.delivery.resolveVersion(c.req.param("name"), c.req.param("ref"));
  const path = filePathParam(c, REF_FILE_SEGMENTS);
  return serveFile(c, { name: version.name, version: version.version, path, modelId: version.modelId });
});

r.get("/models/:name/:ref", requires("read", modelFromParam), async (c) => {
  const name = c.req.param("name");
  const ref = parseModelRef(c.req.param("ref"));
  const { delivery, scans, config } = c.var.services;
  const answer = await cachedResolution(name, ref, config.resolveTtlSeconds, async () => {
    const resolved = await delivery.resolve(name, canonicalRef(ref));
    // Cached with the answer: a pending scan's verdict shows once the resolution's TTL has passed.
    const scan = (await scans.statusOf([resolved.version])).get(versionKey(resolved.version));
    return JSON.stringify(resolutionJson(resolved, scan));
  });
  const headers = { etag: answer.etag, "cache-control": "no-cache", "x-modelgate-cache": answer.cache };
  if (ifNoneMatch(c, answer.etag)) return new Response(null, { status: 304, headers });
  return new Response(withOrigin(answer.body, new URL(c.req.url).origin), {
    headers: { ...headers, "content-type": "application/json" },
  });
});
