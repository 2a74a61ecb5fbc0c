import type { VersionScanStatus } from "../domain/scans";
import { filePath, type ResolvedVersion, type SignedUrl } from "../services/delivery-service";

/**
 * /v1's resolution of a ref. File URLs are relative (`/v1/...`): the answer is shared through the
 * caches, and each response makes them absolute for its own request (delivery/resolution-cache.ts).
 */
export function resolutionJson(resolved: ResolvedVersion, scan: VersionScanStatus | undefined) {
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
      url: filePath(v.name, v.version, f.path),
    })),
  };
}

/** A signed-URL answer (CreateSignedUrls' reply). */
export function signedUrlsJson(urls: SignedUrl[]) {
  return { signed_urls: urls.map((u) => ({ path: u.path, url: u.url, expires_at: u.expiresAt })) };
}
