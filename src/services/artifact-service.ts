import { InvalidParameterError, NotFoundError, RegistryError } from "../errors";
import { validateArtifactPath } from "../domain/artifact-path";
import type { ArtifactStore } from "../artifacts/artifact-store";
import type { UrlSigner } from "../artifacts/url-signer";
import { ImmutableArtifactError, type ArtifactRepository, type ListedArtifact } from "../repositories/artifact-repository";

/** R2 multipart allows at most 10,000 parts. */
export const MAX_PARTS = 10_000;
/** How long a multipart part URL stays valid. */
const PART_URL_TTL_SECONDS = 24 * 60 * 60;
export const PART_ROUTE = "/api/2.0/mlflow-artifacts/mpu/part";

export interface Download {
  body: ReadableStream<Uint8Array>;
  size: number;
  sha256: string;
}

/**
 * MLflow's proxied artifact store on R2. Bytes stream straight between the client and R2; the
 * artifact index in D1 maps paths to immutable blobs with their size and sha256.
 */
export class ArtifactService {
  constructor(
    private readonly index: ArtifactRepository,
    private readonly store: ArtifactStore,
    private readonly signer: UrlSigner,
    private readonly clock: () => number = Date.now,
  ) {}

  async upload(path: string, body: ReadableStream<Uint8Array>, length: number | null): Promise<void> {
    validateArtifactPath(path);
    // Refuse before streaming a large body only to throw it away; the trigger stays the real guard.
    if (await this.index.isReferenced(path)) throw new ImmutableArtifactError(path);
    const blob = await this.store.put(body, length);
    await this.publish(() => this.index.record(path, blob, this.clock()), blob.blobKey);
  }

  async download(path: string): Promise<Download> {
    validateArtifactPath(path);
    const object = await this.index.find(path);
    const blob = object && (await this.store.get(object.blobKey));
    if (!object || !blob) throw new NotFoundError(`Artifact '${path}' does not exist.`);
    return { body: blob.body, size: object.size, sha256: object.sha256 };
  }

  list(dir: string): Promise<ListedArtifact[]> {
    return this.index.list(validateArtifactPath(dir.replace(/\/+$/, ""), { allowEmpty: true }));
  }

  async delete(path: string): Promise<void> {
    validateArtifactPath(path);
    const blobs = await this.index.remove(path);
    await this.store.delete(blobs);
  }

  /** Starts an R2 multipart upload and hands back one signed URL per part, each pointing at this Worker. */
  async createMultipart(path: string, numParts: number, origin: string) {
    validateArtifactPath(path);
    if (!Number.isInteger(numParts) || numParts < 1 || numParts > MAX_PARTS) {
      throw new InvalidParameterError(`num_parts must be between 1 and ${MAX_PARTS}, got ${numParts}.`);
    }
    if (await this.index.isReferenced(path)) throw new ImmutableArtifactError(path);
    const { blobKey, uploadId: r2UploadId } = await this.store.createMultipart();
    const uploadId = crypto.randomUUID().replaceAll("-", "");
    await this.index.createUpload({ uploadId, path, blobKey, r2UploadId, numParts }, this.clock());
    const expires = Math.floor(this.clock() / 1000) + PART_URL_TTL_SECONDS;
    const credentials = await Promise.all(
      Array.from({ length: numParts }, async (_, i) => {
        const partPath = `${PART_ROUTE}/${uploadId}/${i + 1}`;
        const query = new URLSearchParams(await this.signer.sign("PUT", partPath, expires));
        return { url: `${origin}${partPath}?${query}`, partNumber: i + 1, headers: {} as Record<string, string> };
      }),
    );
    return { uploadId, credentials };
  }

  /** Checks a part URL's signature (the MLflow client sends parts without credentials). */
  async verifyPartUrl(partPath: string, query: URLSearchParams): Promise<void> {
    const problem = await this.signer.verify("PUT", partPath, query, Math.floor(this.clock() / 1000));
    if (problem) throw new RegistryError("PERMISSION_DENIED", `The part upload URL is not valid: signature ${problem}.`);
  }

  async uploadPart(uploadId: string, partNumber: number, body: ReadableStream<Uint8Array>, length: number | null): Promise<string> {
    const upload = await this.pending(uploadId);
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > upload.numParts) {
      throw new InvalidParameterError(`Part number ${partNumber} is outside 1..${upload.numParts}.`);
    }
    return this.store.uploadPart(upload.blobKey, upload.r2UploadId, partNumber, body, length);
  }

  async completeMultipart(path: string, uploadId: string, parts: { partNumber: number; etag: string }[]): Promise<void> {
    const upload = await this.pending(uploadId, path);
    if (parts.length === 0) throw new InvalidParameterError("A multipart upload needs at least one part.");
    const blob = await this.store.completeMultipart(upload.blobKey, upload.r2UploadId, parts).catch((error: unknown) => {
      throw new InvalidParameterError(`R2 refused to complete the upload: ${error instanceof Error ? error.message : String(error)}`);
    });
    await this.publish(() => this.index.record(path, blob, this.clock(), uploadId), blob.blobKey);
  }

  async abortMultipart(path: string, uploadId: string): Promise<void> {
    const upload = await this.pending(uploadId, path);
    await this.store.abortMultipart(upload.blobKey, upload.r2UploadId);
    await this.index.deleteUpload(uploadId);
  }

  private async pending(uploadId: string, path?: string) {
    const upload = await this.index.findUpload(uploadId);
    if (!upload || (path !== undefined && upload.path !== path)) {
      throw new NotFoundError(`No multipart upload ${uploadId} is in progress${path ? ` for '${path}'` : ""}.`);
    }
    return upload;
  }

  /** Points the path at the new blob; on refusal the new blob goes, on success the replaced one does. */
  private async publish(record: () => Promise<string | null>, blobKey: string): Promise<void> {
    let replaced: string | null;
    try {
      replaced = await record();
    } catch (error) {
      await this.store.delete([blobKey]);
      throw error;
    }
    if (replaced && replaced !== blobKey) await this.store.delete([replaced]);
  }
}
