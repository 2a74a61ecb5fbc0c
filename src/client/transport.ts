import { ModelgateHttpError, ModelgateNetworkError } from "./errors";
import type { ModelgateClientOptions } from "./wire-types";

export const MLFLOW = "/api/2.0/mlflow";
export const MODELGATE = "/api/2.0/modelgate";
export const ARTIFACTS = "/api/2.0/mlflow-artifacts";

/**
 * HTTP for every part of the client: the token (sent only to the server's own origin), JSON calls
 * in MLflow's conventions, paging, and errors as ModelgateErrors.
 */
export class Transport {
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

  /**
   * A JSON call to the registry's REST API, e.g. `api("POST", "/api/2.0/modelgate/tokens", {...})`.
   * A GET sends `body` as the query string (repeated keys for arrays), as MLflow's client does.
   */
  async api<T>(method: string, route: string, body?: unknown): Promise<T> {
    let url = `${this.baseUrl}${route}`;
    const init: RequestInit = { method, headers: { "content-type": "application/json" } };
    if (method === "GET" || method === "HEAD") {
      const query = queryString(body as Record<string, unknown> | undefined);
      if (query) url += `${route.includes("?") ? "&" : "?"}${query}`;
    } else if (body !== undefined) {
      init.body = JSON.stringify(body);
    }
    const res = await this.request(url, init);
    return (await res.json()) as T;
  }

  /** Follows `next_page_token` until the last page (or `limit` items). */
  async allPages<T>(
    key: string,
    fetchPage: (pageToken: string | undefined) => Promise<unknown>,
    limit = Infinity,
  ): Promise<T[]> {
    const items: T[] = [];
    let pageToken: string | undefined;
    do {
      const page = (await fetchPage(pageToken)) as Record<string, unknown> & { next_page_token?: string };
      items.push(...((page[key] as T[] | undefined) ?? []));
      pageToken = page.next_page_token || undefined;
    } while (pageToken && items.length < limit);
    return items.slice(0, limit);
  }

  modelUrl(name: string): string {
    return `${this.baseUrl}/v1/models/${encodeURIComponent(name)}`;
  }

  /** fetch with the token (only to our own origin), errors as ModelgateErrors, 304 passed through. */
  async request(url: string, init: RequestInit = {}): Promise<Response> {
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

/** A response's whole body; a dropped connection is a network error, an abort stays an abort. */
export async function readBody(res: Response, url: string): Promise<ArrayBuffer> {
  try {
    return await res.arrayBuffer();
  } catch (error) {
    if (isAbort(error)) throw error;
    throw new ModelgateNetworkError(url, error);
  }
}

/** MLflow's GET convention: scalars as strings, arrays as repeated keys, undefined left out. */
function queryString(params: Record<string, unknown> | undefined): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params ?? {})) {
    if (value === undefined || value === null) continue;
    for (const item of Array.isArray(value) ? value : [value]) query.append(key, String(item));
  }
  return query.toString();
}

/** The object without its undefined fields: an optional field left out rather than sent as null. */
export function compact<T extends Record<string, unknown>>(object: T): T {
  return Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined)) as T;
}

/** `{key: value}` as MLflow's tag list. */
export function tagList(tags: Record<string, string> | undefined): { key: string; value: string }[] | undefined {
  return tags ? Object.entries(tags).map(([key, value]) => ({ key, value })) : undefined;
}

/** A string literal in MLflow's search-filter syntax. */
export function quote(value: string): string {
  return `'${value.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

export function uploadInit(body: BodyInit, size: number | undefined, signal: AbortSignal | undefined): RequestInit {
  const headers: Record<string, string> = { "content-type": "application/octet-stream" };
  if (size !== undefined) headers["content-length"] = String(size);
  // `duplex` is required by fetch for a stream body; the DOM typings do not know it yet.
  return {
    method: "PUT",
    headers,
    body,
    signal,
    ...(body instanceof ReadableStream ? { duplex: "half" } : {}),
  } as RequestInit;
}

export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

/** Each segment percent-encoded, the slashes kept: how the server spells file URLs. */
export function encodePath(path: string): string {
  return path.split("/").map(encodeURIComponent).join("/");
}

/** The directory part of an artifact path ("" at the root). */
export function dirOf(path: string): string {
  return path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : "";
}

export function isAbort(error: unknown): boolean {
  return error instanceof Error && (error.name === "AbortError" || error.name === "TimeoutError");
}

export function toHex(buffer: ArrayBuffer): string {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
}
