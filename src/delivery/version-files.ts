import type { BlobBody, ByteRange, ManifestFile } from "../domain/artifacts";
import { fileKey } from "./edge-memory";

/** What caching a version's files needs from the read path's service (DeliveryService has it). */
export interface VersionFileReader {
  /** The immutable id a name stands for, as fresh as a cached resolution. */
  modelId(name: string): Promise<string>;
  /** The file as D1 records it now, with the id of the model it belongs to. */
  file(name: string, version: string, path: string): Promise<ManifestFile & { modelId: string }>;
  open(file: ManifestFile, range?: ByteRange): Promise<BlobBody>;
}

export interface WantedFile {
  name: string;
  version: number;
  path: string;
  /** The model's id when the request knows it (from a resolution or a signed URL). */
  modelId?: string;
  /**
   * Set when `modelId` binds (a signed URL's): a miss that finds the name standing for another
   * model now throws this error instead of serving it.
   */
  refuseOtherModel?: () => Error;
}

/** A file's place in this location's cache, and how to fill it on a miss. */
export interface CachedVersionFile {
  key: Request;
  miss(): Promise<{ key: Request; file: ManifestFile }>;
  open(file: ManifestFile, range?: ByteRange): Promise<BlobBody>;
}

/**
 * Where one file of one version is cached: keyed by the model's immutable id (the request's, or
 * this isolate's name → id memory on a plain URL), never its name, so a name later taken by another
 * model never serves the old model's bytes. On a miss D1's answer is the truth: the key is rebuilt
 * from the id it names, since the one it was guessed from may have been a stale memory.
 */
export async function versionFile(reader: VersionFileReader, wanted: WantedFile): Promise<CachedVersionFile> {
  const { name, version, path, refuseOtherModel } = wanted;
  const modelId = wanted.modelId ?? (await reader.modelId(name));
  return {
    key: fileKey({ modelId, version, path }),
    miss: async () => {
      const file = await reader.file(name, String(version), path);
      if (refuseOtherModel && file.modelId !== modelId) throw refuseOtherModel();
      return { key: fileKey({ modelId: file.modelId, version, path }), file };
    },
    open: (file, range) => reader.open(file, range),
  };
}
