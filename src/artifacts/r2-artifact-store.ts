import { InvalidParameterError } from "../errors";
import type { BlobBody, ByteRange, StoredBlob } from "../domain/artifacts";
import type { ArtifactStore } from "./artifact-store";
import { Sha256, sha256OfStream } from "./hashing-stream";
import { forEachChunk } from "./large-chunks";

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
    const hash = new Sha256();
    if (length !== null) {
      // R2 needs a known length to stream; FixedLengthStream also fails the put if the body is cut short.
      // Each chunk is hashed and written from the same reused buffer (see forEachChunk): no copy, no garbage.
      const fixed = new FixedLengthStream(length);
      const out = fixed.writable.getWriter();
      const writing = forEachChunk(body, length, (chunk) => Promise.all([hash.write(chunk), out.write(chunk)])).then(
        () => out.close(),
        (error: unknown) => fail(out, error),
      );
      const storing = this.bucket.put(blobKey, fixed.readable).catch((error: unknown) => fail(out, error));
      await Promise.all([writing, storing]);
    } else {
      await this.putUnknownLength(blobKey, body, hash);
    }
    return { blobKey, size: hash.size, sha256: await hash.hex() };
  }

  async get(blobKey: string, range?: ByteRange): Promise<BlobBody | null> {
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
    // Nothing to hash here, so the body is piped natively: no chunk passes through JavaScript.
    const fixed = new FixedLengthStream(length);
    const upload = this.bucket.resumeMultipartUpload(blobKey, uploadId);
    const [, part] = await Promise.all([body.pipeTo(fixed.writable), upload.uploadPart(partNumber, fixed.readable)]);
    return part.etag;
  }

  async completeMultipart(
    blobKey: string,
    uploadId: string,
    parts: { partNumber: number; etag: string }[],
  ): Promise<StoredBlob> {
    const upload = this.bucket.resumeMultipartUpload(blobKey, uploadId);
    await upload.complete(parts.map((p) => ({ partNumber: p.partNumber, etag: p.etag })));
    // Parts arrive in any order and in parallel, so the whole-object hash needs one sequential
    // read after assembly; it is piped natively into the digest, holding no chunk in JavaScript.
    const object = await this.bucket.get(blobKey);
    if (!object) throw new Error(`completed multipart object ${blobKey} is missing`);
    return { blobKey, size: object.size, sha256: await sha256OfStream(object.body) };
  }

  async abortMultipart(blobKey: string, uploadId: string): Promise<void> {
    await this.bucket.resumeMultipartUpload(blobKey, uploadId).abort();
  }

  /**
   * Without a length (the MLflow client sends empty files chunked): small bodies in one put, large
   * ones as multipart, parts assembled in one buffer that is reused for every part.
   */
  private async putUnknownLength(blobKey: string, body: ReadableStream<Uint8Array>, hash: Sha256): Promise<void> {
    const part = { buffer: new Uint8Array(PART_SIZE), filled: 0 };
    const parts: R2UploadedPart[] = [];
    const multipart: { upload?: Promise<R2MultipartUpload> } = {};
    const uploadPart = async (bytes: Uint8Array) => {
      multipart.upload ??= this.bucket.createMultipartUpload(blobKey);
      parts.push(await (await multipart.upload).uploadPart(parts.length + 1, bytes));
    };
    try {
      // One read buffer: each chunk is consumed (and a part that fills up uploaded) before the next read.
      await forEachChunk(
        body,
        null,
        async (chunk) => {
          await hash.write(chunk);
          for (let offset = 0; offset < chunk.byteLength; ) {
            const take = Math.min(chunk.byteLength - offset, PART_SIZE - part.filled);
            part.buffer.set(chunk.subarray(offset, offset + take), part.filled);
            part.filled += take;
            offset += take;
            if (part.filled === PART_SIZE) {
              await uploadPart(part.buffer);
              part.filled = 0;
            }
          }
        },
        { buffers: 1 },
      );
      if (!multipart.upload) {
        await this.bucket.put(blobKey, part.buffer.subarray(0, part.filled));
        return;
      }
      if (part.filled > 0) await uploadPart(part.buffer.subarray(0, part.filled));
      await (await multipart.upload).complete(parts);
    } catch (error) {
      await multipart.upload?.then((upload) => upload.abort()).catch(() => undefined);
      throw error;
    }
  }
}

/** Ends a put whose other half failed: aborting the writable errors the readable R2 is consuming, and stops the body's reader. */
function fail(out: WritableStreamDefaultWriter<Uint8Array>, error: unknown): never {
  out.abort(error).catch(() => undefined);
  throw error;
}

function newBlobKey(): string {
  return `blobs/${crypto.randomUUID()}`;
}
