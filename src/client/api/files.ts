import type * as Delivery from "../../http/schemas/delivery";
import { ModelgateError, VerificationError } from "../errors";
import { compact, encodePath, readBody, toHex, type Transport } from "../transport";
import type { DownloadOptions, ModelFile, ModelRef, RequestOf, ResolvedModel, SignedUrl } from "../wire-types";

/** The /v1 read path: what a ref points at, a version's files, its tar, signed URLs. */
export class FilesApi {
  constructor(private readonly http: Transport) {}

  /** The version `ref` points at now, with every file's size, sha256 and immutable URL. */
  async resolve(name: string, ref: ModelRef, options: { signal?: AbortSignal } = {}): Promise<ResolvedModel> {
    const res = await this.http.request(this.resolveUrl(name, ref), { signal: options.signal });
    return parseResolution(res, await res.json());
  }

  /**
   * Like `resolve`, but null when the resolution still has ETag `etag` (a 304, no body): a cheap
   * poll for "has Production moved?".
   */
  async resolveIfChanged(
    name: string,
    ref: ModelRef,
    etag: string,
    options: { signal?: AbortSignal } = {},
  ): Promise<ResolvedModel | null> {
    const res = await this.http.request(this.resolveUrl(name, ref), {
      signal: options.signal,
      headers: { "if-none-match": etag },
    });
    if (res.status === 304) return null;
    return parseResolution(res, await res.json());
  }

  /**
   * One file of one version as the server's Response (200, 206 for a range, 304 for a matching
   * `ifNoneMatch`); read `body` as a stream. Error statuses throw `ModelgateHttpError`.
   */
  download(name: string, version: string | number, path: string, options: DownloadOptions = {}): Promise<Response> {
    return this.fetchFile(this.fileUrl(name, version, path), options);
  }

  /** GET on a manifest URL (or any URL of a file), with the range and conditional headers. */
  async fetchFile(url: string, options: DownloadOptions = {}): Promise<Response> {
    const headers: Record<string, string> = {};
    if (options.range) headers.range = `bytes=${options.range.start}-${options.range.end ?? ""}`;
    if (options.ifNoneMatch) headers["if-none-match"] = options.ifNoneMatch;
    return this.http.request(url, { headers, signal: options.signal });
  }

  /**
   * A whole file in memory, checked against its manifest sha256 with Web Crypto (which cannot hash
   * a stream, hence the buffering): for small files, e.g. in a Worker. Use `pull` for large ones.
   */
  async downloadVerified(file: ModelFile, options: { signal?: AbortSignal } = {}): Promise<Uint8Array> {
    const res = await this.fetchFile(file.url, options);
    const bytes = new Uint8Array(await readBody(res, file.url));
    if (bytes.byteLength !== file.size)
      throw new VerificationError(file.path, `${file.size} bytes`, `${bytes.byteLength} bytes`, "size");
    const actual = toHex(await crypto.subtle.digest("SHA-256", bytes));
    if (actual !== file.sha256) throw new VerificationError(file.path, file.sha256, actual);
    return bytes;
  }

  /** The whole version as one streamed tar. */
  archive(name: string, version: string | number, options: { signal?: AbortSignal } = {}): Promise<Response> {
    return this.http.request(`${this.versionUrl(name, version)}/archive.tar`, options);
  }

  /** Expiring URLs that work without a token (all files when `paths` is omitted). */
  async signedUrls(
    name: string,
    version: string | number,
    options: { paths?: string[]; expiresIn?: number } = {},
  ): Promise<SignedUrl[]> {
    const body: RequestOf<typeof Delivery.CreateSignedUrls> = compact({
      paths: options.paths,
      expires_in: options.expiresIn,
    });
    const res = await this.http.request(`${this.versionUrl(name, version)}/signed-urls`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return ((await res.json()) as { signed_urls: SignedUrl[] }).signed_urls;
  }

  fileUrl(name: string, version: string | number, path: string): string {
    return `${this.versionUrl(name, version)}/files/${encodePath(path)}`;
  }

  private versionUrl(name: string, version: string | number): string {
    return `${this.http.modelUrl(name)}/versions/${encodeURIComponent(String(version))}`;
  }

  private resolveUrl(name: string, ref: ModelRef): string {
    // `@` is legal in a path segment; keep it literal so the server sees `@alias` as written.
    const encoded = ref.startsWith("@") ? `@${encodeURIComponent(ref.slice(1))}` : encodeURIComponent(ref);
    return `${this.http.modelUrl(name)}/${encoded}`;
  }
}

function parseResolution(res: Response, body: unknown): ResolvedModel {
  const b = body as Partial<ResolvedModel>;
  if (typeof b?.version !== "string" || !Array.isArray(b.files)) {
    throw new ModelgateError(`unexpected resolution from ${res.url || "the server"}: no version or files`);
  }
  return { ...(b as ResolvedModel), etag: res.headers.get("etag") };
}
