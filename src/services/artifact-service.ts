import { InvalidParameterError, NotFoundError, RegistryError } from "../errors";
import { validateArtifactPath } from "../domain/artifact-path";
import type { ArtifactStore } from "../artifacts/artifact-store";
import type { ArtifactCaller, ArtifactOwner } from "../domain/artifact-roots";
import type { UrlSigner } from "../artifacts/url-signer";
import { ImmutableArtifactError, type ListedArtifact } from "../domain/artifacts";
import type { ArtifactRepository } from "../repositories/artifact-repository";
import { type Clock, systemClock } from "../domain/clock";

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

/** What the access rule needs to know about a path (the artifact index answers). */
export interface ArtifactAccessIndex {
  owners(path: string): Promise<ArtifactOwner[]>;
  inVersionOf(path: string, models: readonly string[]): Promise<boolean>;
}

const denied = (path: string, action: "read" | "write") =>
  new RegistryError(
    "PERMISSION_DENIED",
    `This token may not ${action} '${path}': a token narrowed to models ${action === "read" ? "reads" : "writes"} the artifacts of the runs and logged models it created${action === "read" ? " and the files of its models' versions" : ""}, and nothing else.`,
  );

/** A root made by this narrowed caller (never one made by another token, the admin, or auth off). */
const madeBy = (caller: ArtifactCaller) => (owner: ArtifactOwner) =>
  owner.createdByToken !== null && owner.createdByToken === caller.tokenId;

/**
 * Who may read `path` (issue 13): an unrestricted caller anything; a caller narrowed to models what
 * lies under roots it created (every root above the path, so a root nested in another's is not
 * a way in) or in the source folder of a version of a model it holds.
 */
export async function authorizeArtifactRead(
  index: ArtifactAccessIndex,
  caller: ArtifactCaller,
  path: string,
): Promise<void> {
  if (caller.models === null) return;
  const [owners, inHeldVersion] = await Promise.all([index.owners(path), index.inVersionOf(path, caller.models)]);
  if (inHeldVersion || (owners.length > 0 && owners.every(madeBy(caller)))) return;
  throw denied(path, "read");
}

/**
 * MLflow's proxied artifact store on R2. Bytes stream straight between the client and R2; the
 * artifact index in D1 maps paths to immutable blobs with their size and sha256.
 *
 * Artifacts belong to something (issue 13): a write lands only under the artifact root of an
 * existing, active run or logged model; nothing under a registered version's source folder is
 * added, replaced or deleted; a token narrowed to models works only in what it created and reads
 * its models' versions.
 */
export class ArtifactService {
  constructor(
    private readonly index: ArtifactRepository,
    private readonly store: ArtifactStore,
    private readonly signer: UrlSigner,
    private readonly clock: Clock = systemClock,
  ) {}

  async upload(
    caller: ArtifactCaller,
    path: string,
    body: ReadableStream<Uint8Array>,
    length: number | null,
  ): Promise<void> {
    validateArtifactPath(path);
    // Refuse before streaming a large body only to throw it away; the triggers stay the real guard.
    await this.authorizeWrite(caller, path);
    const blob = await this.store.put(body, length);
    await this.publish(() => this.index.record(path, blob, this.clock()), blob.blobKey);
  }

  async download(caller: ArtifactCaller, path: string): Promise<Download> {
    validateArtifactPath(path);
    await authorizeArtifactRead(this.index, caller, path);
    const object = await this.index.find(path);
    const blob = object && (await this.store.get(object.blobKey));
    if (!object || !blob) throw new NotFoundError(`Artifact '${path}' does not exist.`);
    return { body: blob.body, size: object.size, sha256: object.sha256 };
  }

  async list(caller: ArtifactCaller, dir: string): Promise<ListedArtifact[]> {
    const path = validateArtifactPath(dir.replace(/\/+$/, ""), { allowEmpty: true });
    await authorizeArtifactRead(this.index, caller, path);
    return this.index.list(path);
  }

  async delete(caller: ArtifactCaller, path: string): Promise<void> {
    validateArtifactPath(path);
    if (caller.models !== null) {
      const owners = await this.index.owners(path);
      if (owners.length === 0 || !owners.every(madeBy(caller))) throw denied(path, "write");
    }
    // Deleting a folder that holds a version's files is refused by the triggers, all or nothing.
    if (await this.index.isSealed(path)) throw new ImmutableArtifactError(path);
    const blobs = await this.index.remove(path);
    await this.store.delete(blobs);
  }

  /** Starts an R2 multipart upload and hands back one signed URL per part, each pointing at this Worker. */
  async createMultipart(caller: ArtifactCaller, path: string, numParts: number, origin: string) {
    validateArtifactPath(path);
    if (!Number.isInteger(numParts) || numParts < 1 || numParts > MAX_PARTS) {
      throw new InvalidParameterError(`num_parts must be between 1 and ${MAX_PARTS}, got ${numParts}.`);
    }
    await this.authorizeWrite(caller, path);
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
    if (problem)
      throw new RegistryError("PERMISSION_DENIED", `The part upload URL is not valid: signature ${problem}.`);
  }

  async uploadPart(
    uploadId: string,
    partNumber: number,
    body: ReadableStream<Uint8Array>,
    length: number | null,
  ): Promise<string> {
    const upload = await this.pending(uploadId);
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > upload.numParts) {
      throw new InvalidParameterError(`Part number ${partNumber} is outside 1..${upload.numParts}.`);
    }
    return this.store.uploadPart(upload.blobKey, upload.r2UploadId, partNumber, body, length);
  }

  async completeMultipart(
    caller: ArtifactCaller,
    path: string,
    uploadId: string,
    parts: { partNumber: number; etag: string }[],
  ): Promise<void> {
    const upload = await this.pending(uploadId, path);
    if (parts.length === 0) throw new InvalidParameterError("A multipart upload needs at least one part.");
    // The run may have been deleted, or the folder sealed, since the upload began.
    await this.authorizeWrite(caller, path);
    const blob = await this.store
      .completeMultipart(upload.blobKey, upload.r2UploadId, parts)
      .catch((error: unknown) => {
        throw new InvalidParameterError(
          `R2 refused to complete the upload: ${error instanceof Error ? error.message : String(error)}`,
        );
      });
    await this.publish(() => this.index.record(path, blob, this.clock(), uploadId), blob.blobKey);
  }

  async abortMultipart(caller: ArtifactCaller, path: string, uploadId: string): Promise<void> {
    const upload = await this.pending(uploadId, path);
    if (caller.models !== null) {
      const owners = await this.index.owners(path);
      if (owners.length === 0 || !owners.every(madeBy(caller))) throw denied(path, "write");
    }
    await this.store.abortMultipart(upload.blobKey, upload.r2UploadId);
    await this.index.deleteUpload(uploadId);
  }

  /**
   * A write must land strictly below the root of an existing, active run or logged model (the
   * innermost one), every root above it made by a narrowed caller itself, and outside every
   * registered version's folder.
   */
  private async authorizeWrite(caller: ArtifactCaller, path: string): Promise<void> {
    const owners = (await this.index.owners(path)).filter((o) => o.root !== path);
    if (!owners[0]?.active) {
      throw new NotFoundError(
        `No active run or logged model has an artifact root above '${path}': artifacts are written under the artifact_uri of a run or logged model.`,
      );
    }
    if (caller.models !== null && !owners.every(madeBy(caller))) throw denied(path, "write");
    if (await this.index.isSealed(path)) throw new ImmutableArtifactError(path);
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
