import { InvalidParameterError } from "../errors";
import type { ArtifactStore, BlobBody, StoredBlob } from "./artifact-store";
import { hashingStream } from "./hashing-stream";
import { inLargeChunks } from "./large-chunks";

/** R2 multipart parts must be at least 5 MiB (all but the last); bodies of unknown length go up in these. */
const PART_SIZE = 8 * 1024 * 1024;

/**
 * Blobs in R2 under `blobs/<uuid>`: written once, never overwritten. Paths live in D1 (the
 * artifact index) and point at blobs, so replacing a file writes a new blob and an upload cut
 * short never becomes visible under its path.
 */
export class R2ArtifactStore implements ArtifactStore {
  constructor(private readonly bucket: R2Bucket) {}

  async put(body: ReadableStream<Uint8Array>, length: number | null): Promise<StoredBlob> {
    const blobKey = newBlobKey();
    const hash = hashingStream();
    const hashed = inLargeChunks(body).pipeThrough(hash.stream);
    if (length !== null) {
      // R2 needs a known length to stream; FixedLengthStream also fails the put if the body is cut short.
      const fixed = new FixedLengthStream(length);
      await Promise.all([hashed.pipeTo(fixed.writable), this.bucket.put(blobKey, fixed.readable)]);
    } else {
      await this.putUnknownLength(blobKey, hashed);
    }
    return { blobKey, size: hash.size(), sha256: await hash.sha256() };
  }

  async get(blobKey: string, range?: { offset: number; length: number }): Promise<BlobBody | null> {
    const object = await this.bucket.get(blobKey, range ? { range } : undefined);
    if (!object) return null;
    return { body: object.body, size: range ? range.length : object.size };
  }

  async delete(blobKeys: string[]): Promise<void> {
    for (let i = 0; i < blobKeys.length; i += 1000) await this.bucket.delete(blobKeys.slice(i, i + 1000));
  }

  async createMultipart(): Promise<{ blobKey: string; uploadId: string }> {
    const blobKey = newBlobKey();
    const upload = await this.bucket.createMultipartUpload(blobKey);
    return { blobKey, uploadId: upload.uploadId };
  }

  async uploadPart(
    blobKey: string,
    uploadId: string,
    partNumber: number,
    body: ReadableStream<Uint8Array>,
    length: number | null,
  ): Promise<string> {
    if (length === null) throw new InvalidParameterError("A multipart part upload needs a Content-Length header.");
    const fixed = new FixedLengthStream(length);
    const upload = this.bucket.resumeMultipartUpload(blobKey, uploadId);
    const [, part] = await Promise.all([inLargeChunks(body).pipeTo(fixed.writable), upload.uploadPart(partNumber, fixed.readable)]);
    return part.etag;
  }

  async completeMultipart(blobKey: string, uploadId: string, parts: { partNumber: number; etag: string }[]): Promise<StoredBlob> {
    const upload = this.bucket.resumeMultipartUpload(blobKey, uploadId);
    await upload.complete(parts.map((p) => ({ partNumber: p.partNumber, etag: p.etag })));
    // Parts arrive in any order and in parallel, so the whole-object hash needs one sequential
    // read after assembly; it streams, holding one chunk at a time.
    const object = await this.bucket.get(blobKey);
    if (!object) throw new Error(`completed multipart object ${blobKey} is missing`);
    const hash = hashingStream();
    await object.body.pipeThrough(hash.stream).pipeTo(new WritableStream());
    return { blobKey, size: hash.size(), sha256: await hash.sha256() };
  }

  async abortMultipart(blobKey: string, uploadId: string): Promise<void> {
    await this.bucket.resumeMultipartUpload(blobKey, uploadId).abort();
  }

  /** Without a length (the MLflow client sends empty files chunked): small bodies in one put, large ones as multipart. */
  private async putUnknownLength(blobKey: string, body: ReadableStream<Uint8Array>): Promise<void> {
    const reader = body.getReader();
    let buffer = new Uint8Array(PART_SIZE);
    let filled = 0;
    let upload: R2MultipartUpload | null = null;
    const parts: R2UploadedPart[] = [];
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        let offset = 0;
        while (offset < value.byteLength) {
          const take = Math.min(value.byteLength - offset, PART_SIZE - filled);
          buffer.set(value.subarray(offset, offset + take), filled);
          filled += take;
          offset += take;
          if (filled === PART_SIZE) {
            upload ??= await this.bucket.createMultipartUpload(blobKey);
            parts.push(await upload.uploadPart(parts.length + 1, buffer));
            buffer = new Uint8Array(PART_SIZE);
            filled = 0;
          }
        }
      }
      if (!upload) {
        await this.bucket.put(blobKey, buffer.subarray(0, filled));
        return;
      }
      if (filled > 0) parts.push(await upload.uploadPart(parts.length + 1, buffer.subarray(0, filled)));
      await upload.complete(parts);
    } catch (error) {
      await upload?.abort().catch(() => undefined);
      throw error;
    }
  }
}

function newBlobKey(): string {
  return `blobs/${crypto.randomUUID()}`;
}
