import { AwsClient } from "aws4fetch";
import { InvalidParameterError, NotFoundError, RegistryError } from "../errors";
import { parseVersion } from "../domain/limits";
import { systemClock, type Clock } from "../domain/clock";
import type { ModelVersion } from "../domain/model";
import { parseModelRef } from "../domain/model-ref";
import type { ArtifactStore } from "../artifacts/artifact-store";
import type { SignatureProblem, UrlSigner } from "../artifacts/url-signer";
import type { BlobBody, ListedArtifact, ManifestFile } from "../domain/artifacts";
import type { ArtifactRepository } from "../repositories/artifact-repository";
import { isWithin, type ArtifactCaller } from "../domain/artifact-roots";
import {
  listSealed,
  sealedFolders,
  type SealedFile,
  type SealedFolder,
  type SealedVersion,
} from "../artifacts/sealed-folders";
import { validateArtifactPath } from "../domain/artifact-path";
import type { RegistryService } from "./registry-service";
import type { SignatureService } from "../signing/signature-service";
import { SigningNotConfiguredError } from "../signing/model-signer";
import { SIGNATURE_FILE } from "../signing/model-signing";
import { bytesEntry, type TarEntry } from "../artifacts/tar-stream";

/** A sealed file as the artifact API serves it: its bytes' immutable identity and manifest entry. */
export interface SealedArtifact extends SealedVersion {
  file: SealedFile;
}

export interface ResolvedVersion {
  version: ModelVersion;
  files: ManifestFile[];
}

/** A version with its manifest and its model.sig (the OpenSSF model-signing bundle over that manifest). */
export interface SignedVersion extends ResolvedVersion {
  signature: string;
}

/** A version's archive.tar entries, and whether its model.sig is among them. */
export interface VersionArchive {
  version: ModelVersion;
  entries: TarEntry[];
  /** "unavailable": the deployment has no model-signing key, so the archive carries no model.sig. */
  signature: "included" | "unavailable";
}

export interface R2Presigning {
  accountId: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export interface DeliveryConfig {
  /** How long another location may serve a mutable ref's cached resolution (or name → model id) after it changed. */
  resolveTtlSeconds: number;
  /** Longest lifetime a signed URL may be given. */
  maxSignedUrlSeconds: number;
  defaultSignedUrlSeconds: number;
  r2: R2Presigning | null;
}

export interface SignedUrl {
  path: string;
  url: string;
  expiresAt: number;
}

/** The read path for inference: resolve a ref to a version and its manifest, serve files, sign URLs. */
export class DeliveryService {
  constructor(
    private readonly registry: RegistryService,
    private readonly artifacts: ArtifactRepository,
    private readonly store: ArtifactStore,
    private readonly signer: UrlSigner,
    private readonly signatures: SignatureService,
    private readonly config: DeliveryConfig,
    private readonly clock: Clock = systemClock,
  ) {}

  /** The READY version a ref points at now (one coordinator read, answered from memory). */
  async resolveVersion(name: string, ref: string): Promise<ModelVersion> {
    const version = await this.registry.resolveRef(name, parseModelRef(ref));
    if (version.status !== "READY")
      throw new NotFoundError(`Version ${version.version} of ${name} is not READY (${version.status}).`);
    return version;
  }

  /** The version and its manifest. */
  async resolve(name: string, ref: string): Promise<ResolvedVersion> {
    const version = await this.resolveVersion(name, ref);
    return { version, files: await this.artifacts.manifest(version.modelId, version.version) };
  }

  /** The version a ref points at, its manifest and its model.sig (signed on first request, then kept). */
  async signed(name: string, ref: string): Promise<SignedVersion> {
    const resolved = await this.resolve(name, ref);
    return { ...resolved, signature: await this.signatures.forVersion(resolved.version, resolved.files) };
  }

  /**
   * The entries of a version's archive.tar. model.sig comes first, so a streaming reader has it
   * before the files; a file of the version itself named model.sig at the root is left out (the
   * registry's signature takes its place; model_signing ignores a root model.sig anyway). Without
   * a signing key the archive is still served, without model.sig: downloads keep working on a
   * deployment that has not configured MODELGATE_MODEL_SIGNING_KEYS (the route says so in a header).
   */
  async archive(name: string, version: string): Promise<VersionArchive> {
    const resolved = await this.resolve(name, version);
    let signature: string | null = null;
    try {
      signature = await this.signatures.forVersion(resolved.version, resolved.files);
    } catch (error) {
      if (!(error instanceof SigningNotConfiguredError)) throw error;
    }
    const mtimeMs = resolved.version.creationTime;
    const files = resolved.files
      .filter((f) => f.path !== SIGNATURE_FILE)
      .map((f) => ({ path: f.path, size: f.size, mtimeMs, open: async () => (await this.open(f)).body }));
    return {
      version: resolved.version,
      entries:
        signature === null
          ? files
          : [bytesEntry(SIGNATURE_FILE, new TextEncoder().encode(signature), mtimeMs), ...files],
      signature: signature === null ? "unavailable" : "included",
    };
  }

  /** The immutable id behind a name in a plain file URL, as fresh as a cached resolution. */
  modelId(name: string): Promise<string> {
    return this.registry.modelId(name, this.config.resolveTtlSeconds * 1000);
  }

  async file(name: string, version: string, path: string): Promise<ManifestFile & { modelId: string }> {
    const file = await this.artifacts.versionFile(name, parseVersion(version), path);
    if (!file) throw new NotFoundError(`Version ${version} of model ${name} has no file '${path}'.`);
    return file;
  }

  async open(file: ManifestFile, range?: { offset: number; length: number }): Promise<BlobBody> {
    const blob = await this.store.get(file.blobKey, range);
    if (!blob) throw new RegistryError("INTERNAL_ERROR", `The bytes of '${file.path}' are missing from storage.`);
    return blob;
  }

  // ---- Sealed folders through MLflow's artifact API (issue 19) ------------------------------
  // A registered version's source folder never changes while a version holds it, so the artifact
  // API answers its files like /v1 (same cache key: model id, version, manifest path) and its
  // listings from the manifest. This isolate remembers the folders it looked up (sealedFolders), so
  // a repeat needs no D1 query; a caller narrowed to models is checked against the ids its model
  // names stand for (the same isolate memory /v1 uses). Anything not answered here (an unsealed
  // path, or a narrowed caller whose models do not hold the folder) goes the artifact service's way.

  /** A sealed file the caller may read, with the cache identity of its bytes; null: not answered here. */
  async sealedArtifact(caller: ArtifactCaller, path: string): Promise<SealedArtifact | null> {
    validateArtifactPath(path);
    for (const entry of await this.sealedFoldersHolding(path, false)) {
      const file = entry.byPath.get(path);
      const [holder] = entry.versions;
      if (!file || !holder || !(await this.mayRead(caller, entry))) continue;
      return { ...holder, file };
    }
    return null;
  }

  /** One folder's listing from the manifest of a sealed folder holding it; null: not answered here. */
  async sealedListing(caller: ArtifactCaller, dir: string): Promise<ListedArtifact[] | null> {
    const path = validateArtifactPath(dir.replace(/\/+$/, ""), { allowEmpty: true });
    if (path === "") return null;
    const [entry] = await this.sealedFoldersHolding(path, true);
    if (!entry || !(await this.mayRead(caller, entry))) return null;
    return listSealed(entry, path);
  }

  /** The sealed folders holding `path`, innermost first: from this isolate's memory, else from D1. */
  private async sealedFoldersHolding(path: string, isFolder: boolean): Promise<SealedFolder[]> {
    const remembered = sealedFolders.containing(path);
    if (remembered.length > 0) return remembered;
    const sealing = await this.artifacts.sealing(path, { below: isFolder });
    const byFolder = new Map<string, SealedVersion[]>();
    for (const s of sealing) {
      if (!isWithin(path, s.folder)) continue;
      byFolder.set(s.folder, [...(byFolder.get(s.folder) ?? []), { modelId: s.modelId, version: s.version }]);
    }
    const ttl = this.config.resolveTtlSeconds * 1000;
    const found = await Promise.all(
      [...byFolder].map(async ([folder, versions]) => {
        // Every list in byFolder was made with its first version: a folder's files are any of theirs.
        const holder = versions[0]!;
        const files = await this.artifacts.sealedFiles(holder.modelId, holder.version);
        return sealedFolders.remember(folder, versions, files, ttl);
      }),
    );
    return found.sort((a, b) => b.folder.length - a.folder.length);
  }

  /** An unrestricted caller reads every sealed folder; a narrowed one those of its models' versions. */
  private async mayRead(caller: ArtifactCaller, entry: SealedFolder): Promise<boolean> {
    if (caller.models === null) return true;
    const held = await Promise.all(caller.models.map((name) => this.modelId(name).catch(unlessUnknownModel)));
    return entry.versions.some((v) => held.includes(v.modelId));
  }

  /** Signed, expiring download URLs for a version's files (all of them when `paths` is omitted). */
  async signedUrls(input: {
    name: string;
    version: string;
    paths?: string[];
    expiresIn?: number;
    origin: string;
    viaR2: boolean;
  }): Promise<SignedUrl[]> {
    const version = await this.registry.getVersion(input.name, input.version);
    const manifest = await this.artifacts.manifest(version.modelId, version.version);
    const wanted = input.paths ?? manifest.map((f) => f.path);
    const byPath = new Map(manifest.map((f) => [f.path, f]));
    const missing = wanted.filter((p) => !byPath.has(p));
    if (missing.length > 0)
      throw new NotFoundError(`Version ${input.version} of ${input.name} has no file(s): ${missing.join(", ")}.`);
    const seconds = input.expiresIn ?? this.config.defaultSignedUrlSeconds;
    if (!Number.isInteger(seconds) || seconds < 1 || seconds > this.config.maxSignedUrlSeconds) {
      throw new InvalidParameterError(
        `expires_in must be between 1 and ${this.config.maxSignedUrlSeconds} seconds, got ${seconds}.`,
      );
    }
    const expiresAt = Math.floor(this.clock() / 1000) + seconds;
    if (input.viaR2)
      return this.presignR2(
        wanted.map((p) => byPath.get(p)!),
        seconds,
        expiresAt,
      );
    return Promise.all(
      wanted.map(async (path) => {
        const route = filePath(input.name, version.version, path);
        const query = new URLSearchParams(
          await this.signer.sign("GET", route, expiresAt, modelBinding(version.modelId)),
        );
        return { path, url: `${input.origin}${route}?${query}`, expiresAt };
      }),
    );
  }

  /**
   * Checks a signed file URL and answers the id of the model it was signed for. The signature
   * covers the method, the exact path (name, version, file), the expiry and the model's immutable
   * id: the id `name` stands for now (as fresh as a cached resolution) must be the one signed, so
   * after the model is deleted or renamed and another takes its name, the URL stops working.
   */
  async verifySignedFile(method: string, route: string, query: URLSearchParams, name: string): Promise<string> {
    let modelId: string;
    try {
      modelId = await this.modelId(name);
    } catch (error) {
      if (error instanceof RegistryError && error.code === "RESOURCE_DOES_NOT_EXIST") throw signatureRefused("invalid");
      throw error;
    }
    const problem = await this.signer.verify(
      method,
      route,
      query,
      Math.floor(this.clock() / 1000),
      modelBinding(modelId),
    );
    if (problem) throw signatureRefused(problem);
    return modelId;
  }

  /** R2's own presigned URLs (S3 API): they bypass the Worker, so they are never edge-cached. */
  private async presignR2(files: ManifestFile[], seconds: number, expiresAt: number): Promise<SignedUrl[]> {
    const r2 = this.config.r2;
    if (!r2)
      throw new InvalidParameterError("via=r2 needs R2 S3 credentials, and this deployment has none configured.");
    const client = new AwsClient({
      accessKeyId: r2.accessKeyId,
      secretAccessKey: r2.secretAccessKey,
      service: "s3",
      region: "auto",
    });
    return Promise.all(
      files.map(async (f) => {
        const url = new URL(`https://${r2.accountId}.r2.cloudflarestorage.com/${r2.bucket}/${f.blobKey}`);
        url.searchParams.set("X-Amz-Expires", String(seconds));
        const signed = await client.sign(new Request(url, { method: "GET" }), { aws: { signQuery: true } });
        return { path: f.path, url: signed.url, expiresAt };
      }),
    );
  }
}

/** A model name that names no model (any more) holds nothing; other failures stay failures. */
function unlessUnknownModel(error: unknown): null {
  if (
    error instanceof RegistryError &&
    (error.code === "RESOURCE_DOES_NOT_EXIST" || error.code === "INVALID_PARAMETER_VALUE")
  )
    return null;
  throw error;
}

/** What a file URL's signature binds besides its path: the model's immutable id. */
const modelBinding = (modelId: string) => `model:${modelId}`;

function signatureRefused(problem: SignatureProblem): RegistryError {
  const why = {
    missing: "the URL carries no complete signature (expires, kid, sig)",
    malformed: "the signature parameters are malformed",
    expired: "the URL has expired",
    unknown_key: "the signing key is unknown or retired",
    invalid:
      "the signature does not match this method and path (tampered, used for another path or method, or the model it was signed for was deleted or replaced)",
  }[problem];
  return new RegistryError("PERMISSION_DENIED", `Signed URL refused: ${why}.`);
}

/** A signed URL whose name now stands for another model than the one it was signed for. */
export function signedForAnotherModel(): RegistryError {
  return signatureRefused("invalid");
}

/** The immutable URL path of one file of one version. */
export function filePath(name: string, version: number, path: string): string {
  return `/v1/models/${encodeURIComponent(name)}/versions/${version}/files/${path.split("/").map(encodeURIComponent).join("/")}`;
}
