import { Hono, type Context } from "hono";
import { InvalidParameterError, RegistryError } from "../../errors";
import type { ArtifactCaller } from "../../domain/artifact-roots";
import { requires } from "../auth";
import type { AppEnv } from "../context";
import { fileKey } from "../../delivery/edge-memory";
import { serveCachedFile } from "../edge-cache";
import { readInput } from "../input";
import { multipartTarget } from "../../domain/artifact-path";
import * as S from "../schemas/artifacts";

/** MLflow's proxied artifact API (`mlflow-artifacts:` URIs), mounted at /api/2.0/mlflow-artifacts. */
export const artifactRoutes = new Hono<AppEnv>();
const r = artifactRoutes;

/**
 * The artifact path after `marker` in the request path, percent-decoded (MLflow sends UTF-8,
 * escaped). Escaped `..`, `\` and NUL come through decoded, and validation refuses them.
 */
function pathAfter(c: Context, marker: string): string {
  const pathname = new URL(c.req.url).pathname;
  const at = pathname.indexOf(marker);
  if (at < 0) throw new InvalidParameterError("The request names no artifact path.");
  try {
    return decodeURIComponent(pathname.slice(at + marker.length));
  } catch {
    throw new InvalidParameterError("The artifact path is not valid percent-encoded UTF-8.");
  }
}

function contentLength(c: Context): number | null {
  const header = c.req.header("content-length");
  return header !== undefined && /^\d+$/.test(header) ? Number(header) : null;
}

/** Who is asking, as the artifact rules see it (set by the route's guard; with auth off, the local user). */
function caller(c: Context<AppEnv>): ArtifactCaller {
  const principal = c.var.principal;
  if (!principal) throw new RegistryError("INTERNAL_ERROR", "The artifact route ran without its guard.");
  return principal;
}

function requestBody(c: Context): ReadableStream<Uint8Array> {
  return c.req.raw.body ?? new Response(new Uint8Array()).body!;
}

// Files under a registered version's source folder never change while it is registered: they are
// answered like /v1's files (edge cache keyed by model id, version and manifest path, shared with
// /v1; ETag, Range, HEAD, 304), and their folders are listed from the version's manifest, both
// without a D1 query once this isolate knows the folder. Clients are told to revalidate (no-cache):
// an artifact path, unlike a /v1 URL, is released when its version is deleted.
const SEALED_CACHE_CONTROL = "no-cache";

// Listing first: Hono's `/artifacts/*` would also match the bare `/artifacts`.
r.get("/artifacts", requires("read"), async (c) => {
  const { path } = await readInput(c, S.ListArtifacts);
  const files =
    (await c.var.services.delivery.sealedListing(caller(c), path ?? "")) ??
    (await c.var.services.artifacts.list(caller(c), path ?? ""));
  if (files.length === 0) return c.json({});
  return c.json({
    files: files.map((f) =>
      f.isDir ? { path: f.path, is_dir: true } : { path: f.path, is_dir: false, file_size: f.size },
    ),
  });
});

r.put("/artifacts/*", requires("write"), async (c) => {
  await c.var.services.artifacts.upload(caller(c), pathAfter(c, "/artifacts/"), requestBody(c), contentLength(c));
  return c.json({});
});

r.on(["GET", "HEAD"], "/artifacts/*", requires("read"), async (c) => {
  const path = pathAfter(c, "/artifacts/");
  const { delivery, artifacts } = c.var.services;
  const sealed = await delivery.sealedArtifact(caller(c), path);
  if (sealed) {
    const key = fileKey({ modelId: sealed.modelId, version: sealed.version, path: sealed.file.path });
    return serveCachedFile(c, key, {
      cacheControl: SEALED_CACHE_CONTROL,
      miss: async () => ({ key, file: sealed.file }),
      open: (file, range) => delivery.open(file, range),
    });
  }
  // Unsealed: straight from the index and R2, as it may be replaced at any time.
  const file = await artifacts.download(caller(c), path);
  const headers = {
    "content-type": "application/octet-stream",
    "content-length": String(file.size),
    etag: `"${file.sha256}"`,
  };
  if (c.req.method === "HEAD") {
    await file.body.cancel();
    return new Response(null, { headers });
  }
  return new Response(file.body, { headers });
});

r.delete("/artifacts/*", requires("admin"), async (c) => {
  await c.var.services.artifacts.delete(caller(c), pathAfter(c, "/artifacts/"));
  return c.json({});
});

r.post("/mpu/create/*", requires("write"), async (c) => {
  const { path, num_parts } = await readInput(c, S.CreateMultipartUpload);
  const origin = new URL(c.req.url).origin;
  const upload = await c.var.services.artifacts.createMultipart(
    caller(c),
    multipartTarget(pathAfter(c, "/mpu/create/"), path),
    num_parts,
    origin,
  );
  return c.json({
    upload_id: upload.uploadId,
    credentials: upload.credentials.map((p) => ({ url: p.url, part_number: p.partNumber, headers: p.headers })),
  });
});

r.post("/mpu/complete/*", requires("write"), async (c) => {
  const { path, upload_id, parts } = await readInput(c, S.CompleteMultipartUpload);
  await c.var.services.artifacts.completeMultipart(
    caller(c),
    multipartTarget(pathAfter(c, "/mpu/complete/"), path),
    upload_id,
    parts.map((p) => ({ partNumber: p.part_number, etag: p.etag })),
  );
  return c.json({});
});

r.post("/mpu/abort/*", requires("write"), async (c) => {
  const { path, upload_id } = await readInput(c, S.AbortMultipartUpload);
  await c.var.services.artifacts.abortMultipart(
    caller(c),
    multipartTarget(pathAfter(c, "/mpu/abort/"), path),
    upload_id,
  );
  return c.json({});
});

// Part URLs handed out by mpu/create: the signature in the query string is the credential.
r.put("/mpu/part/:uploadId/:partNumber", requires("public"), async (c) => {
  const url = new URL(c.req.url);
  const artifacts = c.var.services.artifacts;
  await artifacts.verifyPartUrl(url.pathname.replace(/^\/ajax-api\//, "/api/"), url.searchParams);
  const etag = await artifacts.uploadPart(
    c.req.param("uploadId"),
    Number(c.req.param("partNumber")),
    requestBody(c),
    contentLength(c),
  );
  c.header("ETag", etag);
  return c.json({});
});
