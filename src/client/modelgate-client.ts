// A small client for Modelgate's /v1 read path. It uses only fetch, Web Streams and Web Crypto, so
// the same code runs in Node 20+ and inside a Worker; writing to disk lives in ./pull (Node only).
import { ModelgateError, ModelgateHttpError, ModelgateNetworkError, VerificationError } from "./errors";

export {
  ModelgateError,
  ModelgateHttpError,
  ModelgateNetworkError,
  UnsafePathError,
  VerificationError,
} from "./errors";

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

// Wire shapes of the REST API, as the server answers them (MLflow's snake_case, versions as strings).

export interface TagJson {
  key: string;
  value: string;
}

export interface ModelVersionJson {
  name: string;
  version: string;
  creation_timestamp?: number;
  last_updated_timestamp?: number;
  user_id?: string;
  current_stage?: string;
  description?: string;
  source?: string;
  run_id?: string;
  status?: "PENDING_REGISTRATION" | "FAILED_REGISTRATION" | "READY";
  status_message?: string;
  tags?: TagJson[];
  run_link?: string;
  aliases?: string[];
  model_id?: string;
}

export interface RegisteredModelJson {
  name: string;
  creation_timestamp?: number;
  last_updated_timestamp?: number;
  user_id?: string;
  description?: string;
  latest_versions?: ModelVersionJson[];
  tags?: TagJson[];
  aliases?: { alias: string; version: string }[];
}

export interface TransitionJson {
  version: string;
  from_stage?: string;
  to_stage: string;
  actor?: string;
  comment?: string;
  timestamp: number;
}

/** What the rollback endpoint answers: the version now in Production and the one it archived. */
export interface RollbackJson {
  model_version: ModelVersionJson;
  archived_version?: string;
}

/**
 * A stage transition and the versions it archived (as `promote` reports it): `archived_versions`
 * is null when the history could not be read after the transition succeeded.
 */
export interface PromotionJson {
  model_version: ModelVersionJson;
  archived_versions: string[] | null;
}

/** A promotion policy as the server answers it; rules pass through as JSON. */
export interface PolicyRecordJson {
  policy: { Staging?: Record<string, unknown>[]; Production?: Record<string, unknown>[] };
  updated_by?: string;
  updated_time?: number;
  /** Each rule in words, per stage. */
  description?: Record<string, string[]>;
}

export interface RunJson {
  info: {
    run_id: string;
    experiment_id: string;
    run_name?: string;
    status?: string;
    artifact_uri: string;
    [key: string]: unknown;
  };
  data?: { metrics?: { key: string; value: number }[]; params?: TagJson[]; tags?: TagJson[] };
}

export interface MultipartCredential {
  url: string;
  part_number: number;
  headers?: Record<string, string>;
}

export interface MultipartUpload {
  upload_id: string;
  credentials: MultipartCredential[];
}

/** MLflow 3's webhook event: `{entity: "model_version", action: "created"}`. */
export interface WebhookEvent {
  entity: string;
  action: string;
}

export interface WebhookJson {
  webhook_id: string;
  name: string;
  description?: string;
  url: string;
  events: WebhookEvent[];
  status?: "ACTIVE" | "DISABLED";
  creation_timestamp?: number;
  last_updated_timestamp?: number;
  [key: string]: unknown;
}

export interface WebhookTestResultJson {
  success: boolean;
  response_status?: number;
  response_body?: string;
  error_message?: string;
}

/** One recorded delivery attempt (Modelgate's delivery log); fields beyond these pass through. */
export interface DeliveryJson {
  [key: string]: unknown;
}

export interface TokenJson {
  id: string;
  name: string;
  scopes: string[];
  models?: string[];
  expires_at?: number;
  last_used_at?: number;
  revoked_at?: number;
}

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
  async resolveIfChanged(
    name: string,
    ref: ModelRef,
    etag: string,
    options: { signal?: AbortSignal } = {},
  ): Promise<ResolvedModel | null> {
    const res = await this.request(this.resolveUrl(name, ref), {
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
    return this.request(url, { headers, signal: options.signal });
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
    return this.request(`${this.modelUrl(name)}/versions/${encodeURIComponent(String(version))}/archive.tar`, options);
  }

  /** Expiring URLs that work without a token (all files when `paths` is omitted). */
  async signedUrls(
    name: string,
    version: string | number,
    options: { paths?: string[]; expiresIn?: number } = {},
  ): Promise<SignedUrl[]> {
    const body: Record<string, unknown> = {};
    if (options.paths) body.paths = options.paths;
    if (options.expiresIn !== undefined) body.expires_in = options.expiresIn;
    const res = await this.request(
      `${this.modelUrl(name)}/versions/${encodeURIComponent(String(version))}/signed-urls`,
      {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      },
    );
    return ((await res.json()) as { signed_urls: SignedUrl[] }).signed_urls;
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

  // ---- Model registry (MLflow's /api/2.0/mlflow tree, wire JSON as the server answers it) ----

  /** Every registered model matching `filter` (MLflow search syntax), all pages. */
  async listModels(options: { filter?: string } = {}): Promise<RegisteredModelJson[]> {
    return this.allPages("registered_models", (page_token) =>
      this.api("GET", `${MLFLOW}/registered-models/search`, { filter: options.filter, max_results: 1000, page_token }),
    );
  }

  async getModel(name: string): Promise<RegisteredModelJson> {
    return (
      await this.api<{ registered_model: RegisteredModelJson }>("GET", `${MLFLOW}/registered-models/get`, { name })
    ).registered_model;
  }

  /** Creates the model; an existing one is returned unchanged when `existOk`. */
  async createModel(
    name: string,
    options: { description?: string; existOk?: boolean } = {},
  ): Promise<RegisteredModelJson> {
    try {
      const body = { name, ...(options.description === undefined ? {} : { description: options.description }) };
      return (
        await this.api<{ registered_model: RegisteredModelJson }>("POST", `${MLFLOW}/registered-models/create`, body)
      ).registered_model;
    } catch (error) {
      if (options.existOk && error instanceof ModelgateHttpError && error.errorCode === "RESOURCE_ALREADY_EXISTS")
        return this.getModel(name);
      throw error;
    }
  }

  /** Every version of `name`, newest number first (the server's order), following page tokens. */
  async listVersions(name: string): Promise<ModelVersionJson[]> {
    return (await this.versionsFrom(name)).versions;
  }

  /**
   * `name`'s versions, newest number first, from `pageToken` (a token an earlier call answered) on:
   * at most `limit` of them, fetched a page at a time, and the token to go on from when more remain.
   * The server pages by key, so starting deep in a long list costs what starting at the top does.
   */
  async versionsFrom(
    name: string,
    options: { limit?: number; pageToken?: string } = {},
  ): Promise<{ versions: ModelVersionJson[]; nextPageToken: string | null }> {
    const limit = options.limit ?? Infinity;
    const versions: ModelVersionJson[] = [];
    let pageToken = options.pageToken || undefined;
    while (versions.length < limit) {
      const page = await this.api<{ model_versions?: ModelVersionJson[]; next_page_token?: string }>(
        "GET",
        `${MLFLOW}/model-versions/search`,
        {
          filter: `name = ${quote(name)}`,
          order_by: ["version_number DESC"],
          max_results: Math.min(VERSIONS_PER_REQUEST, limit - versions.length),
          page_token: pageToken,
        },
      );
      versions.push(...(page.model_versions ?? []));
      pageToken = page.next_page_token || undefined;
      if (!pageToken) break;
    }
    return { versions, nextPageToken: pageToken ?? null };
  }

  async getVersion(name: string, version: string | number): Promise<ModelVersionJson> {
    return (
      await this.api<{ model_version: ModelVersionJson }>("GET", `${MLFLOW}/model-versions/get`, {
        name,
        version: String(version),
      })
    ).model_version;
  }

  async createVersion(input: {
    name: string;
    source: string;
    runId?: string;
    description?: string;
    tags?: Record<string, string>;
  }): Promise<ModelVersionJson> {
    const body = compact({
      name: input.name,
      source: input.source,
      run_id: input.runId,
      description: input.description,
      tags: input.tags ? Object.entries(input.tags).map(([key, value]) => ({ key, value })) : undefined,
    });
    return (await this.api<{ model_version: ModelVersionJson }>("POST", `${MLFLOW}/model-versions/create`, body))
      .model_version;
  }

  /**
   * Polls until the version is READY (resolves to it) or FAILED_REGISTRATION (throws with the
   * server's status message); MLflow's client does the same after model-versions/create.
   */
  async waitUntilReady(
    name: string,
    version: string | number,
    options: { timeoutMs?: number; intervalMs?: number; signal?: AbortSignal } = {},
  ): Promise<ModelVersionJson> {
    const deadline = Date.now() + (options.timeoutMs ?? 300_000);
    for (;;) {
      const current = await this.getVersion(name, version);
      if (current.status === "READY" || current.status === undefined) return current;
      if (current.status === "FAILED_REGISTRATION") {
        throw new ModelgateError(
          `version ${current.version} of '${name}' failed registration: ${current.status_message ?? "no reason given"}`,
        );
      }
      if (Date.now() > deadline)
        throw new ModelgateError(
          `version ${current.version} of '${name}' is still ${current.status} after ${Math.round((options.timeoutMs ?? 300_000) / 1000)} s`,
        );
      await delay(options.intervalMs ?? 500, options.signal);
    }
  }

  async transitionStage(input: {
    name: string;
    version: string | number;
    stage: string;
    archiveExisting?: boolean;
    comment?: string;
  }): Promise<ModelVersionJson> {
    const body = compact({
      name: input.name,
      version: String(input.version),
      stage: input.stage,
      archive_existing_versions: input.archiveExisting ?? false,
      comment: input.comment,
    });
    return (
      await this.api<{ model_version: ModelVersionJson }>("POST", `${MLFLOW}/model-versions/transition-stage`, body)
    ).model_version;
  }

  /**
   * `transitionStage`, then the versions that transition archived (the previous Production
   * version; with `archiveExisting` the others in the target stage too), read from the history.
   * The server records them in the transition's own batch: rows to Archived with the same instant
   * as the promoted version's update and the comment naming it (ModelWriter.transition), so a
   * change made meanwhile by someone else is not mistaken for them.
   */
  async promote(input: {
    name: string;
    version: string | number;
    stage: string;
    archiveExisting?: boolean;
    comment?: string;
  }): Promise<PromotionJson> {
    const promoted = await this.transitionStage(input);
    const stage = promoted.current_stage ?? input.stage;
    // Only a move to Production, or with archive_existing_versions to Staging, archives anything.
    if (stage !== "Production" && !(input.archiveExisting && stage === "Staging"))
      return { model_version: promoted, archived_versions: [] };
    let rows: TransitionJson[];
    try {
      rows = await this.listTransitions(input.name, { limit: 100 });
    } catch {
      return { model_version: promoted, archived_versions: null };
    }
    const comment = `Archived by the transition of version ${promoted.version} to ${stage}`;
    const archived = rows
      .filter(
        (t) =>
          t.to_stage === "Archived" &&
          t.comment === comment &&
          (promoted.last_updated_timestamp === undefined || t.timestamp === promoted.last_updated_timestamp),
      )
      .map((t) => t.version);
    return { model_version: promoted, archived_versions: [...new Set(archived)].sort((a, b) => Number(a) - Number(b)) };
  }

  async setVersionTag(name: string, version: string | number, key: string, value: string): Promise<void> {
    await this.api("POST", `${MLFLOW}/model-versions/set-tag`, { name, version: String(version), key, value });
  }

  async setAlias(name: string, alias: string, version: string | number): Promise<void> {
    await this.api("POST", `${MLFLOW}/registered-models/alias`, { name, alias, version: String(version) });
  }

  async deleteAlias(name: string, alias: string): Promise<void> {
    await this.api("DELETE", `${MLFLOW}/registered-models/alias`, { name, alias });
  }

  async getVersionByAlias(name: string, alias: string): Promise<ModelVersionJson> {
    return (
      await this.api<{ model_version: ModelVersionJson }>("GET", `${MLFLOW}/registered-models/alias`, { name, alias })
    ).model_version;
  }

  /**
   * Restores the previous Production version, or `to`, an earlier Production version
   * (`POST /api/2.0/modelgate/registered-models/rollback`).
   */
  async rollback(name: string, options: { to?: string | number; comment?: string } = {}): Promise<RollbackJson> {
    const version = options.to === undefined ? undefined : String(options.to);
    return this.api<RollbackJson>(
      "POST",
      `${MODELGATE}/registered-models/rollback`,
      compact({ name, version, comment: options.comment }),
    );
  }

  /** Stage transitions of a model (or one version), newest first, up to `limit`. */
  async listTransitions(
    name: string,
    options: { version?: string | number; limit?: number } = {},
  ): Promise<TransitionJson[]> {
    const limit = options.limit ?? Infinity;
    return this.allPages<TransitionJson>(
      "transitions",
      (page_token) =>
        this.api("GET", `${MODELGATE}/model-versions/transitions`, {
          name,
          version: options.version === undefined ? undefined : String(options.version),
          max_results: Math.min(limit, 1000),
          page_token,
        }),
      limit,
    );
  }

  /** A model's promotion policy (`{policy: {}}` when it has none). */
  async getPolicy(name: string): Promise<PolicyRecordJson> {
    return this.api("GET", `${MODELGATE}/registered-models/policy`, { name });
  }

  /** Replaces the model's policy: `{"Staging": [rules], "Production": [rules]}`. */
  async setPolicy(name: string, policy: unknown): Promise<PolicyRecordJson> {
    return this.api("PUT", `${MODELGATE}/registered-models/policy`, { name, policy });
  }

  async deletePolicy(name: string): Promise<void> {
    await this.api("DELETE", `${MODELGATE}/registered-models/policy`, { name });
  }

  // ---- Tracking (runs and experiments) ----

  async createRun(
    input: { experimentId?: string; runName?: string; tags?: Record<string, string> } = {},
  ): Promise<RunJson> {
    const body = compact({
      experiment_id: input.experimentId ?? "0",
      run_name: input.runName,
      start_time: Date.now(),
      tags: input.tags ? Object.entries(input.tags).map(([key, value]) => ({ key, value })) : undefined,
    });
    return (await this.api<{ run: RunJson }>("POST", `${MLFLOW}/runs/create`, body)).run;
  }

  async getRun(runId: string): Promise<RunJson> {
    return (await this.api<{ run: RunJson }>("GET", `${MLFLOW}/runs/get`, { run_id: runId })).run;
  }

  async finishRun(runId: string, status: "FINISHED" | "FAILED" | "KILLED" = "FINISHED"): Promise<void> {
    await this.api("POST", `${MLFLOW}/runs/update`, { run_id: runId, status, end_time: Date.now() });
  }

  async logMetric(runId: string, key: string, value: number, step = 0): Promise<void> {
    await this.api("POST", `${MLFLOW}/runs/log-metric`, { run_id: runId, key, value, timestamp: Date.now(), step });
  }

  /** The experiment's id, creating the experiment when it does not exist yet. */
  async experimentId(name: string): Promise<string> {
    try {
      return (
        await this.api<{ experiment: { experiment_id: string } }>("GET", `${MLFLOW}/experiments/get-by-name`, {
          experiment_name: name,
        })
      ).experiment.experiment_id;
    } catch (error) {
      if (!(error instanceof ModelgateHttpError && error.errorCode === "RESOURCE_DOES_NOT_EXIST")) throw error;
      return (await this.api<{ experiment_id: string }>("POST", `${MLFLOW}/experiments/create`, { name }))
        .experiment_id;
    }
  }

  // ---- Proxied artifacts (/api/2.0/mlflow-artifacts) ----

  /** PUTs one artifact; `body` may be a stream when `size` is given (sent as Content-Length). */
  async uploadArtifact(
    path: string,
    body: BodyInit,
    size?: number,
    options: { signal?: AbortSignal } = {},
  ): Promise<void> {
    await this.request(
      `${this.baseUrl}${ARTIFACTS}/artifacts/${encodePath(path)}`,
      uploadInit(body, size, options.signal),
    );
  }

  // As MLflow's client sends them: the URL names the directory, the body's `path` the file
  // (the server stores `<dir>/<basename(path)>`).
  async createMultipartUpload(path: string, numParts: number): Promise<MultipartUpload> {
    return this.api<MultipartUpload>("POST", `${ARTIFACTS}/mpu/create/${encodePath(dirOf(path))}`, {
      path,
      num_parts: numParts,
    });
  }

  /** PUTs one part to the (self-authenticating) URL `mpu/create` handed out; resolves to its ETag. */
  async uploadPart(
    credential: MultipartCredential,
    body: BodyInit,
    size: number,
    options: { signal?: AbortSignal } = {},
  ): Promise<string> {
    const init = uploadInit(body, size, options.signal);
    for (const [key, value] of Object.entries(credential.headers ?? {}))
      (init.headers as Record<string, string>)[key] = value;
    const res = await this.request(credential.url, init);
    await res.body?.cancel();
    const etag = res.headers.get("etag");
    if (!etag) throw new ModelgateError(`part ${credential.part_number}: the server answered without an ETag`);
    return etag;
  }

  async completeMultipartUpload(
    path: string,
    uploadId: string,
    parts: { part_number: number; etag: string }[],
  ): Promise<void> {
    await this.api("POST", `${ARTIFACTS}/mpu/complete/${encodePath(dirOf(path))}`, {
      path,
      upload_id: uploadId,
      parts,
    });
  }

  async abortMultipartUpload(path: string, uploadId: string): Promise<void> {
    await this.api("POST", `${ARTIFACTS}/mpu/abort/${encodePath(dirOf(path))}`, { path, upload_id: uploadId });
  }

  // ---- Webhooks (MLflow 3's /api/2.0/mlflow/webhooks; delivery log under /api/2.0/modelgate) ----

  async listWebhooks(): Promise<WebhookJson[]> {
    return this.allPages("webhooks", (page_token) =>
      this.api("GET", `${MLFLOW}/webhooks`, { max_results: 1000, page_token }),
    );
  }

  /** `modelName` (Modelgate's extension) limits the webhook to one registered model's events. */
  async createWebhook(input: {
    name: string;
    url: string;
    events: WebhookEvent[];
    secret?: string;
    description?: string;
    status?: "ACTIVE" | "DISABLED";
    modelName?: string;
  }): Promise<WebhookJson> {
    const { modelName, ...rest } = input;
    return (
      await this.api<{ webhook: WebhookJson }>(
        "POST",
        `${MLFLOW}/webhooks`,
        compact({ ...rest, model_name: modelName }),
      )
    ).webhook;
  }

  async deleteWebhook(id: string): Promise<void> {
    await this.api("DELETE", `${MLFLOW}/webhooks/${encodeURIComponent(id)}`, {});
  }

  /** Sends a test event to the webhook's URL now; answers how the receiver responded. */
  async testWebhook(
    id: string,
    event?: WebhookEvent,
  ): Promise<{ result: WebhookTestResultJson; delivery_id?: string }> {
    return this.api("POST", `${MLFLOW}/webhooks/${encodeURIComponent(id)}/test`, event ? { event } : {});
  }

  /** Every recorded delivery attempt of a webhook, newest first (as the server orders them), up to `limit`. */
  async listDeliveries(id: string, options: { limit?: number } = {}): Promise<DeliveryJson[]> {
    const limit = options.limit ?? Infinity;
    return this.allPages<DeliveryJson>(
      "deliveries",
      (page_token) =>
        this.api("GET", `${MODELGATE}/webhooks/${encodeURIComponent(id)}/deliveries`, {
          max_results: Math.min(limit, 1000),
          page_token,
        }),
      limit,
    );
  }

  /** Sends a dead or failed delivery again (the server refuses any other with RESOURCE_CONFLICT). */
  async replayDelivery(id: string, deliveryId: string): Promise<DeliveryJson> {
    const route = `${MODELGATE}/webhooks/${encodeURIComponent(id)}/deliveries/${encodeURIComponent(deliveryId)}/replay`;
    return (await this.api<{ delivery: DeliveryJson }>("POST", route, {})).delivery;
  }

  // ---- Tokens (needs an admin token) ----

  async createToken(input: {
    name: string;
    scopes: string[];
    models?: string[];
    expiresIn?: number;
  }): Promise<{ token: TokenJson; secret: string }> {
    return this.api(
      "POST",
      `${MODELGATE}/tokens`,
      compact({ name: input.name, scopes: input.scopes, models: input.models, expires_in: input.expiresIn }),
    );
  }

  async listTokens(): Promise<TokenJson[]> {
    return (await this.api<{ tokens: TokenJson[] }>("GET", `${MODELGATE}/tokens`)).tokens;
  }

  async revokeToken(id: string): Promise<void> {
    await this.api("DELETE", `${MODELGATE}/tokens/${encodeURIComponent(id)}`, {});
  }

  /** Follows `next_page_token` until the last page (or `limit` items). */
  private async allPages<T>(
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

const MLFLOW = "/api/2.0/mlflow";
const MODELGATE = "/api/2.0/modelgate";
/** Versions per search request when listing a model's versions: pages of a thousand, each a keyset seek. */
const VERSIONS_PER_REQUEST = 1000;
const ARTIFACTS = "/api/2.0/mlflow-artifacts";

/** MLflow's GET convention: scalars as strings, arrays as repeated keys, undefined left out. */
function queryString(params: Record<string, unknown> | undefined): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params ?? {})) {
    if (value === undefined || value === null) continue;
    for (const item of Array.isArray(value) ? value : [value]) query.append(key, String(item));
  }
  return query.toString();
}

function compact<T extends Record<string, unknown>>(object: T): Partial<T> {
  return Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** A string literal in MLflow's search-filter syntax. */
function quote(value: string): string {
  return `'${value.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

function uploadInit(body: BodyInit, size: number | undefined, signal: AbortSignal | undefined): RequestInit {
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

function delay(ms: number, signal?: AbortSignal): Promise<void> {
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
function dirOf(path: string): string {
  return path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : "";
}

export function isAbort(error: unknown): boolean {
  return error instanceof Error && (error.name === "AbortError" || error.name === "TimeoutError");
}

function toHex(buffer: ArrayBuffer): string {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
}
