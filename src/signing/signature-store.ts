// Where a version's model.sig is kept once issued: R2, beside the blobs, under
// `signatures/<model id>/<version>/<content id>.sig`. Version numbers are never reused (a model's
// next_version only grows; a re-created model has a new id), so the path alone names one version.
// The content id is the SHA-256 of what the bundle states (the signature format, the subject: the
// registry, model name and version, and the resources), so a bundle stored under an older format,
// or before a rename, is never served again: it is signed anew. Writes are conditional, so two
// requests signing the same version at once keep one signature between them.

export interface StoredSignature {
  bundle: string;
  /** The key that made it. */
  kid: string;
  /** R2's etag, for a conditional replace. */
  etag: string;
}

export interface SignatureStore {
  get(key: string): Promise<StoredSignature | null>;
  /**
   * Writes `bundle` when nothing is stored at `key` (or, given `replacing`, when the stored object
   * still has that etag). False: another writer got there first; read again.
   */
  put(key: string, bundle: string, kid: string, replacing?: string): Promise<boolean>;
}

export const signatureKey = (modelId: string, version: number, contentId: string) =>
  `signatures/${modelId}/${version}/${contentId}.sig`;

export class R2SignatureStore implements SignatureStore {
  constructor(private readonly bucket: R2Bucket) {}

  async get(key: string): Promise<StoredSignature | null> {
    const object = await this.bucket.get(key);
    if (!object) return null;
    return { bundle: await object.text(), kid: object.customMetadata?.kid ?? "", etag: object.etag };
  }

  async put(key: string, bundle: string, kid: string, replacing?: string): Promise<boolean> {
    const written = await this.bucket.put(key, bundle, {
      httpMetadata: { contentType: "application/json" },
      customMetadata: { kid },
      onlyIf: replacing ? { etagMatches: replacing } : new Headers({ "if-none-match": "*" }),
    });
    return written !== null;
  }
}
