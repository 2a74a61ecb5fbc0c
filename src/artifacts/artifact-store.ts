import type { BlobBody, ByteRange, StoredBlob } from "../domain/artifacts";

/** What the services need from blob storage; the R2 implementation is the only one that knows R2. */
export interface ArtifactStore {
  /** Streams `body` into a new immutable blob, hashing it on the way; `length` null means unknown. */
  put(body: ReadableStream<Uint8Array>, length: number | null): Promise<StoredBlob>;
  get(blobKey: string, range?: ByteRange): Promise<BlobBody | null>;
  delete(blobKeys: string[]): Promise<void>;
  createMultipart(): Promise<{ blobKey: string; uploadId: string }>;
  uploadPart(
    blobKey: string,
    uploadId: string,
    partNumber: number,
    body: ReadableStream<Uint8Array>,
    length: number | null,
  ): Promise<string>;
  completeMultipart(
    blobKey: string,
    uploadId: string,
    parts: { partNumber: number; etag: string }[],
  ): Promise<StoredBlob>;
  abortMultipart(blobKey: string, uploadId: string): Promise<void>;
}
