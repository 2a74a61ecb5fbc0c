import { AwsClient } from "aws4fetch";
import { InvalidParameterError, NotFoundError, RegistryError } from "../errors";
import { parseVersion } from "../domain/limits";
import type { ModelVersion } from "../domain/model";
import { parseModelRef } from "../domain/model-ref";
import type { ArtifactStore, BlobBody } from "../artifacts/artifact-store";
import type { SignatureProblem, UrlSigner } from "../artifacts/url-signer";
import type { ArtifactRepository, ManifestFile } from "../repositories/artifact-repository";
import type { RegistryService } from "./registry-service";

export interface ResolvedVersion {
  version: ModelVersion;
  files: ManifestFile[];
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
    private readonly config: DeliveryConfig,
    private readonly clock: () => number = Date.now,
  ) {}

  /** The READY version a ref points at now (one coordinator read, answered from memory). */
  async resolveVersion(name: string, ref: string): Promise<ModelVersion> {
    const version = await this.registry.resolveRef(name, parseModelRef(ref));
    if (version.status !== "READY") throw new NotFoundError(`Version ${version.version} of ${name} is not READY (${version.status}).`);
    return version;
  }

  /** The version and its manifest. */
  async resolve(name: string, ref: string): Promise<ResolvedVersion> {
    const version = await this.resolveVersion(name, ref);
    return { version, files: await this.artifacts.manifest(version.modelId, version.version) };
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
    if (missing.length > 0) throw new NotFoundError(`Version ${input.version} of ${input.name} has no file(s): ${missing.join(", ")}.`);
    const seconds = input.expiresIn ?? this.config.defaultSignedUrlSeconds;
    if (!Number.isInteger(seconds) || seconds < 1 || seconds > this.config.maxSignedUrlSeconds) {
      throw new InvalidParameterError(`expires_in must be between 1 and ${this.config.maxSignedUrlSeconds} seconds, got ${seconds}.`);
    }
    const expiresAt = Math.floor(this.clock() / 1000) + seconds;
    if (input.viaR2) return this.presignR2(wanted.map((p) => byPath.get(p)!), seconds, expiresAt);
    return Promise.all(
      wanted.map(async (path) => {
        const route = filePath(input.name, version.version, path);
        const query = new URLSearchParams(await this.signer.sign("GET", route, expiresAt, modelBinding(version.modelId)));
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
    const problem = await this.signer.verify(method, route, query, Math.floor(this.clock() / 1000), modelBinding(modelId));
    if (problem) throw signatureRefused(problem);
    return modelId;
  }

  /** R2's own presigned URLs (S3 API): they bypass the Worker, so they are never edge-cached. */
  private async presignR2(files: ManifestFile[], seconds: number, expiresAt: number): Promise<SignedUrl[]> {
    const r2 = this.config.r2;
    if (!r2) throw new InvalidParameterError("via=r2 needs R2 S3 credentials, and this deployment has none configured.");
    const client = new AwsClient({ accessKeyId: r2.accessKeyId, secretAccessKey: r2.secretAccessKey, service: "s3", region: "auto" });
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
