import { RegistryError } from "../errors";

/** One entry of an artifact folder listing: a file (with its size) or a folder below it. */
export interface ListedArtifact {
  path: string;
  isDir: boolean;
  size: number | null;
}

/** An immutable blob as storage recorded it: its key, size and SHA-256 (hex). */
export interface StoredBlob {
  blobKey: string;
  size: number;
  sha256: string;
}

/** A blob's bytes (or a range of them) as storage streams them. */
export interface BlobBody {
  body: ReadableStream<Uint8Array>;
  size: number;
}

/** A byte range of a blob: `length` bytes from `offset`. */
export interface ByteRange {
  offset: number;
  length: number;
}

/** One file of a registered version's manifest: its path, size, digest, and the blob holding its bytes. */
export interface ManifestFile {
  path: string;
  size: number;
  sha256: string;
  blobKey: string;
}

/** Refused: the path is in a registered version's source folder, which never changes once registered. */
export class ImmutableArtifactError extends RegistryError {
  constructor(path: string) {
    super(
      "RESOURCE_CONFLICT",
      `Artifact '${path}' is in a registered model version's source folder: nothing there can be added, replaced or deleted.`,
    );
  }
}
