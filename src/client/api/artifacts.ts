import type * as Artifacts from "../../http/schemas/artifacts";
import { ModelgateError } from "../errors";
import { ARTIFACTS, dirOf, encodePath, uploadInit, type Transport } from "../transport";
import type { MultipartCredential, MultipartUpload, RequestOf } from "../wire-types";

/** Proxied artifacts (/api/2.0/mlflow-artifacts): single PUTs and multipart uploads. */
export class ArtifactsApi {
  constructor(private readonly http: Transport) {}

  /** PUTs one artifact; `body` may be a stream when `size` is given (sent as Content-Length). */
  async uploadArtifact(
    path: string,
    body: BodyInit,
    size?: number,
    options: { signal?: AbortSignal } = {},
  ): Promise<void> {
    await this.http.request(
      `${this.http.baseUrl}${ARTIFACTS}/artifacts/${encodePath(path)}`,
      uploadInit(body, size, options.signal),
    );
  }

  // As MLflow's client sends them: the URL names the directory, the body's `path` the file
  // (the server stores `<dir>/<basename(path)>`).
  async createMultipartUpload(path: string, numParts: number): Promise<MultipartUpload> {
    const body: RequestOf<typeof Artifacts.CreateMultipartUpload> = { path, num_parts: numParts };
    return this.http.api<MultipartUpload>("POST", `${ARTIFACTS}/mpu/create/${encodePath(dirOf(path))}`, body);
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
    const res = await this.http.request(credential.url, init);
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
    const body: RequestOf<typeof Artifacts.CompleteMultipartUpload> = { path, upload_id: uploadId, parts };
    await this.http.api("POST", `${ARTIFACTS}/mpu/complete/${encodePath(dirOf(path))}`, body);
  }

  async abortMultipartUpload(path: string, uploadId: string): Promise<void> {
    const body: RequestOf<typeof Artifacts.AbortMultipartUpload> = { path, upload_id: uploadId };
    await this.http.api("POST", `${ARTIFACTS}/mpu/abort/${encodePath(dirOf(path))}`, body);
  }
}
