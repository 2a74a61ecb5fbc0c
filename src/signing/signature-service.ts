import type { ModelVersion } from "../domain/model";
import { RegistryError } from "../errors";
import { toHex, utf8, sha256 } from "./encoding";
import type { PublicKeyInfo } from "./keys";
import { SigningNotConfiguredError, type ModelSigner } from "./model-signer";
import { REGISTRY_LABEL, resourcesOf, subjectName, type SignedFile } from "./model-signing";
import { signatureKey, type SignatureStore } from "./signature-store";

/**
 * Bumped whenever what a stored signature states changes, so bundles stored under an older format
 * are never served again. 2: the subject names the registry, model and version (review M5); format
 * 1 named the model only, and its bundles (under the old content ids) are left unread.
 */
export const SIGNATURE_FORMAT = 2;

/**
 * A version's model.sig: signed the first time anyone asks for it and kept in R2, so the same bytes
 * are served from then on. Signing needs no file bytes (the manifest holds every sha256, computed
 * when the bytes were stored), so it costs one ECDSA signature, whichever the version's size. A
 * signature whose key has left the rotation is replaced by one from the current key, once.
 */
export class SignatureService {
  private signer: Promise<ModelSigner> | undefined;

  constructor(
    private readonly loadSigner: () => Promise<ModelSigner>,
    private readonly store: SignatureStore,
  ) {}

  private keys(): Promise<ModelSigner> {
    if (!this.signer) {
      this.signer = this.loadSigner();
      // A failed load (the secret missing or malformed) is tried again by the next request.
      this.signer.catch(() => (this.signer = undefined));
    }
    return this.signer;
  }

  /** The model.sig of a READY version whose manifest is `files`. */
  async forVersion(version: ModelVersion, files: readonly SignedFile[]): Promise<string> {
    if (version.status !== "READY")
      throw new RegistryError("INVALID_STATE", `Version ${version.version} of ${version.name} is not READY.`);
    const signer = await this.keys();
    const subject = subjectName({ registry: REGISTRY_LABEL, model: version.name, version: version.version });
    // The subject is part of the content id: after a rename the version is signed again under its new name.
    const contentId = toHex(
      await sha256(utf8.encode(JSON.stringify({ format: SIGNATURE_FORMAT, subject, resources: resourcesOf(files) }))),
    );
    const key = signatureKey(version.modelId, version.version, contentId);
    for (let attempt = 0; attempt < 3; attempt++) {
      const stored = await this.store.get(key);
      if (stored && signer.inRotation(stored.kid)) return stored.bundle;
      const { bundle, kid } = await signer.sign(subject, files);
      if (await this.store.put(key, bundle, kid, stored?.etag)) return bundle;
      // Another request stored its signature first: serve that one, so every caller sees the same bytes.
    }
    throw new RegistryError("TEMPORARILY_UNAVAILABLE", "The version's signature is being written; try again.");
  }

  /** Why this deployment cannot sign (the secret missing or unusable), or null when it can. */
  async unavailable(): Promise<string | null> {
    try {
      await this.keys();
      return null;
    } catch (error) {
      if (error instanceof SigningNotConfiguredError) return error.why;
      throw error;
    }
  }

  /** Every key still in rotation, the signing key first. */
  async publicKeys(): Promise<PublicKeyInfo[]> {
    return (await this.keys()).publicKeys();
  }
}
