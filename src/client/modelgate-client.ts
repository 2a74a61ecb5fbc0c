// A small client for Modelgate's /v1 read path. It uses only fetch, Web Streams and Web Crypto, so
// the same code runs in Node 20+ and inside a Worker; writing to disk lives in ./pull (Node only).
import { ModelgateError, ModelgateHttpError, ModelgateNetworkError, VerificationError } from "./errors";

export { ModelgateError, ModelgateHttpError, ModelgateNetworkError, UnsafePathError, VerificationError } from "./errors";

export interface ModelFile {
  path: string;
  size: number;
  sha256: string;
  /** The immutable download URL of this file of this version. */
  url: string;
}

/** What `GET /v1/models/{name}/{ref}` answers: the version a ref points at now, and its manifest. */
export interface ResolvedModel {
  name: string;
  version: string;
  stage: string;
  aliases: string[];
  status: string;
  run_id?: string;
  files: ModelFile[];
  /** The resolution's ETag, for `resolveIfChanged`. */
  etag: string | null;
}

export interface SignedUrl {
  path: string;
  url: string;
  /** Unix seconds. */
  expires_at: number;
}

export interface ModelgateClientOptions {
  /** e.g. `http://127.0.0.1:8787` or `https://modelgate.example.com`. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <token>`, only to `baseUrl`'s origin. */
  token?: string;
  /** Defaults to the global fetch; pass one to add retries, tracing or a custom agent. */
  fetch?: typeof fetch;
}

export interface ByteRange {
  start: number;
  /** Inclusive, as in HTTP; omit for "to the end". */
  end?: number;
}

export interface DownloadOptions {
  range?: ByteRange;
  signal?: AbortSignal;
  /** A previously seen ETag: an unchanged file answers 304 with no body. */
  ifNoneMatch?: string;
}

/** A model ref: a stage (`Production`), `@alias`, a version number or `latest`. */
export type ModelRef = string;

export class ModelgateClient {
  readonly baseUrl: string;
  private readonly origin: string;
  private readonly token: string | undefined;
  private readonly fetchImpl: typeof fetch;

  constructor(options: ModelgateClientOptions) {
    const base = new URL(options.baseUrl);
    this.baseUrl = base.href.replace(/\/+$/, "");
    this.origin = base.origin;
    this.token = options.token || undefined;
    // Bound, because a bare `fetch` stored on an object and called as a method throws in Workers.
    this.fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
  }

  /** The version `ref` points at now, with every file's size, sha256 and immutable URL. */
  async resolve(name: string, ref: ModelRef, options: { signal?: AbortSignal } = {}): Promise<ResolvedModel> {
    const res = await this.request(this.resolveUrl(name, ref), { signal: options.signal });
    return parseResolution(res, await res.json());
  }

  /**
   * Like `resolve`, but null when the resolution still has ETag `etag` (a 304, no body): a cheap
   * poll for "has Production moved?".
   */
  async resolveIfChanged(name: string, ref: ModelRef, etag: string, options: { signal?: AbortSignal } = {}): Promise<ResolvedModel | null> {
    const res = await this.request(this.resolveUrl(name, ref), { signal: options.signal, headers: { "if-none-match": etag } });
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
    return this.request(url, { headers, signal: options.signal });
  }

  /**
   * A whole file in memory, checked against its manifest sha256 with Web Crypto (which cannot hash
   * a stream, hence the buffering): for small files, e.g. in a Worker. Use `pull` for large ones.
   */
  async downloadVerified(file: ModelFile, options: { signal?: AbortSignal } = {}): Promise<Uint8Array> {
    const res = await this.fetchFile(file.url, options);
    const bytes = new Uint8Array(await readBody(res, file.url));
    if (bytes.byteLength !== file.size) throw new VerificationError(file.path, `${file.size} bytes`, `${bytes.byteLength} bytes`, "size");
    const actual = toHex(await crypto.subtle.digest("SHA-256", bytes));
    if (actual !== file.sha256) throw new VerificationError(file.path, file.sha256, actual);
    return bytes;
  }

  /** The whole version as one streamed tar. */
  archive(name: string, version: string | number, options: { signal?: AbortSignal } = {}): Promise<Response> {
    return this.request(`${this.modelUrl(name)}/versions/${encodeURIComponent(String(version))}/archive.tar`, options);
  }

  /** Expiring URLs that work without a token (all files when `paths` is omitted). */
  async signedUrls(name: string, version: string | number, options: { paths?: string[]; expiresIn?: number } = {}): Promise<SignedUrl[]> {
    const body: Record<string, unknown> = {};
    if (options.paths) body.paths = options.paths;
    if (options.expiresIn !== undefined) body.expires_in = options.expiresIn;
    const res = await this.request(`${this.modelUrl(name)}/versions/${encodeURIComponent(String(version))}/signed-urls`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return ((await res.json()) as { signed_urls: SignedUrl[] }).signed_urls;
  }

  /** A JSON call to the registry's REST API, e.g. `api("POST", "/api/2.0/modelgate/tokens", {...})`. */
  async api<T>(method: string, route: string, body?: unknown): Promise<T> {
    const res = await this.request(`${this.baseUrl}${route}`, {
      method,
      headers: { "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return (await res.json()) as T;
  }

  fileUrl(name: string, version: string | number, path: string): string {
    return `${this.modelUrl(name)}/versions/${encodeURIComponent(String(version))}/files/${encodePath(path)}`;
  }

  private resolveUrl(name: string, ref: ModelRef): string {
    // `@` is legal in a path segment; keep it literal so the server sees `@alias` as written.
    const encoded = ref.startsWith("@") ? `@${encodeURIComponent(ref.slice(1))}` : encodeURIComponent(ref);
    return `${this.modelUrl(name)}/${encoded}`;
  }

  private modelUrl(name: string): string {
    return `${this.baseUrl}/v1/models/${encodeURIComponent(name)}`;
  }

  /** fetch with the token (only to our own origin), errors as ModelgateErrors, 304 passed through. */
  private async request(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    // A manifest URL may point elsewhere (a CDN, R2 presigned): never hand the token to another origin.
    if (this.token && new URL(url).origin === this.origin) headers.set("authorization", `Bearer ${this.token}`);
    let res: Response;
    try {
      res = await this.fetchImpl(url, { ...init, headers });
    } catch (error) {
      if (isAbort(error)) throw error;
      throw new ModelgateNetworkError(url, error);
    }
    if (res.ok || res.status === 304) return res;
    throw await httpError(res, url);
  }
}

async function httpError(res: Response, url: string): Promise<ModelgateHttpError> {
  const text = await res.text().catch(() => "");
  let code: string | undefined;
  let message = text.trim().slice(0, 300) || res.statusText || "request failed";
  try {
    const body = JSON.parse(text) as { error_code?: unknown; message?: unknown };
    if (typeof body.error_code === "string") code = body.error_code;
    if (typeof body.message === "string") message = body.message;
  } catch {
    // not JSON: keep the text
  }
  return new ModelgateHttpError(res.status, code, url, message);
}

function parseResolution(res: Response, body: unknown): ResolvedModel {
  const b = body as Partial<ResolvedModel>;
  if (typeof b?.version !== "string" || !Array.isArray(b.files)) {
    throw new ModelgateError(`unexpected resolution from ${res.url || "the server"}: no version or files`);
  }
  return { ...(b as ResolvedModel), etag: res.headers.get("etag") };
}

async function readBody(res: Response, url: string): Promise<ArrayBuffer> {
  try {
    return await res.arrayBuffer();
  } catch (error) {
    if (isAbort(error)) throw error;
    throw new ModelgateNetworkError(url, error);
  }
}

/** Each segment percent-encoded, the slashes kept: how the server spells file URLs. */
export function encodePath(path: string): string {
  return path.split("/").map(encodeURIComponent).join("/");
}

export function isAbort(error: unknown): boolean {
  return error instanceof Error && (error.name === "AbortError" || error.name === "TimeoutError");
}

function toHex(buffer: ArrayBuffer): string {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
}
